/*
 * acl: see acl.h.
 */
#include <string.h>

#include "acl.h"

/*
 * acl_allows(o, id):
 * Return true if the raw peer identifier ${id} is on the allow-list of the
 * outlet ${o}; false if it is not, if the list is empty, or if ${o} or
 * ${id} is NULL.
 *
 * Identifiers are public values (hashes of public keys), so memcmp is fine
 * here; the list is short and scanned in full order of the config.
 */
bool
acl_allows(const struct config_outlet *o, const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	if (o == NULL || id == NULL || o->allow == NULL)
		return (false);
	for (i = 0; i < o->nallow; i++) {
		if (memcmp(o->allow[i], id, CONFIG_ID_LEN) == 0)
			return (true);
	}
	return (false);
}
