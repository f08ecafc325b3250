/*
 * request: the request TLVs an inlet sends in msg3.  See request.h.
 */
#include <string.h>

#include "request.h"

/* Return 1 if the ${len} bytes at ${s} are a service name (1-63 bytes of
 * 0x21-0x7e). */
static int
req_name_ok(const uint8_t *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CHANNEL_MAX_BOUND)
		return (0);
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return (0);
	return (1);
}

/* The value length of the endpoint ${e}, or 0 if it is malformed. */
static size_t
req_endpoint_len(const struct request_endpoint *e)
{

	if (e->family == 4)
		return (1 + 4 + 2);
	if (e->family == 6)
		return (1 + 16 + 2);
	return (0);
}

/* Append TLV ${type} with ${vlen} bytes at ${v} at out + *pos. */
static int
req_put(uint8_t *out, size_t cap, size_t *pos, uint8_t type,
    const uint8_t *v, size_t vlen)
{

	if (vlen > 255 || cap - *pos < 2 + vlen)
		return (-CHANNEL_EFRAME);
	out[(*pos)++] = type;
	out[(*pos)++] = (uint8_t)vlen;
	memcpy(out + *pos, v, vlen);
	*pos += vlen;
	return (0);
}

/* Append the endpoint ${e} (if present) as TLV ${type}. */
static int
req_put_endpoint(uint8_t *out, size_t cap, size_t *pos, uint8_t type,
    const struct request_endpoint *e)
{
	uint8_t v[19];
	size_t n, iplen;

	if (e->family == 0)
		return (0);
	if ((n = req_endpoint_len(e)) == 0)
		return (-CHANNEL_EPAYLOAD);
	iplen = n - 3;
	v[0] = e->family;
	memcpy(v + 1, e->ip, iplen);
	v[1 + iplen] = (uint8_t)(e->port >> 8);
	v[2 + iplen] = (uint8_t)(e->port & 0xff);
	return (req_put(out, cap, pos, type, v, n));
}

/*
 * request_encode(r, out, cap, len):
 * Write the version 2 request ${r} (version ignored) to ${out} (${cap}
 * bytes) and its length to ${len}.  Return 0, or -CHANNEL_EPAYLOAD for a
 * bad name or endpoint, -CHANNEL_EFRAME if ${cap} is too small.
 */
int
request_encode(const struct request *r, uint8_t *out, size_t cap,
    size_t *len)
{
	size_t pos = 0, nlen = strnlen(r->service, sizeof(r->service));
	int rc;

	if (!req_name_ok((const uint8_t *)r->service, nlen))
		return (-CHANNEL_EPAYLOAD);
	if (cap < 1)
		return (-CHANNEL_EFRAME);
	out[pos++] = REQUEST_V2;
	if ((rc = req_put(out, cap, &pos, REQUEST_SERVICE,
	    (const uint8_t *)r->service, nlen)) != 0 ||
	    (rc = req_put_endpoint(out, cap, &pos, REQUEST_SOURCE,
	    &r->src)) != 0 ||
	    (rc = req_put_endpoint(out, cap, &pos, REQUEST_DEST,
	    &r->dst)) != 0)
		return (rc);
	*len = pos;
	return (0);
}

/* Read an endpoint value (${n} bytes at ${v}) into ${e}. */
static int
req_get_endpoint(const uint8_t *v, size_t n, struct request_endpoint *e)
{
	size_t iplen;

	if (n < 1 || (v[0] != 4 && v[0] != 6))
		return (-1);
	iplen = v[0] == 4 ? 4 : 16;
	if (n != 1 + iplen + 2)
		return (-1);
	memset(e, 0, sizeof(*e));
	e->family = v[0];
	memcpy(e->ip, v + 1, iplen);
	e->port = (uint16_t)(v[1 + iplen] << 8 | v[2 + iplen]);
	return (0);
}

/*
 * request_parse(req, len, r):
 * Parse the ${len} request bytes at ${req} (from channel_request, never a
 * relay session request starting with '@') into ${r}: a bare name
 * (version 1) or version 2.  Return 0 or -CHANNEL_EPAYLOAD (any other
 * leading byte, a bad or missing name, a TLV cut short, a type twice, an
 * unknown type below REQUEST_OPTIONAL, a bad endpoint).
 */
int
request_parse(const uint8_t *req, size_t len, struct request *r)
{
	unsigned seen = 0;
	size_t pos, vlen;
	uint8_t type;
	const uint8_t *v;

	memset(r, 0, sizeof(*r));
	if (len == 0 || req == NULL)
		return (-CHANNEL_EPAYLOAD);
	/* Version 1: the bare name. */
	if (req[0] != REQUEST_V2) {
		if (!req_name_ok(req, len))
			return (-CHANNEL_EPAYLOAD);
		memcpy(r->service, req, len);
		r->version = 1;
		return (0);
	}
	for (pos = 1; pos < len; pos += vlen) {
		if (len - pos < 2)
			return (-CHANNEL_EPAYLOAD);
		type = req[pos];
		vlen = req[pos + 1];
		pos += 2;
		if (vlen > len - pos)
			return (-CHANNEL_EPAYLOAD);
		v = req + pos;
		if (type >= REQUEST_OPTIONAL)
			continue; /* a later addition this version ignores */
		/* Type 0 is no type: it must not pass for DEST. */
		if (type < REQUEST_SERVICE || type > REQUEST_DEST ||
		    (seen & 1u << type))
			return (-CHANNEL_EPAYLOAD);
		seen |= 1u << type;
		if (type == REQUEST_SERVICE) {
			if (!req_name_ok(v, vlen))
				return (-CHANNEL_EPAYLOAD);
			memcpy(r->service, v, vlen);
		} else if (req_get_endpoint(v, vlen, type == REQUEST_SOURCE ?
		    &r->src : &r->dst) == -1)
			return (-CHANNEL_EPAYLOAD);
	}
	if (!(seen & 1u << REQUEST_SERVICE))
		return (-CHANNEL_EPAYLOAD);
	r->version = 2;
	return (0);
}
