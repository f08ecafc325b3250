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
	unsigned n;           /* pairs ready: pair[0..n) */
	struct {
		uint8_t e[32], pub[32];
	} pair[EPOOL_SIZE];
};

/*
 * One idle iteration: make one pair (one X25519, about 50 us), so the
 * loop never spends longer here before it looks at its sockets again;
 * stop when full.  A failed RNG leaves the pool as it is, and handshakes
 * make their own (failing there as they would anyway).
 */
static void
epool_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct epool *p = w->data;

	(void)revents;
	if (p->n < EPOOL_SIZE &&
	    crypto_x25519_keypair(p->pair[p->n].e, p->pair[p->n].pub) == 0)
		p->n++;
	else if (p->n < EPOOL_SIZE)
		ev_idle_stop(loop, w); /* no randomness: try after a take */
	if (p->n == EPOOL_SIZE)
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
	int rc = -1;

	if (p == NULL)
		return (-1);
	if (p->n > 0) {
		p->n--;
		memcpy(e, p->pair[p->n].e, 32);
		memcpy(e_pub, p->pair[p->n].pub, 32);
		wipe(&p->pair[p->n], sizeof(p->pair[p->n]));
		rc = 0;
	}
	if (!ev_is_active(&p->idle))
		ev_idle_start(p->loop, &p->idle);
	return (rc);
}
