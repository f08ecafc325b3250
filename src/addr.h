/*
 * addr: parse and print endpoint addresses: "host:port", "[v6]:port" and
 * "unix:/path".  Numeric hosts only need no lookup; names are resolved by
 * addr_resolve() (blocking: start-up only).  No sockets are opened here.
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
 * addr_resolve(a, err, errlen):
 * Resolve a host name with getaddrinfo (first result).  Return 0 or -1.
 */
int addr_resolve(struct addr *a, char *err, size_t errlen);

/*
 * addr_is_local(a):
 * Return 1 if only this host can reach a listener on ${a}: a unix socket,
 * an IPv4 loopback address (127.0.0.0/8, also IPv4-mapped), [::1] or the
 * name "localhost"; else 0 (any other name: it is not resolved here).
 */
int addr_is_local(const struct addr *a);

/*
 * addr_format(a, buf, len):
 * Print ${a} as it would be written in a config ("[::1]:80").
 */
const char *addr_format(const struct addr *a, char *buf, size_t len);

#endif
