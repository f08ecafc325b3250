/*
 * http: see http.h.
 */
#include <string.h>

#include "http.h"

/* Return 1 if ${ch} is a tchar of RFC 9110 (method and header names). */
static int
is_tchar(unsigned char ch)
{

	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z'))
		return (1);
	return (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/*
 * Find the end of the head in ${buf}: the length up to and including the
 * empty line, or 0 if there is none in the first ${len} bytes.
 */
static size_t
head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return (i + 2);
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return (i + 3);
	}
	return (0);
}

/*
 * Length of the line at ${p} (at most ${n} bytes) without its LF or
 * CRLF, and in *${next} the length with it; -1 if a CR stands alone or
 * a NUL appears.
 */
static long
line_len(const char *p, size_t n, size_t *next)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return (-1);
		if (p[i] == '\n') {
			*next = i + 1;
			return ((long)i);
		}
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return (-1);
			*next = i + 2;
			return ((long)i);
		}
	}
	return (-1);
}

/* Check the request line ${p} (${n} bytes, no line end) into ${req}. */
static int
request_line(const char *p, size_t n, struct http_req *req)
{
	size_t i, m, t0, t1;

	for (m = 0; m < n && is_tchar((unsigned char)p[m]); m++)
		;
	if (m == 0 || m == n || p[m] != ' ')
		return (400);
	t0 = m + 1;
	for (t1 = t0; t1 < n && p[t1] != ' '; t1++)
		;
	if (t1 == t0 || t1 == n)
		return (400);
	for (i = t0; i < t1; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return (400);
	/* The version: HTTP/1.0 or HTTP/1.1 and nothing after it. */
	if (n - (t1 + 1) != 8 || memcmp(p + t1 + 1, "HTTP/1.", 7) != 0)
		return (n - (t1 + 1) >= 5 &&
		    memcmp(p + t1 + 1, "HTTP/", 5) == 0 ? 505 : 400);
	if (p[t1 + 8] != '0' && p[t1 + 8] != '1')
		return (505);
	if (p[t0] != '/')
		return (400);
	if (m != 3 || memcmp(p, "GET", 3) != 0)
		return (405);
	for (i = t0; i < t1 && p[i] != '?'; i++)
		;
	if (i - t0 >= HTTP_PATH_MAX)
		return (414);
	memcpy(req->path, p + t0, i - t0);
	req->path[i - t0] = '\0';
	return (HTTP_DONE);
}

/* Check a header line ${p} (${n} bytes): a token, ':', visible value. */
static int
header_line(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && is_tchar((unsigned char)p[i]); i++)
		;
	if (i == 0 || i == n || p[i] != ':')
		return (400);
	for (i++; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f)
			return (400);
	return (HTTP_DONE);
}

/*
 * http_parse(buf, len, req):
 * Parse the request head at the start of the ${len} bytes at ${buf}.
 * Return HTTP_MORE while the head is incomplete and shorter than
 * HTTP_HEAD_MAX; HTTP_DONE with ${req} filled for a valid GET; otherwise
 * the HTTP status to answer: 400 (malformed), 405 (not GET), 414 (target
 * too long), 431 (head over HTTP_HEAD_MAX), 505 (not HTTP/1.0 or 1.1).
 * Lines end in CRLF or LF.
 */
int
http_parse(const char *buf, size_t len, struct http_req *req)
{
	size_t end, pos, next = 0;
	long n;
	int rc;

	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	if ((end = head_end(buf, len)) == 0)
		return (len >= HTTP_HEAD_MAX ? 431 : HTTP_MORE);
	/* A request line first (no empty lines before it, no blanks). */
	if ((n = line_len(buf, end, &next)) <= 0)
		return (400);
	if ((rc = request_line(buf, (size_t)n, req)) != HTTP_DONE)
		return (rc);
	/* Then header lines up to the empty one; obs-fold is refused. */
	for (pos = next; pos < end;) {
		if ((n = line_len(buf + pos, end - pos, &next)) < 0)
			return (400);
		if (n == 0)
			break;
		if ((rc = header_line(buf + pos, (size_t)n)) != HTTP_DONE)
			return (rc);
		pos += next;
	}
	req->head_len = end;
	return (HTTP_DONE);
}

/*
 * http_reason(status):
 * The reason phrase of ${status} ("Not Found"), or "Error".
 */
const char *
http_reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} r[] = {{200, "OK"}, {400, "Bad Request"}, {404, "Not Found"},
	    {405, "Method Not Allowed"}, {408, "Request Timeout"},
	    {414, "URI Too Long"}, {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"}, {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"}};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (r[i].status == status)
			return (r[i].text);
	return ("Error");
}
