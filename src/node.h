/*
 * node: what `sallyport run FILE` runs.  One process, one ev_default_loop,
 * single-threaded: the inlets and the outlet listener of one config, the
 * process-wide channel credentials and attestation cache, the connection
 * limits, SIGTERM/SIGINT handling.  Never parses the config (config.c) and
 * never touches key files (identity.c); never calls exit() (main.c does).
 */
#ifndef SALLYPORT_NODE_H
#define SALLYPORT_NODE_H

#include <stdint.h>

#include <ev.h>

#include "addr.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "identity.h"

struct inlet;
struct outlet;
struct relay;
struct node;

/*
 * A listening socket of a role.  accept_cb gets each admitted connection
 * (the fd is non-blocking, close-on-exec, and the callback's to keep).
 */
struct node_listener {
	struct node *node;
	int fd;
	const struct addr *addr; /* borrowed from the config */
	const char *role;        /* "inlet" or "node" */
	ev_io w;
	ev_timer pause; /* back-off while out of file descriptors */
	int is_inlet;   /* local clients: never evicted, they wait */
	int full;       /* paused at a limit, on node->full */
	struct node_listener *next_full;
	void (*accept_cb)(struct node_listener *l, int fd);
	void *arg; /* the role's object */
};

struct node {
	struct ev_loop *loop;
	const struct config *cfg;
	struct conn_ctx ctx;
	/*
	 * Two generations of credentials: new channels use local[cur]; the
	 * other one stays valid for handshakes still running when a new
	 * attestation was signed (re-signed every NODE_LIFETIME / 2).
	 */
	struct channel_local local[2];
	unsigned cur;
	struct channel_cache *cache;
	struct inlet **inlets;
	size_t ninlets;
	struct outlet *outlet; /* the [node] listen side, or NULL */
	struct relay *relay;   /* the [relay NAME] sections, or NULL */
	ev_signal sigterm, sigint, sighup;
	ev_timer resign, grace;
	int stopping;
	struct node_listener *full; /* listeners paused at a limit */
	uint64_t refused;       /* limit lines suppressed by rate limit */
	ev_tstamp refuse_at;    /* start of the current limit-log second */
	unsigned refuse_lines;  /* limit lines logged in that second */
};

/*
 * node_run(cfg, idn):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg}
 * (once, blocking), bind every listener, drop the dump flag, log "ready",
 * serve until SIGTERM/SIGINT and the shutdown grace.  Return 0 after a
 * clean shutdown, -1 if start-up failed (logged).
 */
int node_run(struct config *cfg, const struct identity *idn);

/*
 * node_local(n):
 * The credentials new channels of ${n} use.
 */
const struct channel_local *node_local(const struct node *n);

/*
 * node_listener_open(l, n, a, role, name, accept_cb, arg, err, errlen):
 * Bind and listen on ${a} (borrowed; must outlive ${l}), log "listen" with
 * ${role} and ${name}, and start accepting into ${accept_cb}.  A unix
 * socket path is created with mode 0600 after removing a stale socket
 * (never any other kind of file).  Return 0, or -1 with a message in
 * ${err}.
 */
int node_listener_open(struct node_listener *l, struct node *n,
    const struct addr *a, const char *role, const char *name,
    void (*accept_cb)(struct node_listener *, int), void *arg, char *err,
    size_t errlen);

/*
 * node_listener_close(l):
 * Stop accepting and close the socket of ${l} (a unix socket file is
 * removed).  Closing twice does nothing.
 */
void node_listener_close(struct node_listener *l);

/*
 * node_check_empty(n):
 * While shutting down, leave the loop once no connection is left (the
 * relay calls it when its last pair ends).
 */
void node_check_empty(struct node *n);

/*
 * node_audit(n, allow, reason, id, service, role):
 * Log one access decision ("audit"): ${id} is the raw peer identifier or
 * NULL, ${service} the service asked for (printed safely).
 */
void node_audit(const struct node *n, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role);

#endif
