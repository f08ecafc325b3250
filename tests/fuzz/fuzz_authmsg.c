/*
 * fuzz_authmsg: the messages of an authority channel (authmsg_parse)
 * over arbitrary bytes.  What parses must encode back to the same bytes;
 * a PIECE must lie inside its document; a document's split must stay
 * inside it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authmsg m;
	uint8_t out[AUTHMSG_MAX];
	const uint8_t *cred, *rv;
	size_t len, clen, rvlen;

	if (authmsg_doc_split(data, size, &cred, &clen, &rv, &rvlen) == 0) {
		assert(clen <= CRED_MAX_LEN);
		assert(2 + clen + rvlen == size);
		assert(rv == data + 2 + clen);
	}
	if (size > 0 && authmsg_piece(data, size, (uint32_t)(size / 2), out,
	    &len) == 0) {
		assert(authmsg_parse(out, len, &m) == 0);
		assert(m.type == AUTHMSG_PIECE_TYPE && m.total == size);
		assert(memcmp(m.data, data + size / 2, m.len) == 0);
	}
	if (authmsg_parse(data, size, &m) != 0)
		return (0);
	assert(size >= 1 && size <= AUTHMSG_MAX);
	if (m.type == AUTHMSG_PIECE_TYPE)
		assert(m.offset < m.total && m.len <= m.total - m.offset &&
		    m.total <= AUTHMSG_DOC_MAX);
	assert(authmsg_encode(&m, out, &len) == 0);
	assert(len == size && memcmp(out, data, size) == 0);
	return (0);
}
