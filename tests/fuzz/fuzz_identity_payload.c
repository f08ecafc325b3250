/*
 * fuzz_identity_payload: the identity payload parser and attestation check
 * (channel_payload_check) over arbitrary bytes, against the responder's
 * static key, with and without a pinned identifier.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t id[CHANNEL_ID_LEN];

	fz_setup();
	if (channel_payload_check(data, size, fz_lr.s_pub, FZ_NOW, NULL, NULL,
	    id) == 0 && memcmp(id, fz_lr.id, sizeof(id)) != 0) {
		/* Only fz_lr's identity key ever signed fz_lr's static key. */
		__builtin_trap();
	}
	(void)channel_payload_check(data, size, fz_lr.s_pub, FZ_NOW,
	    fz_lr.id, NULL, id);
	return (0);
}
