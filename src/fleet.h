/*
 * fleet: a node's sessions with every replica of its relays (docs/relay.md,
 * "Fleets").  An outlet's relay = lines or an inlet's via = lines are
 * hops (PEER@HOST:PORT); a hop whose host is a name stands for every
 * address the name resolves to.  The fleet keeps one dialout (dialout.c)
 * per (hop, address): a registration with its pool for an outlet, a
 * client session for an inlet.  Names are looked up again every
 * [node] relay_resolve seconds and soon (at most once a second) after
 * any member's attempt fails or its session ends: members at new
 * addresses are added, those at addresses the name no longer gives are
 * ended.  A lookup that fails changes nothing.  Every member of a hop
 * pins the hop's one identity.  Never makes access decisions.
 */
#ifndef SALLYPORT_FLEET_H
#define SALLYPORT_FLEET_H

#include <stddef.h>

#include "config.h"
#include "dialout.h"

struct env;
struct fleet;

/*
 * fleet_new(e, kind, name, hops, nhops, pool, role, old):
 * Keep dialouts of ${kind} (dialout_new) for the service ${name} with
 * every address of each of the ${nhops} ${hops}, ${pool} pooled
 * connections each (registrations), ${role} for logs.  Members of ${old}
 * (may be NULL: the fleet of the previous configuration) made with the
 * same kind, name, hop and pool are taken over as they are (a reload
 * keeps unchanged registrations); the rest stays in ${old}, to be freed.
 * Names are looked up from the loop.  Every pointer is borrowed and must
 * outlive the fleet.  NULL on ENOMEM.
 */
struct fleet *fleet_new(struct env *e, enum dialout_kind kind,
    const char *name, const struct config_hop *hops, size_t nhops,
    unsigned pool, const char *role, struct fleet *old);

/*
 * fleet_free(f):
 * Free ${f} and every member left in it (dialout_free); NULL does nothing.
 */
void fleet_free(struct fleet *f);

/*
 * fleet_stop(f):
 * dialout_stop() every member; no more lookups.  NULL does nothing.
 */
void fleet_stop(struct fleet *f);

/*
 * fleet_restart(f):
 * The node's identity changed: dialout_restart() every member.
 */
void fleet_restart(struct fleet *f);

/*
 * fleet_on_pooled(f, cb, arg):
 * dialout_on_pooled(member, ${cb}, ${arg}) for every member, now and
 * later.
 */
void fleet_on_pooled(struct fleet *f,
    void (*cb)(void *, int, struct dialout *), void *arg);

/*
 * fleet_pick(f, avoid):
 * A member whose session is up (dialout_is_up), other than ${avoid} (may
 * be NULL), taken round robin; NULL if there is none.
 */
struct dialout *fleet_pick(struct fleet *f, const struct dialout *avoid);

/*
 * fleet_count_up(f):
 * How many members' sessions are up.
 */
size_t fleet_count_up(const struct fleet *f);

/*
 * fleet_is_down(f):
 * Return 1 if no member is up and none is trying (every last attempt
 * failed, or no name gave an address): clients should not wait.
 */
int fleet_is_down(const struct fleet *f);

#endif
