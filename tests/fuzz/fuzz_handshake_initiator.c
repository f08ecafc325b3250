/*
 * fuzz_handshake_initiator: after a real msg1, feed the input as frames to
 * the initiator (msg2, then transport records once established).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One frame: msg2 first, then records. */
static int
step(void *arg, uint8_t *f, size_t n)
{
	struct channel *ci = arg;
	uint8_t out[CHANNEL_MAX_HANDSHAKE];
	enum channel_type t;
	size_t olen, len;

	if (channel_peer_id(ci) != NULL)
		return (channel_open(ci, f, n, &t, &len) != 0);
	return (channel_handshake(ci, f, n, FZ_NOW, out, sizeof(out), &olen) <
	    0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t m1[CHANNEL_MAX_HANDSHAKE];
	struct channel *ci;
	size_t l1;

	fz_setup();
	ci = fz_initiator();
	if (channel_start(ci, m1, sizeof(m1), &l1) != 0)
		abort();
	fz_frames(data, size, step, ci);
	channel_free(ci);
	return (0);
}
