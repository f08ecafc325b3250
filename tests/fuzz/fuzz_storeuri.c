/*
 * fuzz_storeuri: authstore_redact() (the store as messages name it) over
 * arbitrary text, as it is and behind "postgresql://".  The answer is
 * NUL-terminated within its buffer (cut, never overrun, also when the
 * buffer is small); a URI's user:PASSWORD@ part comes out as
 * user:***@; text that is not a URI comes out as it went in (cut).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authstore.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IN_MAX 1024

/* Redact ${in} into buffers of several sizes and check each. */
static void
one(const char *in)
{
	static const size_t caps[] = {1, 8, 32, 256};
	char out[256 + 1];
	const char *p, *at, *colon, *q;
	size_t i, len;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert(authstore_redact(in, out, caps[i]) == out);
		len = strnlen(out, caps[i]);
		assert(len < caps[i]);
		assert(out[caps[i]] == 'x'); /* nothing past the buffer */
		if (!config_store_is_postgres(in)) {
			assert(strncmp(out, in, len) == 0);
			continue;
		}
		/* A password before the host: never in the full answer. */
		p = strstr(in, "://") + 3;
		q = p + strcspn(p, "?");
		for (at = NULL; p < q; p++)
			if (*p == '@')
				at = p;
		p = strstr(in, "://") + 3;
		colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
		if (caps[i] == 256 && colon != NULL &&
		    len >= (size_t)(colon - in) + 5)
			assert(strncmp(out + (colon - in), ":***@", 5) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[IN_MAX + 16];

	if (size > IN_MAX)
		size = IN_MAX;
	memcpy(in, data, size);
	in[size] = '\0';
	one(in);
	memcpy(in, "postgresql://", 13);
	memcpy(in + 13, data, size);
	in[13 + size] = '\0';
	one(in);
	return (0);
}
