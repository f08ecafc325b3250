/*
 * admin: the node's admin endpoint ([node] admin =): a tiny HTTP/1.x
 * server on the node's loop for /metrics (Prometheus text, metrics.c),
 * /healthz (200 while the loop turns) and /readyz (200 once every item
 * of the readiness list of env is ready, else 503 with one line per
 * missing piece).  GET only, one request per connection, bounded: at
 * most ADMIN_CLIENTS connections at once, a head of at most HTTP_HEAD_MAX
 * bytes within ADMIN_HEAD_TIMEOUT seconds of accept, ADMIN_TIMEOUT
 * seconds per connection from accept to close.  When every slot is taken
 * and another connection waits, the oldest client without a whole head
 * (or already answered) that has had ADMIN_EVICT_AGE seconds is closed
 * for it, so idle clients cannot starve a probe.  Never on a non-loopback
 * address unless the config says admin_public = yes (config.c enforces
 * it).
 */
#ifndef SALLYPORT_ADMIN_H
#define SALLYPORT_ADMIN_H

#include <stddef.h>

#include "addr.h"
#include "env.h"

#define ADMIN_CLIENTS 32      /* connections served at once */
#define ADMIN_BACKLOG 64      /* the listen backlog */
#define ADMIN_HEAD_TIMEOUT 1. /* seconds from accept to a whole head */
#define ADMIN_TIMEOUT 2.      /* seconds per connection, all phases */
#define ADMIN_EVICT_AGE 0.25  /* seconds before a slot can be taken back */

struct admin;

/*
 * admin_new(e, a, err, errlen):
 * Bind ${a} (copied; a name must have its address: resolve_addr) and
 * serve on the loop of ${e} (borrowed).  NULL with a message in ${err} on failure.
 */
struct admin *admin_new(struct env *e, const struct addr *a, char *err,
    size_t errlen);

/*
 * admin_free(a):
 * Close the listener (a unix socket file is removed) and every client
 * connection; free ${a}.  NULL does nothing.
 */
void admin_free(struct admin *a);

#endif
