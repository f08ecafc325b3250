/*
 * check_acl: the outlet access decision, deny by default.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "acl.h"
#include "fixture.h"

/* Three distinct identifiers that differ in one byte at either end. */
static uint8_t ids[3][CONFIG_ID_LEN];

static void
setup(void)
{

	memset(ids, 0xa5, sizeof(ids));
	ids[1][0] ^= 1;
	ids[2][CONFIG_ID_LEN - 1] ^= 0x80;
}

/* An outlet with no allow entries admits nobody. */
START_TEST(test_empty_denies)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	ck_assert(!acl_allows(&o, ids[0]));
	/* A list pointer with a zero count is still empty. */
	o.allow = ids;
	o.nallow = 0;
	ck_assert(!acl_allows(&o, ids[0]));
}
END_TEST

/* Listed identifiers are allowed; one differing byte is not. */
START_TEST(test_listed)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 2;
	ck_assert(acl_allows(&o, ids[0]));
	ck_assert(acl_allows(&o, ids[1]));
	ck_assert(!acl_allows(&o, ids[2]));
}
END_TEST

/* The last entry counts (no off-by-one at the end of the list). */
START_TEST(test_last_entry)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 3;
	ck_assert(acl_allows(&o, ids[2]));
	o.nallow = 1;
	ck_assert(!acl_allows(&o, ids[2]));
}
END_TEST

/* Missing outlet or identifier: deny, never crash. */
START_TEST(test_null)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 3;
	ck_assert(!acl_allows(NULL, ids[0]));
	ck_assert(!acl_allows(&o, NULL));
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc;

	tc = tcase_create("deny-by-default");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_denies);
	tcase_add_test(tc, test_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("allow-list");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_listed);
	tcase_add_test(tc, test_last_entry);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(acl_suite()));
}
