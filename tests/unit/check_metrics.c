/*
 * check_metrics: the registry and its Prometheus text; the readiness
 * list.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "metrics.h"
#include "ready.h"

static void
setup(void)
{

	metrics_clear();
}

/* The whole text, malloc'ed. */
static char *
text(void)
{
	size_t need = metrics_text(NULL, 0);
	char *t = malloc(need + 1);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(metrics_text(t, need + 1), need);
	ck_assert_uint_eq(strlen(t), need);
	return (t);
}

START_TEST(test_counter)
{
	char *t;

	metrics_add(METRICS_CONN_CLOSED, 1, "inlet", "eof", NULL);
	metrics_add(METRICS_CONN_CLOSED, 2, "inlet", "eof", NULL);
	metrics_add(METRICS_CONN_CLOSED, 1, "outlet", "reset", NULL);
	ck_assert(metrics_get(METRICS_CONN_CLOSED, "inlet", "eof", NULL) == 3);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "# TYPE sallyport_connections_closed_"
	    "total counter\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_connections_closed_total{"
	    "role=\"inlet\",reason=\"eof\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_connections_closed_total{"
	    "role=\"outlet\",reason=\"reset\"} 1\n"));
	/* A family without labels always shows its one series. */
	ck_assert_ptr_nonnull(strstr(t, "\nsallyport_relay_pairs 0\n"));
	free(t);
}
END_TEST

START_TEST(test_escape_and_bounds)
{
	char *t, name[16];
	int i;

	metrics_add(METRICS_RELOADS, 1, "a\"b\\c\nd", NULL, NULL);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "{status=\"a\\\"b\\\\c?d\"} 1\n"));
	free(t);
	for (i = 0; i < METRICS_SERIES_MAX + 5; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		metrics_add(METRICS_RELOADS, 1, name, NULL, NULL);
	}
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) > 0);
}
END_TEST

START_TEST(test_histogram)
{
	char *t;

	metrics_observe(METRICS_HANDSHAKE_SECONDS, 0.003, "inlet");
	metrics_observe(METRICS_HANDSHAKE_SECONDS, 0.2, "inlet");
	metrics_observe(METRICS_HANDSHAKE_SECONDS, 60, "inlet");
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "bucket{role=\"inlet\",le=\"0.001\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "bucket{role=\"inlet\",le=\"0.005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "bucket{role=\"inlet\",le=\"10\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "bucket{role=\"inlet\",le=\"+Inf\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "count{role=\"inlet\"} 3\n"));
	free(t);
}
END_TEST

static int gauge_runs;

static void
collect(void *arg)
{

	gauge_runs++;
	metrics_set(METRICS_RELAY_PAIRS, *(int *)arg, NULL, NULL, NULL);
}

START_TEST(test_collector)
{
	struct metrics_collector c;
	int pairs = 7;
	char *t;

	metrics_collector_add(&c, collect, &pairs);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "\nsallyport_relay_pairs 7\n"));
	free(t);
	ck_assert_int_gt(gauge_runs, 0);
	metrics_collector_remove(&c);
	gauge_runs = 0;
	free(text());
	ck_assert_int_eq(gauge_runs, 0);
}
END_TEST

START_TEST(test_truncated)
{
	char small[10];
	size_t need = metrics_text(NULL, 0);

	ck_assert_uint_eq(metrics_text(small, sizeof(small)), need);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

static int
is_one(const void *arg)
{

	return (*(const int *)arg);
}

START_TEST(test_ready)
{
	struct ready_item a, b;
	int up_a = 0, up_b = 1;
	char buf[256];

	struct ready_item *head = NULL;

	ready_add(&head, &a, "outlet", "db", "not registered", is_one, &up_a);
	ready_add(&head, &b, "inlet", "web", "no relay session", is_one,
	    &up_b);
	ck_assert_uint_eq(ready_missing(head, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "outlet db: not registered\n");
	up_b = 0;
	ck_assert_uint_eq(ready_missing(head, buf, sizeof(buf)), 2);
	ready_remove(&a);
	ready_remove(&a);
	ck_assert_uint_eq(ready_missing(head, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "inlet web: no relay session\n");
	ready_remove(&b);
	ck_assert_ptr_null(head);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc;

	tc = tcase_create("text");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_counter);
	tcase_add_test(tc, test_escape_and_bounds);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_collector);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	tc = tcase_create("ready");
	tcase_add_test(tc, test_ready);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(metrics_suite()));
}
