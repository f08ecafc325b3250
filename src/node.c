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
	channel_cache_free(n->env.cache);
	channel_resume_cache_free(n->env.resume_out);
	channel_resume_cache_free(n->env.resume_in);
	epool_free(n->env.epool);
	cred_revoked_free(&n->env.revoked);
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

/* Identifier lists ${a} (${na}) and ${b} (${nb}) are the same. */
static int
ids_same(const uint8_t (*a)[CONFIG_ID_LEN], size_t na,
    const uint8_t (*b)[CONFIG_ID_LEN], size_t nb)
{

	return (na == nb && (na == 0 || memcmp(a, b, na * CONFIG_ID_LEN) ==
	    0));
}

/* Relay lists ${a} (${na}) and ${b} (${nb}) are the same, in order. */
static int
hops_same(const struct config_hop *a, size_t na, const struct config_hop *b,
    size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (memcmp(a[i].id, b[i].id, CONFIG_ID_LEN) != 0 ||
		    !addr_same(&a[i].addr, &b[i].addr))
			return (0);
	return (1);
}

/* Attribute rule lists ${a} (${na}) and ${b} (${nb}) are the same, in
 * order (as written, and the issuer each names). */
static int
rules_same(const struct config_rule *a, size_t na,
    const struct config_rule *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text) != 0 ||
		    memcmp(a[i].issuer, b[i].issuer, CONFIG_ID_LEN) != 0)
			return (0);
	return (1);
}

/* Address lists ${a} (${na}) and ${b} (${nb}) are the same, in order. */
static int
addrs_same(const struct addr *a, size_t na, const struct addr *b,
    size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (!addr_same(&a[i], &b[i]))
			return (0);
	return (1);
}

/* What a reload changed, per kind of section. */
struct changes {
	unsigned added, removed, changed;
};

/* Log one change and count it. */
static void
change(struct changes *ch, const char *kind, const char *name, int what)
{
	static const char *const words[] = {"added", "removed", "changed"};

	log_info("event=reload-change kind=%s name=%s change=%s", kind, name,
	    words[what]);
	if (what == 0)
		ch->added++;
	else if (what == 1)
		ch->removed++;
	else
		ch->changed++;
}

/* Log what differs between ${o} and ${c}. */
static void
diff_configs(const struct config *o, const struct config *c,
    struct changes *ch)
{
	const struct config_node *a = &o->node, *b = &c->node;
	size_t i, j;

	if (a->has_listen != b->has_listen ||
	    (a->has_listen && !addr_same(&a->listen, &b->listen)) ||
	    a->max_connections != b->max_connections ||
	    a->max_handshakes != b->max_handshakes ||
	    a->handshake_timeout != b->handshake_timeout ||
	    a->connect_timeout != b->connect_timeout ||
	    a->idle_timeout != b->idle_timeout ||
	    a->shutdown_grace != b->shutdown_grace ||
	    a->keepalive != b->keepalive ||
	    a->tcp_keepalive != b->tcp_keepalive ||
	    a->has_log_level != b->has_log_level ||
	    a->log_level != b->log_level ||
	    a->reload_watch != b->reload_watch ||
	    a->reload_interval != b->reload_interval ||
	    a->relay_resolve != b->relay_resolve ||
	    strcmp(a->identity, b->identity) != 0 || o->npeers != c->npeers)
		change(ch, "node", "node", 2);
	for (i = 0; i < c->noutlets; i++) {
		const struct config_outlet *y = &c->outlets[i], *x;

		if ((x = config_outlet_find(o, y->name)) == NULL)
			change(ch, "outlet", y->name, 0);
		else if (!addr_same(&x->target, &y->target) ||
		    !ids_same(x->allow, x->nallow, y->allow, y->nallow) ||
		    !rules_same(x->rules, x->nrules, y->rules, y->nrules) ||
		    x->pool != y->pool || x->max_dials != y->max_dials ||
		    x->proxy_v2 != y->proxy_v2 ||
		    !hops_same(x->relay, x->nrelay, y->relay, y->nrelay))
			change(ch, "outlet", y->name, 2);
	}
	for (i = 0; i < o->noutlets; i++)
		if (config_outlet_find(c, o->outlets[i].name) == NULL)
			change(ch, "outlet", o->outlets[i].name, 1);
	for (i = 0; i < c->ninlets; i++) {
		const struct config_inlet *y = &c->inlets[i], *x = NULL;

		for (j = 0; j < o->ninlets; j++)
			if (strcmp(o->inlets[j].name, y->name) == 0)
				x = &o->inlets[j];
		if (x == NULL)
			change(ch, "inlet", y->name, 0);
		else if (x->has_listen != y->has_listen ||
		    !addr_same(&x->listen, &y->listen) ||
		    !addrs_same(x->intercept, x->nintercept, y->intercept,
		    y->nintercept) ||
		    memcmp(x->outlet_id, y->outlet_id, CONFIG_ID_LEN) != 0 ||
		    x->outlet_by_rule != y->outlet_by_rule ||
		    strcmp(x->outlet_rule.text, y->outlet_rule.text) != 0 ||
		    memcmp(x->outlet_rule.issuer, y->outlet_rule.issuer,
		    CONFIG_ID_LEN) != 0 ||
		    strcmp(x->service, y->service) != 0 ||
		    !hops_same(x->via, x->nvia, y->via, y->nvia) ||
		    (!y->has_via && !addr_same(&x->outlet, &y->outlet)))
			change(ch, "inlet", y->name, 2);
	}
	for (i = 0; i < o->ninlets; i++) {
		for (j = 0; j < c->ninlets; j++)
			if (strcmp(o->inlets[i].name, c->inlets[j].name) == 0)
				break;
		if (j == c->ninlets)
			change(ch, "inlet", o->inlets[i].name, 1);
	}
	for (i = 0; i < c->nrelays; i++) {
		const struct config_relay *y = &c->relays[i], *x = NULL;

		for (j = 0; j < o->nrelays; j++)
			if (strcmp(o->relays[j].name, y->name) == 0)
				x = &o->relays[j];
		if (x == NULL)
			change(ch, "relay", y->name, 0);
		else if (!ids_same(x->reg, x->nreg, y->reg, y->nreg) ||
		    !ids_same(x->allow, x->nallow, y->allow, y->nallow) ||
		    !rules_same(x->reg_rules, x->nreg_rules, y->reg_rules,
		    y->nreg_rules) ||
		    !rules_same(x->allow_rules, x->nallow_rules,
		    y->allow_rules, y->nallow_rules) ||
		    x->has_via != y->has_via || (y->has_via && (memcmp(
		    x->via_id, y->via_id, CONFIG_ID_LEN) != 0 ||
		    !addr_same(&x->via, &y->via))))
			change(ch, "relay", y->name, 2);
	}
	for (i = 0; i < o->nrelays; i++) {
		for (j = 0; j < c->nrelays; j++)
			if (strcmp(o->relays[i].name, c->relays[j].name) == 0)
				break;
		if (j == c->nrelays)
			change(ch, "relay", o->relays[i].name, 1);
	}
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
	metrics_add(METRICS_RELOADS, 1, "failed", NULL, NULL);
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
	struct changes ch = {0, 0, 0};
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
	diff_configs(n->env.cfg, cfg, &ch);
	n->env.cfg = cfg;
	n->env.ctx.epoch = r.gen;
	n->gens.cur = r.gen;
	apply_node(n);
	parts_commit(n->parts, ROWS_NODE, &r);
	gen_retire(r.old_gen); /* freed with its last connection */
	filewatch_remember(&n->watch);
	filewatch_set(&n->watch);
	names_watch(&n->env);
	metrics_add(METRICS_RELOADS, 1, "ok", NULL, NULL);
	notify_ready();
	log_info("event=reload status=ok generation=%u added=%u removed=%u "
	    "changed=%u identity=%s revoked=%u trigger=%s", r.gen->id,
	    ch.added, ch.removed, ch.changed, r.rotated ? "rotated" : "kept",
	    r.revoked, why);
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

/* The environment's hooks into the node, and the node's watchers. */
static void
node_hooks(struct node *n)
{

	n->env.ctx.epoch_ref = gen_ref;
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
	if ((n->env.cache = channel_cache_new(NODE_CACHE_ENTRIES)) == NULL ||
	    (n->env.resume_out = channel_resume_cache_new(
	    NODE_RESUME_ENTRIES, 1)) == NULL ||
	    (n->env.resume_in = channel_resume_cache_new(
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
	n->env.loop = ev_default_loop(0);
	if (n->env.loop == NULL) {
		log_error("event=start error=no-event-loop");
		goto fail1;
	}
	/* Broken sockets are reported by send(), not by a signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	conn_ctx_init(&n->env.ctx, n->env.loop);
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
	resolve_free(n->env.ctx.resolver);
	free(n);
fail0:
	return (-1);
}
