/*
 * fleet: see fleet.h and docs/relay.md ("Fleets").
 *
 * Members are (hop, address) pairs, each owning a dialout whose ${at} is
 * the member's own numeric address (so its session, its pool and the
 * data connections made from its ticket all go to that one replica).  A
 * numeric (or unix) hop has one member from the start.  A name's members
 * follow its answers: one lookup per hop at a time (resolve_get, from
 * the cache while its TTL lasts), every [node] relay_resolve seconds, or
 * FLEET_PROMPT after the previous round when a member fails.  /readyz
 * counts the fleet ready while one member is up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "fleet.h"
#include "log.h"
#include "resolve.h"

/* A failure makes the names be looked up again, at most this often (s). */
#define FLEET_PROMPT 1.0
#define FLEET_MEMBERS_MAX (CONFIG_HOPS_MAX * RESOLVE_ADDRS_MAX)

struct fleet;

struct fleet_member {
	struct fleet *f;
	struct dialout *d;
	struct addr at; /* the one address (borrowed by d) */
	size_t hop;     /* index in f->hops */
	int seen;       /* in the answer being applied */
};

struct fleet_hop {
	struct fleet *f;
	const struct config_hop *h;
	size_t idx;
	struct resolve_wait w; /* the lookup in progress (names only) */
};

struct fleet {
	struct env *env;
	enum dialout_kind kind;
	const char *name;
	const char *role;
	unsigned pool;
	struct fleet_hop hops[CONFIG_HOPS_MAX];
	size_t nhops;
	struct fleet_member *m[FLEET_MEMBERS_MAX];
	size_t n;
	size_t rr;        /* next member fleet_pick looks at */
	ev_timer resolve; /* the next round of lookups */
	ev_tstamp last;   /* when the last round started */
	unsigned rounds;  /* rounds started */
	int stopping;
	void (*pooled_cb)(void *, int, struct dialout *);
	void *pooled_arg;
	struct ready_item ready;
};

/* The readiness predicate of a fleet (ready.h): one member is up. */
static int
ready_is_up(const void *arg)
{

	return (fleet_count_up(arg) > 0);
}

/* Log a member's arrival or departure (${what}: "add" or "drop"). */
static void
member_log(const struct fleet_member *m, const char *what)
{
	const struct fleet *f = m->f;
	char relay[ADDR_TEXT_MAX + 16], at[ADDR_TEXT_MAX + 16];

	log_info("event=relay-address-%s role=%s kind=%s relay=%s "
	    "relay_addr=%s service=%s", what, f->role, f->kind ==
	    DIALOUT_REGISTER ? "register" : "client",
	    addr_format(&f->hops[m->hop].h->addr, relay, sizeof(relay)),
	    addr_format(&m->at, at, sizeof(at)), f->name);
}

static void fleet_soon(void *arg);

/* Make ${m} (filled in but for d) ${f}'s, with ${d} or a new dialout. */
static int
member_attach(struct fleet *f, struct fleet_member *m, struct dialout *d)
{
	const struct config_hop *h = f->hops[m->hop].h;

	if (f->n >= FLEET_MEMBERS_MAX)
		return (-1);
	m->f = f;
	if (d != NULL)
		dialout_rebind(d, f->name, h->id, &h->addr);
	else if ((d = dialout_new(f->env, f->kind, f->name, h->id, &h->addr,
	    &m->at, f->pool, f->role)) == NULL)
		return (-1);
	m->d = d;
	dialout_on_fail(d, fleet_soon, f);
	if (f->pooled_cb != NULL)
		dialout_on_pooled(d, f->pooled_cb, f->pooled_arg);
	f->m[f->n++] = m;
	return (0);
}

/* Add a member of hop ${hop} at ${at}; log it.  Errors are logged. */
static void
member_add(struct fleet *f, size_t hop, const struct addr *at)
{
	struct fleet_member *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto fail;
	m->at = *at;
	m->hop = hop;
	m->seen = 1;
	if (member_attach(f, m, NULL) == -1) {
		free(m);
		goto fail;
	}
	member_log(m, "add");
	return;
fail:
	log_warn("event=relay-address-add role=%s service=%s error=\"%s\"",
	    f->role, f->name, f->n >= FLEET_MEMBERS_MAX ? "too many relay "
	    "addresses" : "out of memory");
}

/* Unlink member ${i} of ${f} and return it. */
static struct fleet_member *
member_take(struct fleet *f, size_t i)
{
	struct fleet_member *m = f->m[i];

	memmove(&f->m[i], &f->m[i + 1], (f->n - i - 1) * sizeof(f->m[0]));
	f->n--;
	if (f->rr > i)
		f->rr--;
	return (m);
}

/* End member ${i} of ${f}. */
static void
member_free(struct fleet *f, size_t i)
{
	struct fleet_member *m = member_take(f, i);

	dialout_free(m->d);
	free(m);
}

/* Return 1 if ${a} and ${b} are the same socket address. */
static int
same_sa(const struct addr *a, const struct addr *b)
{

	return (a->salen == b->salen && memcmp(&a->sa, &b->sa, a->salen) ==
	    0);
}

/*
 * The name of hop ${hop} resolved to ${a}: a member for each of its
 * addresses, none for the others.
 */
static void
hop_apply(struct fleet *f, size_t hop, const struct resolve_addrs *a)
{
	struct addr at;
	size_t i, k;

	for (i = 0; i < f->n; i++)
		f->m[i]->seen = 0;
	for (k = 0; k < a->n; k++) {
		addr_at(&f->hops[hop].h->addr, &a->sa[k], &at);
		for (i = 0; i < f->n; i++)
			if (f->m[i]->hop == hop && same_sa(&f->m[i]->at, &at))
				break;
		if (i < f->n)
			f->m[i]->seen = 1;
		else
			member_add(f, hop, &at);
	}
	for (i = f->n; i-- > 0;)
		if (f->m[i]->hop == hop && !f->m[i]->seen) {
			member_log(f->m[i], "drop");
			member_free(f, i);
		}
}

/* A lookup of a hop's name finished (resolve_cb). */
static void
hop_resolved(struct resolve_wait *w, struct resolve_addrs *a,
    const char *err)
{
	struct fleet_hop *fh = w->arg;

	(void)err; /* the node's note callback logs the name's failure */
	if (a != NULL && !fh->f->stopping)
		hop_apply(fh->f, fh->idx, a);
	resolve_addrs_free(a);
}

/* Look up every hop's name (those not waiting already). */
static void
fleet_round(struct fleet *f)
{
	struct resolve *r = f->env->ctx.resolver;
	struct resolve_addrs *a;
	struct fleet_hop *fh;
	const char *err;
	size_t i;

	f->last = ev_now(f->env->loop);
	f->rounds++;
	for (i = 0; i < f->nhops && r != NULL; i++) {
		fh = &f->hops[i];
		if (fh->h->addr.salen != 0 || fh->w.e != NULL)
			continue; /* numeric, or its lookup is out */
		a = NULL;
		if (resolve_get(r, fh->h->addr.host, &a, &err, &fh->w,
		    hop_resolved, fh) == 0)
			hop_apply(f, i, a);
		resolve_addrs_free(a);
	}
	ev_timer_set(&f->resolve, f->env->cfg->node.relay_resolve, 0.);
	ev_timer_start(f->env->loop, &f->resolve);
}

static void
fleet_resolve_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	fleet_round(w->data);
}

/* A member failed: look the names up again soon (dialout_on_fail). */
static void
fleet_soon(void *arg)
{
	struct fleet *f = arg;
	struct ev_loop *loop = f->env->loop;
	double after = f->last + FLEET_PROMPT - ev_now(loop);
	size_t i;

	for (i = 0; i < f->nhops; i++)
		if (f->hops[i].h->addr.salen == 0)
			break;
	if (f->stopping || i == f->nhops)
		return; /* nothing to look up */
	if (after < 0)
		after = 0;
	if (ev_is_active(&f->resolve) &&
	    ev_timer_remaining(loop, &f->resolve) <= after)
		return;
	ev_timer_stop(loop, &f->resolve);
	ev_timer_set(&f->resolve, after, 0.);
	ev_timer_start(loop, &f->resolve);
}

/*
 * fleet_new(e, kind, name, hops, nhops, pool, role, old):
 * Keep dialouts of ${kind} (dialout_new) for the service ${name} with
 * every address of each of the ${nhops} ${hops}, ${pool} pooled
 * connections each (registrations), ${role} for logs.  Members of ${old}
 * (may be NULL: the fleet of the previous configuration) made with the
 * same kind, name, hop and pool are taken over as they are (a reload
 * keeps unchanged registrations); the rest stays in ${old}, to be freed.
 * Names are looked up from the loop.  Every pointer is borrowed and must
 * outlive the fleet.  NULL on ENOMEM.
 */
struct fleet *
fleet_new(struct env *e, enum dialout_kind kind, const char *name,
    const struct config_hop *hops, size_t nhops, unsigned pool,
    const char *role, struct fleet *old)
{
	struct fleet_member *m;
	struct fleet *f;
	size_t h, i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->env = e;
	f->kind = kind;
	f->name = name;
	f->role = role;
	f->pool = pool;
	for (h = 0; h < nhops && h < CONFIG_HOPS_MAX; h++) {
		f->hops[h].f = f;
		f->hops[h].h = &hops[h];
		f->hops[h].idx = h;
	}
	f->nhops = h;
	ev_init(&f->resolve, fleet_resolve_cb);
	f->resolve.data = f;
	for (h = 0; h < f->nhops; h++) {
		/* The members of an unchanged hop go on as they are. */
		for (i = 0; old != NULL && i < old->n;) {
			m = old->m[i];
			if (!dialout_same(m->d, kind, name, hops[h].id,
			    &hops[h].addr, pool) || (hops[h].addr.salen != 0 &&
			    !same_sa(&m->at, &hops[h].addr))) {
				i++;
				continue;
			}
			(void)member_take(old, i);
			m->hop = h;
			if (member_attach(f, m, m->d) == -1) {
				dialout_free(m->d);
				free(m);
			}
		}
		for (i = 0; i < f->n; i++)
			if (f->m[i]->hop == h)
				break;
		if (hops[h].addr.salen != 0 && i == f->n) {
			struct addr at = hops[h].addr;

			member_add(f, h, &at);
			if (f->n == 0 || f->m[f->n - 1]->hop != h)
				goto fail;
		}
	}
	/* The first lookups from the loop, once everything is set up. */
	ev_timer_set(&f->resolve, 0., 0.);
	ev_timer_start(e->loop, &f->resolve);
	ready_add(&e->ready, &f->ready, role, name,
	    kind == DIALOUT_REGISTER ? "not registered at its relay" :
	    "no relay session", ready_is_up, f);
	return (f);
fail:
	fleet_free(f);
	return (NULL);
}

/*
 * fleet_free(f):
 * Free ${f} and every member left in it (dialout_free); NULL does nothing.
 */
void
fleet_free(struct fleet *f)
{

	if (f == NULL)
		return;
	fleet_stop(f);
	while (f->n > 0)
		member_free(f, f->n - 1);
	free(f);
}

/*
 * fleet_stop(f):
 * dialout_stop() every member; no more lookups.  NULL does nothing.
 */
void
fleet_stop(struct fleet *f)
{
	size_t i;

	if (f == NULL)
		return;
	f->stopping = 1;
	ready_remove(&f->ready);
	ev_timer_stop(f->env->loop, &f->resolve);
	for (i = 0; i < f->nhops; i++)
		resolve_cancel(&f->hops[i].w);
	for (i = 0; i < f->n; i++)
		dialout_stop(f->m[i]->d);
}

/*
 * fleet_restart(f):
 * The node's identity changed: dialout_restart() every member.
 */
void
fleet_restart(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		dialout_restart(f->m[i]->d);
}

/*
 * fleet_on_pooled(f, cb, arg):
 * dialout_on_pooled(member, ${cb}, ${arg}) for every member, now and
 * later.
 */
void
fleet_on_pooled(struct fleet *f, void (*cb)(void *, int, struct dialout *),
    void *arg)
{
	size_t i;

	f->pooled_cb = cb;
	f->pooled_arg = arg;
	for (i = 0; i < f->n; i++)
		dialout_on_pooled(f->m[i]->d, cb, arg);
}

/*
 * fleet_pick(f, avoid):
 * A member whose session is up (dialout_is_up), other than ${avoid} (may
 * be NULL), taken round robin; NULL if there is none.
 */
struct dialout *
fleet_pick(struct fleet *f, const struct dialout *avoid)
{
	struct dialout *d;
	size_t i, k;

	for (i = 0; i < f->n; i++) {
		k = (f->rr + i) % f->n;
		d = f->m[k]->d;
		if (d != avoid && dialout_is_up(d)) {
			f->rr = (k + 1) % f->n;
			return (d);
		}
	}
	return (NULL);
}

/*
 * fleet_count_up(f):
 * How many members' sessions are up.
 */
size_t
fleet_count_up(const struct fleet *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += (size_t)dialout_is_up(f->m[i]->d);
	return (n);
}

/*
 * fleet_is_down(f):
 * Return 1 if no member is up and none is trying (every last attempt
 * failed, or no name gave an address): clients should not wait.
 */
int
fleet_is_down(const struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!dialout_is_down(f->m[i]->d))
			return (0);
	if (f->n > 0)
		return (1);
	/* No member yet: down once the lookups have answered nothing. */
	for (i = 0; i < f->nhops; i++)
		if (f->hops[i].w.e != NULL)
			return (0);
	return (f->rounds > 0);
}
