/*
 * check_ticket: relay tickets and data-connection preambles (version 2:
 * per-connection ids): round trip, tampering, the lookup window, names,
 * layout, unlinkability of two preambles.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "fixture.h"
#include "ticket.h"

#define BUCKETS 64

static struct ticket relay_t, node_t;
static struct ticket_slot *buckets[BUCKETS];
static struct ticket_map map;
static struct ticket_window *win;

/* A relay ticket (expecting cids in ${map}) and the node's copy of it. */
static void
setup(void)
{
	uint8_t key[TICKET_KEY_LEN];

	ck_assert_int_eq(crypto_init(), 0);
	memset(buckets, 0, sizeof(buckets));
	ticket_map_init(&map, buckets, BUCKETS);
	ck_assert_ptr_nonnull(win = malloc(sizeof(*win)));
	ck_assert_int_eq(ticket_make(&relay_t, key), 0);
	ticket_expect(&relay_t, &map, win);
	ticket_init(&node_t, relay_t.id, key);
	wipe(key, sizeof(key));
}

static void
teardown(void)
{

	ticket_fini(&relay_t);
	ticket_fini(&node_t);
	ck_assert_uint_eq(map.n, 0);
	free(win);
}

/* What the relay does: find the ticket by cid, then check. */
static int
check(const uint8_t *pre, uint8_t *type, char *name)
{
	struct ticket *t;
	uint64_t ctr;

	if ((t = ticket_lookup(&map, pre, &ctr)) == NULL)
		return (-100);
	ck_assert_ptr_eq(t, &relay_t);
	return (ticket_preamble_check(t, pre, ctr, type, name));
}

/* A preamble built by the node passes the relay's check, once. */
START_TEST(test_roundtrip)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], type = 0;
	char name[TICKET_NAME_LEN];

	ck_assert_int_eq(TICKET_PREAMBLE_LEN, 97);
	ck_assert_uint_eq(map.n, TICKET_AHEAD);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
	    "postgres", pre), 0);
	ck_assert_int_eq(pre[0], 'c');
	ck_assert_int_eq(check(pre, &type, name), 0);
	ck_assert_int_eq(type, TICKET_CLIENT);
	ck_assert_str_eq(name, "postgres");
	/* The same bytes again: no longer expected (a replay). */
	ck_assert_int_eq(check(pre, &type, name), -100);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED, "db",
	    pre), 0);
	ck_assert_int_eq(check(pre, &type, name), 0);
	ck_assert_int_eq(type, TICKET_POOLED);
	ck_assert_str_eq(name, "db");
	/* The window moved up by two: still TICKET_AHEAD ahead. */
	ck_assert_uint_eq(map.n, TICKET_AHEAD);
}
END_TEST

/*
 * The layout: type, then a cid that is neither the session id nor the
 * counter, and differs per connection; the name never in clear.  Two
 * preambles of one session share no 4-byte substring beyond the type
 * (16-byte ones are what an observer would link; 4 leaves no chance).
 */
START_TEST(test_layout)
{
	uint8_t a[TICKET_PREAMBLE_LEN], b[TICKET_PREAMBLE_LEN];
	uint8_t cid[TICKET_CID_LEN];
	size_t i;

	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED,
	    "secretname", a), 0);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED,
	    "secretname", b), 0);
	ck_assert_int_eq(a[0], 'p');
	ticket_cid(&relay_t, 1, cid);
	ck_assert_mem_eq(a + 1, cid, TICKET_CID_LEN);
	ticket_cid(&relay_t, 2, cid);
	ck_assert_mem_eq(b + 1, cid, TICKET_CID_LEN);
	ck_assert_ptr_null(memmem(a, sizeof(a), relay_t.id, TICKET_ID_LEN));
	ck_assert_ptr_null(memmem(a, sizeof(a), "secretname", 10));
	for (i = 1; i + 4 <= sizeof(a); i++)
		ck_assert_ptr_null(memmem(b + 1, sizeof(b) - 1, a + i, 4));
}
END_TEST

/* Flipping any bit anywhere makes the preamble fail. */
START_TEST(test_tamper)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], bad[TICKET_PREAMBLE_LEN], type;
	char name[TICKET_NAME_LEN];
	size_t i;
	int r;

	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT, "svc",
	    pre), 0);
	for (i = 0; i < sizeof(pre) * 8; i++) {
		memcpy(bad, pre, sizeof(pre));
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		r = check(bad, &type, name);
		ck_assert_int_lt(r, 0);
	}
	/* Nothing was recorded: the genuine one still passes. */
	ck_assert_int_eq(check(pre, &type, name), 0);
}
END_TEST

/* Another key: its cids are not found; forced onto ours, the tag fails. */
START_TEST(test_wrong_key)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], key[TICKET_KEY_LEN], type;
	char name[TICKET_NAME_LEN];
	struct ticket other;

	memset(key, 0x42, sizeof(key));
	ticket_init(&other, relay_t.id, key);
	ck_assert_int_eq(ticket_preamble_build(&other, TICKET_CLIENT, "svc",
	    pre), 0);
	ck_assert_int_eq(check(pre, &type, name), -100);
	ticket_cid(&relay_t, 1, pre + 1);
	ck_assert_int_eq(check(pre, &type, name), -TICKET_ETAG);
	ticket_fini(&other);
	ck_assert(ct_is_zero(&other, sizeof(other)));
}
END_TEST

/*
 * The lookup window: out of order inside it passes, once; beyond
 * TICKET_AHEAD of the largest accepted is not found yet; too old is not
 * found any more.
 */
START_TEST(test_window)
{
	enum { N = TICKET_WINDOW + TICKET_AHEAD + 36 };
	uint8_t (*pre)[TICKET_PREAMBLE_LEN], type;
	char name[TICKET_NAME_LEN];
	int i;

	ck_assert_ptr_nonnull(pre = calloc(N, sizeof(*pre)));
	for (i = 0; i < N; i++)
		ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
		    "svc", pre[i]), 0);
	/* Counter TICKET_AHEAD + 1 is not expected yet. */
	ck_assert_int_eq(check(pre[TICKET_AHEAD], &type, name), -100);
	/* 10, then 5..9 late, then 5..10 again. */
	ck_assert_int_eq(check(pre[9], &type, name), 0);
	for (i = 4; i < 9; i++)
		ck_assert_int_eq(check(pre[i], &type, name), 0);
	for (i = 4; i < 10; i++)
		ck_assert_int_eq(check(pre[i], &type, name), -100);
	/* Now TICKET_AHEAD + 1 is within reach. */
	ck_assert_int_eq(check(pre[TICKET_AHEAD], &type, name), 0);
	/* Step up to N - TICKET_AHEAD, then to N. */
	for (i = TICKET_AHEAD * 2; i < N; i += TICKET_AHEAD / 2)
		ck_assert_int_eq(check(pre[i], &type, name), 0);
	ck_assert_int_eq(check(pre[N - 1], &type, name), 0);
	/* The window: counters (N + AHEAD - WINDOW, N + AHEAD]. */
	i = N + TICKET_AHEAD - TICKET_WINDOW; /* index of the oldest */
	ck_assert_int_eq(check(pre[i - 1], &type, name), -100);
	ck_assert_int_eq(check(pre[i], &type, name), 0);
	ck_assert_int_eq(check(pre[0], &type, name), -100);
	/* Expected: the window minus those accepted inside it. */
	ck_assert_uint_le(map.n, TICKET_WINDOW);
	free(pre);
}
END_TEST

/* Two sessions in one map: each preamble finds its own. */
START_TEST(test_two_sessions)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], key[TICKET_KEY_LEN], type;
	char name[TICKET_NAME_LEN];
	struct ticket r2, n2;
	struct ticket_window *w2;
	uint64_t ctr;

	ck_assert_ptr_nonnull(w2 = malloc(sizeof(*w2)));
	ck_assert_int_eq(ticket_make(&r2, key), 0);
	ticket_expect(&r2, &map, w2);
	ticket_init(&n2, r2.id, key);
	ck_assert_uint_eq(map.n, 2 * TICKET_AHEAD);
	ck_assert_int_eq(ticket_preamble_build(&n2, TICKET_CLIENT, "x", pre),
	    0);
	ck_assert_ptr_eq(ticket_lookup(&map, pre, &ctr), &r2);
	ck_assert_uint_eq(ctr, 1);
	ck_assert_int_eq(ticket_preamble_check(&r2, pre, ctr, &type, name), 0);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT, "y",
	    pre), 0);
	ck_assert_int_eq(check(pre, &type, name), 0);
	ticket_fini(&r2);
	ticket_fini(&n2);
	ck_assert_uint_eq(map.n, TICKET_AHEAD);
	free(w2);
	wipe(key, sizeof(key));
}
END_TEST

/* Names: empty, too long, blanks refused when building. */
START_TEST(test_names)
{
	uint8_t pre[TICKET_PREAMBLE_LEN];
	char longname[TICKET_NAME_LEN + 1];

	memset(longname, 'a', TICKET_NAME_LEN);
	longname[TICKET_NAME_LEN] = '\0';
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT, "",
	    pre), -1);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
	    longname, pre), -1);
	longname[TICKET_NAME_LEN - 1] = '\0';
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
	    longname, pre), 0);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
	    "a b", pre), -1);
	ck_assert_int_eq(ticket_preamble_build(&node_t, 'X', "ab", pre), -1);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT_V1,
	    "ab", pre), -1);
	ck_assert_str_eq(ticket_strerror(-TICKET_EREPLAY), "replay");
	ck_assert_str_eq(ticket_strerror(TICKET_ETAG), "bad-ticket");
}
END_TEST

/* A version 1 type byte (C, P) is not found, whatever follows. */
START_TEST(test_type)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], type;
	char name[TICKET_NAME_LEN];

	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT, "svc",
	    pre), 0);
	pre[0] = TICKET_CLIENT_V1;
	ck_assert_int_eq(check(pre, &type, name), -100);
	pre[0] = TICKET_POOLED_V1;
	ck_assert_int_eq(check(pre, &type, name), -100);
}
END_TEST

/* The relay's refusal message: layout, round trip, and the counter it
 * names is the one of the refused preamble. */
START_TEST(test_refusal)
{
	static const uint8_t want[TICKET_REFUSAL_LEN] = {'E', 6, 0, 0, 0, 0,
	    0x01, 0x02, 0x03, 0x04};
	uint8_t msg[TICKET_REFUSAL_LEN + 1], pre[TICKET_PREAMBLE_LEN], code;
	uint8_t key[TICKET_KEY_LEN];
	struct ticket t;
	uint64_t ctr;

	ticket_refusal_encode(6, 0x01020304, msg);
	ck_assert_mem_eq(msg, want, sizeof(want));
	ck_assert_int_eq(ticket_refusal_decode(msg, TICKET_REFUSAL_LEN, &code,
	    &ctr), 0);
	ck_assert_uint_eq(code, 6);
	ck_assert_uint_eq(ctr, 0x01020304);
	/* Wrong length or kind: not a refusal (the ticket, 'M'). */
	ck_assert_int_eq(ticket_refusal_decode(msg, TICKET_REFUSAL_LEN - 1,
	    &code, &ctr), -1);
	ck_assert_int_eq(ticket_refusal_decode(msg, TICKET_REFUSAL_LEN + 1,
	    &code, &ctr), -1);
	msg[0] = 'M';
	ck_assert_int_eq(ticket_refusal_decode(msg, TICKET_REFUSAL_LEN, &code,
	    &ctr), -1);

	/* The counter of the last preamble, as the sender tracks it. */
	ck_assert_int_eq(ticket_make(&t, key), 0);
	ck_assert_int_eq(ticket_preamble_build(&t, TICKET_CLIENT, "db", pre),
	    0);
	ck_assert_uint_eq(ticket_last_counter(&t), 1);
	ck_assert_int_eq(ticket_preamble_build(&t, TICKET_CLIENT, "db", pre),
	    0);
	ck_assert_uint_eq(ticket_last_counter(&t), 2);
	ticket_fini(&t);
}
END_TEST

static Suite *
ticket_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc;

	tc = tcase_create("preamble");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_type);
	tcase_add_test(tc, test_refusal);
	suite_add_tcase(s, tc);
	tc = tcase_create("window");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_two_sessions);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(ticket_suite()));
}
