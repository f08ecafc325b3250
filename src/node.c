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

#include "admin.h"
#include "dialout.h"
#include "front.h"
#include "inlet.h"
#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "node.h"
#include "metrics.h"
#include "notify.h"
#include "outlet.h"
#include "relay.h"
#include "resolve.h"
#include "sandbox.h"

/* Attestation lifetime (seconds); re-signed at half of it. */
#ifndef NODE_LIFETIME
#define NODE_LIFETIME (24 * 3600)
#endif
/*
 * Tests only: SALLYPORT_TEST_LIFETIME=N (seconds, 10 to NODE_LIFETIME)
 * shortens the attestation lifetime, so sessions and channels reach their
 * end within a test.  It can only shorten it (which costs re-signing and
 * reconnects, never safety); anything else in it is ignored.
 */
static uint64_t
node_lifetime(void)
{
	static uint64_t lifetime;
	const char *v;
	char *end;
	unsigned long long n;

	if (lifetime != 0)
		return (lifetime);
	lifetime = NODE_LIFETIME;
	if ((v = getenv("SALLYPORT_TEST_LIFETIME")) != NULL) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= 10 &&
		    n < NODE_LIFETIME) {
			lifetime = n;
			log_warn("event=start test_lifetime=%llu", n);
		}
	}
	return (lifetime);
}

/* Verified attestations remembered (steady-state handshakes skip ECDSA). */
#define NODE_CACHE_ENTRIES 1024
#define NODE_RESUME_ENTRIES 256 /* resumption tickets, each direction */
/* At most this many "backlog" lines per second; the rest are counted. */
#define NODE_REFUSE_LINES 10
/* Lines anyone can cause at the node listener, per second. */
#define NODE_ANYONE_LINES 10

/*
 * Generations.  Each load of the file (start-up, then every reload) is a
 * generation: the configuration and the inlets that borrow from it.
 * Connections borrow from the generation they were made in, or a newer
 * one (names, addresses), so each one holds the one it was made in (the
 * conn context's epoch), and a retired generation is freed once neither
 * it nor an older one is held.  A reload builds the next generation from the
 * current one: listeners whose address did not change, unchanged relay
 * sessions and registrations, waiting clients and live connections move
 * over; what is left of the old one is its removed inlets, whose
 * connections drain.
 */
struct gen {
	struct node *node;
	struct config *cfg;
	int cfg_owned;         /* on the heap, freed with the generation */
	struct inlet **inlets; /* current: one per cfg->inlets[i]; retired:
				  the removed ones that drain */
	size_t ninlets;
	unsigned refs;         /* connections made under it; +1 if current */
	unsigned id;
	struct gen *next;      /* on node->retired */
};

static void node_reload(struct node *n, const char *why);

/* Free ${g}: its inlets, its configuration. */
static void
gen_free(struct gen *g)
{
	size_t i;

	for (i = 0; i < g->ninlets; i++)
		inlet_free(g->inlets[i]);
	free(g->inlets);
	if (g->cfg_owned) {
		config_free(g->cfg);
		free(g->cfg);
	}
	free(g);
}

/*
 * Free the retired generations that nothing holds, oldest first, and stop
 * at the oldest one still held: a connection made under generation N may
 * later borrow from a newer one (an outlet connection learns its service
 * after a reload), so generations newer than a held one stay too.
 */
static void
gen_collect(struct node *n)
{
	struct gen **gp, **oldest;

	while (n->retired != NULL) {
		oldest = &n->retired; /* the list is newest first */
		for (gp = &n->retired; *gp != NULL; gp = &(*gp)->next)
			oldest = gp;
		if ((*oldest)->refs != 0)
			return;
		gen_free(*oldest);
		*oldest = NULL;
	}
}

/* The conn context's epoch hook: a connection holds its generation. */
static void
gen_ref(void *epoch, int delta)
{
	struct gen *g = epoch;

	g->refs += (unsigned)delta;
	if (g->refs == 0)
		gen_collect(g->node);
}

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

	for (i = 0; i < n->cur->ninlets; i++)
		inlet_stop(n->cur->inlets[i]);
	intercept_free(n->ix);
	n->ix = NULL;
	front_stop(n->front);
	outlet_stop(n->outlet);
	relay_stop(n->relay);
	ev_timer_stop(n->env.loop, &n->watch);
}

/* While shutting down, leave the loop once no connection is left. */
static void
check_empty(struct node *n)
{

	if (n->env.stopping && n->env.ctx.nconns == 0 &&
	    relay_live(n->relay) == 0)
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
	    n->env.ctx.nconns + relay_live(n->relay),
	    n->env.cfg->node.shutdown_grace, w->signum);
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
	(void)outlet_expire_all(&n->env);
	(void)inlet_expire_all(&n->env);
	(void)relay_expire(n->relay);
}

/*
 * Load what ${cfg} says about trust besides the key: its credential
 * files (for the identity ${id}) into ${block} (its size in ${len}) and
 * its revocation list into ${rv}.  Return 0, or -1 with a message in
 * ${err} (nothing held).
 */
static int
load_trust(const struct config *cfg, const uint8_t id[IDENTITY_ID_LEN],
    uint8_t block[CRED_BLOCK_MAX], size_t *len, struct cred_revoked *rv,
    char *err, size_t errlen)
{
	char msg[1024];

	memset(rv, 0, sizeof(*rv));
	if (cred_block_load(cfg->node.credential, cfg->node.ncredentials, id,
	    block, CRED_BLOCK_MAX, len, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "credential: %s", msg);
		return (-1);
	}
	if (cfg->node.revoked[0] != '\0' && cred_revoked_load(rv,
	    cfg->node.revoked, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "revoked: %s", msg);
		return (-1);
	}
	return (0);
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
	    (uint64_t)ev_now(loop), node_lifetime()) == -1) {
		log_error("event=resign error=failed");
		return; /* try again at the next period */
	}
	(void)channel_local_set_creds(&tmp, n->env.local[n->env.cur].creds,
	    n->env.local[n->env.cur].creds_len);
	channel_local_fini(&n->env.local[next]);
	n->env.local[next] = tmp;
	wipe(&tmp, sizeof(tmp));
	n->env.cur = next;
	log_info("event=resign expiry=%llu",
	    (unsigned long long)n->env.local[next].expiry);
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
	struct gen *g;
	size_t i;

	admin_free(n->admin);
	intercept_free(n->ix);
	n->ix = NULL;
	notify_stop(n->env.loop);
	/* The roles first (their connections stay, without callbacks)... */
	if (n->cur != NULL) {
		for (i = 0; i < n->cur->ninlets; i++)
			inlet_free(n->cur->inlets[i]);
		n->cur->ninlets = 0;
	}
	relay_free(n->relay);
	outlet_free(n->outlet);
	front_free(n->front);
	/* ...then the connections, which free the retired generations... */
	conn_ctx_drop_all(&n->env.ctx, CONN_R_SHUTDOWN);
	resolve_free(n->env.ctx.resolver); /* nothing waits for it now */
	n->env.ctx.resolver = NULL;
	conn_ctx_fini(&n->env.ctx);
	/* ...then the configurations. */
	while ((g = n->retired) != NULL) {
		n->retired = g->next;
		gen_free(g);
	}
	if (n->cur != NULL)
		gen_free(n->cur);
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
 * Resolve the listening addresses of ${cfg} given as names (numeric ones
 * already are): a listener binds one address, once per load, so the loop
 * blocks while they are looked up and one that does not resolve fails
 * the load.  The names dialed (outlets, targets, relays, via) are not
 * resolved here: resolve.c looks them up on the loop when a connection
 * needs them (see watch_names).  Return 0, or -1 with the first failure
 * in ${err} ("role=R name=N: message"); with ${log} set, every failure is
 * logged too.
 */
static int
resolve_all(struct config *cfg, int log, char *err, size_t errlen)
{
	char e[512];
	size_t i;
	int rc = 0;

#define FAILED(r, nm)                                                          \
	do {                                                                   \
		if (log)                                                       \
			log_error("event=resolve-failed role=%s%s%s "          \
			    "error=\"%s\"", r, nm != NULL ? " name=" : "",     \
			    nm != NULL ? nm : "", e);                          \
		if (rc == 0)                                                   \
			snprintf(err, errlen, "role=%s name=%s: %s", r,        \
			    nm != NULL ? nm : "node", e);                      \
		rc = -1;                                                       \
	} while (0)
	if (cfg->node.has_listen &&
	    addr_resolve(&cfg->node.listen, e, sizeof(e)) == -1)
		FAILED("node", (const char *)NULL);
	for (i = 0; i < cfg->ninlets; i++) {
		size_t k;

		if (cfg->inlets[i].has_listen &&
		    addr_resolve(&cfg->inlets[i].listen, e, sizeof(e)) == -1)
			FAILED("inlet", cfg->inlets[i].name);
		for (k = 0; k < cfg->inlets[i].nintercept; k++)
			if (addr_resolve(&cfg->inlets[i].intercept[k], e,
			    sizeof(e)) == -1)
				FAILED("inlet", cfg->inlets[i].name);
	}
#undef FAILED
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

/* The resolver's news (resolve_note_cb): one line per section. */
static void
node_resolve_note(void *arg, const char *host, const char *err, size_t n)
{
	struct node *nd = arg;
	struct note nt = {host, err, n, 0};

	each_dialed(nd->env.cfg, note_one, &nt);
	if (nt.told)
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

/*
 * Make the inlets of ${g} (the current generation, whose configuration
 * the environment holds) from ${fds} (a listening socket per inlet, or -1
 * to bind now), taking over from the inlets of ${old} (may be NULL) by
 * name.  The old inlets taken over are freed; the others (removed) stop
 * and stay in ${old} to drain.  Return 0, or -1 with a message in ${err}.
 */
static int
make_inlets(struct node *n, struct gen *g, struct gen *old, int *fds,
    char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;
	struct inlet *prev;
	size_t i, j, k;

	if (cfg->ninlets > 0 &&
	    (g->inlets = calloc(cfg->ninlets, sizeof(*g->inlets))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < cfg->ninlets; i++) {
		prev = NULL;
		for (j = 0; old != NULL && j < old->ninlets; j++) {
			if (old->inlets[j] != NULL && strcmp(old->cfg->inlets[j].name,
			    cfg->inlets[i].name) == 0) {
				prev = old->inlets[j];
				old->inlets[j] = NULL;
				break;
			}
		}
		g->inlets[i] = inlet_new(&n->env, &cfg->inlets[i], fds[i], prev,
		    err, errlen);
		fds[i] = -1; /* inlet_new took it */
		inlet_free(prev); /* everything of it moved over */
		if (g->inlets[i] == NULL) {
			log_error("event=listen-failed role=inlet name=%s "
			    "error=\"%s\"", cfg->inlets[i].name, err);
			return (-1);
		}
		g->ninlets++;
	}
	/* The removed inlets stop; their connections drain. */
	for (j = 0, k = 0; old != NULL && j < old->ninlets; j++) {
		if (old->inlets[j] == NULL)
			continue;
		inlet_stop(old->inlets[j]);
		old->inlets[k++] = old->inlets[j];
	}
	if (old != NULL)
		old->ninlets = k;
	return (0);
}

/*
 * A connection redirected to the interception listener for an intercept
 * address of the inlet ${idx} of the configuration in force: that inlet
 * carries ${fd} (taken).
 */
static void
node_intercepted(void *arg, int fd, size_t idx)
{
	struct node *n = arg;
	struct gen *g = n->cur;

	if (idx >= g->ninlets || g->inlets[idx] == NULL) {
		close(fd); /* that inlet failed to start at the last reload */
		return;
	}
	inlet_serve(g->inlets[idx], fd);
}

/*
 * Reload: load, check and resolve the file again; bind what is new; then
 * switch to it all at once, or change nothing (logged either way).
 */
static void
node_reload(struct node *n, const char *why)
{
	struct gen *old = n->cur, *g = NULL;
	struct config *cfg = NULL;
	struct identity idn;
	struct channel_local creds;
	struct cred_revoked revoked = {NULL, 0, NULL, 0};
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen = 0;
	struct changes ch = {0, 0, 0};
	char err[8192], msg[1024];
	int *fds = NULL, front_fd = -1, have_idn = 0, have_creds = 0;
	int ix_fds[2] = {-1, -1};
	struct admin *admin = NULL;
	unsigned nrevoked = 0;
	int rotated, renewed, admin_new_one = 0;
	unsigned nconns = 0, nsess = 0;
	size_t i, j;

	if (n->env.stopping)
		return;
	notify_reloading();
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (config_load(cfg, n->env.cfg->path, err, sizeof(err)) == -1) {
		free(cfg);
		cfg = NULL;
		goto fail;
	}
	if (identity_load(&idn, cfg->node.identity, 0, msg, sizeof(msg)) ==
	    -1) {
		snprintf(err, sizeof(err), "%s:%d: %s", cfg->path,
		    cfg->node.identity_line, msg);
		goto fail;
	}
	have_idn = 1;
	if (load_trust(cfg, idn.id, block, &blen, &revoked, msg,
	    sizeof(msg)) == -1) {
		snprintf(err, sizeof(err), "%s: %s", cfg->path, msg);
		goto fail;
	}
	if (!runnable(cfg)) {
		snprintf(err, sizeof(err), "%s: nothing to run (no inlet, no "
		    "listen, no relay)", cfg->path);
		goto fail;
	}
	if (resolve_all(cfg, 0, msg, sizeof(msg)) == -1) {
		snprintf(err, sizeof(err), "%s: resolve-failed %s", cfg->path,
		    msg);
		goto fail;
	}
	rotated = memcmp(idn.id, n->env.local[n->env.cur].id,
	    IDENTITY_ID_LEN) != 0;
	if (rotated) {
		if (channel_local_init(&creds, idn.priv,
		    (uint64_t)ev_now(n->env.loop), node_lifetime()) == -1) {
			snprintf(err, sizeof(err), "channel credentials");
			goto fail;
		}
		have_creds = 1;
	}
	/* Every new listening socket is bound before anything changes. */
	if (cfg->ninlets > 0 &&
	    (fds = calloc(cfg->ninlets, sizeof(*fds))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->ninlets; i++)
		fds[i] = -1;
	for (i = 0; i < cfg->ninlets; i++) {
		if (!cfg->inlets[i].has_listen)
			continue; /* intercept only */
		for (j = 0; j < old->ninlets; j++)
			if (old->cfg->inlets[j].has_listen &&
			    addr_same(&old->cfg->inlets[j].listen,
			    &cfg->inlets[i].listen))
				break;
		if (j < old->ninlets)
			continue; /* kept: taken over below */
		if ((fds[i] = listener_bind(&cfg->inlets[i].listen, msg,
		    sizeof(msg))) == -1) {
			snprintf(err, sizeof(err), "%s:%d: inlet %s: %s",
			    cfg->path, cfg->inlets[i].line,
			    cfg->inlets[i].name, msg);
			goto fail;
		}
	}
	if (cfg->node.has_listen && (!n->env.cfg->node.has_listen ||
	    !addr_same(&n->env.cfg->node.listen, &cfg->node.listen)) &&
	    (front_fd = listener_bind(&cfg->node.listen, msg, sizeof(msg))) ==
	    -1) {
		snprintf(err, sizeof(err), "%s: listen: %s", cfg->path, msg);
		goto fail;
	}
	for (i = 0; i < cfg->node.nintercept; i++) {
		for (j = 0; j < n->env.cfg->node.nintercept; j++)
			if (addr_same(&n->env.cfg->node.intercept[j],
			    &cfg->node.intercept[i]))
				break;
		if (j < n->env.cfg->node.nintercept)
			continue; /* kept: taken over below */
		if ((ix_fds[i] = listener_bind(&cfg->node.intercept[i], msg,
		    sizeof(msg))) == -1) {
			snprintf(err, sizeof(err), "%s: intercept: %s",
			    cfg->path, msg);
			goto fail;
		}
	}
	if (cfg->node.has_admin != n->env.cfg->node.has_admin ||
	    (cfg->node.has_admin && !addr_same(&cfg->node.admin,
	    &n->env.cfg->node.admin))) {
		admin_new_one = 1;
		if (cfg->node.has_admin && (admin = admin_new(&n->env,
		    &cfg->node.admin, msg, sizeof(msg))) == NULL) {
			snprintf(err, sizeof(err), "%s: admin: %s", cfg->path,
			    msg);
			goto fail;
		}
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}

	/* From here on the new configuration is the node's. */
	diff_configs(n->env.cfg, cfg, &ch);
	g->node = n;
	g->cfg = cfg;
	g->cfg_owned = 1;
	g->refs = 1;
	g->id = old->id + 1;
	for (i = 0; i < cfg->ninlets; i++) {
		if (fds[i] != -1 || !cfg->inlets[i].has_listen)
			continue;
		for (j = 0; j < old->ninlets; j++)
			if (old->inlets[j] != NULL && addr_same(
			    &old->cfg->inlets[j].listen, &cfg->inlets[i].listen))
				fds[i] = inlet_detach_listener(old->inlets[j],
				    &cfg->inlets[i]);
	}
	if (front_fd == -1 && cfg->node.has_listen)
		front_fd = front_detach(n->front);
	for (i = 0; i < cfg->node.nintercept; i++)
		if (ix_fds[i] == -1)
			ix_fds[i] = intercept_detach(n->ix,
			    &cfg->node.intercept[i]);
	n->env.cfg = cfg;
	n->env.ctx.epoch = g;
	n->cur = g;
	apply_node(n);
	if (have_creds) {
		channel_local_fini(&n->env.local[!n->env.cur]);
		n->env.local[!n->env.cur] = creds;
		wipe(&creds, sizeof(creds));
		n->env.cur = !n->env.cur;
		have_creds = 0;
	}
	/* The credentials presented from now on (renewed files), and the
	 * revocation list the revocation passes below apply. */
	renewed = !rotated && (blen != n->env.local[n->env.cur].creds_len ||
	    memcmp(block, n->env.local[n->env.cur].creds, blen) != 0);
	(void)channel_local_set_creds(&n->env.local[0], block, blen);
	(void)channel_local_set_creds(&n->env.local[1], block, blen);
	cred_revoked_free(&n->env.revoked);
	n->env.revoked = revoked;
	memset(&revoked, 0, sizeof(revoked)); /* env owns it now */
	if (admin_new_one) {
		admin_free(n->admin);
		n->admin = admin;
		admin = NULL;
	}
	front_listen(n->front, front_fd); /* closes the old one if replaced */
	front_fd = -1;
	intercept_free(n->ix); /* what it still holds is no longer wanted */
	n->ix = NULL;
	if (cfg->node.nintercept > 0 && (n->ix = intercept_new(&n->env,
	    ix_fds, node_intercepted, n, msg, sizeof(msg))) == NULL)
		log_error("event=reload role=intercept error=\"%s\"", msg);
	{
		struct outlet *o = outlet_new(&n->env, n->front, n->outlet,
		    msg, sizeof(msg));

		if (o == NULL)
			log_error("event=reload role=outlet error=\"%s\"", msg);
		else {
			outlet_free(n->outlet);
			n->outlet = o;
		}
	}
	if (n->relay == NULL && cfg->nrelays > 0)
		n->relay = relay_new(&n->env, n->front, msg, sizeof(msg));
	else if (n->relay != NULL &&
	    relay_reconfigure(n->relay, &nrevoked, msg, sizeof(msg)) == -1)
		log_error("event=reload role=relay error=\"%s\"", msg);
	(void)make_inlets(n, g, old, fds, msg, sizeof(msg));
	if (rotated) {
		/* Tickets name the old identity: full handshakes from now. */
		channel_resume_cache_drop(n->env.resume_out, NULL);
		channel_resume_cache_drop(n->env.resume_in, NULL);
		for (i = 0; i < g->ninlets; i++)
			inlet_restart(g->inlets[i]);
		outlet_restart(n->outlet);
		relay_restart(n->relay);
	}
	nrevoked += outlet_revoke_all(&n->env);
	nrevoked += inlet_revoke_all(&n->env);
	if (renewed) {
		/* Live channels and relay sessions get the new block (an
		 * empty one if none is left), so that what peers admitted by
		 * our credential outlives the old one. */
		if (blen == 0)
			block[blen++] = 0;
		nconns = env_send_creds(&n->env, block, blen);
		nsess = dialout_send_creds_all(&n->env, block, blen);
		log_info("event=credentials-renewed connections=%u "
		    "sessions=%u", nconns, nsess);
	}
	old->next = n->retired;
	n->retired = old;
	gen_ref(old, -1); /* no longer current: freed with its last conn */
	free(fds);
	identity_fini(&idn);
	stamp_files(n);
	watch_set(n);
	watch_names(n);
	metrics_add(METRICS_RELOADS, 1, "ok", NULL, NULL);
	notify_ready();
	log_info("event=reload status=ok generation=%u added=%u removed=%u "
	    "changed=%u identity=%s revoked=%u trigger=%s", g->id, ch.added,
	    ch.removed, ch.changed, rotated ? "rotated" : "kept", nrevoked,
	    why);
	return;
fail:
	for (i = 0; i < 2; i++)
		if (ix_fds[i] != -1)
			close(ix_fds[i]);
	if (fds != NULL)
		for (i = 0; cfg != NULL && i < cfg->ninlets; i++)
			if (fds[i] != -1)
				close(fds[i]);
	free(fds);
	if (front_fd != -1)
		close(front_fd);
	if (have_creds)
		channel_local_fini(&creds);
	cred_revoked_free(&revoked);
	if (have_idn)
		identity_fini(&idn);
	if (cfg != NULL) {
		config_free(cfg);
		free(cfg);
	}
	free(g);
	admin_free(admin);
	stamp_files(n); /* look again at the next change */
	metrics_add(METRICS_RELOADS, 1, "failed", NULL, NULL);
	notify_ready();
	log_warn("event=reload status=failed trigger=%s error=\"%s\"", why,
	    err);
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
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen;
	uint64_t hits, misses;

	if (!runnable(cfg)) {
		log_error("event=config error=nothing-to-run path=%s",
		    cfg->path);
		goto fail0;
	}
	if (resolve_all(cfg, 1, err, sizeof(err)) == -1)
		goto fail0;
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
	if ((n->cur = calloc(1, sizeof(*n->cur))) == NULL) {
		log_error("event=start error=nomem");
		goto fail1;
	}
	n->cur->node = n;
	n->cur->cfg = cfg; /* main's */
	n->cur->refs = 1;
	n->env.ctx.epoch = n->cur;
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
	ev_signal_init(&n->sigterm, node_signal_cb, SIGTERM);
	ev_signal_init(&n->sigint, node_signal_cb, SIGINT);
	ev_signal_init(&n->sighup, node_sighup_cb, SIGHUP);
	n->sigterm.data = n->sigint.data = n->sighup.data = n;

	/* The process-wide credentials and attestation cache. */
	if (channel_local_init(&n->env.local[0], idn->priv,
	    (uint64_t)ev_now(n->env.loop), node_lifetime()) == -1) {
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
	if (load_trust(cfg, idn->id, block, &blen, &n->env.revoked, err,
	    sizeof(err)) == -1) {
		log_error("event=start error=config path=%s detail=\"%s\"",
		    cfg->path, err);
		goto fail2;
	}
	(void)channel_local_set_creds(&n->env.local[0], block, blen);

	/* Bind every listener; any failure ends the start-up.  The front
	 * owns the [node] listen socket; the roles plug into it. */
	if ((n->front = front_new(&n->env, err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=node name=node "
		    "error=\"%s\"", err);
		goto fail2;
	}
	if ((n->outlet = outlet_new(&n->env, n->front, NULL, err,
	    sizeof(err))) == NULL) {
		log_error("event=start role=outlet error=\"%s\"", err);
		goto fail2;
	}
	if (cfg->nrelays > 0 && (n->relay = relay_new(&n->env, n->front, err,
	    sizeof(err))) == NULL) {
		log_error("event=start role=relay error=\"%s\"", err);
		goto fail2;
	}
	{
		int *fds = calloc(cfg->ninlets + 1, sizeof(*fds));
		size_t i;

		if (fds == NULL) {
			log_error("event=start error=nomem");
			goto fail2;
		}
		for (i = 0; i < cfg->ninlets; i++)
			fds[i] = -1;
		i = make_inlets(n, n->cur, NULL, fds, err, sizeof(err)) == 0;
		free(fds);
		if (!i)
			goto fail2;
	}

	if (cfg->node.nintercept > 0) {
		int ixf[2] = {-1, -1};

		if ((n->ix = intercept_new(&n->env, ixf, node_intercepted, n,
		    err, sizeof(err))) == NULL) {
			log_error("event=listen-failed role=inlet "
			    "name=intercept error=\"%s\"", err);
			goto fail2;
		}
	}

	/* Every listener is bound: the admin endpoint goes last. */
	if (cfg->node.has_admin && (n->admin = admin_new(&n->env,
	    &cfg->node.admin, err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=admin name=admin "
		    "error=\"%s\"", err);
		goto fail2;
	}

	/* Keys are in memory from here on: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("event=prctl error=%s", strerror(errno));
	protect_keys(n);

	ev_signal_start(n->env.loop, &n->sigterm);
	ev_signal_start(n->env.loop, &n->sigint);
	ev_signal_start(n->env.loop, &n->sighup);
	ev_timer_set(&n->resign, (double)node_lifetime() / 2,
	    (double)node_lifetime() / 2);
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
	n->env.ctx.resolver = NULL;
	conn_ctx_fini(&n->env.ctx); /* if node_fini did not */
	free(n);
fail0:
	return (-1);
}
