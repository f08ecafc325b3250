/*
 * fuzz_preamble: feed the input as data-connection preambles (97 bytes
 * each, the last one zero padded) to a relay's ticket and its map of
 * expected connection ids, whose key is fixed so seeds built with it find
 * their session, pass the tag and reach the name and window checks.
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
	static struct ticket_window win;
	static struct ticket_slot *buckets[256];
	uint8_t key[TICKET_KEY_LEN], pre[TICKET_PREAMBLE_LEN], type;
	char name[TICKET_NAME_LEN];
	struct ticket_map map;
	struct ticket t, *found;
	uint64_t ctr;
	size_t n;

	memset(key, 0x5a, sizeof(key));
	memset(buckets, 0, sizeof(buckets));
	ticket_map_init(&map, buckets, 256);
	ticket_init(&t, id, key);
	ticket_expect(&t, &map, &win);
	while (size > 0) {
		n = size < sizeof(pre) ? size : sizeof(pre);
		memset(pre, 0, sizeof(pre));
		memcpy(pre, data, n);
		data += n;
		size -= n;
		if ((found = ticket_lookup(&map, pre, &ctr)) == NULL)
			continue;
		if (found != &t)
			__builtin_trap();
		if (ticket_preamble_check(&t, pre, ctr, &type, name) == 0 &&
		    (strlen(name) == 0 || strlen(name) >= TICKET_NAME_LEN))
			__builtin_trap();
	}
	ticket_fini(&t);
	if (map.n != 0)
		__builtin_trap();
	return (0);
}
