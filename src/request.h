/*
 * request: the request an inlet sends in msg3 (docs/protocol.md, 2.8),
 * encoded and parsed; what a channel carries is only bytes to it
 * (channel_set_request, channel_request).  Pure: bytes in, bytes out;
 * addresses are plain bytes here (the pure core has no sockaddr).  Never
 * decides what a request may reach (acl.c and the roles do).
 */
#ifndef SALLYPORT_REQUEST_H
#define SALLYPORT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"

/*
 * The request an inlet sends in msg3 (docs/protocol.md, 2.8).  Version 1
 * is the bare service name (bytes 0x21-0x7e).  Version 2 starts with the
 * byte REQUEST_V2, which no name can start with, then TLVs (type 1,
 * length 1, value): the service name, and the client's source and
 * destination addresses as the inlet saw them.  Addresses are plain bytes
 * here (the pure core has no sockaddr).
 */
#define REQUEST_V2 0x02
#define REQUEST_SERVICE 0x01  /* service name, 1-63 bytes 0x21-0x7e */
#define REQUEST_SOURCE 0x02   /* client address: request_endpoint */
#define REQUEST_DEST 0x03     /* the address it connected to */
#define REQUEST_OPTIONAL 0x80 /* types from here on may be ignored */

struct request_endpoint {
	uint8_t family; /* 0: absent, 4: IPv4, 6: IPv6 */
	uint8_t ip[16]; /* 4 or 16 bytes used, network order */
	uint16_t port;
};

struct request {
	unsigned version;                   /* 1 or 2 */
	char service[CHANNEL_MAX_BOUND + 1]; /* NUL-terminated */
	struct request_endpoint src, dst;   /* family 0 when not sent */
};

/*
 * request_encode(r, out, cap, len):
 * Write the version 2 request ${r} (version ignored) to ${out} (${cap}
 * bytes) and its length to ${len}.  Return 0, or -CHANNEL_EPAYLOAD for a
 * bad name or endpoint, -CHANNEL_EFRAME if ${cap} is too small.
 */
int request_encode(const struct request *r, uint8_t *out, size_t cap,
    size_t *len);

/*
 * request_parse(req, len, r):
 * Parse the ${len} request bytes at ${req} (from channel_request, never a
 * relay session request starting with '@') into ${r}: a bare name
 * (version 1) or version 2.  Return 0 or -CHANNEL_EPAYLOAD (any other
 * leading byte, a bad or missing name, a TLV cut short, a type twice, an
 * unknown type below REQUEST_OPTIONAL, a bad endpoint).
 */
int request_parse(const uint8_t *req, size_t len, struct request *r);

#endif
