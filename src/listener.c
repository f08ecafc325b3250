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
#include "sock.h"

/*
 * Apply the connection limits of ${e} to a freshly accepted ${fd}: return
 * 0 to go on, or close ${fd}, log "refuse" and return -1.
 *
 * Refusing closes at once and never touches the established connections.
 * At the pending-handshake limit, a source holding most pending handshakes
 * loses its oldest one to a newcomer from elsewhere (conn_ctx_evict).
 * Under a flood the refuse lines are limited to NODE_REFUSE_LINES per
 * second; the next line logged says how many were left out.
 */
static int
admit(struct env *e, int fd, const char *role)
{
	const char *reason;

	if (e->ctx.nconns >= e->cfg->node.max_connections)
		reason = "max-connections";
	else if (e->ctx.npending < e->cfg->node.max_handshakes)
		return (0);
	else if (conn_ctx_evict(&e->ctx, sock_source_key(fd)) == 0)
		return (0); /* a flooding source made room */
	else
		reason = "max-handshakes";
	close(fd);
	(void)log_limited(&e->refuse_log, ev_now(e->loop), LOG_LVL_WARN,
	    "event=refuse role=%s reason=%s", role, reason);
	return (-1);
}

/*
 * Accept what is waiting (a bounded batch, for fairness), apply the
 * limits, hand each admitted socket to the role.  Out of descriptors:
 * pause accepting for a moment instead of spinning on a readable socket.
 */
static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < 64 && l->fd != -1; i++) {
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
		if (admit(l->env, fd, l->role) == -1)
			continue;
		l->accept_cb(l, fd); /* the role owns fd now */
	}
}

/* The back-off is over: accept again. */
static void
on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct listener *l = w->data;

	(void)revents;
	if (l->fd != -1)
		ev_io_start(loop, &l->w);
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
	char buf[ADDR_TEXT_MAX + 16];

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if ((l->fd = sock_listen(a, SOMAXCONN, err, errlen)) == -1)
		return (-1);
	l->env = e;
	l->addr = a;
	l->role = role;
	l->accept_cb = accept_cb;
	l->arg = arg;
	ev_io_init(&l->w, on_accept, l->fd, EV_READ);
	l->w.data = l;
	ev_init(&l->pause, on_pause);
	l->pause.data = l;
	ev_io_start(e->loop, &l->w);
	log_info("event=listen role=%s name=%s addr=%s", role, name,
	    addr_format(a, buf, sizeof(buf)));
	return (0);
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
	close(l->fd);
	l->fd = -1;
	if (l->addr->is_unix)
		(void)unlink(l->addr->host);
}

