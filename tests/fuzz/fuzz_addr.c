/*
 * fuzz_addr: addr_parse() over arbitrary text.  What it accepts must
 * format to text that parses back to the same address.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a, b;
	char s[ADDR_TEXT_MAX + 16], buf[ADDR_TEXT_MAX + 16], err[160];

	/* Addresses are NUL-terminated text: cut at the buffer size. */
	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &a, err, sizeof(err)) == -1) {
		assert(err[0] != '\0');
		return (0);
	}
	addr_format(&a, buf, sizeof(buf));
	assert(addr_parse(buf, &b, err, sizeof(err)) == 0);
	assert(memcmp(&a, &b, sizeof(a)) == 0);
	return (0);
}
