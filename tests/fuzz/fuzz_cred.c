/*
 * fuzz_cred: the credential parsers over arbitrary bytes: the binary
 * layout (cred_claim's header, cred_decode), a block of them, their PEM
 * armour and the revocation list.  What decodes must encode back to the
 * same bytes' fields (its attributes in order, within the character
 * set), and its header must claim what the decode found.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[CRED_MAX_LEN], subject[CRED_ID_LEN], issuer[CRED_ID_LEN];
	struct cred_revoked rv;
	const uint8_t *p;
	const char *why;
	struct cred c;
	char err[128];
	size_t i, off = 0, n, bl;
	int claimed = cred_claim(data, size, subject, issuer, NULL) == 0;

	if (cred_decode(&c, data, size, &why) == 0) {
		assert(claimed);
		assert(memcmp(subject, c.subject, CRED_ID_LEN) == 0);
		assert(memcmp(issuer, c.issuer, CRED_ID_LEN) == 0);
		assert(size >= CRED_MIN_LEN && size <= CRED_MAX_LEN);
		assert(c.serial != 0 && c.not_after > c.not_before);
		for (i = 0; i < c.nattrs; i++) {
			assert(cred_key_is_valid(c.attrs[i].key));
			assert(cred_value_is_valid(c.attrs[i].value));
			assert(i == 0 || strcmp(c.attrs[i - 1].key,
			    c.attrs[i].key) < 0);
		}
		(void)cred_verify_sig(data, size);
	} else
		assert(why != NULL);
	if (cred_block_check(data, size) == 0)
		while (cred_block_next(data, size, &off, &p, &n) == 1)
			assert(n >= 1 && n <= CRED_MAX_LEN);
	if (cred_block_len(data, size, &bl) == 0)
		assert(bl <= size);
	if (cred_pem_decode(data, size, out, sizeof(out), &n, &why) == 0)
		assert(n <= sizeof(out));
	if (cred_revoked_parse(&rv, (const char *)data, size, err,
	    sizeof(err)) == 0)
		cred_revoked_free(&rv);
	return (0);
}
