/*
 * fuzz_handshake_responder: feed the input as frames to a responder (msg1,
 * msg3, then transport records once established).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One frame: a handshake message until established, then a record. */
static int
step(void *arg, uint8_t *f, size_t n)
{
	struct channel *cr = arg;
	uint8_t out[CHANNEL_MAX_HANDSHAKE];
	enum channel_type t;
	size_t olen, len;

	if (channel_request(cr, &len) != NULL)
		return (channel_open(cr, f, n, &t, &len) != 0);
	return (channel_handshake(cr, f, n, FZ_NOW, out, sizeof(out), &olen) <
	    0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct channel *cr;

	fz_setup();
	cr = fz_responder();
	fz_frames(data, size, step, cr);
	channel_free(cr);
	return (0);
}
