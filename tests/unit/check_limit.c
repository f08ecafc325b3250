/*
 * check_limit: the limits per peer and per service (limit.c) on a fake
 * clock: the token bucket, the cap of live connections, the bounded
 * table and its eviction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "fixture.h"
#include "limit.h"

static uint8_t ida[CONFIG_ID_LEN], idb[CONFIG_ID_LEN];
static struct limit_table t; /* each table test's, 16 entries */
static struct limit_entry *e; /* the entry of the last admit() */

static void
setup(void)
{

	memset(ida, 0xa5, sizeof(ida));
	memset(idb, 0xa5, sizeof(idb));
	idb[CONFIG_ID_LEN - 1] ^= 1; /* same first bytes, another peer */
	limit_table_init(&t, 16);
}

static void
teardown(void)
{

	limit_table_fini(&t);
}

/* limit_admit() on the test's table; the entry goes to ${e}. */
static enum limit_kind
admit(const uint8_t *id, const char *name, const struct config_limits *lim,
    double now)
{

	return (limit_admit(&t, id, name, lim, now, &e));
}

/* The connection of ${id} to ${name} ends (by its entry's slot). */
static void
release(const uint8_t *id, const char *name)
{
	struct limit_entry *x = limit_find(&t, id, name);

	if (x != NULL)
		limit_release(&t, limit_slot(&t, x));
}

/* The identifier of the test peer number ${i} (a static buffer). */
static const uint8_t *
peer(unsigned i)
{
	static uint8_t id[CONFIG_ID_LEN];

	id[0] = (uint8_t)i;
	id[1] = (uint8_t)(i >> 8);
	return (id);
}

/* ${n} connections of ${id} to ${name} at ${now}, each admitted. */
static void
admit_n(const uint8_t *id, const char *name,
    const struct config_limits *lim, double now, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(admit(id, name, lim, now), LIMIT_OK);
}

/* A full bucket gives its burst at once, then one token per 1/rate s. */
START_TEST(test_bucket_burst_then_rate)
{
	struct limit_bucket b;
	int i;

	limit_bucket_fill(&b, 3., 100.);
	for (i = 0; i < 3; i++)
		ck_assert(limit_bucket_take(&b, 2., 3., 100.));
	ck_assert(!limit_bucket_take(&b, 2., 3., 100.));
	ck_assert(!limit_bucket_take(&b, 2., 3., 100.4)); /* 0.8 token */
	ck_assert(limit_bucket_take(&b, 2., 3., 100.5));  /* 1 token */
	ck_assert(!limit_bucket_take(&b, 2., 3., 100.5));
	/* A long pause refills up to the burst, never more. */
	for (i = 0; i < 3; i++)
		ck_assert(limit_bucket_take(&b, 2., 3., 1000.));
	ck_assert(!limit_bucket_take(&b, 2., 3., 1000.));
}
END_TEST

/* A clock that goes back adds nothing and takes nothing away. */
START_TEST(test_bucket_clock_back)
{
	struct limit_bucket b;

	limit_bucket_fill(&b, 1., 50.);
	ck_assert(limit_bucket_take(&b, 1., 1., 50.));
	ck_assert(!limit_bucket_take(&b, 1., 1., 10.)); /* back 40 s */
	ck_assert(!limit_bucket_take(&b, 1., 1., 10.5));
	ck_assert(limit_bucket_take(&b, 1., 1., 11.));
}
END_TEST

/* Shaping: a read may overdraw; the wait pays the debt back first. */
START_TEST(test_bucket_spend)
{
	struct limit_bucket b;

	limit_bucket_fill(&b, 100., 0.);
	ck_assert(limit_bucket_wait(&b, 100., 100., 0.) == 0.);
	limit_bucket_spend(&b, 100., 100., 150., 0.);
	ck_assert_double_eq_tol(limit_bucket_wait(&b, 100., 100., 0.), 0.51,
	    1e-9);
	ck_assert_double_eq_tol(limit_bucket_wait(&b, 100., 100., 0.5), 0.01,
	    1e-9);
	ck_assert(limit_bucket_wait(&b, 100., 100., 0.51) == 0.);
	/* Never more than the burst after a long pause. */
	ck_assert(limit_bucket_wait(&b, 100., 100., 60.) == 0.);
	ck_assert_double_eq_tol(b.tokens, 100., 1e-9);
}
END_TEST

/* Over a long run the rate is the configured one: 10/s for 100 s. */
START_TEST(test_bucket_long_run)
{
	struct limit_bucket b;
	double now;
	int taken = 0;

	limit_bucket_fill(&b, 5., 0.);
	for (now = 0.; now < 100.; now += 0.001)
		taken += limit_bucket_take(&b, 10., 5., now);
	ck_assert_int_ge(taken, 1000);
	ck_assert_int_le(taken, 1006); /* the burst plus 100 s x 10 */
}
END_TEST

/* No limit set: admitted without any state. */
START_TEST(test_unset_admits)
{
	struct config_limits lim = {0, 0, 0, 0, 0};

	admit_n(ida, "db", &lim, 1., 100);
	ck_assert_int_eq(admit(ida, "db", &lim, 1.), LIMIT_OK);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

/* The cap: N live, the next refused; one ends, one more fits. */
START_TEST(test_cap)
{
	struct config_limits lim = {3, 0, 0, 0, 0};

	admit_n(ida, "db", &lim, 1., 3);
	ck_assert_int_eq(admit(ida, "db", &lim, 1.), LIMIT_CONNECTIONS);
	ck_assert_uint_eq(e->live, 3);
	ck_assert_uint_eq(e->refused, 1);
	/* Another peer, and the same peer on another service, are apart. */
	ck_assert_int_eq(admit(idb, "db", &lim, 1.), LIMIT_OK);
	ck_assert_int_eq(admit(ida, "web", &lim, 1.), LIMIT_OK);
	release(ida, "db");
	ck_assert_int_eq(admit(ida, "db", &lim, 1.), LIMIT_OK);
	ck_assert_int_eq(admit(ida, "db", &lim, 1.), LIMIT_CONNECTIONS);
	/* A release of a slot beyond the table changes nothing; one at 0
	 * live stays at 0. */
	limit_release(&t, 1000);
	release(idb, "web");
	release(idb, "web");
	ck_assert_uint_eq(limit_find(&t, idb, "web") == NULL ? 0 :
	    limit_find(&t, idb, "web")->live, 0);
	ck_assert_uint_eq(limit_find(&t, ida, "db")->live, 3);
}
END_TEST

/* The rate: a burst, then refusals, then one more after 1/rate s. */
START_TEST(test_rate)
{
	struct config_limits lim = {0, 4, 2, 0, 0};

	admit_n(ida, "db", &lim, 5., 2);
	ck_assert_int_eq(admit(ida, "db", &lim, 5.), LIMIT_RATE);
	ck_assert_int_eq(admit(idb, "db", &lim, 5.), LIMIT_OK);
	ck_assert_int_eq(admit(ida, "db", &lim, 5.25), LIMIT_OK);
	/* Without max_connections_per_peer, live does not limit. */
	ck_assert_uint_eq(limit_find(&t, ida, "db")->live, 3);
	/* Burst 0: the rate. */
	lim.burst = 0;
	ck_assert_int_eq(admit(ida, "web", &lim, 5.),
	    LIMIT_OK);
	ck_assert_uint_eq((unsigned)e->bucket.tokens, 3);
}
END_TEST

/* A refused connection is not counted live and takes no token. */
START_TEST(test_cap_before_rate)
{
	struct config_limits lim = {1, 1, 1, 0, 0};

	ck_assert_int_eq(admit(ida, "db", &lim, 0.), LIMIT_OK);
	ck_assert_int_eq(admit(ida, "db", &lim, 5.), LIMIT_CONNECTIONS);
	release(ida, "db");
	ck_assert_int_eq(admit(ida, "db", &lim, 5.), LIMIT_OK);
}
END_TEST

/* The table: bounded; idle entries reused, live ones never. */
START_TEST(test_table_bound)
{
	struct config_limits lim = {1, 1, 1, 0, 0};
	unsigned i;

	limit_table_set_cap(&t, 8);
	for (i = 0; i < 8; i++)
		admit_n(peer(i), "db", &lim, 0., 1);
	ck_assert_uint_eq(t.n, 8);
	/* Full of live entries: a new pair does not fit. */
	ck_assert_int_eq(admit(peer(100), "db", &lim, 0.), LIMIT_TABLE);
	ck_assert_ptr_null(e);
	/* Peers 0 and 1 end; neither bucket is full again at 0.5 s: the
	 * least recently used (both at 0: the first) is reused. */
	release(peer(0), "db");
	release(peer(1), "db");
	ck_assert_int_eq(admit(peer(100), "db", &lim, 0.5), LIMIT_OK);
	ck_assert_uint_eq(t.n, 8);
	ck_assert_ptr_null(limit_find(&t, peer(0), "db"));
	ck_assert_ptr_nonnull(limit_find(&t, peer(1), "db"));
	/* Peer 1 is idle at 2 s (its bucket full again): reused. */
	ck_assert_int_eq(admit(peer(101), "db", &lim, 2.), LIMIT_OK);
	ck_assert_ptr_null(limit_find(&t, peer(1), "db"));
	/* Every live count survived. */
	for (i = 2; i < 8; i++)
		ck_assert_uint_eq(limit_find(&t, peer(i), "db")->live, 1);
}
END_TEST

/* Many peers through a small table: it never grows past its cap. */
START_TEST(test_table_churn)
{
	struct config_limits lim = {2, 100, 10, 0, 0};
	unsigned i;

	limit_table_set_cap(&t, 32);
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(admit(peer(i), "db", &lim, i * 0.01),
		    LIMIT_OK);
		release(peer(i), "db");
		ck_assert_uint_le(t.n, 32);
		ck_assert_uint_le(t.alloc, 32);
	}
}
END_TEST

/* The bandwidth share: one per entry, counted, kept by its users. */
START_TEST(test_share)
{
	struct config_limits lim = {0, 0, 0, 0, 0};
	struct limit_share *s1, *s2;

	lim.peer_bytes = 1000;
	ck_assert(limit_is_set(&lim));
	ck_assert_int_eq(admit(ida, "db", &lim, 0.), LIMIT_OK);
	ck_assert_ptr_nonnull(s1 = limit_share_get(e, 1000., 0.));
	ck_assert_int_eq(admit(ida, "db", &lim, 0.), LIMIT_OK);
	ck_assert_ptr_nonnull(s2 = limit_share_get(e, 2000., 0.));
	ck_assert_ptr_eq(s1, s2);
	ck_assert_uint_eq(s1->refs, 3); /* the entry and two users */
	ck_assert(s1->rate == 2000.);   /* the latest configuration */
	ck_assert(s1->b[0].tokens == 1000.);
	/* Another peer has its own. */
	ck_assert_int_eq(admit(idb, "db", &lim, 0.), LIMIT_OK);
	ck_assert_ptr_nonnull(s2 = limit_share_get(e, 1000., 0.));
	ck_assert_ptr_ne(s1, s2);
	limit_share_put(s2);
	/* Both users of a's end: the entry's reference is left. */
	limit_share_put(s1);
	limit_share_put(s1);
	ck_assert_uint_eq(s1->refs, 1);
	limit_share_put(NULL);
}
END_TEST

START_TEST(test_names)
{

	ck_assert_str_eq(limit_kind_name(LIMIT_CONNECTIONS),
	    "peer-connections");
	ck_assert_str_eq(limit_kind_name(LIMIT_RATE), "peer-rate");
	ck_assert_str_eq(limit_kind_name(LIMIT_TABLE), "peer-table");
	ck_assert_str_eq(limit_kind_name((enum limit_kind)99), "none");
}
END_TEST

static Suite *
limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc;

	tc = tcase_create("bucket");
	tcase_add_test(tc, test_bucket_burst_then_rate);
	tcase_add_test(tc, test_bucket_clock_back);
	tcase_add_test(tc, test_bucket_spend);
	tcase_add_test(tc, test_bucket_long_run);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unset_admits);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_cap_before_rate);
	tcase_add_test(tc, test_table_bound);
	tcase_add_test(tc, test_table_churn);
	tcase_add_test(tc, test_share);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(limit_suite()));
}
