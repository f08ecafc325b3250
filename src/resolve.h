/*
 * resolve: host names looked up on the event loop, never by a blocking
 * call.  One c-ares channel per process, driven by libev (an ev_io per
 * resolver socket, one ev_timer for c-ares' own timeouts), and a bounded
 * cache: a name maps to its list of addresses (IPv4 and IPv6, in the
 * order c-ares sorts them, RFC 6724), kept for the answer's TTL capped at
 * RESOLVE_TTL_MAX; a failure is kept RESOLVE_NEGATIVE_TTL.  /etc/hosts is
 * read first at every lookup that is not answered from the cache (lookups
 * "fb"), so a change there is followed by the next lookup.
 *
 * In the engine layer, below conn: conn.c asks it for the addresses of
 * a name it must dial.  It never opens a TCP connection and never knows
 * which role asks.  c-ares reads /etc/resolv.conf once, at resolve_new(),
 * which runs before the sandbox is entered (sandbox.c allows the rest).
 *
 * It is the process's one resolver: the names of the local addresses
 * (what a node binds or matches: [node] listen, admin, an inlet's listen
 * and intercept) get their address here too (resolve_addr), at start-up
 * and at a reload, as do the names of the command line tools.  Nothing
 * calls getaddrinfo(3), whose NSS modules may make any system call (glibc
 * asks netlink with AI_ADDRCONFIG), which the sandbox would kill.
 */
#ifndef SALLYPORT_RESOLVE_H
#define SALLYPORT_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#include <ev.h>

/* Answers are kept at most this long (seconds), whatever their TTL. */
#define RESOLVE_TTL_MAX 30.
/* A failed lookup is remembered this long (seconds). */
#define RESOLVE_NEGATIVE_TTL 1.
/* Watched names that fail are looked up again this often (seconds). */
#define RESOLVE_RETRY 2.
/* A blocking lookup (start-up, a command) gives up after this (seconds). */
#define RESOLVE_WAIT_MAX 10.
/* At most this many names in the cache; at most this many addresses each. */
#define RESOLVE_NAMES_MAX 1024
#define RESOLVE_ADDRS_MAX 16

struct addr;
struct resolve;
struct resolve_entry;

/*
 * The addresses of one name (port 0), reference-counted: a lookup hands
 * out a reference that resolve_addrs_free() gives back, so a connection
 * trying them in order keeps its list when the cache gets a new answer.
 */
struct resolve_addrs {
	unsigned refs;
	size_t n;
	struct sockaddr_storage sa[]; /* AF_INET or AF_INET6 */
};

struct resolve_wait;

/*
 * A lookup finished for ${w}: ${a} is a reference (the callee's, to give
 * back with resolve_addrs_free) and ${err} NULL, or ${a} NULL and ${err}
 * the resolver's message.
 */
typedef void resolve_cb(struct resolve_wait *w, struct resolve_addrs *a,
    const char *err);

/* One waiter, embedded in its owner (no allocation; cancel unlinks it). */
struct resolve_wait {
	struct resolve_wait *prev, *next;
	struct resolve_entry *e; /* NULL when not waiting */
	resolve_cb *cb;
	void *arg; /* the owner's */
};

/*
 * A name's lookups started to fail (${err} set) or work again (${err}
 * NULL, ${n} addresses): for the runtime's log lines.
 */
typedef void resolve_note_cb(void *arg, const char *host, const char *err,
    size_t n);

/*
 * resolve_new(loop, note, arg, err, errlen):
 * A resolver on ${loop}: c-ares initialised (reads /etc/resolv.conf now),
 * ${note}(${arg}, ...) told when a name starts failing or recovers (may
 * be NULL).  Return it, or NULL with a message in ${err}.
 */
struct resolve *resolve_new(struct ev_loop *loop, resolve_note_cb *note,
    void *arg, char *err, size_t errlen);

/*
 * resolve_free(r):
 * Cancel every lookup (no waiter may be left: they are owned by
 * connections, dropped first) and free ${r}.  NULL does nothing.
 */
void resolve_free(struct resolve *r);

/*
 * resolve_get(r, host, ap, errp, w, cb, arg):
 * The addresses of ${host} (borrowed).  From the cache while fresh:
 * return 0 with a reference in ${*ap}, or -1 with the message in ${*errp}
 * (a failure remembered).  Else a lookup starts; when it answers at once
 * (/etc/hosts) the same; otherwise return 1: ${w} waits and ${cb} is
 * called exactly once later (with ${w}->arg = ${arg}), unless
 * resolve_cancel(${w}) comes first.
 */
int resolve_get(struct resolve *r, const char *host,
    struct resolve_addrs **ap, const char **errp, struct resolve_wait *w,
    resolve_cb *cb, void *arg);

/*
 * resolve_peek(r, host):
 * The addresses of ${host} known now (fresh or not), as a reference, or
 * NULL; never starts a lookup.
 */
struct resolve_addrs *resolve_peek(struct resolve *r, const char *host);

/*
 * resolve_cancel(w):
 * ${w} stops waiting; its callback is not called.  Not waiting: nothing.
 */
void resolve_cancel(struct resolve_wait *w);

/*
 * resolve_watch(r, host):
 * ${host} is a name the configuration uses: look it up now, and while it
 * fails, again every RESOLVE_RETRY seconds (the note callback tells).
 */
void resolve_watch(struct resolve *r, const char *host);

/*
 * resolve_unwatch_all(r):
 * No name is watched any more (a reload then watches its own).
 */
void resolve_unwatch_all(struct resolve *r);

/*
 * resolve_addr(r, a, w, cb, arg, err, errlen):
 * Give ${a}, a local address written as a name (one the node binds or
 * matches), its address (resolve_addr_set); numeric or unix ones already
 * have it.  Return 0 when done (from /etc/hosts or the cache: nothing
 * waits), -1 with a message in ${err}, or 1: a lookup is out and ${cb}
 * will be called as for resolve_get(), with the addresses to pass to
 * resolve_addr_set() (${a} is not touched meanwhile).
 */
int resolve_addr(struct resolve *r, struct addr *a, struct resolve_wait *w,
    resolve_cb *cb, void *arg, char *err, size_t errlen);

/*
 * resolve_addr_set(a, l):
 * Give ${a} the first IPv4 address of ${l} (borrowed), or its first IPv6
 * one when it has no IPv4 address, with ${a}'s port; its host stays the
 * name written.
 */
void resolve_addr_set(struct addr *a, const struct resolve_addrs *l);

/*
 * resolve_addr_wait(r, a, err, errlen):
 * resolve_addr() that blocks (runs ${r}'s loop, for start-up, before
 * anything else is on it) until the answer, or RESOLVE_WAIT_MAX seconds.
 * Return 0, or -1 with a message in ${err}.
 */
int resolve_addr_wait(struct resolve *r, struct addr *a, char *err,
    size_t errlen);

/*
 * resolve_addr_now(a, err, errlen):
 * resolve_addr_wait() on a resolver and a loop of its own, made and freed
 * here: for the command line tools (probe, intercept-rules).
 */
int resolve_addr_now(struct addr *a, char *err, size_t errlen);

/*
 * resolve_addrs_free(a):
 * Give back a reference to ${a}.  NULL does nothing.
 */
void resolve_addrs_free(struct resolve_addrs *a);

#endif
