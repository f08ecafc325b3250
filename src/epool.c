/*
 * epool: ephemeral key pairs made in idle iterations.  See epool.h.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "epool.h"

struct epool {
	struct ev_loop *loop; /* borrowed */
	ev_idle idle;         /* active while the pool is not full */
	struct epool_stack s;
};

/*
 * epool_stack_fill(s):
 * Make one pair into ${s}.  Return 0, 1 if full, or -1 if the RNG failed.
 */
int
epool_stack_fill(struct epool_stack *s)
{

	if (s->n >= EPOOL_SIZE)
		return (1);
	if (crypto_x25519_keypair(s->pair[s->n].e, s->pair[s->n].pub) != 0) {
		wipe(&s->pair[s->n], sizeof(s->pair[s->n]));
		return (-1);
	}
	s->n++;
	return (0);
}

/*
 * epool_stack_take(s, e, e_pub):
 * Move the newest pair of ${s} out and wipe its slot.  Return 0 or -1.
 */
int
epool_stack_take(struct epool_stack *s, uint8_t e[32], uint8_t e_pub[32])
{

	if (s->n == 0)
		return (-1);
	s->n--;
	memcpy(e, s->pair[s->n].e, 32);
	memcpy(e_pub, s->pair[s->n].pub, 32);
	wipe(&s->pair[s->n], sizeof(s->pair[s->n]));
	return (0);
}

/*
 * epool_stack_wipe(s):
 * Wipe every pair of ${s}.
 */
void
epool_stack_wipe(struct epool_stack *s)
{

	wipe(s, sizeof(*s));
}

/*
 * One idle iteration: make one pair (one X25519), so the loop never
 * spends longer here before it looks at its sockets again; stop when
 * full.  A failed RNG stops the filling until the next take, and
 * handshakes make their own (failing there as they would anyway).
 */
static void
epool_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct epool *p = w->data;

	(void)revents;
	if (epool_stack_fill(&p->s) != 0 || p->s.n == EPOOL_SIZE)
		ev_idle_stop(loop, w);
}

/*
 * epool_new(loop):
 * A pool on ${loop} (borrowed), filled in idle iterations from now on.
 * NULL on ENOMEM.
 */
struct epool *
epool_new(struct ev_loop *loop)
{
	struct epool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->loop = loop;
	ev_idle_init(&p->idle, epool_idle_cb);
	p->idle.data = p;
	ev_idle_start(loop, &p->idle);
	return (p);
}

/*
 * epool_free(p):
 * Stop filling ${p}, wipe and free it; NULL does nothing.
 */
void
epool_free(struct epool *p)
{

	if (p == NULL)
		return;
	ev_idle_stop(p->loop, &p->idle);
	epool_stack_wipe(&p->s);
	wipe(p, sizeof(*p));
	free(p);
}

/*
 * epool_take(p, e, e_pub):
 * Move one pair out of ${p} (NULL: none) into ${e}, ${e_pub}, and have
 * the pool refilled when the loop is idle.  Return 0, or -1 if empty.
 */
int
epool_take(struct epool *p, uint8_t e[32], uint8_t e_pub[32])
{
	int rc;

	if (p == NULL)
		return (-1);
	rc = epool_stack_take(&p->s, e, e_pub);
	if (!ev_is_active(&p->idle))
		ev_idle_start(p->loop, &p->idle);
	return (rc);
}
