/*
 * resolve: see resolve.h.
 *
 * c-ares tells which sockets it wants watched through its socket state
 * callback (one ev_io each, made and freed here) and how long until its
 * next retransmission through ares_timeout() (one ev_timer, re-armed
 * after every call into c-ares).  A name is one cache entry: its last
 * answer (a reference-counted address list), the message of its last
 * failure, when that stops being fresh, whether a lookup is out, and the
 * waiters queued on it.  An answer may come back inside
 * ares_getaddrinfo() itself (/etc/hosts, or a failure known at once):
 * resolve_get() then answers at once and queues nothing.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <ares.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log.h"
#include "resolve.h"

struct resolve_entry {
	struct resolve_entry *next;
	struct resolve *r;
	char host[ADDR_TEXT_MAX];
	struct resolve_addrs *addrs; /* the last good answer, or NULL */
	int ok;          /* the last lookup worked (else: error) */
	int answered;    /* a lookup has finished */
	int pending;     /* a lookup is out */
	int watched;     /* the configuration uses the name */
	int failing;     /* the note callback was told it fails */
	int busy;        /* waiters being called: not to be evicted */
	ev_tstamp expires;
	char error[128];
	struct resolve_wait *waiters;
};

/* One socket c-ares asked us to watch. */
struct rsock {
	struct rsock *next;
	struct resolve *r;
	ev_io w;
};

struct resolve {
	struct ev_loop *loop;
	ares_channel ch;
	resolve_note_cb *note;
	void *note_arg;
	struct resolve_entry *entries;
	size_t nentries;
	struct rsock *socks;
	ev_timer tmo;   /* c-ares' next timeout */
	ev_timer retry; /* watched names that fail */
	int destroying;
};

/* Arm the timeout timer for c-ares' next deadline, or stop it. */
static void
timer_update(struct resolve *r)
{
	struct timeval tv, *tvp;

	ev_timer_stop(r->loop, &r->tmo);
	if (r->destroying || (tvp = ares_timeout(r->ch, NULL, &tv)) == NULL)
		return;
	ev_timer_set(&r->tmo, (double)tvp->tv_sec + (double)tvp->tv_usec /
	    1e6, 0.);
	ev_timer_start(r->loop, &r->tmo);
}

/* A resolver socket is ready: let c-ares read or write it. */
static void
resolve_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rsock *s = w->data;
	struct resolve *r = s->r;
	int fd = w->fd;

	(void)loop;
	/* ${s} may be freed inside (the socket closed): not touched after. */
	ares_process_fd(r->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	timer_update(r);
}

/* c-ares' deadline: retransmit or give up. */
static void
resolve_tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolve *r = w->data;

	(void)loop;
	(void)revents;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	timer_update(r);
}

/* c-ares opens, changes or closes a socket: watch it accordingly. */
static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolve *r = data;
	struct rsock **sp, *s;

	for (sp = &r->socks; *sp != NULL; sp = &(*sp)->next)
		if ((*sp)->w.fd == fd)
			break;
	s = *sp;
	if (!readable && !writable) {
		if (s == NULL)
			return;
		ev_io_stop(r->loop, &s->w);
		*sp = s->next;
		free(s);
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			/* Unwatched: the query times out (c-ares' timer). */
			log_error("event=resolve error=nomem");
			return;
		}
		s->r = r;
		s->w.data = s;
		ev_init(&s->w, resolve_io_cb);
		s->next = r->socks;
		r->socks = s;
	} else
		ev_io_stop(r->loop, &s->w);
	ev_io_set(&s->w, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE :
	    0));
	ev_io_start(r->loop, &s->w);
}

/*
 * resolve_addrs_free(a):
 * Give back a reference to ${a}.  NULL does nothing.
 */
void
resolve_addrs_free(struct resolve_addrs *a)
{

	if (a != NULL && --a->refs == 0)
		free(a);
}

/* A new reference to ${a}. */
static struct resolve_addrs *
addrs_ref(struct resolve_addrs *a)
{

	a->refs++;
	return (a);
}

/*
 * The addresses of ${res} as a list (IPv4 and IPv6 only, duplicates
 * dropped, at most RESOLVE_ADDRS_MAX, in c-ares' order) with the smallest
 * TTL in ${*ttl}; NULL if there is none (or no memory).
 */
static struct resolve_addrs *
addrs_from(const struct ares_addrinfo *res, int *ttl)
{
	const struct ares_addrinfo_node *nd;
	struct resolve_addrs *a;
	size_t i, len;

	if ((a = calloc(1, sizeof(*a) + RESOLVE_ADDRS_MAX *
	    sizeof(a->sa[0]))) == NULL)
		return (NULL);
	a->refs = 1;
	*ttl = -1;
	for (nd = res->nodes; nd != NULL && a->n < RESOLVE_ADDRS_MAX;
	    nd = nd->ai_next) {
		if (nd->ai_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (nd->ai_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (nd->ai_addr == NULL || (size_t)nd->ai_addrlen < len)
			continue;
		memset(&a->sa[a->n], 0, sizeof(a->sa[0]));
		memcpy(&a->sa[a->n], nd->ai_addr, len);
		for (i = 0; i < a->n; i++)
			if (memcmp(&a->sa[i], &a->sa[a->n], sizeof(a->sa[0])) ==
			    0)
				break;
		if (i < a->n)
			continue; /* a duplicate (one per socket type) */
		a->n++;
		if (*ttl < 0 || nd->ai_ttl < *ttl)
			*ttl = nd->ai_ttl;
	}
	if (a->n == 0) {
		free(a);
		return (NULL);
	}
	return (a);
}

/* Call every waiter of ${e} with its answer. */
static void
wake(struct resolve_entry *e)
{
	struct resolve_wait *w;

	e->busy = 1;
	while ((w = e->waiters) != NULL) {
		if ((e->waiters = w->next) != NULL)
			e->waiters->prev = NULL;
		w->prev = w->next = NULL;
		w->e = NULL;
		if (e->ok)
			w->cb(w, addrs_ref(e->addrs), NULL);
		else
			w->cb(w, NULL, e->error);
	}
	e->busy = 0;
}

/* A lookup of ${arg} (an entry) finished. */
static void
lookup_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolve_entry *e = arg;
	struct resolve *r = e->r;
	struct resolve_addrs *a = NULL;
	ev_tstamp now;
	int ttl = 0;

	(void)timeouts;
	if (r->destroying) {
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	now = ev_now(r->loop);
	e->pending = 0;
	e->answered = 1;
	if (status == ARES_SUCCESS && res != NULL &&
	    (a = addrs_from(res, &ttl)) == NULL)
		status = ARES_ENODATA;
	if (res != NULL)
		ares_freeaddrinfo(res);
	if (a != NULL) {
		resolve_addrs_free(e->addrs);
		e->addrs = a;
		e->ok = 1;
		e->error[0] = '\0';
		e->expires = now + (ttl <= 0 ? 0. : ttl > RESOLVE_TTL_MAX ?
		    RESOLVE_TTL_MAX : (double)ttl);
		log_debug("event=resolve host=%s addrs=%zu ttl=%d", e->host,
		    a->n, ttl);
		if (e->failing) {
			e->failing = 0;
			if (r->note != NULL)
				r->note(r->note_arg, e->host, NULL, a->n);
		}
	} else {
		e->ok = 0;
		strncpy(e->error, status == ARES_SUCCESS ? "no address" :
		    ares_strerror(status), sizeof(e->error) - 1);
		e->expires = now + RESOLVE_NEGATIVE_TTL;
		if (!e->failing) {
			e->failing = 1;
			if (r->note != NULL)
				r->note(r->note_arg, e->host, e->error, 0);
		}
	}
	wake(e);
}

/* Start a lookup of ${e} (it may finish before this returns). */
static void
lookup(struct resolve_entry *e)
{
	struct ares_addrinfo_hints hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	e->pending = 1;
	ares_getaddrinfo(e->r->ch, e->host, NULL, &hints, lookup_cb, e);
	timer_update(e->r);
}

/* The entry of ${host}, or NULL. */
static struct resolve_entry *
find(struct resolve *r, const char *host)
{
	struct resolve_entry *e;

	for (e = r->entries; e != NULL; e = e->next)
		if (strcasecmp(e->host, host) == 0)
			return (e);
	return (NULL);
}

/* Free ${e}, which nothing waits for. */
static void
entry_free(struct resolve_entry *e)
{

	assert(e->waiters == NULL);
	resolve_addrs_free(e->addrs);
	free(e);
}

/*
 * A new entry for ${host}; when the cache is full, the stalest entry that
 * is neither watched nor in use makes room.  NULL if none can.
 */
static struct resolve_entry *
entry_new(struct resolve *r, const char *host)
{
	struct resolve_entry *e, **ep, **victim = NULL;

	if (strlen(host) >= sizeof(e->host))
		return (NULL);
	if (r->nentries >= RESOLVE_NAMES_MAX) {
		for (ep = &r->entries; *ep != NULL; ep = &(*ep)->next) {
			e = *ep;
			if (e->pending || e->busy || e->watched ||
			    e->waiters != NULL)
				continue;
			if (victim == NULL || e->expires < (*victim)->expires)
				victim = ep;
		}
		if (victim == NULL)
			return (NULL);
		e = *victim;
		*victim = e->next;
		entry_free(e);
		r->nentries--;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (NULL);
	e->r = r;
	memcpy(e->host, host, strlen(host) + 1);
	e->next = r->entries;
	r->entries = e;
	r->nentries++;
	return (e);
}

/* The answer of ${e} in resolve_get()'s terms. */
static int
answer(struct resolve_entry *e, struct resolve_addrs **ap, const char **errp)
{

	if (e->ok) {
		*ap = addrs_ref(e->addrs);
		return (0);
	}
	*errp = e->error;
	return (-1);
}

/*
 * resolve_get(r, host, ap, errp, w, cb, arg):
 * The addresses of ${host} (borrowed).  From the cache while fresh:
 * return 0 with a reference in ${*ap}, or -1 with the message in ${*errp}
 * (a failure remembered).  Else a lookup starts; when it answers at once
 * (/etc/hosts) the same; otherwise return 1: ${w} waits and ${cb} is
 * called exactly once later (with ${w}->arg = ${arg}), unless
 * resolve_cancel(${w}) comes first.
 */
int
resolve_get(struct resolve *r, const char *host, struct resolve_addrs **ap,
    const char **errp, struct resolve_wait *w, resolve_cb *cb, void *arg)
{
	struct resolve_entry *e;

	assert(w->e == NULL);
	*ap = NULL;
	if ((e = find(r, host)) == NULL && (e = entry_new(r, host)) == NULL) {
		*errp = "resolver cache full";
		return (-1);
	}
	if (!e->pending && e->answered && e->expires > ev_now(r->loop))
		return (answer(e, ap, errp));
	if (!e->pending) {
		lookup(e);
		if (!e->pending)
			return (answer(e, ap, errp)); /* answered at once */
	}
	w->cb = cb;
	w->arg = arg;
	w->e = e;
	w->prev = NULL;
	if ((w->next = e->waiters) != NULL)
		e->waiters->prev = w;
	e->waiters = w;
	return (1);
}

/*
 * resolve_peek(r, host):
 * The addresses of ${host} known now (fresh or not), as a reference, or
 * NULL; never starts a lookup.
 */
struct resolve_addrs *
resolve_peek(struct resolve *r, const char *host)
{
	struct resolve_entry *e;

	if ((e = find(r, host)) == NULL || e->addrs == NULL)
		return (NULL);
	return (addrs_ref(e->addrs));
}

/*
 * resolve_cancel(w):
 * ${w} stops waiting; its callback is not called.  Not waiting: nothing.
 */
void
resolve_cancel(struct resolve_wait *w)
{

	if (w->e == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		w->e->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->e = NULL;
}

/* Look up again the watched names that fail. */
static void
resolve_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolve *r = w->data;
	struct resolve_entry *e;

	(void)revents;
	for (e = r->entries; e != NULL; e = e->next)
		if (e->watched && !e->pending && e->answered && !e->ok &&
		    e->expires <= ev_now(loop))
			lookup(e);
}

/*
 * resolve_watch(r, host):
 * ${host} is a name the configuration uses: look it up now, and while it
 * fails, again every RESOLVE_RETRY seconds (the note callback tells).
 */
void
resolve_watch(struct resolve *r, const char *host)
{
	struct resolve_entry *e;

	if ((e = find(r, host)) == NULL && (e = entry_new(r, host)) == NULL) {
		log_warn("event=resolve-failed host=%s error=\"resolver cache "
		    "full\"", host);
		return;
	}
	e->watched = 1;
	if (!e->pending && (!e->answered || e->expires <= ev_now(r->loop)))
		lookup(e);
	if (!ev_is_active(&r->retry))
		ev_timer_start(r->loop, &r->retry);
}

/*
 * resolve_unwatch_all(r):
 * No name is watched any more (a reload then watches its own).
 */
void
resolve_unwatch_all(struct resolve *r)
{
	struct resolve_entry *e;

	for (e = r->entries; e != NULL; e = e->next)
		e->watched = 0;
}

/*
 * resolve_addr_set(a, l):
 * Give ${a} the first IPv4 address of ${l} (borrowed), or its first IPv6
 * one when it has no IPv4 address, with ${a}'s port; its host stays the
 * name written.
 */
void
resolve_addr_set(struct addr *a, const struct resolve_addrs *l)
{
	size_t i;

	assert(l->n > 0);
	for (i = 0; i < l->n; i++)
		if (l->sa[i].ss_family == AF_INET)
			break;
	addr_set(a, &l->sa[i < l->n ? i : 0]);
}

/*
 * resolve_addr(r, a, w, cb, arg, err, errlen):
 * Give ${a}, a local address written as a name, its address; see
 * resolve.h.  0, -1 (${err}) or 1 (${cb} will be called).
 */
int
resolve_addr(struct resolve *r, struct addr *a, struct resolve_wait *w,
    resolve_cb *cb, void *arg, char *err, size_t errlen)
{
	struct resolve_addrs *l;
	const char *msg = NULL;
	int rc;

	if (a->salen > 0)
		return (0); /* numeric, or a unix socket */
	if ((rc = resolve_get(r, a->host, &l, &msg, w, cb, arg)) == 1)
		return (1);
	if (rc == -1) {
		snprintf(err, errlen, "cannot resolve %s: %s", a->host, msg);
		return (-1);
	}
	resolve_addr_set(a, l);
	resolve_addrs_free(l);
	return (0);
}

/* One blocking lookup (resolve_addr_wait). */
struct blocking {
	struct resolve_wait w;
	struct addr *a;
	char *err;
	size_t errlen;
	int done; /* answered, or out of time */
	int rc;
};

/* The answer of a blocking lookup (resolve_cb). */
static void
blocking_cb(struct resolve_wait *w, struct resolve_addrs *l, const char *msg)
{
	struct blocking *b = w->arg;

	b->done = 1;
	if (l == NULL) {
		snprintf(b->err, b->errlen, "cannot resolve %s: %s",
		    b->a->host, msg);
		return;
	}
	resolve_addr_set(b->a, l);
	resolve_addrs_free(l);
	b->rc = 0;
}

/* A blocking lookup is out of time. */
static void
blocking_tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct blocking *b = w->data;

	(void)loop;
	(void)revents;
	b->done = 1;
}

/*
 * resolve_addr_wait(r, a, err, errlen):
 * resolve_addr() that blocks until the answer or RESOLVE_WAIT_MAX
 * seconds.  0, or -1 (${err}).
 */
int
resolve_addr_wait(struct resolve *r, struct addr *a, char *err,
    size_t errlen)
{
	struct blocking b;
	ev_timer tmo;
	int rc;

	memset(&b, 0, sizeof(b));
	b.a = a;
	b.err = err;
	b.errlen = errlen;
	b.rc = -1;
	if ((rc = resolve_addr(r, a, &b.w, blocking_cb, &b, err, errlen)) !=
	    1)
		return (rc);
	ev_timer_init(&tmo, blocking_tmo_cb, RESOLVE_WAIT_MAX, 0.);
	tmo.data = &b;
	ev_timer_start(r->loop, &tmo);
	while (!b.done)
		ev_run(r->loop, EVRUN_ONCE);
	ev_timer_stop(r->loop, &tmo);
	if (b.w.e != NULL) {
		resolve_cancel(&b.w);
		snprintf(err, errlen, "cannot resolve %s: no answer within "
		    "%.0f s", a->host, RESOLVE_WAIT_MAX);
	}
	return (b.rc);
}

/*
 * resolve_addr_now(a, err, errlen):
 * resolve_addr_wait() on a resolver and a loop of its own.  0 or -1.
 */
int
resolve_addr_now(struct addr *a, char *err, size_t errlen)
{
	struct ev_loop *loop;
	struct resolve *r;
	int rc = -1;

	if (a->salen > 0)
		return (0);
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		snprintf(err, errlen, "cannot resolve %s: no event loop",
		    a->host);
		goto fail0;
	}
	if ((r = resolve_new(loop, NULL, NULL, err, errlen)) == NULL)
		goto fail1;
	rc = resolve_addr_wait(r, a, err, errlen);
	resolve_free(r);
fail1:
	ev_loop_destroy(loop);
fail0:
	return (rc);
}

/*
 * resolve_new(loop, note, arg, err, errlen):
 * A resolver on ${loop}: c-ares initialised (reads /etc/resolv.conf now),
 * ${note}(${arg}, ...) told when a name starts failing or recovers (may
 * be NULL).  Return it, or NULL with a message in ${err}.
 */
struct resolve *
resolve_new(struct ev_loop *loop, resolve_note_cb *note, void *arg,
    char *err, size_t errlen)
{
	struct ares_options o;
	struct resolve *r;
	int rc;

	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		goto fail0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail1;
	}
	r->loop = loop;
	r->note = note;
	r->note_arg = arg;
	ev_init(&r->tmo, resolve_tmo_cb);
	r->tmo.data = r;
	ev_init(&r->retry, resolve_retry_cb);
	ev_timer_set(&r->retry, RESOLVE_RETRY, RESOLVE_RETRY);
	r->retry.data = r;
	/*
	 * Files first, then DNS (/etc/hosts is read at each lookup, so a
	 * change there is seen at once); c-ares then reads neither
	 * nsswitch.conf nor host.conf.  Its sockets are ours to watch.
	 */
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = r;
	o.lookups = (char *)"fb";
	if ((rc = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_LOOKUPS)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		goto fail2;
	}
	return (r);
fail2:
	free(r);
fail1:
	ares_library_cleanup();
fail0:
	return (NULL);
}

/*
 * resolve_free(r):
 * Cancel every lookup (no waiter may be left: they are owned by
 * connections, dropped first) and free ${r}.  NULL does nothing.
 */
void
resolve_free(struct resolve *r)
{
	struct resolve_entry *e;
	struct rsock *s;

	if (r == NULL)
		return;
	r->destroying = 1;
	ev_timer_stop(r->loop, &r->tmo);
	ev_timer_stop(r->loop, &r->retry);
	ares_destroy(r->ch); /* lookup_cb ignores what it cancels */
	while ((s = r->socks) != NULL) {
		r->socks = s->next;
		ev_io_stop(r->loop, &s->w);
		free(s);
	}
	while ((e = r->entries) != NULL) {
		r->entries = e->next;
		entry_free(e);
	}
	free(r);
	ares_library_cleanup();
}
