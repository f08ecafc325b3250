/*
 * node: see node.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "inlet.h"
#include "log.h"
#include "node.h"
#include "outlet.h"
#include "relay.h"
#include "sandbox.h"

/* Attestation lifetime (seconds); re-signed at half of it. */
#ifndef NODE_LIFETIME
#define NODE_LIFETIME (24 * 3600)
#endif
/* Verified attestations remembered (steady-state handshakes skip ECDSA). */
#define NODE_CACHE_ENTRIES 1024
/* At most this many "refuse" lines per second; the rest are counted. */
#define NODE_REFUSE_LINES 10
/* Lines anyone can cause at the node listener, per second. */
#define NODE_ANYONE_LINES 10

/* Raise the open-file limit to the hard limit: one fd per socket. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("event=rlimit error=%s", strerror(errno));
}

/* Close every listener (stop accepting); live connections go on. */
static void
stop_listeners(struct node *n)
{
	size_t i;

	for (i = 0; i < n->ninlets; i++)
		inlet_stop(n->inlets[i]);
	front_stop(n->front);
	outlet_stop(n->outlet);
	relay_stop(n->relay);
}

/* While shutting down, leave the loop once no connection is left. */
static void
check_empty(struct node *n)
{

	if (n->env.stopping && n->env.ctx.nconns == 0 && relay_live(n->relay) == 0)
		ev_break(n->env.loop, EVBREAK_ALL);
}

/* No connection left while stopping: leave the loop. */
static void
node_empty_cb(struct conn_ctx *ctx)
{

	check_empty(ctx->data);
}

/* A role's live object ended (a relayed pair, a waiting client). */
static void
node_idle_cb(struct env *e)
{

	check_empty(e->data);
}

/* The grace period is over: drop what is left and leave the loop. */
static void
node_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)revents;
	conn_ctx_drop_all(&n->env.ctx, CONN_R_SHUTDOWN);
	ev_break(loop, EVBREAK_ALL);
}

/*
 * SIGTERM/SIGINT: stop accepting, give live connections the grace period.
 * A second signal ends the grace at once.
 */
static void
node_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct node *n = w->data;

	(void)revents;
	if (n->env.stopping) {
		conn_ctx_drop_all(&n->env.ctx, CONN_R_SHUTDOWN);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	n->env.stopping = 1;
	log_info("event=shutdown live=%u grace_s=%g signal=%d",
	    n->env.ctx.nconns + relay_live(n->relay), n->env.cfg->node.shutdown_grace,
	    w->signum);
	stop_listeners(n);
	ev_timer_stop(loop, &n->resign);
	if (n->env.ctx.nconns == 0 && relay_live(n->relay) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	n->env.ctx.empty_cb = node_empty_cb;
	ev_timer_set(&n->grace, n->env.cfg->node.shutdown_grace, 0.);
	ev_timer_start(loop, &n->grace);
}

/*
 * SIGHUP: configuration reload is not implemented yet; say so instead of
 * dying (the default action) when a terminal or a supervisor sends it.
 */
static void
node_sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{

	(void)loop;
	(void)w;
	(void)revents;
	log_warn("event=reload status=unsupported hint=restart-to-apply");
}

/*
 * Sign a new attestation (fresh static key) into the spare generation and
 * make it current; handshakes in flight keep the old one, which is only
 * overwritten a whole period later.
 */
static void
node_resign_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;
	unsigned next = !n->env.cur;
	struct channel_local tmp;

	(void)revents;
	if (channel_local_init(&tmp, n->env.local[n->env.cur].id_priv,
	    (uint64_t)ev_now(loop), NODE_LIFETIME) == -1) {
		log_error("event=resign error=failed");
		return; /* try again at the next period */
	}
	channel_local_fini(&n->env.local[next]);
	n->env.local[next] = tmp;
	wipe(&tmp, sizeof(tmp));
	n->env.cur = next;
	log_info("event=resign expiry=%llu",
	    (unsigned long long)n->env.local[next].expiry);
}

/* Close everything node_run made. */
static void
node_fini(struct node *n)
{
	size_t i;

	for (i = 0; i < n->ninlets; i++)
		inlet_free(n->inlets[i]);
	free(n->inlets);
	relay_free(n->relay);
	outlet_free(n->outlet);
	front_free(n->front);
	conn_ctx_drop_all(&n->env.ctx, CONN_R_SHUTDOWN);
	conn_ctx_fini(&n->env.ctx);
	ev_signal_stop(n->env.loop, &n->sigterm);
	ev_signal_stop(n->env.loop, &n->sigint);
	ev_signal_stop(n->env.loop, &n->sighup);
	ev_timer_stop(n->env.loop, &n->resign);
	ev_timer_stop(n->env.loop, &n->grace);
	channel_cache_free(n->env.cache);
	channel_local_fini(&n->env.local[0]);
	channel_local_fini(&n->env.local[1]);
}

/*
 * Resolve every host name of ${cfg} (numeric addresses already are).  The
 * loop never blocks on DNS, so names are looked up once, here: a target
 * that moves to another address needs a restart.  Return 0 or -1 (logged).
 */
static int
resolve_all(struct config *cfg)
{
	char err[512];
	size_t i;
	int rc = 0;

	if (cfg->node.has_listen &&
	    addr_resolve(&cfg->node.listen, err, sizeof(err)) == -1) {
		log_error("event=resolve-failed role=node error=\"%s\"", err);
		rc = -1;
	}
	for (i = 0; i < cfg->noutlets; i++) {
		if (addr_resolve(&cfg->outlets[i].target, err, sizeof(err)) ==
		    -1 || (cfg->outlets[i].has_relay &&
		    addr_resolve(&cfg->outlets[i].relay, err, sizeof(err)) ==
		    -1)) {
			log_error("event=resolve-failed role=outlet name=%s "
			    "error=\"%s\"", cfg->outlets[i].name, err);
			rc = -1;
		}
	}
	for (i = 0; i < cfg->ninlets; i++) {
		if (addr_resolve(&cfg->inlets[i].listen, err, sizeof(err)) ==
		    -1 || addr_resolve(cfg->inlets[i].has_via ?
		    &cfg->inlets[i].via : &cfg->inlets[i].outlet, err,
		    sizeof(err)) == -1) {
			log_error("event=resolve-failed role=inlet name=%s "
			    "error=\"%s\"", cfg->inlets[i].name, err);
			rc = -1;
		}
	}
	for (i = 0; i < cfg->nrelays; i++) {
		if (cfg->relays[i].has_via && addr_resolve(&cfg->relays[i].via,
		    err, sizeof(err)) == -1) {
			log_error("event=resolve-failed role=relay name=%s "
			    "error=\"%s\"", cfg->relays[i].name, err);
			rc = -1;
		}
	}
	return (rc);
}

/*
 * node_run(cfg, idn):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg}
 * (once, blocking), bind every listener, drop the dump flag, log "ready",
 * serve until SIGTERM/SIGINT and the shutdown grace.  Return 0 after a
 * clean shutdown, -1 if start-up failed (logged).
 */
int
node_run(struct config *cfg, const struct identity *idn)
{
	struct node *n;
	char err[512], id[IDENTITY_TEXT_SIZE];
	uint64_t hits, misses;
	size_t i;
	int dials = 0;

	for (i = 0; i < cfg->noutlets; i++)
		if (cfg->outlets[i].has_relay)
			dials = 1;
	if (cfg->ninlets == 0 && !cfg->node.has_listen && !dials) {
		log_error("event=config error=nothing-to-run path=%s",
		    cfg->path);
		goto fail0;
	}
	if (resolve_all(cfg) == -1)
		goto fail0;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_error("event=start error=nomem");
		goto fail0;
	}
	n->env.cfg = cfg;
	n->env.loop = ev_default_loop(0);
	if (n->env.loop == NULL) {
		log_error("event=start error=no-event-loop");
		goto fail1;
	}
	/* Broken sockets are reported by send(), not by a signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	conn_ctx_init(&n->env.ctx, n->env.loop);
	n->env.ctx.data = n;
	n->env.data = n;
	n->env.idle_cb = node_idle_cb;
	log_limit_init(&n->env.anyone_log, NODE_ANYONE_LINES);
	n->env.ctx.handshake_timeout = cfg->node.handshake_timeout;
	n->env.ctx.connect_timeout = cfg->node.connect_timeout;
	n->env.ctx.idle_timeout = cfg->node.idle_timeout;
	n->env.ctx.keepalive = cfg->node.keepalive;
	log_limit_init(&n->env.refuse_log, NODE_REFUSE_LINES);
	ev_init(&n->grace, node_grace_cb);
	n->grace.data = n;
	ev_init(&n->resign, node_resign_cb);
	n->resign.data = n;
	ev_signal_init(&n->sigterm, node_signal_cb, SIGTERM);
	ev_signal_init(&n->sigint, node_signal_cb, SIGINT);
	ev_signal_init(&n->sighup, node_sighup_cb, SIGHUP);
	n->sigterm.data = n->sigint.data = n->sighup.data = n;

	/* The process-wide credentials and attestation cache. */
	if (channel_local_init(&n->env.local[0], idn->priv,
	    (uint64_t)ev_now(n->env.loop), NODE_LIFETIME) == -1) {
		log_error("event=start error=channel-credentials");
		goto fail2;
	}
	if ((n->env.cache = channel_cache_new(NODE_CACHE_ENTRIES)) == NULL) {
		log_error("event=start error=nomem");
		goto fail2;
	}

	/* Bind every listener; any failure ends the start-up.  The front
	 * owns the [node] listen socket; the roles plug into it. */
	if ((cfg->node.has_listen || dials || cfg->nrelays > 0) &&
	    (n->front = front_new(&n->env, err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=node name=node "
		    "error=\"%s\"", err);
		goto fail2;
	}
	if ((cfg->node.has_listen || dials) &&
	    (n->outlet = outlet_new(&n->env, n->front, err, sizeof(err))) ==
	    NULL) {
		log_error("event=start role=outlet error=\"%s\"", err);
		goto fail2;
	}
	if (cfg->nrelays > 0 && (n->relay = relay_new(&n->env, n->front, err,
	    sizeof(err))) == NULL) {
		log_error("event=start role=relay error=\"%s\"", err);
		goto fail2;
	}
	if (cfg->ninlets > 0 &&
	    (n->inlets = calloc(cfg->ninlets, sizeof(*n->inlets))) == NULL) {
		log_error("event=start error=nomem");
		goto fail2;
	}
	for (i = 0; i < cfg->ninlets; i++) {
		n->inlets[i] = inlet_new(&n->env, &cfg->inlets[i], err, sizeof(err));
		if (n->inlets[i] == NULL) {
			log_error("event=listen-failed role=inlet name=%s "
			    "error=\"%s\"",
			    cfg->inlets[i].name, err);
			goto fail2;
		}
		n->ninlets++;
	}

	/* Keys are in memory from here on: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("event=prctl error=%s", strerror(errno));

	ev_signal_start(n->env.loop, &n->sigterm);
	ev_signal_start(n->env.loop, &n->sigint);
	ev_signal_start(n->env.loop, &n->sighup);
	ev_timer_set(&n->resign, NODE_LIFETIME / 2, NODE_LIFETIME / 2);
	ev_timer_start(n->env.loop, &n->resign);
	if (sandbox_enter(cfg) == -1) /* user, caps, landlock, seccomp */
		goto fail2;
	log_info("event=ready id=%s inlets=%zu outlets=%zu relays=%zu aes=%s "
	    "%s", identity_id_format(idn->id, id), cfg->ninlets, cfg->noutlets,
	    cfg->nrelays, crypto_aes_impl(), sandbox_status());
	ev_run(n->env.loop, 0);

	channel_cache_stats(n->env.cache, &hits, &misses);
	node_fini(n);
	free(n);
	log_info("event=exit code=0 attest_cache_hits=%llu "
	    "attest_cache_misses=%llu", (unsigned long long)hits,
	    (unsigned long long)misses);
	return (0);
fail2:
	node_fini(n);
fail1:
	free(n);
fail0:
	return (-1);
}
