/*
 * proxyproto: the PROXY protocol version 2 header an outlet writes to its
 * target before any application byte (haproxy's doc/proxy-protocol.txt;
 * docs/config.md, proxy_protocol).  Bytes out only: the addresses and the
 * TLV values come in as plain values, nothing is read from a socket, and
 * nothing here ever parses a header.
 */
#ifndef SALLYPORT_PROXYPROTO_H
#define SALLYPORT_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

#define PROXYPROTO_SIG_LEN 12
#define PROXYPROTO_HDR_LEN 16 /* signature, ver_cmd, fam, len */
#define PROXYPROTO_MAX 512    /* the largest header we write */

/* TLV types (the spec's PP2_TYPE_*), and ours in the custom range. */
#define PROXYPROTO_TLV_AUTHORITY 0x02
#define PROXYPROTO_TLV_UNIQUE_ID 0x05
#define PROXYPROTO_TLV_PEER 0xE0 /* the peer's identifier, "I" + 64 hex */
#define PROXYPROTO_UNIQUE_ID_MAX 128

/* What the header says (every pointer borrowed). */
struct proxyproto_info {
	const struct request_endpoint *src; /* the client (family 0: none) */
	const struct request_endpoint *dst; /* where it connected to */
	const char *peer;      /* the peer identifier as text, or NULL */
	const char *authority; /* the service name, or NULL */
	uint64_t unique_id;    /* the connection number (conn= of the log) */
};

/*
 * proxyproto_build(pi, out, cap):
 * Write the PROXY v2 header for ${pi} to ${out} (${cap} bytes): command
 * PROXY, TCP over IPv4 or IPv6 (an IPv4 end beside an IPv6 one is written
 * as ::ffff:a.b.c.d), or AF_UNSPEC when either address is missing; then
 * the TLVs PEER (0xE0), AUTHORITY and UNIQUE_ID (decimal).  Return the
 * header's length, or -1 if it does not fit in ${cap} or a value is too
 * long (PROXYPROTO_UNIQUE_ID_MAX, 65535).
 */
long proxyproto_build(const struct proxyproto_info *pi, uint8_t *out,
    size_t cap);

#endif
