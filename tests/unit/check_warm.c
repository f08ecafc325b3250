/*
 * check_warm: the warm-channel pool's counting and pacing (warm.c):
 * filling up to its size and never past it, taking, one probe at a time
 * with a doubling backoff while the outlet fails, channels lost young
 * counting as failures, shrinking at a reload.
 */
#include <check.h>

#include "fixture.h"
#include "warm.h"

/* Start every attempt warm_due allows at ${now}; return how many. */
static unsigned
start_due(struct warm_pool *p, double now)
{
	unsigned i, n = warm_due(p, now);

	for (i = 0; i < n; i++)
		warm_started(p);
	return (n);
}

/* A pool of ${want} with every attempt started and ${made} of them made. */
static void
filled(struct warm_pool *p, unsigned want, unsigned made)
{
	unsigned i;

	warm_init(p, want);
	ck_assert_uint_eq(start_due(p, 0), want);
	for (i = 0; i < made; i++)
		ck_assert_int_eq(warm_made(p), 0);
}

/* Fills to its size with every attempt at once, then asks for nothing. */
START_TEST(test_fill)
{
	struct warm_pool p;

	warm_init(&p, 2);
	ck_assert_uint_eq(warm_due(&p, 0), 2);
	ck_assert_double_eq(warm_wait(&p, 0), 0);
	ck_assert_uint_eq(start_due(&p, 0), 2);
	ck_assert_uint_eq(warm_due(&p, 0), 0); /* two in flight */
	ck_assert_double_eq(warm_wait(&p, 0), -1);
	ck_assert_int_eq(warm_made(&p), 0);
	ck_assert_int_eq(warm_made(&p), 0);
	ck_assert_uint_eq(p.ready, 2);
	ck_assert_uint_eq(p.making, 0);
	ck_assert_uint_eq(warm_due(&p, 100), 0); /* full: nothing more */
	ck_assert_double_eq(warm_wait(&p, 100), -1);
}
END_TEST

/* A pool of 0 (off) never starts anything and has nothing to take. */
START_TEST(test_off)
{
	struct warm_pool p;

	warm_init(&p, 0);
	ck_assert_uint_eq(warm_due(&p, 0), 0);
	ck_assert_double_eq(warm_wait(&p, 0), -1);
	ck_assert_int_eq(warm_take(&p), -1);
}
END_TEST

/* A take uses a ready channel and asks for exactly one replacement. */
START_TEST(test_take_refill)
{
	struct warm_pool p;

	filled(&p, 3, 1);
	ck_assert_int_eq(warm_take(&p), 0);
	ck_assert_int_eq(warm_take(&p), -1); /* two still being made */
	ck_assert_uint_eq(warm_due(&p, 0), 1);
	ck_assert_uint_eq(start_due(&p, 0), 1);
	ck_assert_uint_eq(p.ready + p.making, 3);
}
END_TEST

/*
 * A failing outlet: after each failure nothing before the backoff ran
 * out, then exactly one probe; the bound doubles up to its cap; a success
 * ends the backoff and the pool fills at once again.
 */
START_TEST(test_backoff)
{
	struct warm_pool p;
	double now = 0, b = WARM_BACKOFF_MIN;
	unsigned i, attempts = 0;

	warm_init(&p, 4);
	attempts += start_due(&p, now);
	ck_assert_uint_eq(attempts, 4);
	warm_failed(&p, now, 1.0);
	/* Three still in flight: a failure stops new attempts, not them. */
	ck_assert_uint_eq(warm_due(&p, now + 1000), 0);
	warm_failed(&p, now, 1.0);
	warm_failed(&p, now, 1.0);
	warm_failed(&p, now, 1.0);
	ck_assert_uint_eq(p.making, 0);
	for (i = 0; i < 4; i++)
		b = b * 2 > WARM_BACKOFF_MAX ? WARM_BACKOFF_MAX : b * 2;
	ck_assert_double_eq_tol(p.next, now + b / 2, 1e-9); /* draw 1: b */
	for (i = 0; i < 40; i++) {
		now = p.next;
		ck_assert_uint_eq(warm_due(&p, now - 0.001), 0);
		ck_assert_double_eq_tol(warm_wait(&p, now - 0.001), 0.001,
		    1e-9);
		ck_assert_uint_eq(start_due(&p, now), 1); /* one probe */
		ck_assert_uint_eq(warm_due(&p, now + 1000), 0);
		ck_assert_double_eq(warm_wait(&p, now + 1000), -1);
		warm_failed(&p, now, 0.0);
	}
	/* 44 failures: the bound is at its cap, drawn in [cap/2, cap]. */
	ck_assert_double_eq_tol(p.next - now, WARM_BACKOFF_MAX / 2, 1e-9);
	ck_assert_double_eq(p.backoff, WARM_BACKOFF_MAX);
	now = p.next;
	ck_assert_uint_eq(start_due(&p, now), 1);
	ck_assert_int_eq(warm_made(&p), 0);
	/* Made is not proved (the outlet may refuse it at msg3): one at a
	 * time still, and a young loss doubles the backoff again. */
	ck_assert_uint_eq(p.fails, 44);
	ck_assert_uint_eq(warm_due(&p, now), 1);
	warm_proved(&p);
	ck_assert_uint_eq(p.fails, 0);
	ck_assert_uint_eq(warm_due(&p, now), 3); /* the rest at once */
	ck_assert_double_eq(p.backoff, WARM_BACKOFF_MIN);
}
END_TEST

/*
 * Over an hour of an outlet that always fails, the pool makes at most
 * one attempt per half backoff cap once the cap is reached: bounded.
 */
START_TEST(test_no_storm)
{
	struct warm_pool p;
	double now = 0, w;
	unsigned attempts = 0;

	warm_init(&p, WARM_MAX);
	while (now < 3600) {
		attempts += start_due(&p, now);
		while (p.making > 0)
			warm_failed(&p, now, 0.0);
		ck_assert_double_gt((w = warm_wait(&p, now)), 0);
		now += w;
	}
	/* 16 at first, ~9 to reach the cap, then one per 15 s. */
	ck_assert_uint_le(attempts, WARM_MAX + 10 + 3600 / 15);
}
END_TEST

/*
 * An outlet that closes every warm channel right after it is made fails
 * as a refused one does: a backoff, one at a time; one that lived past
 * WARM_MIN_LIFE is replaced at once.
 */
START_TEST(test_lost)
{
	struct warm_pool p;

	filled(&p, 2, 2);
	warm_lost(&p, WARM_MIN_LIFE + 60, 100, 0.5); /* an old one */
	ck_assert_uint_eq(p.fails, 0);
	ck_assert_uint_eq(warm_due(&p, 100), 1);
	warm_lost(&p, WARM_MIN_LIFE / 2, 100, 1.0); /* a young one */
	ck_assert_uint_eq(p.fails, 1);
	ck_assert_uint_eq(p.ready, 0);
	ck_assert_uint_eq(warm_due(&p, 100), 0);
	ck_assert_double_eq_tol(warm_wait(&p, 100), WARM_BACKOFF_MIN, 1e-9);
	ck_assert_uint_eq(warm_due(&p, 100 + WARM_BACKOFF_MIN), 1);
}
END_TEST

/*
 * An outlet that refuses every channel at msg3: the initiator is
 * established (made) before the refusal, then loses it young.  Being made
 * must not end the failures: over a minute the attempts stay a handful
 * per doubling, not one per WARM_BACKOFF_MIN.
 */
START_TEST(test_refused_after_made)
{
	struct warm_pool p;
	double now = 0, w;
	unsigned attempts = 0;

	warm_init(&p, 2);
	while (now < 60) {
		attempts += start_due(&p, now);
		while (p.making > 0)
			ck_assert_int_eq(warm_made(&p), 0);
		while (p.ready > 0)
			warm_lost(&p, 0.001, now, 0.0);
		ck_assert_double_gt((w = warm_wait(&p, now)), 0);
		now += w;
	}
	/* 0.05 s, 0.1 s, ... half of each doubling bound: 10 to 60 s. */
	ck_assert_uint_le(attempts, 14);
	ck_assert_uint_ge(p.fails, 10);
}
END_TEST

/*
 * A reload: closing on purpose is no failure; a smaller size tells how
 * many ready ones to close, and one made meanwhile is not kept.
 */
START_TEST(test_resize)
{
	struct warm_pool p;

	filled(&p, 3, 2);
	warm_closed(&p);
	ck_assert_uint_eq(p.fails, 0);
	ck_assert_int_eq(warm_made(&p), 0);
	ck_assert_uint_eq(p.ready, 2);
	ck_assert_uint_eq(warm_resize(&p, 1), 1);
	warm_closed(&p);
	ck_assert_uint_eq(warm_due(&p, 0), 0);
	ck_assert_uint_eq(warm_resize(&p, 0), 1);
	warm_closed(&p);
	ck_assert_uint_eq(p.ready, 0);
	ck_assert_uint_eq(warm_resize(&p, 2), 0);
	ck_assert_uint_eq(start_due(&p, 0), 2);
	ck_assert_uint_eq(warm_resize(&p, 1), 0);
	ck_assert_int_eq(warm_made(&p), 0);
	ck_assert_int_eq(warm_made(&p), -1); /* over the new size */
	ck_assert_uint_eq(p.ready, 1);
	ck_assert_uint_eq(p.making, 0);
}
END_TEST

static Suite *
warm_suite(void)
{
	Suite *s = suite_create("warm");
	TCase *tc;

	tc = tcase_create("pool");
	tcase_add_test(tc, test_fill);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_take_refill);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_refused_after_made);
	tcase_add_test(tc, test_no_storm);
	tcase_add_test(tc, test_lost);
	tcase_add_test(tc, test_resize);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(warm_suite()));
}
