/*
 * fuzz_http: http_parse() over arbitrary bytes, as the admin endpoint
 * reads them.  A head it accepts is a GET whose path starts with '/' and
 * ends within the input; every answer is one of the documented ones; and
 * a prefix of an accepted head never parses as anything but "more".
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req req;
	char buf[HTTP_HEAD_MAX + 64];
	size_t n = size < sizeof(buf) ? size : sizeof(buf);
	int rc;

	memcpy(buf, data, n);
	rc = http_parse(buf, n, &req);
	assert(rc == HTTP_MORE || rc == HTTP_DONE || rc == 400 || rc == 405 ||
	    rc == 414 || rc == 431 || rc == 505);
	if (rc == HTTP_MORE)
		assert(n < HTTP_HEAD_MAX);
	if (rc != HTTP_DONE)
		return (0);
	assert(req.path[0] == '/');
	assert(strlen(req.path) < HTTP_PATH_MAX);
	assert(req.head_len > 0 && req.head_len <= n);
	assert(memcmp(buf, "GET ", 4) == 0);
	/* One byte short of its empty line, the head is incomplete. */
	assert(http_parse(buf, req.head_len - 1, &req) == HTTP_MORE);
	return (0);
}
