/*
 * addr: parse and print endpoint addresses: "host:port", "[v6]:port" and
 * "unix:/path".  Numeric hosts need no lookup; names get their address
 * from resolve.c (resolve_addr), the one resolver.  No sockets are opened
 * here, and nothing here looks a name up.
 */
#ifndef SALLYPORT_ADDR_H
#define SALLYPORT_ADDR_H

#include <stdint.h>
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

/*
 * addr_sa_format(ss, buf, len):
 * The socket address ${ss} as "v4:port", "[v6]:port" or "unix" into
 * ${buf} (${len} bytes), or "-" for any other (AF_UNSPEC: unknown).
 */
const char *addr_sa_format(const struct sockaddr_storage *ss, char *buf,
    size_t len);

/* An address range: NET/BITS of IPv4 or IPv6. */
struct addr_cidr {
	int family;      /* AF_INET or AF_INET6 */
	uint8_t net[16]; /* 4 or 16 bytes, host bits 0 */
	unsigned bits;
};

/*
 * addr_cidr_parse(s, c, err, errlen):
 * Parse "A.B.C.D/N", "V6/N" or a bare address (/32, /128) into ${c}.
 * Host bits set ("10.1.2.3/16") are an error, not silently cleared.
 * Return 0, or -1 with the problem in ${err} (${errlen} bytes).
 */
int addr_cidr_parse(const char *s, struct addr_cidr *c, char *err,
    size_t errlen);

/*
 * addr_cidr_format(c, buf, len):
 * ${c} as "NET/BITS" into ${buf} (${len} bytes, ADDR_TEXT_MAX is enough).
 */
const char *addr_cidr_format(const struct addr_cidr *c, char *buf,
    size_t len);

/*
 * addr_cidr_has(c, ss):
 * Return 1 if the address of ${ss} lies in ${c} (an IPv4-mapped IPv6
 * address counts as its IPv4 address), 0 if not or if ${ss} is neither
 * IPv4 nor IPv6 (a unix socket's peer is in no range).
 */
int addr_cidr_has(const struct addr_cidr *c,
    const struct sockaddr_storage *ss);

#endif
