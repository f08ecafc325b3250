/*
 * check_epool: the pool of ephemeral key pairs fills in idle iterations
 * of a real loop, one pair each, up to EPOOL_SIZE; takes empty it and
 * restart the filling; every pair is a valid X25519 pair, handed out once.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "epool.h"

/* Run ${n} non-blocking iterations of ${loop}. */
static void
spin(struct ev_loop *loop, int n)
{

	while (n-- > 0)
		ev_run(loop, EVRUN_NOWAIT);
}

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
	SRunner *sr;
	int nfail;

	tcase_add_test(tc, test_fill_take);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
