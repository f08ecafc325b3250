/*
 * fuzz_resume_responder: feed the input as frames to a responder that
 * knows one resumption ticket (a resumed msg1, its msg3 record, or an
 * unknown ticket and then a full handshake; records once established).
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
	cr = fz_resume_responder();
	fz_frames(data, size, fz_responder_step, cr);
	channel_free(cr);
	return (0);
}
