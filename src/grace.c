/*
 * grace: see grace.h.
 */
#include <signal.h>

#include "grace.h"
#include "log.h"
#include "notify.h"

/* While shutting down, leave the loop once nothing live is left. */
static void
check_empty(struct grace *g)
{

	if (g->env->stopping && g->env->ctx.nconns == 0 &&
	    parts_live(g->parts, g->nparts) == 0)
		ev_break(g->env->loop, EVBREAK_ALL);
}

/* No connection left while stopping: leave the loop. */
static void
grace_empty_cb(struct conn_ctx *ctx)
{

	check_empty(ctx->data);
}

/* A role's live object ended (a relayed pair, a waiting client). */
static void
grace_idle_cb(struct env *e)
{

	check_empty(e->data);
}

/* The grace period is over: drop what is left and leave the loop. */
static void
grace_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct grace *g = w->data;

	(void)revents;
	conn_ctx_drop_all(&g->env->ctx, CONN_R_SHUTDOWN);
	ev_break(loop, EVBREAK_ALL);
}

/*
 * SIGTERM/SIGINT: stop accepting, give live connections the grace period.
 * A second signal ends the grace at once.
 */
static void
grace_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct grace *g = w->data;
	struct env *e = g->env;

	(void)revents;
	if (e->stopping) {
		conn_ctx_drop_all(&e->ctx, CONN_R_SHUTDOWN);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	e->stopping = 1;
	notify_stopping();
	log_info("event=shutdown live=%u grace_s=%g signal=%d",
	    e->ctx.nconns + parts_live(g->parts, g->nparts),
	    e->cfg->node.shutdown_grace, w->signum);
	/* Close every listener (stop accepting); live connections go on. */
	parts_stop(g->parts, g->nparts);
	g->stopping(g->arg);
	if (e->ctx.nconns == 0 && parts_live(g->parts, g->nparts) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	e->ctx.empty_cb = grace_empty_cb;
	ev_timer_set(&g->timer, e->cfg->node.shutdown_grace, 0.);
	ev_timer_start(loop, &g->timer);
}

/*
 * grace_init(g, e, parts, n, stopping, arg):
 * The end of the node whose environment is ${e} and whose table of parts
 * is ${parts} (${n} rows; both borrowed): at the first signal
 * ${stopping}(${arg}) stops what else the node runs.  ${e}'s conn
 * context and idle hook tell ${g} when a connection or live object ends
 * (e->data and e->ctx.data are ${g}).  Not started.
 */
void
grace_init(struct grace *g, struct env *e, struct part **parts,
    size_t n, void (*stopping)(void *), void *arg)
{

	g->env = e;
	g->parts = parts;
	g->nparts = n;
	g->stopping = stopping;
	g->arg = arg;
	e->data = g;
	e->ctx.data = g;
	e->idle_cb = grace_idle_cb;
	ev_init(&g->timer, grace_timer_cb);
	g->timer.data = g;
	ev_signal_init(&g->sigterm, grace_signal_cb, SIGTERM);
	ev_signal_init(&g->sigint, grace_signal_cb, SIGINT);
	g->sigterm.data = g->sigint.data = g;
}

/*
 * grace_start(g):
 * Catch SIGTERM and SIGINT.
 */
void
grace_start(struct grace *g)
{

	ev_signal_start(g->env->loop, &g->sigterm);
	ev_signal_start(g->env->loop, &g->sigint);
}

/*
 * grace_fini(g):
 * Stop the signal watchers and the grace timer.
 */
void
grace_fini(struct grace *g)
{

	ev_signal_stop(g->env->loop, &g->sigterm);
	ev_signal_stop(g->env->loop, &g->sigint);
	ev_timer_stop(g->env->loop, &g->timer);
}
