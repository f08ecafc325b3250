/*
 * check_ticket: relay tickets and data-connection preambles: round trip,
 * tampering, replay window, names, layout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "ticket.h"

static struct ticket relay_t, node_t;

/* A relay ticket and the node's copy of it (as sent over the session). */
static void
setup(void)
{
	uint8_t key[TICKET_KEY_LEN];

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(ticket_make(&relay_t, key), 0);
	ticket_init(&node_t, relay_t.id, key);
	wipe(key, sizeof(key));
}

static void
teardown(void)
{

	ticket_fini(&relay_t);
	ticket_fini(&node_t);
}

/* A preamble built by the node passes the relay's check, once. */
START_TEST(test_roundtrip)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], type = 0, id[TICKET_ID_LEN];
	char name[TICKET_NAME_LEN];

	ck_assert_int_eq(TICKET_PREAMBLE_LEN, 105);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
	    "postgres", pre), 0);
	ck_assert_int_eq(ticket_preamble_id(pre, &type, id), 0);
	ck_assert_int_eq(type, 'C');
	ck_assert_mem_eq(id, relay_t.id, TICKET_ID_LEN);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre, &type, name), 0);
	ck_assert_int_eq(type, TICKET_CLIENT);
	ck_assert_str_eq(name, "postgres");
	/* The same bytes again are a replay. */
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre, &type, name),
	    -TICKET_EREPLAY);
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED, "db",
	    pre), 0);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre, &type, name), 0);
	ck_assert_int_eq(type, TICKET_POOLED);
	ck_assert_str_eq(name, "db");
}
END_TEST

/* The layout: type, id, counter in clear; the name never in clear. */
START_TEST(test_layout)
{
	uint8_t pre[TICKET_PREAMBLE_LEN];
	const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	const uint8_t two[8] = {0, 0, 0, 0, 0, 0, 0, 2};

	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED,
	    "secretname", pre), 0);
	ck_assert_int_eq(pre[0], 'P');
	ck_assert_mem_eq(pre + 1, relay_t.id, TICKET_ID_LEN);
	ck_assert_mem_eq(pre + 17, one, 8);
	ck_assert_ptr_null(memmem(pre, sizeof(pre), "secretname", 10));
	ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_POOLED,
	    "secretname", pre), 0);
	ck_assert_mem_eq(pre + 17, two, 8);
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
		r = ticket_preamble_check(&relay_t, bad, &type, name);
		ck_assert_int_lt(r, 0);
	}
	/* Nothing was recorded: the genuine one still passes. */
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre, &type, name), 0);
}
END_TEST

/* A different key (another session with the same id) fails the tag. */
START_TEST(test_wrong_key)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], key[TICKET_KEY_LEN], type;
	char name[TICKET_NAME_LEN];
	struct ticket other;

	memset(key, 0x42, sizeof(key));
	ticket_init(&other, relay_t.id, key);
	ck_assert_int_eq(ticket_preamble_build(&other, TICKET_CLIENT, "svc",
	    pre), 0);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre, &type, name),
	    -TICKET_ETAG);
	ticket_fini(&other);
	ck_assert(ct_is_zero(&other, sizeof(other)));
}
END_TEST

/* Out of order inside the window passes; too old or repeated does not. */
START_TEST(test_window)
{
	enum { N = TICKET_WINDOW + 36 };
	uint8_t (*pre)[TICKET_PREAMBLE_LEN], type;
	char name[TICKET_NAME_LEN];
	int i;

	ck_assert_ptr_nonnull(pre = calloc(N, sizeof(*pre)));
	for (i = 0; i < N; i++)
		ck_assert_int_eq(ticket_preamble_build(&node_t, TICKET_CLIENT,
		    "svc", pre[i]), 0);
	/* 10, then 5..9 late, then 10 again. */
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[9], &type, name),
	    0);
	for (i = 4; i < 9; i++)
		ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[i], &type,
		    name), 0);
	for (i = 4; i < 10; i++)
		ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[i], &type,
		    name), -TICKET_EREPLAY);
	/* Jump to N: counter 37 is the oldest still in the window. */
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[N - 1], &type,
	    name), 0);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[35], &type, name),
	    -TICKET_EREPLAY);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[36], &type, name),
	    0);
	ck_assert_int_eq(ticket_preamble_check(&relay_t, pre[0], &type, name),
	    -TICKET_EREPLAY);
	free(pre);
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
	ck_assert_str_eq(ticket_strerror(-TICKET_EREPLAY), "replay");
	ck_assert_str_eq(ticket_strerror(TICKET_ETAG), "bad-ticket");
}
END_TEST

/* A type byte other than C or P is refused before any lookup. */
START_TEST(test_type)
{
	uint8_t pre[TICKET_PREAMBLE_LEN], type, id[TICKET_ID_LEN];

	memset(pre, 0, sizeof(pre));
	ck_assert_int_eq(ticket_preamble_id(pre, &type, id), -1);
	pre[0] = 'P';
	ck_assert_int_eq(ticket_preamble_id(pre, &type, id), 0);
	ck_assert_int_eq(type, 'P');
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

	/* The counter of a preamble, as the relay reads it. */
	ck_assert_int_eq(ticket_make(&t, key), 0);
	ck_assert_int_eq(ticket_preamble_build(&t, TICKET_CLIENT, "db", pre),
	    0);
	ck_assert_uint_eq(ticket_preamble_counter(pre), 1);
	ck_assert_int_eq(ticket_preamble_build(&t, TICKET_CLIENT, "db", pre),
	    0);
	ck_assert_uint_eq(ticket_preamble_counter(pre), 2);
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
	tc = tcase_create("replay");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_window);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(ticket_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
