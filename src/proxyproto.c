/*
 * proxyproto: see proxyproto.h.
 *
 * Layout (all integers big-endian): the 12-byte signature, ver_cmd 0x21
 * (version 2, PROXY), fam (0x11 TCP/IPv4, 0x21 TCP/IPv6, 0x00 UNSPEC),
 * len (2: the bytes that follow), the addresses (IPv4: src 4, dst 4,
 * sport 2, dport 2; IPv6: 16, 16, 2, 2), then TLVs: type 1, length 2,
 * value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t sig[PROXYPROTO_SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a,
    0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* Append ${n} bytes at ${p} to out + *pos (cap bytes); -1 if no room. */
static int
put(uint8_t *out, size_t cap, size_t *pos, const void *p, size_t n)
{

	if (cap - *pos < n)
		return (-1);
	memcpy(out + *pos, p, n);
	*pos += n;
	return (0);
}

static int
put16(uint8_t *out, size_t cap, size_t *pos, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)(v & 0xff)};

	return (put(out, cap, pos, b, 2));
}

/* Append TLV ${type} with the ${n} bytes at ${v} (nothing for NULL). */
static int
put_tlv(uint8_t *out, size_t cap, size_t *pos, uint8_t type, const void *v,
    size_t n)
{

	if (v == NULL)
		return (0);
	if (n > 65535 || put(out, cap, pos, &type, 1) == -1 ||
	    put16(out, cap, pos, (uint16_t)n) == -1)
		return (-1);
	return (put(out, cap, pos, v, n));
}

/* The 16 bytes of ${e} as IPv6 (an IPv4 address mapped). */
static void
as_v6(const struct request_endpoint *e, uint8_t ip[16])
{

	if (e->family == 6) {
		memcpy(ip, e->ip, 16);
		return;
	}
	memset(ip, 0, 10);
	ip[10] = ip[11] = 0xff;
	memcpy(ip + 12, e->ip, 4);
}

/*
 * proxyproto_build(pi, out, cap):
 * Write the PROXY v2 header for ${pi} to ${out} (${cap} bytes): command
 * PROXY, TCP over IPv4 or IPv6 (an IPv4 end beside an IPv6 one is written
 * as ::ffff:a.b.c.d), or AF_UNSPEC when either address is missing; then
 * the TLVs PEER (0xE0), AUTHORITY and UNIQUE_ID (decimal).  Return the
 * header's length, or -1 if it does not fit in ${cap} or a value is too
 * long (PROXYPROTO_UNIQUE_ID_MAX, 65535).
 */
long
proxyproto_build(const struct proxyproto_info *pi, uint8_t *out, size_t cap)
{
	const struct request_endpoint *s = pi->src, *d = pi->dst;
	uint8_t fam = 0x00, ip[16];
	char uid[24];
	size_t pos = 0;
	int n;

	if (s != NULL && d != NULL && (s->family == 4 || s->family == 6) &&
	    (d->family == 4 || d->family == 6))
		fam = s->family == 4 && d->family == 4 ? 0x11 : 0x21;
	n = snprintf(uid, sizeof(uid), "%" PRIu64, pi->unique_id);
	if (n < 0 || (size_t)n >= sizeof(uid))
		return (-1);
	/* The fixed part; len is filled in at the end. */
	if (put(out, cap, &pos, sig, sizeof(sig)) == -1 ||
	    put(out, cap, &pos, "\x21", 1) == -1 ||
	    put(out, cap, &pos, &fam, 1) == -1 || put16(out, cap, &pos, 0))
		return (-1);
	if (fam == 0x11) {
		if (put(out, cap, &pos, s->ip, 4) == -1 ||
		    put(out, cap, &pos, d->ip, 4) == -1)
			return (-1);
	} else if (fam == 0x21) {
		as_v6(s, ip);
		if (put(out, cap, &pos, ip, 16) == -1)
			return (-1);
		as_v6(d, ip);
		if (put(out, cap, &pos, ip, 16) == -1)
			return (-1);
	}
	if (fam != 0x00 && (put16(out, cap, &pos, s->port) == -1 ||
	    put16(out, cap, &pos, d->port) == -1))
		return (-1);
	if (put_tlv(out, cap, &pos, PROXYPROTO_TLV_PEER, pi->peer,
	    pi->peer != NULL ? strlen(pi->peer) : 0) == -1 ||
	    put_tlv(out, cap, &pos, PROXYPROTO_TLV_AUTHORITY, pi->authority,
	    pi->authority != NULL ? strlen(pi->authority) : 0) == -1 ||
	    put_tlv(out, cap, &pos, PROXYPROTO_TLV_UNIQUE_ID, uid,
	    (size_t)n) == -1)
		return (-1);
	if (pos - PROXYPROTO_HDR_LEN > 65535)
		return (-1);
	out[14] = (uint8_t)((pos - PROXYPROTO_HDR_LEN) >> 8);
	out[15] = (uint8_t)((pos - PROXYPROTO_HDR_LEN) & 0xff);
	return ((long)pos);
}
