/*
 * acl: the access decision of an outlet: may this peer identity use this
 * outlet?  Deny by default: an outlet with no allow entries admits nobody.
 * Pure: no sockets, no clock, no logging (the caller writes the audit line).
 */
#ifndef SALLYPORT_ACL_H
#define SALLYPORT_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * acl_allows(o, id):
 * Return true if the raw peer identifier ${id} is on the allow-list of the
 * outlet ${o}; false if it is not, if the list is empty, or if ${o} or
 * ${id} is NULL.
 */
bool acl_allows(const struct config_outlet *o,
    const uint8_t id[CONFIG_ID_LEN]);

/*
 * acl_known(cfg, id):
 * Whether any allow list of ${cfg} names ${id}: an outlet's allow, a
 * relay name's allow or register.  The cheap first look at an identity
 * a peer claims, before its attestation is verified (channel peer
 * filter); the real decision is acl_allows (or the relay's) afterwards.
 */
bool acl_known(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN]);

#endif
