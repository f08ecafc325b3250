/*
 * fuzz_authtoken: authtoken_parse() over arbitrary bytes.  What it accepts
 * must format to a line that parses back to the same token; what it
 * refuses leaves a message and a wiped struct.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authtoken.h"
#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authtoken a, b;
	char line[AUTHTOKEN_LINE_MAX + 1];
	const char *why = NULL;
	size_t n;

	if (authtoken_parse((const char *)data, size, &a, &why) == -1) {
		assert(why != NULL && why[0] != '\0');
		assert(ct_is_zero(&a, sizeof(a)));
		return (0);
	}
	n = authtoken_format(&a, line, sizeof(line));
	assert(n > 0 && n <= AUTHTOKEN_LINE_MAX && strlen(line) == n);
	assert(authtoken_parse(line, n, &b, &why) == 0);
	assert(memcmp(&a, &b, sizeof(a)) == 0);
	return (0);
}
