/*
 * fuzz_record: after a real handshake, feed the input as transport records
 * to the responder's channel_open.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One record; stop at the first error (the channel is dead then). */
static int
step(void *arg, uint8_t *f, size_t n)
{
	enum channel_type t;
	size_t len;

	return (channel_open(arg, f, n, &t, &len) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct channel *ci, *cr;

	fz_setup();
	fz_establish(&ci, &cr, NULL, NULL, NULL, NULL, NULL, NULL);
	fz_frames(data, size, step, cr);
	channel_free(ci);
	channel_free(cr);
	return (0);
}
