/*
 * fuzz_request: the request of msg3 (request_parse) over arbitrary
 * bytes, then the PROXY v2 header an outlet builds from what it accepted
 * (proxyproto_build).  What parses must encode back to bytes that parse to
 * the same request (a version 2 one); the header's length field must
 * cover exactly the bytes after its 16-byte head, and each TLV must end
 * inside it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "proxyproto.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the header ${h} (${n} bytes): fixed part, addresses, TLVs. */
static void
check_header(const uint8_t *h, size_t n)
{
	size_t len, pos;

	assert(n >= PROXYPROTO_HDR_LEN && n <= PROXYPROTO_MAX);
	assert(h[12] == 0x21);
	len = (size_t)h[14] << 8 | h[15];
	assert(len == n - PROXYPROTO_HDR_LEN);
	pos = h[13] == 0x11 ? 12 : h[13] == 0x21 ? 36 : 0;
	assert(h[13] == 0x11 || h[13] == 0x21 || h[13] == 0x00);
	while (pos < len) {
		assert(len - pos >= 3);
		pos += 3 + ((size_t)h[PROXYPROTO_HDR_LEN + pos + 1] << 8 |
		    h[PROXYPROTO_HDR_LEN + pos + 2]);
	}
	assert(pos == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request r, back;
	struct proxyproto_info pi;
	uint8_t buf[CHANNEL_MAX_REQUEST], hdr[PROXYPROTO_MAX];
	size_t len;
	long n;

	if (size > CHANNEL_MAX_REQUEST)
		size = CHANNEL_MAX_REQUEST;
	if (request_parse(data, size, &r) != 0)
		return (0);
	assert(r.version == 1 || r.version == 2);
	assert(strlen(r.service) > 0);
	assert(request_encode(&r, buf, sizeof(buf), &len) == 0);
	assert(request_parse(buf, len, &back) == 0);
	assert(back.version == 2);
	assert(strcmp(back.service, r.service) == 0);
	assert(memcmp(&back.src, &r.src, sizeof(r.src)) == 0);
	assert(memcmp(&back.dst, &r.dst, sizeof(r.dst)) == 0);
	pi.src = &r.src;
	pi.dst = &r.dst;
	pi.peer = "I0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	pi.authority = r.service;
	pi.unique_id = size * 0x9e3779b97f4a7c15ull;
	n = proxyproto_build(&pi, hdr, sizeof(hdr));
	assert(n > 0);
	check_header(hdr, (size_t)n);
	return (0);
}
