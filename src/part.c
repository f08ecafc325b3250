/*
 * part: see part.h.
 */
#include <stdlib.h>

#include "log.h"
#include "part.h"

/*
 * parts_start(ps, table, n, h):
 * Make the rows ${ps}[0..${n}) of the kinds ${table} (borrowed, static)
 * with the host ${h} (borrowed) and start them in order.  Return 0, or -1
 * at the first failure (logged); either way parts_free frees them.
 */
int
parts_start(struct part **ps, const struct part_ops *const *table,
    size_t n, struct part_host *h)
{
	size_t i;

	for (i = 0; i < n; i++)
		ps[i] = NULL;
	for (i = 0; i < n; i++) {
		if ((ps[i] = calloc(1, table[i]->size)) == NULL) {
			log_error("event=start error=nomem");
			return (-1);
		}
		ps[i]->ops = table[i];
		ps[i]->host = h;
		if (table[i]->start(ps[i]) == -1)
			return (-1);
	}
	return (0);
}

/*
 * parts_prepare(ps, n, r):
 * Prepare every row of ${ps} for the reload ${r}, in order.  Return 0, or
 * -1 after the rows prepared so far aborted, in reverse order (the failed
 * row undid its own part).
 */
int
parts_prepare(struct part **ps, size_t n, struct part_reload *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ps[i]->ops->prepare != NULL &&
		    ps[i]->ops->prepare(ps[i], r) == -1)
			break;
	if (i == n)
		return (0);
	while (i-- > 0)
		if (ps[i]->ops->abort != NULL)
			ps[i]->ops->abort(ps[i], r);
	return (-1);
}

/*
 * parts_commit(ps, n, r):
 * Commit every row of ${ps}, in order, then revoke, in reverse order.
 */
void
parts_commit(struct part **ps, size_t n, struct part_reload *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ps[i]->ops->commit != NULL)
			ps[i]->ops->commit(ps[i], r);
	for (i = n; i-- > 0;)
		if (ps[i]->ops->revoke != NULL)
			ps[i]->ops->revoke(ps[i], r);
}

/*
 * parts_expire(ps, n):
 * Every row's expire; return the sum.
 */
unsigned
parts_expire(struct part **ps, size_t n)
{
	unsigned ended = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (ps[i]->ops->expire != NULL)
			ended += ps[i]->ops->expire(ps[i]);
	return (ended);
}

/*
 * parts_stop(ps, n):
 * Every row stops accepting, in order.
 */
void
parts_stop(struct part **ps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ps[i]->ops->stop != NULL)
			ps[i]->ops->stop(ps[i]);
}

/*
 * parts_live(ps, n):
 * The live objects of every row.
 */
unsigned
parts_live(struct part *const *ps, size_t n)
{
	unsigned live = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (ps[i] != NULL && ps[i]->ops->live != NULL)
			live += ps[i]->ops->live(ps[i]);
	return (live);
}

/*
 * parts_free(ps, n):
 * Free every row of ${ps} (NULL ones are skipped), in reverse order, and
 * set it to NULL.
 */
void
parts_free(struct part **ps, size_t n)
{
	size_t i;

	for (i = n; i-- > 0;) {
		if (ps[i] == NULL)
			continue;
		if (ps[i]->ops->free != NULL)
			ps[i]->ops->free(ps[i]);
		free(ps[i]);
		ps[i] = NULL;
	}
}
