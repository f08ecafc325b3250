/*
 * addr: parse and print endpoint addresses: "host:port", "[v6]:port" and
 * "unix:/path".  Numeric hosts need no lookup; names get their address
 * from resolve.c (resolve_addr), the one resolver.  No sockets are opened
 * here, and nothing here looks a name up.
 */
#ifndef SALLYPORT_ADDR_H
#define SALLYPORT_ADDR_H

#include <sys/socket.h>

#define ADDR_TEXT_MAX 256

struct addr {
	char host[ADDR_TEXT_MAX]; /* as written (without brackets), or path */
	char port[8];
	int is_unix;
	struct sockaddr_storage sa; /* valid once resolved */
	socklen_t salen;            /* 0 until resolved */
};

/*
 * addr_parse(s, a, err, errlen):
 * Parse ${s} into ${a}; numeric IPv4/IPv6 and unix paths are resolved at
 * once.  Return 0, or -1 with a message in ${err}.
 */
int addr_parse(const char *s, struct addr *a, char *err, size_t errlen);

/*
 * addr_set(a, ss):
 * Give ${a} the address ${ss} (AF_INET or AF_INET6, as a resolver gives
 * it, any port) with ${a}'s own port; ${a}'s host stays as written.
 */
void addr_set(struct addr *a, const struct sockaddr_storage *ss);

/*
 * addr_at(name, ss, out):
 * Make ${out} the one address ${ss} (AF_INET or AF_INET6, as a resolver
 * gives it, any port) of the name ${name}, with ${name}'s port; its host
 * is ${ss} as numeric text, so that addr_format() shows which address.
 */
void addr_at(const struct addr *name, const struct sockaddr_storage *ss,
    struct addr *out);

/*
 * addr_format(a, buf, len):
 * Print ${a} as it would be written in a config ("[::1]:80").
 */
const char *addr_format(const struct addr *a, char *buf, size_t len);

/*
 * addr_same(a, b):
 * Return 1 if ${a} and ${b} were written alike (host or path, and port)
 * and resolved to the same address (or neither is resolved yet).
 */
int addr_same(const struct addr *a, const struct addr *b);

/*
 * addr_is_loopback(a):
 * Return 1 if ${a} stays on this host: a unix socket, an address in
 * 127.0.0.0/8 or ::1 (or ::ffff:127.0.0.0/104), or the name "localhost".
 */
int addr_is_loopback(const struct addr *a);

#endif
