/*
 * check_metrics: the registry and its Prometheus text; the readiness
 * list.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "fixture.h"
#include "metrics.h"
#include "ready.h"
#include "ticket.h"

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

/*
 * Give ${n} new label sets to sallyport_reloads_total: updates, or
 * handles only (${resolve}).
 */
static void
fill(int n, int resolve)
{
	char name[16];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		if (resolve)
			(void)metrics_series(METRICS_RELOADS, name, NULL, NULL);
		else
			metrics_add(METRICS_RELOADS, 1, name, NULL, NULL);
	}
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
	char *t;

	metrics_add(METRICS_RELOADS, 1, "a\"b\\c\nd", NULL, NULL);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "{status=\"a\\\"b\\\\c?d\"} 1\n"));
	free(t);
	fill(METRICS_SERIES_MAX + 5, 0);
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) > 0);
}
END_TEST

START_TEST(test_histogram)
{
	struct metrics_series *h;
	char *t;

	h = metrics_series(METRICS_HANDSHAKE_SECONDS, "inlet", NULL, NULL);
	metrics_observe(h, 0.003);
	metrics_observe(h, 0.2);
	metrics_observe(h, 60);
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

/* The events of a node's life, through the label lookup or handles. */
static void
events_by_labels(void)
{

	metrics_add(METRICS_HANDSHAKE_FAILURES, 1, "relay", "evicted", NULL);
	metrics_add(METRICS_CONN_OPENED, 1, "outlet", "db", NULL);
	metrics_add(METRICS_CONN_ACTIVE, 1, "outlet", NULL, NULL);
	metrics_add(METRICS_REFUSED, 1, "node", "max-handshakes", NULL);
	metrics_add(METRICS_CONN_OPENED, 1, "inlet", "web", NULL);
	metrics_add(METRICS_CONN_ACTIVE, -1, "outlet", NULL, NULL);
	metrics_add(METRICS_CONN_CLOSED, 1, "outlet", "eof", NULL);
	metrics_add(METRICS_HANDSHAKE_FAILURES, 1, "-", "EDECRYPT", NULL);
	metrics_add(METRICS_HANDSHAKE_FAILURES, 1, "relay", "evicted", NULL);
}

static void
events_by_handles(void)
{
	struct metrics_series *ev, *op, *ac, *rf, *in, *cl, *dc;

	/* Resolved up front, in another order than they are used. */
	dc = metrics_series(METRICS_HANDSHAKE_FAILURES, "-", "EDECRYPT",
	    NULL);
	cl = metrics_series(METRICS_CONN_CLOSED, "outlet", "eof", NULL);
	in = metrics_series(METRICS_CONN_OPENED, "inlet", "web", NULL);
	rf = metrics_series(METRICS_REFUSED, "node", "max-handshakes", NULL);
	ac = metrics_series(METRICS_CONN_ACTIVE, "outlet", NULL, NULL);
	op = metrics_series(METRICS_CONN_OPENED, "outlet", "db", NULL);
	ev = metrics_series(METRICS_HANDSHAKE_FAILURES, "relay", "evicted",
	    NULL);
	metrics_inc(ev, 1);
	metrics_inc(op, 1);
	metrics_inc(ac, 1);
	metrics_inc(rf, 1);
	metrics_inc(in, 1);
	metrics_inc(ac, -1);
	metrics_inc(cl, 1);
	metrics_inc(dc, 1);
	metrics_inc(ev, 1);
}

/* The same events write the same text, byte for byte, either way. */
START_TEST(test_handles_same_text)
{
	char *a, *b, *c;

	c = text();
	events_by_labels();
	a = text();
	metrics_clear();
	b = text();
	ck_assert_str_eq(b, c); /* cleared: as if nothing happened */
	free(b);
	events_by_handles();
	b = text();
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* A handle resolved but never used writes nothing. */
START_TEST(test_handle_hidden)
{
	char *a, *b;

	a = text();
	(void)metrics_series(METRICS_CONN_OPENED, "inlet", "web", NULL);
	(void)metrics_series(METRICS_HANDSHAKE_SECONDS, "inlet", NULL, NULL);
	b = text();
	ck_assert_str_eq(a, b);
	ck_assert(metrics_get(METRICS_CONN_OPENED, "inlet", "web", NULL) == 0);
	free(a);
	free(b);
}
END_TEST

/*
 * Handles kept across metrics_reset() and metrics_clear() (a reload, a
 * role rebuilt) stay valid: they count again from zero, once per event,
 * under their own labels, even when the family's other slots are taken
 * by new label sets meanwhile (run under ASan for the "valid" part).
 */
START_TEST(test_handle_reset)
{
	struct metrics_series *h, *s;
	char *t;

	h = metrics_series(METRICS_RELOADS, "ok", NULL, NULL);
	s = metrics_series(METRICS_HANDSHAKE_SECONDS, "outlet", NULL, NULL);
	metrics_inc(h, 1);
	metrics_inc(h, 1);
	metrics_observe(s, 0.003);
	ck_assert(metrics_get(METRICS_RELOADS, "ok", NULL, NULL) == 2);
	metrics_reset(METRICS_RELOADS);
	ck_assert(metrics_get(METRICS_RELOADS, "ok", NULL, NULL) == 0);
	t = text();
	ck_assert_ptr_null(strstr(t, "status=\"ok\""));
	free(t);
	/* Every other slot taken by label sets made after the reset. */
	fill(METRICS_SERIES_MAX + 5, 0);
	metrics_inc(h, 1);
	ck_assert(metrics_get(METRICS_RELOADS, "ok", NULL, NULL) == 1);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "sallyport_reloads_total{"
	    "status=\"ok\"} 1\n"));
	free(t);
	/* A reset of the others frees their slots, never the held one. */
	metrics_reset(METRICS_RELOADS);
	metrics_add(METRICS_RELOADS, 5, "failed", NULL, NULL);
	metrics_inc(h, 1);
	ck_assert(metrics_get(METRICS_RELOADS, "ok", NULL, NULL) == 1);
	ck_assert(metrics_get(METRICS_RELOADS, "failed", NULL, NULL) == 5);
	metrics_clear();
	ck_assert(metrics_get(METRICS_HANDSHAKE_SECONDS, "outlet", NULL,
	    NULL) == 0);
	metrics_observe(s, 0.2);
	metrics_inc(h, 1);
	ck_assert(metrics_get(METRICS_HANDSHAKE_SECONDS, "outlet", NULL,
	    NULL) == 1);
	ck_assert(metrics_get(METRICS_RELOADS, "ok", NULL, NULL) == 1);
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "bucket{role=\"outlet\",le=\"0.005\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_handshake_duration_seconds_"
	    "count{role=\"outlet\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "sallyport_reloads_total{"
	    "status=\"ok\"} 1\n"));
	free(t);
	/* The same labels resolve to the same handle. */
	ck_assert_ptr_eq(metrics_series(METRICS_RELOADS, "ok", NULL, NULL), h);
}
END_TEST

/* A full family's handle counts each update as a dropped one. */
START_TEST(test_handle_full)
{
	struct metrics_series *h;

	fill(METRICS_SERIES_MAX, 1);
	h = metrics_series(METRICS_RELOADS, "one-too-many", NULL, NULL);
	ck_assert_ptr_nonnull(h);
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) == 0);
	metrics_inc(h, 1);
	metrics_inc(h, 1);
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) == 2);
	ck_assert(metrics_get(METRICS_RELOADS, "one-too-many", NULL, NULL) ==
	    0);
}
END_TEST

/*
 * Audit decisions count through handles env.c caches by the addresses of
 * their role and reason: once per decision, across a metrics_clear(),
 * and a refusal's reason is one text of static storage per code.
 */
START_TEST(test_decisions)
{
	static struct env e; /* no configuration: no peer, no limit */
	const char *r;

	env_audit(&e, 0, "not-allowed", NULL, "db", "outlet");
	env_audit(&e, 0, "not-allowed", NULL, "db", "outlet");
	env_audit(&e, 1, "allowed", NULL, "db", "outlet");
	ck_assert(metrics_get(METRICS_ACCESS_DECISIONS, "outlet", "deny",
	    "not-allowed") == 2);
	metrics_clear();
	env_audit(&e, 0, "not-allowed", NULL, "db", "outlet");
	ck_assert(metrics_get(METRICS_ACCESS_DECISIONS, "outlet", "deny",
	    "not-allowed") == 1);
	ck_assert(metrics_get(METRICS_ACCESS_DECISIONS, "outlet", "allow",
	    "allowed") == 0);
	r = env_refusal_reason(0, CHANNEL_REFUSAL_NOT_ALLOWED);
	ck_assert_str_eq(r, "relay-not-allowed");
	ck_assert_ptr_eq(env_refusal_reason(0, CHANNEL_REFUSAL_NOT_ALLOWED),
	    r);
	ck_assert_str_eq(env_refusal_reason(1, CHANNEL_REFUSAL_NO_REGISTRANT),
	    "remote-no-registrant");
	ck_assert_str_eq(env_refusal_reason(1, 200), "remote-refused");
	env_audit(&e, 0, r, NULL, "db", "inlet");
	ck_assert(metrics_get(METRICS_ACCESS_DECISIONS, "inlet", "deny",
	    "relay-not-allowed") == 1);
}
END_TEST

/*
 * The decisions a stranger can reach are resolved once, up front
 * (env_audit_init: hidden until counted), so that its deny makes no
 * series; a reason is known by its text, whatever buffer holds it.
 */
START_TEST(test_decisions_stranger)
{
	static struct env e;
	static const char copy[] = "not-allowed";
	char *t;

	env_audit_init();
	t = text();
	ck_assert_ptr_null(strstr(t, "sallyport_access_decisions_total{"));
	free(t);
	env_audit(&e, 0, copy, NULL, "db", "relay");
	env_audit(&e, 0, ticket_strerror(-TICKET_EREPLAY), NULL, "", "relay");
	env_audit(&e, 0, acl_problem_name(0), NULL, "db", "outlet");
	t = text();
	ck_assert_ptr_nonnull(strstr(t, "sallyport_access_decisions_total{"
	    "role=\"relay\",decision=\"deny\",reason=\"not-allowed\"} 1\n"
	    "sallyport_access_decisions_total{role=\"relay\",decision="
	    "\"deny\",reason=\"replay\"} 1\n"
	    "sallyport_access_decisions_total{role=\"outlet\",decision="
	    "\"deny\",reason=\"credential-untrusted\"} 1\n"));
	free(t);
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) == 0);
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
	tc = tcase_create("handles");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_handles_same_text);
	tcase_add_test(tc, test_handle_hidden);
	tcase_add_test(tc, test_handle_reset);
	tcase_add_test(tc, test_handle_full);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_decisions_stranger);
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
