/*
 * epool: X25519 ephemeral key pairs made ahead of time, in the loop's
 * idle iterations, so a handshake does not make its own on the critical
 * path (issue 13).  A small bounded pool: at most EPOOL_SIZE pairs, one
 * made per idle iteration, none once full.  Never decides anything about
 * a connection; a pair is handed out once and wiped from the pool.
 *
 * The pairs themselves live in a struct epool_stack (no loop, no clock:
 * the part the unit tests drive alone); struct epool puts one on a loop.
 */
#ifndef SALLYPORT_EPOOL_H
#define SALLYPORT_EPOOL_H

#include <stdint.h>

#include <ev.h>

#define EPOOL_SIZE 16

/* Pairs ready to hand out: pair[0..n); every other slot is all zero. */
struct epool_stack {
	unsigned n;
	struct {
		uint8_t e[32], pub[32];
	} pair[EPOOL_SIZE];
};

struct epool;

/*
 * epool_stack_fill(s):
 * Make one pair into ${s}.  Return 0, 1 if ${s} is already full (nothing
 * made), or -1 if the RNG failed (${s} unchanged).
 */
int epool_stack_fill(struct epool_stack *s);

/*
 * epool_stack_take(s, e, e_pub):
 * Move the newest pair of ${s} into ${e}, ${e_pub} and wipe its slot, so
 * no pair is ever handed out twice.  Return 0, or -1 if ${s} is empty.
 */
int epool_stack_take(struct epool_stack *s, uint8_t e[32],
    uint8_t e_pub[32]);

/*
 * epool_stack_wipe(s):
 * Wipe every pair of ${s}; it is empty afterwards.
 */
void epool_stack_wipe(struct epool_stack *s);

/*
 * epool_new(loop):
 * A pool on ${loop} (borrowed), filled in idle iterations from now on.
 * NULL on ENOMEM.
 */
struct epool *epool_new(struct ev_loop *loop);

/*
 * epool_free(p):
 * Stop filling ${p}, wipe and free it; NULL does nothing.
 */
void epool_free(struct epool *p);

/*
 * epool_take(p, e, e_pub):
 * Move one pair out of ${p} (NULL: none) into ${e}, ${e_pub}, and have
 * the pool refilled when the loop is idle.  Return 0, or -1 if it is
 * empty (the handshake then makes its own).
 */
int epool_take(struct epool *p, uint8_t e[32], uint8_t e_pub[32]);

#endif
