/*
 * node: see node.h.
 */
#include <sys/mman.h>
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
#include <strings.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
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

/* Close every listener (stop accepting); live connections go on. */
static void
stop_listeners(struct node *n)
{

	parts_stop(n->parts, ROWS_NODE);
	ev_timer_stop(n->env.loop, &n->watch);
}

/* While shutting down, leave the loop once no connection is left. */
static void
check_empty(struct node *n)
{

	if (n->env.stopping && n->env.ctx.nconns == 0 &&
	    parts_live(n->parts, ROWS_NODE) == 0)
		ev_break(n->env.loop, EVBREAK_ALL);
}

/* No connection left while stopping: leave the loop. */
static void
node_empty_cb(struct conn_ctx *ctx)
{

	check_empty(ctx->data);
}

/* A connection or a handshake slot was given back: paused listeners go on. */
static void
node_slot_cb(struct conn_ctx *ctx)
{
	struct node *n = ctx->data;

	listener_slot_freed(&n->env);
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
	notify_stopping();
	log_info("event=shutdown live=%u grace_s=%g signal=%d",
	    n->env.ctx.nconns + parts_live(n->parts, ROWS_NODE),
	    n->env.cfg->node.shutdown_grace, w->signum);
	stop_listeners(n);
	ev_timer_stop(loop, &n->resign);
	if (n->env.ctx.nconns == 0 && parts_live(n->parts, ROWS_NODE) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	n->env.ctx.empty_cb = node_empty_cb;
	ev_timer_set(&n->grace, n->env.cfg->node.shutdown_grace, 0.);
	ev_timer_start(loop, &n->grace);
}

/* SIGHUP: reload the file. */
static void
node_sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{

	(void)loop;
	(void)revents;
	node_reload(w->data, "signal");
}

/* Where ${path} is now (stat(2), following links), for reload = watch. */
static void
file_stamp(const char *path, struct node_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == -1)
		return;
	st->dev = (uint64_t)sb.st_dev;
	st->ino = (uint64_t)sb.st_ino;
	st->size = (uint64_t)sb.st_size;
	st->mtime_s = (int64_t)sb.st_mtim.tv_sec;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_nsec;
}

/*
 * Where the files of the configuration ${cfg} are now, into ${st}: the
 * file, the key file, the revoked file, the credential files.
 */
static void
stamp_all(const struct config *cfg, struct node_stamp st[NODE_STAMPS])
{
	size_t i;

	memset(st, 0, NODE_STAMPS * sizeof(*st));
	file_stamp(cfg->path, &st[0]);
	file_stamp(cfg->node.identity, &st[1]);
	if (cfg->node.revoked[0] != '\0')
		file_stamp(cfg->node.revoked, &st[2]);
	for (i = 0; i < cfg->node.ncredentials; i++)
		file_stamp(cfg->node.credential[i], &st[3 + i]);
}

/* Remember where the files of the current configuration are now. */
static void
stamp_files(struct node *n)
{

	stamp_all(n->env.cfg, n->stamp);
}

/* reload = watch: reload when the file or a file it names changed. */
static void
node_watch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;
	struct node_stamp now[NODE_STAMPS];

	(void)loop;
	(void)revents;
	stamp_all(n->env.cfg, now);
	if (memcmp(now, n->stamp, sizeof(now)) != 0)
		node_reload(n, "watch");
}

/*
 * Every second: end what a credential admitted once that credential
 * has expired (outlet connections, inlet connections pinned by rule,
 * relay sessions and their pairs).
 */
static void
node_expire_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)loop;
	(void)revents;
	(void)parts_expire(n->parts, ROWS_NODE);
}

/* Start, restart or stop the watch timer as the configuration says. */
static void
watch_set(struct node *n)
{
	const struct config_node *cn = &n->env.cfg->node;

	ev_timer_stop(n->env.loop, &n->watch);
	if (!cn->reload_watch || n->env.stopping)
		return;
	ev_timer_set(&n->watch, cn->reload_interval, cn->reload_interval);
	ev_timer_start(n->env.loop, &n->watch);
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
	resolve_cancel(&n->rwait);
	ev_timer_stop(n->env.loop, &n->rdeadline);
	ev_timer_stop(n->env.loop, &n->rnext);
	if (n->pending != NULL) {
		config_free(n->pending);
		free(n->pending);
		n->pending = NULL;
	}
	resolve_free(n->env.ctx.resolver); /* nothing waits for it now */
	n->env.ctx.resolver = NULL;
	conn_ctx_fini(&n->env.ctx);
	/* ...then the configurations. */
	gens_fini(&n->gens);
	ev_signal_stop(n->env.loop, &n->sigterm);
	ev_signal_stop(n->env.loop, &n->sigint);
	ev_signal_stop(n->env.loop, &n->sighup);
	ev_timer_stop(n->env.loop, &n->resign);
	ev_timer_stop(n->env.loop, &n->grace);
	ev_timer_stop(n->env.loop, &n->watch);
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

/*
 * Call ${fn}(role, name, a, arg) for every local address of ${cfg}: the
 * addresses it binds ([node] listen, admin, an inlet's listen) and those
 * it matches (an inlet's intercept); [node] intercept is numeric.  Stop
 * at the first call that returns nonzero and return that; else 0.
 */
static int
each_local(struct config *cfg, int (*fn)(const char *, const char *,
    struct addr *, void *), void *arg)
{
	struct config_inlet *in;
	size_t i, k;
	int rc;

	if (cfg->node.has_listen &&
	    (rc = fn("node", NULL, &cfg->node.listen, arg)) != 0)
		return (rc);
	if (cfg->node.has_admin &&
	    (rc = fn("admin", NULL, &cfg->node.admin, arg)) != 0)
		return (rc);
	for (i = 0; i < cfg->ninlets; i++) {
		in = &cfg->inlets[i];
		if (in->has_listen &&
		    (rc = fn("inlet", in->name, &in->listen, arg)) != 0)
			return (rc);
		for (k = 0; k < in->nintercept; k++)
			if ((rc = fn("inlet", in->name, &in->intercept[k],
			    arg)) != 0)
				return (rc);
	}
	return (0);
}

/* What start_one does for node_run. */
struct start_names {
	struct resolve *r;
	int failed;
};

/*
 * each_local at start-up: the name ${a} gets its address (resolve.c,
 * blocking: nothing is served yet); a failure is logged, the next name
 * looked at.
 */
static int
start_one(const char *role, const char *name, struct addr *a, void *arg)
{
	struct start_names *sn = arg;
	char e[512];

	if (resolve_addr_wait(sn->r, a, e, sizeof(e)) == 0)
		return (0);
	log_error("event=resolve-failed role=%s%s%s error=\"%s\"", role,
	    name != NULL ? " name=" : "", name != NULL ? name : "", e);
	sn->failed = 1;
	return (0);
}

/* What kept_one looks for and finds. */
struct kept {
	const struct addr *want;
	const struct addr *found;
};

/* each_local: the local address written as ${k}->want, with its address. */
static int
kept_one(const char *role, const char *name, struct addr *a, void *arg)
{
	struct kept *k = arg;

	(void)role;
	(void)name;
	if (a->is_unix || a->salen == 0 ||
	    strcmp(a->host, k->want->host) != 0 ||
	    strcmp(a->port, k->want->port) != 0)
		return (0);
	k->found = a;
	return (1);
}

/* The rest of the reload of ${n}'s pending file (below). */
static void reload_names(struct node *n);

/* The lookup a reload waited for answered (resolve_cb). */
static void
node_reload_resolved(struct resolve_wait *w, struct resolve_addrs *l,
    const char *msg)
{
	struct node *n = w->arg;

	if (l != NULL) {
		resolve_addr_set(n->waiting, l);
		resolve_addrs_free(l);
	} else {
		snprintf(n->werr, sizeof(n->werr), "cannot resolve %s: %s",
		    n->waiting->host, msg);
		n->wfailed = 1;
	}
	n->waiting = NULL;
	/* Go on from the loop, not inside c-ares' callback. */
	ev_timer_set(&n->rnext, 0., 0.);
	ev_timer_start(n->env.loop, &n->rnext);
}

/* The reload's lookups are out of time. */
static void
node_reload_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)loop;
	(void)revents;
	if (n->waiting == NULL)
		return;
	resolve_cancel(&n->rwait);
	snprintf(n->werr, sizeof(n->werr), "cannot resolve %s: no answer "
	    "within %.0f s", n->waiting->host, RESOLVE_WAIT_MAX);
	n->waiting = NULL;
	n->wfailed = 1;
	reload_names(n);
}

/* The reload goes on after an answer. */
static void
node_reload_next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	reload_names(w->data);
}

/*
 * each_local at a reload: the name ${a} keeps the address it has in the
 * file in force (its listening socket is kept: an unchanged name is not
 * looked up again), or gets one from the resolver (/etc/hosts and the
 * cache answer at once).  Return 0 (done), 1 (a lookup is out: ${n}
 * waits for it) or -1 (failed: ${n}->werr).
 */
static int
reload_one(const char *role, const char *name, struct addr *a, void *arg)
{
	struct node *n = arg;
	struct kept k = {a, NULL};
	char e[sizeof(n->werr)];
	int rc;

	if (a->salen > 0)
		return (0);
	/* env.cfg is the file in force, which this only reads. */
	(void)each_local((struct config *)n->env.cfg, kept_one, &k);
	if (k.found != NULL) {
		a->sa = k.found->sa;
		a->salen = k.found->salen;
		return (0);
	}
	n->wrole = role;
	n->wname = name;
	if ((rc = resolve_addr(n->env.ctx.resolver, a, &n->rwait,
	    node_reload_resolved, n, e, sizeof(e))) == 1)
		n->waiting = a;
	else if (rc == -1)
		snprintf(n->werr, sizeof(n->werr), "%s", e);
	return (rc);
}

/* Call ${fn}(role, name, addr, arg) for every address ${cfg} dials. */
static void
each_dialed(const struct config *cfg, void (*fn)(const char *, const char *,
    const struct addr *, void *), void *arg)
{
	size_t i, j;

	for (i = 0; i < cfg->noutlets; i++) {
		fn("outlet", cfg->outlets[i].name, &cfg->outlets[i].target, arg);
		for (j = 0; j < cfg->outlets[i].nrelay; j++)
			fn("outlet", cfg->outlets[i].name,
			    &cfg->outlets[i].relay[j].addr, arg);
	}
	for (i = 0; i < cfg->ninlets; i++) {
		if (!cfg->inlets[i].has_via)
			fn("inlet", cfg->inlets[i].name,
			    &cfg->inlets[i].outlet, arg);
		for (j = 0; j < cfg->inlets[i].nvia; j++)
			fn("inlet", cfg->inlets[i].name,
			    &cfg->inlets[i].via[j].addr, arg);
	}
	for (i = 0; i < cfg->nrelays; i++)
		if (cfg->relays[i].has_via)
			fn("relay", cfg->relays[i].name, &cfg->relays[i].via,
			    arg);
}

/* each_dialed: a name is watched by the resolver. */
static void
watch_one(const char *role, const char *name, const struct addr *a,
    void *arg)
{

	(void)role;
	(void)name;
	if (a->salen == 0 && !a->is_unix)
		resolve_watch(arg, a->host);
}

/*
 * The names the configuration in force dials are looked up now (without
 * blocking) and, while they fail, again and again (resolve.c): the
 * failure is logged at once, not at the first connection.
 */
static void
watch_names(struct node *n)
{

	resolve_unwatch_all(n->env.ctx.resolver);
	each_dialed(n->env.cfg, watch_one, n->env.ctx.resolver);
}

/* What node_resolve_note tells each user of a name. */
struct note {
	const char *host, *err;
	size_t naddrs;
	int told;
};

/* each_dialed: log the news of a name for one section that uses it. */
static void
note_one(const char *role, const char *name, const struct addr *a,
    void *arg)
{
	struct note *nt = arg;

	if (a->salen != 0 || a->is_unix || strcasecmp(a->host, nt->host) != 0)
		return;
	nt->told = 1;
	if (nt->err != NULL)
		log_error("event=resolve-failed role=%s name=%s host=%s "
		    "error=\"%s\"", role, name, nt->host, nt->err);
	else
		log_info("event=resolved role=%s name=%s host=%s addrs=%zu",
		    role, name, nt->host, nt->naddrs);
}

/* each_local: ${a} is written with the name ${arg}. */
static int
local_named(const char *role, const char *name, struct addr *a, void *arg)
{

	(void)role;
	(void)name;
	return (!a->is_unix && strcasecmp(a->host, arg) == 0);
}

/*
 * The resolver's news (resolve_note_cb): one line per section.  The
 * lookups of local names (start-up, a reload's) report their own failure.
 */
static void
node_resolve_note(void *arg, const char *host, const char *err, size_t n)
{
	struct node *nd = arg;
	struct note nt = {host, err, n, 0};

	each_dialed(nd->env.cfg, note_one, &nt);
	if (nt.told)
		return;
	/* env.cfg is only read. */
	if (each_local((struct config *)nd->env.cfg, local_named,
	    (void *)host) != 0 || (nd->pending != NULL &&
	    each_local(nd->pending, local_named, (void *)host) != 0))
		return;
	if (err != NULL)
		log_warn("event=resolve-failed host=%s error=\"%s\"", host,
		    err);
	else
		log_info("event=resolved host=%s addrs=%zu", host, n);
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
		    x->pool != y->pool ||
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
		else if (!addr_same(&x->listen, &y->listen) ||
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

/*
 * Keep key material out of core dumps and swap (docs/security.md): no
 * core file at all (RLIMIT_CORE 0, on top of PR_SET_DUMPABLE); the pages
 * of the node's credentials (identity key, static keys) locked and marked
 * MADV_DONTDUMP; and, when RLIMIT_MEMLOCK is unlimited (LimitMEMLOCK=
 * infinity or CAP_IPC_LOCK), every page, now and later (mlockall), so the
 * per-connection keys never reach swap either.  With a finite limit
 * mlockall is not tried (later allocations would fail at the limit): the
 * fallback is logged.
 */
static void
protect_keys(struct node *n)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)&n->env.local, b = a + sizeof(n->env.local);
	struct rlimit rl = {0, 0};
	const char *keys = "locked";

	(void)setrlimit(RLIMIT_CORE, &rl);
	if (pg <= 0)
		pg = 4096;
	a &= ~((uintptr_t)pg - 1);
	b = (b + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	if (madvise((void *)a, b - a, MADV_DONTDUMP) == -1 ||
	    mlock((void *)a, b - a) == -1)
		keys = "unlocked";
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY &&
	    mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
		log_info("event=memlock scope=all credentials=%s", keys);
		return;
	}
	log_warn("event=memlock scope=credentials credentials=%s error=%s "
	    "fallback=\"connection keys may be swapped: set LimitMEMLOCK=infinity\"",
	    keys, strcmp(keys, "locked") == 0 ? "memlock-limit" : strerror(errno));
}

/* A reload failed: nothing changed (logged). */
static void
reload_failed(struct node *n, const char *why, const char *err)
{

	stamp_files(n); /* look again at the next change */
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
	stamp_files(n);
	watch_set(n);
	watch_names(n);
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
 * Give the local names of ${n}'s pending file their addresses, one after
 * the other; wait for a lookup that must go to DNS (the loop serves on
 * meanwhile; a new name only: see reload_one), at most RESOLVE_WAIT_MAX
 * seconds in all; then apply the file, or fail the reload.  A reload
 * asked for meanwhile runs next.
 */
static void
reload_names(struct node *n)
{
	struct config *cfg = n->pending;
	const char *why = n->pending_why, *again;
	char err[8192];
	int rc = -1;

	if (n->env.stopping)
		return; /* node_fini frees it */
	if (!n->wfailed && (rc = each_local(cfg, reload_one, n)) == 1) {
		if (!ev_is_active(&n->rdeadline)) {
			ev_timer_set(&n->rdeadline, RESOLVE_WAIT_MAX, 0.);
			ev_timer_start(n->env.loop, &n->rdeadline);
		}
		log_info("event=reload-resolving host=%s trigger=%s",
		    n->waiting->host, why);
		return;
	}
	ev_timer_stop(n->env.loop, &n->rdeadline);
	n->pending = NULL;
	if (rc == 0)
		reload_apply(n, cfg, why);
	else {
		snprintf(err, sizeof(err), "%s: resolve-failed role=%s "
		    "name=%s: %s", cfg->path, n->wrole, n->wname != NULL ?
		    n->wname : n->wrole, n->werr);
		config_free(cfg);
		free(cfg);
		reload_failed(n, why, err);
	}
	n->wfailed = 0;
	if ((again = n->again) != NULL) {
		n->again = NULL;
		node_reload(n, again);
	}
}

/*
 * Reload: load the file again, give its local names their addresses
 * (reload_names), then apply it (reload_apply).  While a reload waits for
 * a name, another one asked for (SIGHUP, reload = watch) runs after it.
 */
static void
node_reload(struct node *n, const char *why)
{
	struct config *cfg;
	char err[8192];

	if (n->env.stopping)
		return;
	if (n->pending != NULL) {
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
	n->pending = cfg;
	n->pending_why = why;
	reload_names(n);
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
	if ((n->env.ctx.resolver = resolve_new(n->env.loop, node_resolve_note,
	    n, err, sizeof(err))) == NULL) {
		log_error("event=start error=resolver detail=\"%s\"", err);
		goto fail1;
	}
	/* The local names, before anything else is on the loop. */
	{
		struct start_names sn = {n->env.ctx.resolver, 0};

		(void)each_local(cfg, start_one, &sn);
		if (sn.failed)
			goto fail1;
	}
	if ((n->gens.cur = gen_new(&n->gens, cfg, 0)) == NULL) { /* main's */
		log_error("event=start error=nomem");
		goto fail1;
	}
	n->env.ctx.epoch = n->gens.cur;
	n->env.ctx.epoch_ref = gen_ref;
	n->env.ctx.data = n;
	n->env.ctx.slot_cb = node_slot_cb;
	n->env.data = n;
	n->env.idle_cb = node_idle_cb;
	log_limit_init(&n->env.anyone_log, NODE_ANYONE_LINES);
	log_limit_init(&n->env.refuse_log, NODE_REFUSE_LINES);
	apply_node(n);
	ev_init(&n->grace, node_grace_cb);
	n->grace.data = n;
	ev_init(&n->resign, node_resign_cb);
	n->resign.data = n;
	ev_init(&n->flush, node_flush_cb);
	n->flush.data = n;
	ev_init(&n->watch, node_watch_cb);
	n->watch.data = n;
	ev_init(&n->expire, node_expire_cb);
	n->expire.data = n;
	ev_init(&n->rdeadline, node_reload_deadline_cb);
	n->rdeadline.data = n;
	ev_init(&n->rnext, node_reload_next_cb);
	n->rnext.data = n;
	ev_signal_init(&n->sigterm, node_signal_cb, SIGTERM);
	ev_signal_init(&n->sigint, node_signal_cb, SIGINT);
	ev_signal_init(&n->sighup, node_sighup_cb, SIGHUP);
	n->sigterm.data = n->sigint.data = n->sighup.data = n;

	/* The process-wide credentials and attestation cache. */
	if (channel_local_init(&n->env.local[0], idn->priv,
	    (uint64_t)ev_now(n->env.loop), trust_lifetime()) == -1) {
		log_error("event=start error=channel-credentials");
		goto fail2;
	}
	if ((n->env.cache = channel_cache_new(NODE_CACHE_ENTRIES)) == NULL ||
	    (n->env.resume_out = channel_resume_cache_new(
	    NODE_RESUME_ENTRIES, 1)) == NULL ||
	    (n->env.resume_in = channel_resume_cache_new(
	    NODE_RESUME_ENTRIES, 0)) == NULL ||
	    (n->env.epool = epool_new(n->env.loop)) == NULL) {
		log_error("event=start error=nomem");
		goto fail2;
	}

	/* Every part, in table order: the trust files, then every listener
	 * (any failure ends the start-up), the admin endpoint last. */
	n->host.env = &n->env;
	n->host.idn = idn;
	n->host.cur = &n->gens.cur;
	if (parts_start(n->parts, rows_node, ROWS_NODE, &n->host) == -1)
		goto fail2;

	/* Keys are in memory from here on: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("event=prctl error=%s", strerror(errno));
	protect_keys(n);

	ev_signal_start(n->env.loop, &n->sigterm);
	ev_signal_start(n->env.loop, &n->sigint);
	ev_signal_start(n->env.loop, &n->sighup);
	ev_timer_set(&n->resign, (double)trust_lifetime() / 2,
	    (double)trust_lifetime() / 2);
	ev_timer_start(n->env.loop, &n->resign);
	ev_timer_set(&n->flush, 1., 1.);
	ev_timer_start(n->env.loop, &n->flush);
	ev_timer_set(&n->expire, 1, 1);
	ev_timer_start(n->env.loop, &n->expire);
	stamp_files(n);
	watch_set(n);
	watch_names(n); /* lookups start; their answers come from the loop */
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
