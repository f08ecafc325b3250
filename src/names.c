/*
 * names: see names.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "names.h"

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

/* What start_one does for names_start. */
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

static void step(struct names_wait *w);

/* The lookup a reload waited for answered (resolve_cb). */
static void
resolved(struct resolve_wait *rw, struct resolve_addrs *l, const char *msg)
{
	struct names_wait *n = rw->arg;

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
	ev_timer_set(&n->next, 0., 0.);
	ev_timer_start(n->env->loop, &n->next);
}

/* The reload's lookups are out of time. */
static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct names_wait *n = w->data;

	(void)loop;
	(void)revents;
	if (n->waiting == NULL)
		return;
	resolve_cancel(&n->rwait);
	snprintf(n->werr, sizeof(n->werr), "cannot resolve %s: no answer "
	    "within %.0f s", n->waiting->host, RESOLVE_WAIT_MAX);
	n->waiting = NULL;
	n->wfailed = 1;
	step(n);
}

/* The reload goes on after an answer. */
static void
next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	step(w->data);
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
	struct names_wait *n = arg;
	struct kept k = {a, NULL};
	char e[sizeof(n->werr)];
	int rc;

	if (a->salen > 0)
		return (0);
	/* env.cfg is the file in force, which this only reads. */
	(void)each_local((struct config *)n->env->cfg, kept_one, &k);
	if (k.found != NULL) {
		a->sa = k.found->sa;
		a->salen = k.found->salen;
		return (0);
	}
	n->wrole = role;
	n->wname = name;
	if ((rc = resolve_addr(n->env->ctx.resolver, a, &n->rwait, resolved,
	    n, e, sizeof(e))) == 1)
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
 * names_watch(e):
 * The names the configuration in force dials are looked up now (without
 * blocking) and, while they fail, again and again (resolve.c): the
 * failure is logged at once, not at the first connection.
 */
void
names_watch(const struct env *e)
{

	resolve_unwatch_all(e->ctx.resolver);
	each_dialed(e->cfg, watch_one, e->ctx.resolver);
}

/* What names_note tells each user of a name. */
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
 * names_note(arg, host, err, n):
 * The resolver's news (resolve_note_cb; ${arg} is a struct names_wait):
 * one line per section of the file in force.  The lookups of local names
 * (start-up, a reload's) report their own failure.
 */
void
names_note(void *arg, const char *host, const char *err, size_t n)
{
	struct names_wait *w = arg;
	struct note nt = {host, err, n, 0};

	each_dialed(w->env->cfg, note_one, &nt);
	if (nt.told)
		return;
	/* env->cfg is only read. */
	if (each_local((struct config *)w->env->cfg, local_named,
	    (void *)host) != 0 || (w->pending != NULL &&
	    each_local(w->pending, local_named, (void *)host) != 0))
		return;
	if (err != NULL)
		log_warn("event=resolve-failed host=%s error=\"%s\"", host,
		    err);
	else
		log_info("event=resolved host=%s addrs=%zu", host, n);
}

/*
 * Give the local names of ${n}'s pending file their addresses, one after
 * the other; wait for a lookup that must go to DNS (the loop serves on
 * meanwhile; a new name only: see reload_one), at most RESOLVE_WAIT_MAX
 * seconds in all; then hand the file over, or the reason it failed.
 */
static void
step(struct names_wait *n)
{
	struct config *cfg = n->pending;
	const char *why = n->why;
	char err[8192];
	int rc = -1;

	if (n->env->stopping)
		return; /* names_wait_fini frees it */
	if (!n->wfailed && (rc = each_local(cfg, reload_one, n)) == 1) {
		if (!ev_is_active(&n->deadline)) {
			ev_timer_set(&n->deadline, RESOLVE_WAIT_MAX, 0.);
			ev_timer_start(n->env->loop, &n->deadline);
		}
		log_info("event=reload-resolving host=%s trigger=%s",
		    n->waiting->host, why);
		return;
	}
	ev_timer_stop(n->env->loop, &n->deadline);
	n->pending = NULL;
	n->wfailed = 0;
	if (rc == 0) {
		n->done(n->arg, cfg, why, NULL);
		return;
	}
	snprintf(err, sizeof(err), "%s: resolve-failed role=%s name=%s: %s",
	    cfg->path, n->wrole, n->wname != NULL ? n->wname : n->wrole,
	    n->werr);
	config_free(cfg);
	free(cfg);
	n->done(n->arg, NULL, why, err);
}

/*
 * names_start(e, cfg):
 * Start-up: every local name of ${cfg} gets its address (blocking:
 * nothing is served yet; each failure logged).  Return 0, or -1 if one
 * failed.
 */
int
names_start(const struct env *e, struct config *cfg)
{
	struct start_names sn = {e->ctx.resolver, 0};

	(void)each_local(cfg, start_one, &sn);
	return (sn.failed ? -1 : 0);
}

/*
 * names_wait_init(w, e, done, arg):
 * A reload's wait for names, on ${e}'s loop and resolver (borrowed; its
 * cfg is the file in force): ${done}(${arg}, cfg, why, err) gets each
 * file handed to names_wait_start, with its addresses (${err} NULL; cfg
 * taken), or the reason it failed (cfg NULL, freed).
 */
void
names_wait_init(struct names_wait *w, const struct env *e,
    void (*done)(void *, struct config *, const char *, const char *),
    void *arg)
{

	memset(w, 0, sizeof(*w));
	w->env = e;
	w->done = done;
	w->arg = arg;
	ev_init(&w->deadline, deadline_cb);
	w->deadline.data = w;
	ev_init(&w->next, next_cb);
	w->next.data = w;
}

/*
 * names_wait_start(w, cfg, why):
 * Give the local names of ${cfg} (taken) their addresses: a name the file
 * in force has keeps its address, a new one is looked up (the loop serves
 * on meanwhile, at most RESOLVE_WAIT_MAX seconds); then ${w}->done.  Not
 * while names_wait_busy.
 */
void
names_wait_start(struct names_wait *w, struct config *cfg, const char *why)
{

	w->pending = cfg;
	w->why = why;
	step(w);
}

/*
 * names_wait_busy(w):
 * A file waits for its names.
 */
int
names_wait_busy(const struct names_wait *w)
{

	return (w->pending != NULL);
}

/*
 * names_wait_fini(w):
 * Drop the wait and the file waiting, if any.
 */
void
names_wait_fini(struct names_wait *w)
{

	resolve_cancel(&w->rwait);
	ev_timer_stop(w->env->loop, &w->deadline);
	ev_timer_stop(w->env->loop, &w->next);
	if (w->pending != NULL) {
		config_free(w->pending);
		free(w->pending);
		w->pending = NULL;
	}
}
