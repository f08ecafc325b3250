/*
 * frame: length-prefixed messages on a byte stream.  See frame.h.
 */
#include <assert.h>

#include "frame.h"

/*
 * frame_peek(buf, len, max, total):
 * Look at the ${len} bytes buffered at ${buf}.  Return 1 and the whole
 * frame's size (prefix included) in ${total} when a frame is complete,
 * 0 when more bytes are needed, or -1 when the announced body is empty
 * or longer than ${max}.
 */
int
frame_peek(const uint8_t *buf, size_t len, size_t max, size_t *total)
{
	size_t n;

	/* Not even the prefix yet. */
	if (len < FRAME_HDR)
		return (0);

	/* Judge the announced length before waiting for its body. */
	n = ((size_t)buf[0] << 8) | (size_t)buf[1];
	if (n == 0 || n > max)
		return (-1);
	if (len - FRAME_HDR < n)
		return (0);
	*total = FRAME_HDR + n;
	return (1);
}

/*
 * frame_put_len(buf, n):
 * Write the 2-byte prefix for a body of ${n} (<= 65535) bytes.
 */
void
frame_put_len(uint8_t *buf, size_t n)
{

	assert(n <= FRAME_MAX_BODY);
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
}

/*
 * frame_get_u64(p):
 * The 8 big-endian bytes at ${p} (the caller checked the bounds).
 */
uint64_t
frame_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/*
 * frame_put_u64(p, v):
 * Write ${v} as 8 big-endian bytes at ${p}.
 */
void
frame_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
