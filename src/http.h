/*
 * http: the request head of the admin endpoint's tiny HTTP/1.x server,
 * parsed from bytes: a request line and header lines up to an empty line,
 * at most HTTP_HEAD_MAX bytes.  GET only; no body, no keep-alive, no
 * chunking.  Pure: no sockets, no allocation.
 */
#ifndef SALLYPORT_HTTP_H
#define SALLYPORT_HTTP_H

#include <stddef.h>

#define HTTP_HEAD_MAX 2048 /* request line + headers + empty line */
#define HTTP_PATH_MAX 256  /* request target, with the NUL */

enum {
	HTTP_MORE = -1, /* no empty line yet: read more */
	HTTP_DONE = 0   /* a whole, valid GET head */
};

struct http_req {
	char path[HTTP_PATH_MAX]; /* the target up to '?' (starts with '/') */
	size_t head_len;          /* bytes of the head, empty line included */
};

/*
 * http_parse(buf, len, req):
 * Parse the request head at the start of the ${len} bytes at ${buf}.
 * Return HTTP_MORE while the head is incomplete and shorter than
 * HTTP_HEAD_MAX; HTTP_DONE with ${req} filled for a valid GET; otherwise
 * the HTTP status to answer: 400 (malformed), 405 (not GET), 414 (target
 * too long), 431 (head over HTTP_HEAD_MAX), 505 (not HTTP/1.0 or 1.1).
 * Lines end in CRLF or LF.
 */
int http_parse(const char *buf, size_t len, struct http_req *req);

/*
 * http_reason(status):
 * The reason phrase of ${status} ("Not Found"), or "Error".
 */
const char *http_reason(int status);

#endif
