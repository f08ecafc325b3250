/*
 * check_frame: the length prefix and its bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "fixture.h"
#include "frame.h"

/* A prefix written by frame_put_len reads back through frame_peek. */
START_TEST(test_roundtrip)
{
	static const size_t sizes[] = {1, 2, 255, 256, 1000, 65535};
	uint8_t buf[FRAME_HDR + 65535];
	size_t i, total;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		frame_put_len(buf, sizes[i]);
		ck_assert_int_eq(frame_peek(buf, FRAME_HDR + sizes[i], 65535,
		    &total), 1);
		ck_assert_uint_eq(total, FRAME_HDR + sizes[i]);
	}
	frame_put_len(buf, 0x1234);
	ck_assert_uint_eq(buf[0], 0x12);
	ck_assert_uint_eq(buf[1], 0x34);
}
END_TEST

/* Every prefix of a frame shorter than the whole asks for more. */
START_TEST(test_need_more)
{
	uint8_t buf[FRAME_HDR + 300];
	size_t len, total = 0;

	frame_put_len(buf, 300);
	for (len = 0; len < sizeof(buf); len++)
		ck_assert_int_eq(frame_peek(buf, len, 1024, &total), 0);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 1024, &total), 1);
	ck_assert_uint_eq(total, sizeof(buf));
}
END_TEST

/* Bytes after the frame belong to the next one: total stays exact. */
START_TEST(test_trailing)
{
	uint8_t buf[FRAME_HDR + 10 + 7] = {0};
	size_t total = 0;

	frame_put_len(buf, 10);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 1024, &total), 1);
	ck_assert_uint_eq(total, FRAME_HDR + 10);
}
END_TEST

/* Empty and oversized bodies are refused as soon as the prefix is in. */
START_TEST(test_bounds)
{
	uint8_t buf[FRAME_HDR];
	size_t total = 0;

	frame_put_len(buf, 0);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 1024, &total), -1);
	frame_put_len(buf, 1025);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 1024, &total), -1);
	frame_put_len(buf, 1024);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 1024, &total), 0);
	frame_put_len(buf, 65535);
	ck_assert_int_eq(frame_peek(buf, sizeof(buf), 65534, &total), -1);
	/* One byte of prefix says nothing yet. */
	ck_assert_int_eq(frame_peek(buf, 1, 10, &total), 0);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_trailing);
	suite_add_tcase(s, tc);
	tc = tcase_create("bounds");
	tcase_add_test(tc, test_need_more);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(frame_suite()));
}
