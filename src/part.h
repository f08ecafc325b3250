/*
 * part: the component interface of the runtime.  Every running part of a
 * node (the node's trust, the front, the outlet, the relay, the inlets,
 * interception, the admin endpoint; a fleet runs inside its outlet or
 * inlet) is one row of the runtime's table of parts: a struct part whose
 * ops the runtime calls for all rows at once.
 *
 * A reload is noise.c's work-on-a-copy-then-commit raised to the process:
 *   prepare   every row, in table order: bind what is new, allocate, load;
 *             whatever can fail fails here, and nothing visible changes;
 *   abort     if one row's prepare fails: the rows prepared so far, in
 *             reverse order, undo their prepare exactly;
 *   commit    else every row, in table order (the configuration is the
 *             new one already): switch to what it prepared; cannot fail;
 *   revoke    then every row, in reverse order: end what the new file no
 *             longer allows.
 * The loop (parts_prepare, parts_commit) knows no row; a row knows no
 * other row, only the host it was created with.  Metrics and readiness
 * are pulled, not pushed: a part's module registers its collector
 * (metrics_collector_add) and its readiness items (ready.h) itself, so
 * the interface has no operation for them; `live` is what the shutdown
 * grace asks.  Never: a row that
 * changes anything the old generation serves with before its commit.
 */
#ifndef SALLYPORT_PART_H
#define SALLYPORT_PART_H

#include <stddef.h>

struct config;
struct env;
struct front;
struct gen;
struct identity;
struct part;

/* What every row borrows from the runtime. */
struct part_host {
	struct env *env;              /* env->cfg: the file in force */
	const struct identity *idn;   /* start-up's key (start only) */
	struct front *front;          /* set by the front's row */
	struct gen **cur;             /* the generation in force */
};

/* One reload, as the rows see it. */
struct part_reload {
	const struct config *old; /* the file in force until the commit */
	struct config *cfg;       /* the file loaded (its local names have
				     their addresses) */
	struct gen *old_gen, *gen; /* the generation in force, the next */
	int rotated;      /* the identity changed (the trust row's prepare) */
	unsigned revoked; /* connections and sessions ended (revoke, commit) */
	char *err;        /* a prepare's message, for the reload line */
	size_t errlen;
};

/*
 * The operations of a kind of part.  Every one but start may be NULL
 * (nothing to do).  ${p} is the row, allocated with ${size} bytes: a
 * row's own struct starts with its struct part.
 */
struct part_ops {
	const char *name; /* "front", "outlet", ... */
	size_t size;      /* of the row's struct */
	/* Start-up, from host->env->cfg: create, bind; 0, or -1 (logged). */
	int (*start)(struct part *p);
	/* Reload: everything that can fail for r->cfg; nothing visible
	 * changes.  0, or -1 with a message in r->err. */
	int (*prepare)(struct part *p, struct part_reload *r);
	/* Undo prepare exactly. */
	void (*abort)(struct part *p, struct part_reload *r);
	/* Switch to what prepare made (env->cfg is r->cfg); cannot fail. */
	void (*commit)(struct part *p, struct part_reload *r);
	/* After every commit: end what r->cfg no longer allows (counted in
	 * r->revoked). */
	void (*revoke)(struct part *p, struct part_reload *r);
	/* Every second: end what an expired credential admitted. */
	unsigned (*expire)(struct part *p);
	/* Shutting down: stop accepting; live connections go on. */
	void (*stop)(struct part *p);
	/* Live objects that are not connections (the grace waits for them). */
	unsigned (*live)(const struct part *p);
	/* Free the row's objects (not ${p} itself). */
	void (*free)(struct part *p);
};

/* A row: its ops, its host, and its running object. */
struct part {
	const struct part_ops *ops;
	struct part_host *host;
	void *self; /* the front, the outlet, ...; may be NULL */
};

/*
 * parts_start(ps, table, n, h):
 * Make the rows ${ps}[0..${n}) of the kinds ${table} (borrowed, static)
 * with the host ${h} (borrowed) and start them in order.  Return 0, or -1
 * at the first failure (logged); either way parts_free frees them.
 */
int parts_start(struct part **ps, const struct part_ops *const *table,
    size_t n, struct part_host *h);

/*
 * parts_prepare(ps, n, r):
 * Prepare every row of ${ps} for the reload ${r}, in order.  Return 0, or
 * -1 after the rows prepared so far aborted, in reverse order (the failed
 * row undid its own part).
 */
int parts_prepare(struct part **ps, size_t n, struct part_reload *r);

/*
 * parts_commit(ps, n, r):
 * Commit every row of ${ps}, in order, then revoke, in reverse order.
 */
void parts_commit(struct part **ps, size_t n, struct part_reload *r);

/*
 * parts_expire(ps, n):
 * Every row's expire; return the sum.
 */
unsigned parts_expire(struct part **ps, size_t n);

/*
 * parts_stop(ps, n):
 * Every row stops accepting, in order.
 */
void parts_stop(struct part **ps, size_t n);

/*
 * parts_live(ps, n):
 * The live objects of every row.
 */
unsigned parts_live(struct part *const *ps, size_t n);

/*
 * parts_free(ps, n):
 * Free every row of ${ps} (NULL ones are skipped), in reverse order, and
 * set it to NULL.
 */
void parts_free(struct part **ps, size_t n);

#endif
