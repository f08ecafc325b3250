/*
 * check_epool: the pool of ephemeral key pairs fills in idle iterations
 * of a real loop, one pair each, up to EPOOL_SIZE; takes empty it and
 * restart the filling; every pair is a valid X25519 pair, handed out once.
 * The pure stack under it: never the same pair twice (across refills),
 * a taken slot and the whole stack wiped to zero.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "epool.h"
#include "fixture.h"

/* Run ${n} non-blocking iterations of ${loop}. */
static void
spin(struct ev_loop *loop, int n)
{

	while (n-- > 0)
		ev_run(loop, EVRUN_NOWAIT);
}

/* Is ${p} (${n} bytes) all zero? */
static int
zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return (0);
	return (1);
}

/*
 * The stack alone: 4 * EPOOL_SIZE pairs taken in uneven batches (full,
 * half, one at a time, refilled in between) are all different and each a
 * valid pair; a taken slot is wiped at once; a full stack makes nothing;
 * epool_stack_wipe leaves all zero.
 */
START_TEST(test_stack_once)
{
	enum { N = 4 * EPOOL_SIZE };
	static const unsigned batch[] = {EPOOL_SIZE, EPOOL_SIZE / 2, 1, 3};
	struct epool_stack s;
	uint8_t e[32], pub[32], want[32], seen_e[N][32], seen_pub[N][32];
	unsigned got = 0, b = 0, i, j, k;

	ck_assert_int_eq(crypto_init(), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(epool_stack_take(&s, e, pub), -1);
	while (got < N) {
		/* Top up to full; a full stack makes nothing more. */
		while (s.n < EPOOL_SIZE)
			ck_assert_int_eq(epool_stack_fill(&s), 0);
		ck_assert_int_eq(epool_stack_fill(&s), 1);
		ck_assert_uint_eq(s.n, EPOOL_SIZE);
		for (k = 0; k < batch[b % 4] && got < N; k++) {
			ck_assert_int_eq(epool_stack_take(&s, e, pub), 0);
			/* The slot it came from is zero at once. */
			ck_assert(zero(&s.pair[s.n], sizeof(s.pair[s.n])));
			ck_assert_int_eq(crypto_x25519_pub(want, e), 0);
			ck_assert_mem_eq(pub, want, 32);
			for (j = 0; j < got; j++) {
				ck_assert(memcmp(seen_e[j], e, 32) != 0);
				ck_assert(memcmp(seen_pub[j], pub, 32) != 0);
			}
			memcpy(seen_e[got], e, 32);
			memcpy(seen_pub[got], pub, 32);
			got++;
		}
		b++;
	}
	/* Every slot at or above n is zero; below it, pairs. */
	for (i = s.n; i < EPOOL_SIZE; i++)
		ck_assert(zero(&s.pair[i], sizeof(s.pair[i])));
	ck_assert(s.n > 0 && !zero(&s.pair[0], sizeof(s.pair[0])));
	epool_stack_wipe(&s);
	ck_assert(zero(&s, sizeof(s)));
	ck_assert_int_eq(epool_stack_take(&s, e, pub), -1);
}
END_TEST

START_TEST(test_fill_take)
{
	struct ev_loop *loop;
	struct epool *p;
	uint8_t e[32], pub[32], want[32], seen[EPOOL_SIZE][32];
	int i, j;

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_ptr_nonnull(loop = ev_loop_new(EVFLAG_AUTO));
	ck_assert_ptr_nonnull(p = epool_new(loop));
	ck_assert_int_eq(epool_take(NULL, e, pub), -1);

	/* One pair per idle iteration, at most EPOOL_SIZE. */
	spin(loop, 1);
	ck_assert_int_eq(epool_take(p, e, pub), 0);
	ck_assert_int_eq(epool_take(p, e, pub), -1);
	spin(loop, 3 * EPOOL_SIZE);
	for (i = 0; i < EPOOL_SIZE; i++) {
		ck_assert_int_eq(epool_take(p, e, pub), 0);
		ck_assert_int_eq(crypto_x25519_pub(want, e), 0);
		ck_assert_mem_eq(pub, want, 32);
		for (j = 0; j < i; j++)
			ck_assert(memcmp(seen[j], pub, 32) != 0);
		memcpy(seen[i], pub, 32);
	}
	ck_assert_int_eq(epool_take(p, e, pub), -1);

	/* Emptied: the next idle iterations fill it again. */
	spin(loop, 2);
	ck_assert_int_eq(epool_take(p, e, pub), 0);
	epool_free(p);
	epool_free(NULL);
	ev_loop_destroy(loop);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("epool");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_stack_once);
	tcase_add_test(tc, test_fill_take);
	suite_add_tcase(s, tc);
	return (fixture_main(s));
}
