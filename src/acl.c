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

/* Whether ${id} is one of the ${n} identifiers at ${list}. */
static bool
listed(const uint8_t (*list)[CONFIG_ID_LEN], size_t n,
    const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(list[i], id, CONFIG_ID_LEN) == 0)
			return (true);
	return (false);
}

/*
 * acl_known(cfg, id):
 * Whether any allow list of ${cfg} names ${id}: an outlet's allow, a
 * relay name's allow or register.  The cheap first look at an identity
 * a peer claims, before its attestation is verified (channel peer
 * filter); the real decision is acl_allows (or the relay's) afterwards.
 */
bool
acl_known(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < cfg->noutlets; i++)
		if (listed(cfg->outlets[i].allow, cfg->outlets[i].nallow, id))
			return (true);
	for (i = 0; i < cfg->nrelays; i++)
		if (listed(cfg->relays[i].allow, cfg->relays[i].nallow, id) ||
		    listed(cfg->relays[i].reg, cfg->relays[i].nreg, id))
			return (true);
	return (false);
}
