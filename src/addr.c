/*
 * addr: see addr.h.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <strings.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "seterr.h"

/*
 * Parse a port: 1 to 5 decimal digits, no sign, no leading zero, value 1
 * to 65535.  Return the value or -1.
 */
static long
parse_port(const char *s)
{
	long v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v <= 65535 ? v : -1);
}

/*
 * Return 1 if ${h} is a plausible DNS host name: labels of letters,
 * digits and '-' (not at either end), 1 to 63 characters, joined by dots,
 * at most 253 in all, and not made only of digits and dots (that would be
 * a malformed IPv4 address).
 */
static int
is_hostname(const char *h)
{
	size_t i, label = 0, len = strlen(h);
	int alpha = 0;
	char c;

	if (len == 0 || len > 253)
		return (0);
	for (i = 0; i <= len; i++) {
		c = h[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || h[i - 1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return (0);
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			alpha = 1;
		} else if (c < '0' || c > '9') {
			return (0);
		}
		if (++label > 63)
			return (0);
	}
	return (alpha);
}

/* Store a resolved IPv4 or IPv6 address and port in ${a}. */
static void
set_inet(struct addr *a, int family, const void *ip, long port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(&a->sa, 0, sizeof(a->sa));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)&a->sa;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, ip, sizeof(sin->sin_addr));
		a->salen = sizeof(*sin);
	} else {
		sin6 = (struct sockaddr_in6 *)&a->sa;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, ip, sizeof(sin6->sin6_addr));
		a->salen = sizeof(*sin6);
	}
}

/* Parse "unix:/path" (the prefix already skipped: ${path}) into ${a}. */
static int
parse_unix(const char *path, struct addr *a, char *err, size_t errlen)
{
	struct sockaddr_un *sun;
	size_t len = strlen(path);

	if (path[0] != '/') {
		seterr(err, errlen, "unix socket path must be absolute: "
		    "unix:/path");
		return (-1);
	}
	sun = (struct sockaddr_un *)&a->sa;
	if (len >= sizeof(sun->sun_path)) {
		seterr(err, errlen, "unix socket path too long (at most %zu "
		    "characters)", sizeof(sun->sun_path) - 1);
		return (-1);
	}
	memcpy(a->host, path, len + 1);
	a->is_unix = 1;
	memset(&a->sa, 0, sizeof(a->sa));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	a->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    1);
	return (0);
}

/*
 * addr_parse(s, a, err, errlen):
 * Parse ${s} into ${a}; numeric IPv4/IPv6 and unix paths are resolved at
 * once.  Return 0, or -1 with a message in ${err}.
 */
int
addr_parse(const char *s, struct addr *a, char *err, size_t errlen)
{
	char host[ADDR_TEXT_MAX];
	const char *colon, *port, *close;
	size_t len = strlen(s), hlen, i;
	uint8_t ip[16];
	long pv;

	memset(a, 0, sizeof(*a));
	if (len == 0) {
		seterr(err, errlen, "empty address");
		goto fail;
	}
	if (len >= ADDR_TEXT_MAX) {
		seterr(err, errlen, "address too long (at most %d characters)",
		    ADDR_TEXT_MAX - 1);
		goto fail;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
			seterr(err, errlen, "address contains a space or "
			    "control character");
			goto fail;
		}
	}
	if (strncmp(s, "unix:", 5) == 0) {
		if (parse_unix(s + 5, a, err, errlen) == -1)
			goto fail;
		return (0);
	}

	/* "[v6]:port" or "host:port": split host and port. */
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			seterr(err, errlen, "missing ']' after IPv6 address");
			goto fail;
		}
		if (close[1] != ':') {
			seterr(err, errlen, "expected ':PORT' after ']'");
			goto fail;
		}
		hlen = (size_t)(close - s - 1);
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = close + 2;
		if (inet_pton(AF_INET6, host, ip) != 1) {
			seterr(err, errlen, "invalid IPv6 address \"%s\"",
			    host);
			goto fail;
		}
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			seterr(err, errlen, "missing port: expected host:port, "
			    "[v6]:port or unix:/path");
			goto fail;
		}
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		if (hlen == 0) {
			seterr(err, errlen, "missing host before ':'");
			goto fail;
		}
		if (memchr(host, ':', hlen) != NULL) {
			seterr(err, errlen, "IPv6 addresses need brackets: "
			    "[%s]:PORT", host);
			goto fail;
		}
	}
	if (port[0] == '\0') {
		seterr(err, errlen, "missing port after ':'");
		goto fail;
	}
	if ((pv = parse_port(port)) == -1) {
		seterr(err, errlen, "invalid port \"%s\" (a number from 1 to "
		    "65535)", port);
		goto fail;
	}
	memcpy(a->host, host, hlen + 1);
	memcpy(a->port, port, strlen(port) + 1);

	/* Numeric addresses are resolved now; names wait for resolve.c. */
	if (s[0] == '[') {
		set_inet(a, AF_INET6, ip, pv);
	} else if (inet_pton(AF_INET, host, ip) == 1) {
		set_inet(a, AF_INET, ip, pv);
	} else if (!is_hostname(host)) {
		seterr(err, errlen, "invalid host \"%s\" (an IPv4 address, a "
		    "[v6] address or a DNS name)", host);
		goto fail;
	}
	return (0);
fail:
	memset(a, 0, sizeof(*a));
	return (-1);
}

/*
 * addr_set(a, ss):
 * Give ${a} the address ${ss} (AF_INET or AF_INET6, as a resolver gives
 * it, any port) with ${a}'s own port; ${a}'s host stays as written.
 */
void
addr_set(struct addr *a, const struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
	uint16_t port = htons((uint16_t)parse_port(a->port));

	memcpy(&a->sa, ss, sizeof(a->sa));
	if (ss->ss_family == AF_INET) {
		sin->sin_port = port;
		a->salen = sizeof(*sin);
	} else {
		sin6->sin6_port = port;
		a->salen = sizeof(*sin6);
	}
}

/*
 * addr_at(name, ss, out):
 * Make ${out} the one address ${ss} (AF_INET or AF_INET6, as a resolver
 * gives it, any port) of the name ${name}, with ${name}'s port; its host
 * is ${ss} as numeric text, so that addr_format() shows which address.
 */
void
addr_at(const struct addr *name, const struct sockaddr_storage *ss,
    struct addr *out)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&out->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&out->sa;

	memset(out, 0, sizeof(*out));
	memcpy(out->port, name->port, sizeof(out->port));
	addr_set(out, ss);
	if (ss->ss_family == AF_INET)
		(void)inet_ntop(AF_INET, &sin->sin_addr, out->host,
		    sizeof(out->host));
	else
		(void)inet_ntop(AF_INET6, &sin6->sin6_addr, out->host,
		    sizeof(out->host));
}

/*
 * addr_format(a, buf, len):
 * Print ${a} as it would be written in a config ("[::1]:80").
 */
const char *
addr_format(const struct addr *a, char *buf, size_t len)
{

	if (a->is_unix)
		snprintf(buf, len, "unix:%s", a->host);
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%s", a->host, a->port);
	else
		snprintf(buf, len, "%s:%s", a->host, a->port);
	return (buf);
}

/*
 * addr_same(a, b):
 * Return 1 if ${a} and ${b} were written alike (host or path, and port)
 * and resolved to the same address (or neither is resolved yet).
 */
int
addr_same(const struct addr *a, const struct addr *b)
{

	return (a->is_unix == b->is_unix && strcmp(a->host, b->host) == 0 &&
	    strcmp(a->port, b->port) == 0 && a->salen == b->salen &&
	    memcmp(&a->sa, &b->sa, a->salen) == 0);
}

/*
 * addr_is_loopback(a):
 * Return 1 if ${a} stays on this host: a unix socket, an address in
 * 127.0.0.0/8 or ::1 (or ::ffff:127.0.0.0/104), or the name "localhost".
 */
int
addr_is_loopback(const struct addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
	const uint8_t *b;

	if (a->is_unix || strcasecmp(a->host, "localhost") == 0)
		return (1);
	if (a->salen == 0)
		return (0); /* a name: unknown until resolved */
	if (a->sa.ss_family == AF_INET)
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	if (a->sa.ss_family != AF_INET6)
		return (0);
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return (1);
	b = sin6->sin6_addr.s6_addr;
	return (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127);
}

/* Whether the first ${bits} bits of ${a} and ${b} are equal. */
static int
prefix_same(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));

	if (memcmp(a, b, full) != 0)
		return (0);
	return (rest == 0 || ((a[full] ^ b[full]) & mask) == 0);
}

/*
 * addr_cidr_parse(s, c, err, errlen):
 * Parse "A.B.C.D/N", "V6/N" or a bare address into ${c}.
 */
int
addr_cidr_parse(const char *s, struct addr_cidr *c, char *err,
    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	uint8_t masked[16];
	unsigned max, i;

	memset(c, 0, sizeof(*c));
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen, "bad address range \"%.80s\" (expected "
		    "NET/BITS, e.g. 10.1.0.0/16 or fd00::/8)", s);
		return (-1);
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, c->net) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, host, c->net) == 1)
		c->family = AF_INET6;
	else {
		snprintf(err, errlen, "bad address range \"%.80s\" (expected "
		    "NET/BITS, e.g. 10.1.0.0/16 or fd00::/8)", s);
		return (-1);
	}
	max = c->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    bits > max) {
			snprintf(err, errlen, "bad prefix length in \"%.80s\" "
			    "(0 to %u)", s, max);
			return (-1);
		}
	}
	c->bits = (unsigned)bits;
	/* The bits after the prefix must be 0: a typo is not a range. */
	memcpy(masked, c->net, sizeof(masked));
	for (i = c->bits; i < max; i++)
		masked[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	if (memcmp(masked, c->net, max / 8) != 0) {
		snprintf(err, errlen, "address range \"%.80s\" has host bits "
		    "set (the network of /%u is %s)", s, c->bits,
		    inet_ntop(c->family, masked, host, sizeof(host)) != NULL ?
		    host : "?");
		return (-1);
	}
	return (0);
}

/*
 * addr_cidr_format(c, buf, len):
 * ${c} as "NET/BITS".
 */
const char *
addr_cidr_format(const struct addr_cidr *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->net, host, sizeof(host)) == NULL)
		strcpy(host, "?");
	snprintf(buf, len, "%s/%u", host, c->bits);
	return (buf);
}

/*
 * addr_cidr_has(c, ss):
 * Whether the address of ${ss} lies in ${c}.
 */
int
addr_cidr_has(const struct addr_cidr *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const uint8_t *a;
	int family = ss->ss_family;

	if (family == AF_INET)
		a = (const uint8_t *)&sin->sin_addr;
	else if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		a = sin6->sin6_addr.s6_addr + 12;
		family = AF_INET;
	} else if (family == AF_INET6)
		a = sin6->sin6_addr.s6_addr;
	else
		return (0);
	return (family == c->family && prefix_same(a, c->net, c->bits));
}

/*
 * addr_sa_format(ss, buf, len):
 * ${ss} as "v4:port", "[v6]:port", "unix" or "-".
 */
const char *
addr_sa_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_UNIX)
		return ("unix");
	if (ss->ss_family == AF_INET && inet_ntop(AF_INET, &sin->sin_addr,
	    host, sizeof(host)) != NULL)
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &sin6->sin6_addr, host, sizeof(host)) != NULL)
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	else
		return ("-");
	return (buf);
}
