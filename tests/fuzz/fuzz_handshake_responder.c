/*
 * fuzz_handshake_responder: feed the input as frames to a responder (msg1,
 * msg3, then transport records once established).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct channel *cr;

	fz_setup();
	cr = fz_responder();
	fz_frames(data, size, fz_responder_step, cr);
	channel_free(cr);
	return (0);
}
