/*
 * fuzz_keyfile: identity_parse_pem() over arbitrary bytes (PEM, and the
 * DER inside it).  A key it accepts must be consistent: its identifier is
 * the hash of its public key, and a private key gives that public key.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity idn;
	uint8_t id[IDENTITY_ID_LEN], pub[CRYPTO_P256_PUB_LEN];
	char err[256];

	if (identity_parse_pem(&idn, data, size, IDENTITY_PUBLIC_OK, err,
		sizeof(err)) == -1) {
		assert(err[0] != '\0');
		return (0);
	}
	identity_id_from_pub(id, idn.pub);
	assert(memcmp(id, idn.id, sizeof(id)) == 0);
	if (idn.has_priv) {
		assert(crypto_p256_pub(pub, idn.priv) == 0);
		assert(memcmp(pub, idn.pub, sizeof(pub)) == 0);
	}
	identity_fini(&idn);
	return (0);
}
