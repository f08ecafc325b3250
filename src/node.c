/*
 * node: see node.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filewatch.h"
#include "member.h"
#include "grace.h"
#include "listener.h"
#include "log.h"
#include "names.h"
#include "node.h"
#include "metrics.h"
#include "notify.h"
#include "resolve.h"
#include "sandbox.h"
#include "trust.h"

/* Verified attestations remembered (steady-state handshakes skip ECDSA). */
#define NODE_CACHE_ENTRIES 1024
#define NODE_RESUME_ENTRIES 256 /* resumption tickets, each direction */
/* At most this many "backlog" lines per second; the rest are counted. */
#define NODE_REFUSE_LINES 10
/* Lines anyone can cause at the node listener, per second. */
#define NODE_ANYONE_LINES 10

static void node_reload(struct node *n, const char *why);

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

/* A connection or a handshake slot was given back: paused listeners go on. */
static void
node_slot_cb(struct conn_ctx *ctx)
{
	struct grace *g = ctx->data;

	listener_slot_freed(g->env);
}

/* Shutting down (grace.c): no more reloads, no more re-signing. */
static void
node_stopping(void *arg)
{
	struct node *n = arg;

	filewatch_stop(&n->watch);
	ev_timer_stop(n->env.loop, &n->resign);
}

/* SIGHUP: reload the file. */
static void
node_sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{

	(void)loop;
	(void)revents;
	node_reload(w->data, "signal");
}

/* reload = watch: a file changed. */
static void
node_changed(void *arg)
{

	node_reload(arg, "watch");
}

/*
 * Every second: end what a credential admitted once that credential
 * has expired (outlet connections, inlet connections pinned by rule,
 * relay sessions and their pairs), and wipe the expired resumption
 * tickets (their secrets are of no use any more): every part's expire.
 */
static void
node_expire_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)loop;
	(void)revents;
	(void)parts_expire(n->parts, ROWS_NODE);
}

/* Re-sign the attestation at half its lifetime (trust_resign). */
static void
node_resign_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)revents;
	trust_resign(&n->env, (uint64_t)ev_now(loop));
}

/*
 * Report what the rate limits left out: a line says how many were left
 * out before it, so without this the tail of a burst (nothing logged
 * after it) would never be reported.  Every second, and at exit.
 */
static void
flush_limits(struct node *n)
{

	log_limit_flush(&n->env.refuse_log, LOG_LVL_WARN, "backlog");
	log_limit_flush(&n->env.anyone_log, LOG_LVL_WARN, "anyone");
	log_limit_flush(&n->env.ctx.drop_log, LOG_LVL_WARN, "drop");
}

static void
node_flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	flush_limits(w->data);
}

/* Close everything node_run made. */
static void
node_fini(struct node *n)
{

	notify_stop(n->env.loop);
	/* The parts first (their connections stay, without callbacks)... */
	parts_free(n->parts, ROWS_NODE);
	/* ...then the connections, which free the retired generations... */
	conn_ctx_drop_all(&n->env.ctx, CONN_R_SHUTDOWN);
	/* A reload waiting for a name is dropped. */
	names_wait_fini(&n->names);
	resolve_free(n->env.ctx.resolver); /* nothing waits for it now */
	n->env.ctx.resolver = NULL;
	conn_ctx_fini(&n->env.ctx);
	/* ...then the configurations. */
	gens_fini(&n->gens);
	grace_fini(&n->grace);
	ev_signal_stop(n->env.loop, &n->sighup);
	ev_timer_stop(n->env.loop, &n->resign);
	filewatch_stop(&n->watch);
	ev_timer_stop(n->env.loop, &n->flush);
	flush_limits(n);
	ev_timer_stop(n->env.loop, &n->expire);
	sigcache_free(n->env.cache);
	resumecache_free(n->env.resume_out);
	resumecache_free(n->env.resume_in);
	epool_free(n->env.epool);
	cred_revoked_free(&n->env.revoked);
	free(n->env.revoked_auth);
	n->env.revoked_auth = NULL;
	channel_local_fini(&n->env.local[0]);
	channel_local_fini(&n->env.local[1]);
}

/* Return 1 if ${cfg} has something to run. */
static int
runnable(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->noutlets; i++)
		if (cfg->outlets[i].has_relay)
			return (1);
	return (cfg->ninlets > 0 || cfg->node.has_listen || cfg->nrelays > 0);
}

/*
 * config_diff()'s callback at a reload: log one changed section and count
 * it in ${arg}, unsigned[4] indexed by enum config_change.
 */
static void
reload_change(void *arg, const char *kind, const char *name,
    enum config_change what)
{
	static const char *const words[] = {"", "added", "removed", "changed"};
	unsigned *count = arg;

	log_info("event=reload-change kind=%s name=%s change=%s", kind, name,
	    words[what]);
	count[what]++;
}

/* Apply the limits, timeouts and log level of the current configuration. */
static void
apply_node(struct node *n)
{
	const struct config_node *cn = &n->env.cfg->node;

	n->env.ctx.handshake_timeout = cn->handshake_timeout;
	n->env.ctx.connect_timeout = cn->connect_timeout;
	n->env.ctx.idle_timeout = cn->idle_timeout;
	n->env.ctx.keepalive = cn->tcp_keepalive;
	if (cn->has_log_level && !n->level_fixed)
		log_set_level(cn->log_level);
}

/* A reload failed: nothing changed (logged). */
static void
reload_failed(struct node *n, const char *why, const char *err)
{

	filewatch_remember(&n->watch); /* look again at the next change */
	metrics_inc(n->m_reload_failed, 1);
	notify_ready();
	log_warn("event=reload status=failed trigger=%s error=\"%s\"", why,
	    err);
}

/*
 * Reload, from the file loaded (${cfg}, taken; its local names have
 * their addresses): every part prepares for it (binds what is new, loads
 * what can fail); then all switch to it at once, or none does (logged
 * either way).
 */
static void
reload_apply(struct node *n, struct config *cfg, const char *why)
{
	struct part_reload r;
	unsigned ch[4] = {0, 0, 0, 0}; /* by enum config_change */
	char err[8192];

	memset(&r, 0, sizeof(r));
	r.old = n->env.cfg;
	r.cfg = cfg;
	r.old_gen = n->gens.cur;
	r.err = err;
	r.errlen = sizeof(err);
	if (!runnable(cfg)) {
		snprintf(err, sizeof(err), "%s: nothing to run (no inlet, no "
		    "listen, no relay)", cfg->path);
		goto fail;
	}
	if ((r.gen = gen_new(&n->gens, cfg, 1)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (parts_prepare(n->parts, ROWS_NODE, &r) == -1) {
		gen_free(r.gen); /* and cfg */
		reload_failed(n, why, err);
		return;
	}

	/* From here on the new configuration is the node's. */
	config_diff(n->env.cfg, cfg, reload_change, ch);
	n->env.cfg = cfg;
	n->env.ctx.epoch = r.gen;
	n->gens.cur = r.gen;
	apply_node(n);
	parts_commit(n->parts, ROWS_NODE, &r);
	gen_retire(r.old_gen); /* freed with its last connection */
	filewatch_remember(&n->watch);
	filewatch_set(&n->watch);
	names_watch(&n->env);
	metrics_inc(n->m_reload_ok, 1);
	notify_ready();
	log_info("event=reload status=ok generation=%u added=%u removed=%u "
	    "changed=%u identity=%s revoked=%u trigger=%s", r.gen->id,
	    ch[CONFIG_ADDED], ch[CONFIG_REMOVED], ch[CONFIG_CHANGED],
	    r.rotated ? "rotated" : "kept", r.revoked, why);
	return;
fail:
	config_free(cfg);
	free(cfg);
	reload_failed(n, why, err);
}

/*
 * The names of the file a reload loaded have their addresses (apply it:
 * ${cfg} taken), or failed (${err}); a reload asked for meanwhile runs
 * next.
 */
static void
node_names_done(void *arg, struct config *cfg, const char *why,
    const char *err)
{
	struct node *n = arg;
	const char *again;

	if (cfg != NULL)
		reload_apply(n, cfg, why);
	else
		reload_failed(n, why, err);
	if ((again = n->again) != NULL) {
		n->again = NULL;
		node_reload(n, again);
	}
}

/*
 * Reload: load the file again, give its local names their addresses
 * (names_wait_start), then apply it (reload_apply).  While a reload waits
 * for a name, another one asked for (SIGHUP, reload = watch) runs after
 * it.
 */
static void
node_reload(struct node *n, const char *why)
{
	struct config *cfg;
	char err[8192];

	if (n->env.stopping)
		return;
	if (names_wait_busy(&n->names)) {
		n->again = why;
		return;
	}
	notify_reloading();
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		reload_failed(n, why, "out of memory");
		return;
	}
	if (config_load(cfg, n->env.cfg->path, err, sizeof(err)) == -1) {
		free(cfg);
		reload_failed(n, why, err);
		return;
	}
	names_wait_start(&n->names, cfg, why);
}

/* A part asked for a reload (env->reload). */
static void
node_reload_asked(void *arg, const char *why)
{

	node_reload(arg, why);
}

/* The environment's hooks into the node, and the node's watchers. */
static void
node_hooks(struct node *n)
{

	n->env.ctx.epoch_ref = gen_ref;
	n->env.reload = node_reload_asked;
	n->env.reload_arg = n;
	n->env.ctx.slot_cb = node_slot_cb;
	grace_init(&n->grace, &n->env, n->parts, ROWS_NODE, node_stopping, n);
	log_limit_init(&n->env.anyone_log, NODE_ANYONE_LINES);
	log_limit_init(&n->env.refuse_log, NODE_REFUSE_LINES);
	apply_node(n);
	ev_init(&n->resign, node_resign_cb);
	n->resign.data = n;
	ev_init(&n->flush, node_flush_cb);
	n->flush.data = n;
	filewatch_init(&n->watch, &n->env, node_changed, n);
	ev_init(&n->expire, node_expire_cb);
	n->expire.data = n;
	ev_signal_init(&n->sighup, node_sighup_cb, SIGHUP);
	n->sighup.data = n;

}

/* The process-wide credentials and attestation cache (logged on failure). */
static int
node_keys(struct node *n, const struct identity *idn)
{

	if (channel_local_init(&n->env.local[0], idn->priv,
	    (uint64_t)ev_now(n->env.loop), trust_lifetime()) == -1) {
		log_error("event=start error=channel-credentials");
		return (-1);
	}
	if ((n->env.cache = sigcache_new(NODE_CACHE_ENTRIES)) == NULL ||
	    (n->env.resume_out = resumecache_new(
	    NODE_RESUME_ENTRIES, 1)) == NULL ||
	    (n->env.resume_in = resumecache_new(
	    NODE_RESUME_ENTRIES, 0)) == NULL ||
	    (n->env.epool = epool_new(n->env.loop)) == NULL) {
		log_error("event=start error=nomem");
		return (-1);
	}
	return (0);
}

/* Every part runs: protect the keys, start the signals and timers. */
static void
node_arm(struct node *n)
{

	/* Keys are in memory from here on: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("event=prctl error=%s", strerror(errno));
	trust_protect(&n->env);

	grace_start(&n->grace);
	ev_signal_start(n->env.loop, &n->sighup);
	ev_timer_set(&n->resign, (double)trust_lifetime() / 2,
	    (double)trust_lifetime() / 2);
	ev_timer_start(n->env.loop, &n->resign);
	ev_timer_set(&n->flush, 1., 1.);
	ev_timer_start(n->env.loop, &n->flush);
	ev_timer_set(&n->expire, 1, 1);
	ev_timer_start(n->env.loop, &n->expire);
	filewatch_remember(&n->watch);
	filewatch_set(&n->watch);
	names_watch(&n->env); /* lookups start; their answers come from the loop */
}

/*
 * node_run(cfg, idn, level_fixed):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg},
 * bind every listener, drop the dump flag, log "ready", serve until
 * SIGTERM/SIGINT and the shutdown grace, reloading on SIGHUP (and with
 * reload = watch); ${level_fixed}: the command line set the log level, a
 * reload does not change it.  Return 0 after a clean shutdown, -1 if
 * start-up failed (logged).
 */
int
node_run(struct config *cfg, const struct identity *idn, int level_fixed)
{
	struct node *n;
	char err[2048], id[IDENTITY_TEXT_SIZE];
	uint64_t hits, misses;

	if (!runnable(cfg)) {
		log_error("event=config error=nothing-to-run path=%s",
		    cfg->path);
		goto fail0;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_error("event=start error=nomem");
		goto fail0;
	}
	n->env.cfg = cfg;
	n->level_fixed = level_fixed;
	n->m_reload_ok = metrics_series(METRICS_RELOADS, "ok", NULL, NULL);
	n->m_reload_failed = metrics_series(METRICS_RELOADS, "failed", NULL,
	    NULL);
	n->env.loop = ev_default_loop(0);
	if (n->env.loop == NULL) {
		log_error("event=start error=no-event-loop");
		goto fail1;
	}
	/* Broken sockets are reported by send(), not by a signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	conn_ctx_init(&n->env.ctx, n->env.loop);
	env_audit_init();
	/* c-ares reads /etc/resolv.conf here, before the sandbox. */
	names_wait_init(&n->names, &n->env, node_names_done, n);
	if ((n->env.ctx.resolver = resolve_new(n->env.loop, names_note,
	    &n->names, err, sizeof(err))) == NULL) {
		log_error("event=start error=resolver detail=\"%s\"", err);
		goto fail1;
	}
	/* The local names, before anything else is on the loop. */
	if (names_start(&n->env, cfg) == -1)
		goto fail1;
	if ((n->gens.cur = gen_new(&n->gens, cfg, 0)) == NULL) { /* main's */
		log_error("event=start error=nomem");
		goto fail1;
	}
	n->env.ctx.epoch = n->gens.cur;
	node_hooks(n);
	if (node_keys(n, idn) == -1)
		goto fail2;

	/* [node] enroll: the first enrolment, before the trust files. */
	if (member_first(cfg, idn) == -1)
		goto fail2;
	/* Every part, in table order: the trust files, then every listener
	 * (any failure ends the start-up), the admin endpoint last. */
	n->host.env = &n->env;
	n->host.idn = idn;
	n->host.cur = &n->gens.cur;
	if (parts_start(n->parts, rows_node, ROWS_NODE, &n->host) == -1)
		goto fail2;

	node_arm(n);
	if (sandbox_enter(cfg) == -1) /* user, caps, landlock, seccomp */
		goto fail2;
	log_info("event=ready id=%s inlets=%zu outlets=%zu relays=%zu aes=%s "
	    "%s", identity_id_format(idn->id, id), cfg->ninlets, cfg->noutlets,
	    cfg->nrelays, crypto_aes_impl(), sandbox_status());
	notify_start(n->env.loop);
	notify_ready();
	ev_run(n->env.loop, 0);

	sigcache_stats(n->env.cache, &hits, &misses);
	node_fini(n);
	free(n);
	log_info("event=exit code=0 attest_cache_hits=%llu "
	    "attest_cache_misses=%llu", (unsigned long long)hits,
	    (unsigned long long)misses);
	return (0);
fail2:
	node_fini(n);
fail1:
	resolve_free(n->env.ctx.resolver);
	n->env.ctx.resolver = NULL;
	conn_ctx_fini(&n->env.ctx); /* if node_fini did not */
	free(n);
fail0:
	return (-1);
}
