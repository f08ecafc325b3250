/*
 * frame: length-prefixed messages on a byte stream (2-byte big-endian
 * length, then that many bytes), and the big-endian integers of the wire
 * formats.  No allocation.
 */
#ifndef SALLYPORT_FRAME_H
#define SALLYPORT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR 2          /* length prefix bytes */
#define FRAME_MAX_BODY 65535 /* largest body a prefix can announce */

/*
 * frame_peek(buf, len, max, total):
 * Look at the ${len} bytes buffered at ${buf}.  Return 1 and the whole
 * frame's size (prefix included) in ${total} when a frame is complete,
 * 0 when more bytes are needed, or -1 when the announced body is empty
 * or longer than ${max}.
 */
int frame_peek(const uint8_t *buf, size_t len, size_t max, size_t *total);

/*
 * frame_put_len(buf, n):
 * Write the 2-byte prefix for a body of ${n} (<= 65535) bytes.
 */
void frame_put_len(uint8_t *buf, size_t n);

/*
 * frame_get_u64(p):
 * The 8 big-endian bytes at ${p} (the caller checked the bounds): every
 * 64-bit field of the wire formats (counters, expiries, serials).
 */
uint64_t frame_get_u64(const uint8_t *p);

/*
 * frame_put_u64(p, v):
 * Write ${v} as 8 big-endian bytes at ${p}.
 */
void frame_put_u64(uint8_t *p, uint64_t v);

#endif
