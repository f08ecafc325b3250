/*
 * fuzz_preamble: feed the input as data-connection preambles (105 bytes
 * each, the last one zero padded) to a relay's ticket, whose key and id
 * are fixed so seeds built with them pass the tag and reach the name and
 * replay checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t id[TICKET_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14, 15, 16};
	uint8_t key[TICKET_KEY_LEN], pre[TICKET_PREAMBLE_LEN], type, pid[16];
	char name[TICKET_NAME_LEN];
	struct ticket t;
	size_t n;

	memset(key, 0x5a, sizeof(key));
	ticket_init(&t, id, key);
	while (size > 0) {
		n = size < sizeof(pre) ? size : sizeof(pre);
		memset(pre, 0, sizeof(pre));
		memcpy(pre, data, n);
		data += n;
		size -= n;
		if (ticket_preamble_id(pre, &type, pid) == -1)
			continue;
		if (ticket_preamble_check(&t, pre, &type, name) == 0 &&
		    (strlen(name) == 0 || strlen(name) >= TICKET_NAME_LEN))
			__builtin_trap();
	}
	ticket_fini(&t);
	return (0);
}
