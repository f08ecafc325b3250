/*
 * listener: a listening socket of the node and the admission of what it
 * accepts.  Accepts in bounded batches, applies the node's connection
 * limits: at max_connections or max_handshakes it stops accepting and
 * lets the kernel's listen backlog (sized from net.core.somaxconn) hold
 * new clients until a slot frees, logging "backlog" (rate limited); the
 * node listener first evicts a handshake that made no progress.  Each
 * accepted socket goes to its owner's callback.  Out of descriptors, it pauses
 * instead of spinning.  Knows no role.
 */
#ifndef SALLYPORT_LISTENER_H
#define SALLYPORT_LISTENER_H

#include <ev.h>

#include "addr.h"
#include "env.h"
#include "metrics.h"

/*
 * accept_cb gets each admitted connection (the fd is non-blocking,
 * close-on-exec, and the callback's to keep).
 */
struct listener {
	struct env *env;
	int fd;
	const struct addr *addr; /* borrowed from the config */
	const char *role;        /* "inlet" or "node" */
	ev_io w;
	ev_timer pause; /* back-off while out of descriptors, or look-again */
	int is_inlet;   /* local clients: never evicted, they wait */
	int full;       /* paused at a limit, on env->full */
	struct listener *next_full;
	void (*accept_cb)(struct listener *l, int fd);
	void *arg; /* the owner's object */
	/* Pauses at a limit, by reason (metrics.h's handles, resolved in
	 * listener_attach): max-connections, max-handshakes. */
	struct metrics_series *m_full_conns;
	struct metrics_series *m_full_hs;
};

/*
 * The bound on connections waiting for their first bytes (ctx->nfirst: a
 * relay's accepted connections until they show a preamble or a
 * handshake), apart from max_handshakes.
 */
#define LISTENER_FIRST_MAX 4096

/*
 * listener_make_room(l, first):
 * Room for one more connection of ${l}'s node waiting for its first bytes
 * (${first}: below LISTENER_FIRST_MAX) or in a handshake (below
 * max_handshakes): 0 if there is room or, on the node listener, one that
 * makes no progress was evicted to make it (conn_ctx_evict); -1 if none.
 */
int listener_make_room(struct listener *l, int first);

/*
 * listener_open(l, e, a, role, name, accept_cb, arg, err, errlen):
 * Bind and listen on ${a} (borrowed; must outlive ${l}), log "listen" with
 * ${role} and ${name}, and start accepting into ${accept_cb}.  A unix
 * socket path is created with mode 0600 after removing a stale socket
 * (never any other kind of file).  Return 0, or -1 with a message in
 * ${err}.
 */
int listener_open(struct listener *l, struct env *e, const struct addr *a,
    const char *role, const char *name,
    void (*accept_cb)(struct listener *, int), void *arg, char *err,
    size_t errlen);

/*
 * listener_bind(a, err, errlen):
 * A listening socket bound to ${a} with the backlog of every listener,
 * for listener_attach; -1 with a message in ${err}.
 */
int listener_bind(const struct addr *a, char *err, size_t errlen);

/*
 * listener_attach(l, e, fd, a, role, name, accept_cb, arg):
 * Start accepting on the listening socket ${fd} (taken), bound to ${a}
 * (borrowed; must outlive ${l}), into ${accept_cb}; log "listen" with
 * ${role} and ${name}.
 */
void listener_attach(struct listener *l, struct env *e, int fd,
    const struct addr *a, const char *role, const char *name,
    void (*accept_cb)(struct listener *, int), void *arg);

/*
 * listener_detach(l):
 * Stop accepting on ${l} and hand its socket to the caller (a reload
 * keeps a listener whose address did not change): return it, or -1 if
 * ${l} has none.  Nothing is closed or removed.
 */
int listener_detach(struct listener *l);

/*
 * listener_slot_freed(e):
 * A connection or a handshake slot of ${e} was given back: let every
 * listener paused at a limit accept again (each one checks the limits
 * for itself, and pauses again if they are still reached).  Runs inside
 * conn callbacks, so it only starts watchers.
 */
void listener_slot_freed(struct env *e);

/*
 * listener_close(l):
 * Stop accepting and close the socket of ${l} (a unix socket file is
 * removed).  Closing twice does nothing.
 */
void listener_close(struct listener *l);

#endif
