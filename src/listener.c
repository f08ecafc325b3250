/*
 * listener: see listener.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "sock.h"

/*
 * At a limit, the node listener makes room by evicting a responder
 * handshake (conn_ctx_evict).  First one with not one whole message in
 * after LISTENER_EVICT_IDLE seconds: a real peer sends its first message
 * right behind its connect, and one that waited in the listen backlog
 * has it there before it is even accepted.  The listener watcher runs at
 * the lowest priority, so every connection's readable event of a loop
 * iteration is processed before the listener looks for a victim: a peer
 * whose message is in is never taken for an idle one.  Only when no idle
 * one is left: the oldest handshake still running after
 * LISTENER_EVICT_BUSY seconds with nothing waiting unread (a peer that sent
 * a first message and then stalls; a real peer under a burst, whose next
 * message is slow because its own node is busy, gets a few seconds).  The idle age bounds how long a flood of idle connections
 * ahead of a real client in the backlog holds it: the backlog is worked
 * through max_handshakes connections per LISTENER_EVICT_IDLE
 * (docs/security.md, tests/integration/34-flood-same-address.sh).
 */
#define LISTENER_EVICT_IDLE 0.05
#define LISTENER_EVICT_BUSY 3.0

/*
 * listener_make_room(l, first):
 * See listener.h.  At the bound, only the node listener evicts (peers
 * from anywhere): an inlet's clients are the node's own users, and they
 * wait.
 */
int
listener_make_room(struct listener *l, int first)
{
	struct env *e = l->env;

	if (first ? e->ctx.nfirst < LISTENER_FIRST_MAX :
	    e->ctx.npending < e->cfg->node.max_handshakes)
		return (0);
	if (l->is_inlet)
		return (-1);
	return (conn_ctx_evict(&e->ctx, first, LISTENER_EVICT_IDLE,
	    LISTENER_EVICT_BUSY));
}

/*
 * Room for one more connection on ${l}: return 0 to accept, -1 to leave
 * the next client in the listen backlog.
 *
 * Below both limits there is room.  At a limit, the node listener first
 * evicts a handshake that makes no progress (conn_ctx_evict): a flood of
 * idle connections cannot hold the slots, and the kernel's backlog is
 * worked through.  Connections waiting for their first bytes (a relay's)
 * have a bound of their own, which the front keeps (listener_make_room):
 * they never stop the listener, so a real client's preamble or msg1 is
 * read at once however many idle ones there are.
 */
static int
room(struct listener *l)
{
	struct env *e = l->env;

	if (e->ctx.nconns < e->cfg->node.max_connections)
		return (listener_make_room(l, 0));
	if (!l->is_inlet && conn_ctx_evict(&e->ctx, 0, LISTENER_EVICT_IDLE,
	    LISTENER_EVICT_BUSY) == 0)
		return (0);
	return (-1);
}

/*
 * Stop accepting on ${l} until a slot frees (listener_slot_freed): new
 * clients wait in the listen backlog.  The node listener also looks again
 * after LISTENER_EVICT_IDLE, when the handshakes that made no progress
 * since have become evictable.  Log "backlog" (rate limited).
 */
static void
pause_full(struct listener *l)
{
	struct env *e = l->env;
	const char *why;
	int full_conns;

	ev_io_stop(e->loop, &l->w);
	l->full = 1;
	l->next_full = e->full;
	e->full = l;
	if (!l->is_inlet) {
		ev_timer_set(&l->pause, LISTENER_EVICT_IDLE, 0.);
		ev_timer_start(e->loop, &l->pause);
	}
	full_conns = e->ctx.nconns >= e->cfg->node.max_connections;
	why = full_conns ? "max-connections" : "max-handshakes";
	metrics_inc(full_conns ? l->m_full_conns : l->m_full_hs, 1);
	(void)log_limited(&e->refuse_log, ev_now(e->loop), LOG_LVL_WARN,
	    "event=backlog role=%s reason=%s connections=%u handshakes=%u",
	    l->role, why, e->ctx.nconns, e->ctx.npending);
}

/* Take ${l} off the list of listeners paused at a limit. */
static void
unpause(struct listener *l)
{
	struct listener **lp;

	for (lp = &l->env->full; *lp != NULL; lp = &(*lp)->next_full) {
		if (*lp == l) {
			*lp = l->next_full;
			break;
		}
	}
	l->next_full = NULL;
	l->full = 0;
}

/*
 * listener_slot_freed(e):
 * A connection or a handshake slot of ${e} was given back: let every
 * listener paused at a limit accept again (each one checks the limits
 * for itself, and pauses again if they are still reached).  Runs inside
 * conn callbacks, so it only starts watchers.
 */
void
listener_slot_freed(struct env *e)
{
	struct listener *l;

	while ((l = e->full) != NULL) {
		e->full = l->next_full;
		l->next_full = NULL;
		l->full = 0;
		ev_timer_stop(e->loop, &l->pause); /* a look-again timer */
		if (l->fd != -1)
			ev_io_start(e->loop, &l->w);
	}
}

/*
 * The backlog of a listening socket: the kernel's own cap
 * (net.core.somaxconn), so that a burst of clients waits there while the
 * node is at a limit; SOMAXCONN if it cannot be read.
 */
static int
listen_backlog(void)
{
	FILE *f;
	int v;

	if ((f = fopen("/proc/sys/net/core/somaxconn", "re")) == NULL)
		return (SOMAXCONN);
	if (fscanf(f, "%d", &v) != 1 || v <= 0)
		v = SOMAXCONN;
	fclose(f);
	return (v);
}

/*
 * Accept what is waiting (a bounded batch, for fairness) while there is
 * room, hand each socket to the owner.  At a limit, stop accepting until
 * a slot frees: the client waits in the backlog, it is never accepted and
 * then dropped.  Out of descriptors: pause accepting for a moment instead
 * of spinning on a readable socket.
 */
static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < 64 && l->fd != -1; i++) {
		if (room(l) == -1) {
			pause_full(l);
			return;
		}
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("event=accept role=%s error=%s",
				    l->role, strerror(errno));
				ev_io_stop(loop, &l->w);
				ev_timer_set(&l->pause, 0.1, 0.);
				ev_timer_start(loop, &l->pause);
			}
			return; /* EAGAIN, or an aborted connection */
		}
		l->accept_cb(l, fd); /* the owner owns fd now */
	}
}

/* The back-off, or the wait for evictable handshakes, is over: accept
 * again (on_accept checks the limits). */
static void
on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct listener *l = w->data;

	(void)revents;
	if (l->full)
		unpause(l);
	if (l->fd != -1)
		ev_io_start(loop, &l->w);
}

/*
 * listener_attach(l, e, fd, a, role, name, accept_cb, arg):
 * Start accepting on the listening socket ${fd} (taken), bound to ${a}
 * (borrowed; must outlive ${l}), into ${accept_cb}; log "listen" with
 * ${role} and ${name}.
 */
void
listener_attach(struct listener *l, struct env *e, int fd,
    const struct addr *a, const char *role, const char *name,
    void (*accept_cb)(struct listener *, int), void *arg)
{
	char buf[ADDR_TEXT_MAX + 16];

	memset(l, 0, sizeof(*l));
	l->fd = fd; /* l owns fd now */
	l->env = e;
	l->addr = a;
	l->role = role;
	l->is_inlet = strcmp(role, "inlet") == 0;
	l->m_full_conns = metrics_series(METRICS_REFUSED, role,
	    "max-connections", NULL);
	l->m_full_hs = metrics_series(METRICS_REFUSED, role, "max-handshakes",
	    NULL);
	l->accept_cb = accept_cb;
	l->arg = arg;
	ev_io_init(&l->w, on_accept, l->fd, EV_READ);
	/* After every connection's events of an iteration (see above). */
	ev_set_priority(&l->w, EV_MINPRI);
	l->w.data = l;
	ev_init(&l->pause, on_pause);
	l->pause.data = l;
	ev_io_start(e->loop, &l->w);
	log_info("event=listen role=%s name=%s addr=%s", role, name,
	    addr_format(a, buf, sizeof(buf)));
}

/*
 * listener_bind(a, err, errlen):
 * A listening socket bound to ${a} with the backlog of every listener,
 * for listener_attach; -1 with a message in ${err}.
 */
int
listener_bind(const struct addr *a, char *err, size_t errlen)
{

	return (sock_listen(a, listen_backlog(), err, errlen));
}

/*
 * listener_open(l, e, a, role, name, accept_cb, arg, err, errlen):
 * Bind and listen on ${a} (borrowed; must outlive ${l}), log "listen" with
 * ${role} and ${name}, and start accepting into ${accept_cb}.  A unix
 * socket path is created with mode 0600 after removing a stale socket
 * (never any other kind of file).  Return 0, or -1 with a message in
 * ${err}.
 */
int
listener_open(struct listener *l, struct env *e,
    const struct addr *a, const char *role, const char *name,
    void (*accept_cb)(struct listener *, int), void *arg, char *err,
    size_t errlen)
{
	int fd;

	l->fd = -1;
	if ((fd = listener_bind(a, err, errlen)) == -1)
		return (-1);
	listener_attach(l, e, fd, a, role, name, accept_cb, arg);
	return (0);
}

/*
 * listener_detach(l):
 * Stop accepting on ${l} and hand its socket to the caller (a reload
 * keeps a listener whose address did not change): return it, or -1 if
 * ${l} has none.  Nothing is closed or removed.
 */
int
listener_detach(struct listener *l)
{
	int fd = l->fd;

	if (fd == -1)
		return (-1);
	ev_io_stop(l->env->loop, &l->w);
	ev_timer_stop(l->env->loop, &l->pause);
	if (l->full)
		unpause(l);
	l->fd = -1; /* the caller owns fd now */
	return (fd);
}

/*
 * listener_close(l):
 * Stop accepting and close the socket of ${l} (a unix socket file is
 * removed).  Closing twice does nothing.
 */
void
listener_close(struct listener *l)
{

	if (l->fd == -1)
		return;
	ev_io_stop(l->env->loop, &l->w);
	ev_timer_stop(l->env->loop, &l->pause);
	if (l->full)
		unpause(l);
	close(l->fd);
	l->fd = -1;
	if (l->addr->is_unix)
		(void)unlink(l->addr->host);
}

