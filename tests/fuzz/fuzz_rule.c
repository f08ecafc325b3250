/*
 * fuzz_rule: config_rule_parse() over arbitrary text.  What it accepts
 * has a normal form (config_rule_format) that parses back to the same
 * terms, whose normal form is itself; what it refuses says why.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config_rule a, b;
	char s[CONFIG_RULE_TEXT + 16], n1[CONFIG_RULE_TEXT],
	    n2[CONFIG_RULE_TEXT], err[CONFIG_RULE_TEXT + 160];

	/* Rules are NUL-terminated text: cut at the buffer size. */
	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (config_rule_parse(&a, s, err, sizeof(err)) == -1) {
		assert(err[0] != '\0');
		return (0);
	}
	assert(strlen(s) < CONFIG_RULE_TEXT);
	config_rule_format(&a, n1, sizeof(n1));
	assert(strlen(n1) == strlen(s));
	assert(config_rule_parse(&b, n1, err, sizeof(err)) == 0);
	assert(a.nterms == b.nterms);
	assert(memcmp(a.terms, b.terms, sizeof(a.terms)) == 0);
	assert(strcmp(a.authority, b.authority) == 0);
	config_rule_format(&b, n2, sizeof(n2));
	assert(strcmp(n1, n2) == 0);
	return (0);
}
