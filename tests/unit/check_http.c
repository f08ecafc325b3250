/*
 * check_http: the admin endpoint's request-head parser.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "http.h"

/* Parse the text ${s}. */
static int
parse(const char *s, struct http_req *req)
{

	return (http_parse(s, strlen(s), req));
}

START_TEST(test_get)
{
	struct http_req req;

	ck_assert_int_eq(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n"
	    "Accept: */*\r\n\r\n", &req), HTTP_DONE);
	ck_assert_str_eq(req.path, "/metrics");
	ck_assert_int_eq(parse("GET /readyz?verbose=1 HTTP/1.0\n\n", &req),
	    HTTP_DONE);
	ck_assert_str_eq(req.path, "/readyz");
	ck_assert_uint_eq(req.head_len, strlen("GET /readyz?verbose=1 "
	    "HTTP/1.0\n\n"));
}
END_TEST

START_TEST(test_more)
{
	struct http_req req;

	ck_assert_int_eq(parse("", &req), HTTP_MORE);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n", &req),
	    HTTP_MORE);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n\r", &req), HTTP_MORE);
}
END_TEST

START_TEST(test_refused)
{
	struct http_req req;
	char big[HTTP_HEAD_MAX + 10], path[400];

	ck_assert_int_eq(parse("POST / HTTP/1.1\r\n\r\n", &req), 405);
	ck_assert_int_eq(parse("HEAD / HTTP/1.1\r\n\r\n", &req), 405);
	ck_assert_int_eq(parse("GET / HTTP/2.0\r\n\r\n", &req), 505);
	ck_assert_int_eq(parse("GET / FOO/1.1\r\n\r\n", &req), 400);
	ck_assert_int_eq(parse("GET  / HTTP/1.1\r\n\r\n", &req), 400);
	ck_assert_int_eq(parse("GET x HTTP/1.1\r\n\r\n", &req), 400);
	ck_assert_int_eq(parse("\r\nGET / HTTP/1.1\r\n\r\n", &req), 400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n folded\r\n\r\n", &req),
	    400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &req),
	    400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\rX: y\r\n\r\n", &req), 400);
	ck_assert_int_eq(http_parse("GET /\0 HTTP/1.1\r\n\r\n", 19, &req),
	    400);
	memset(path, 'a', sizeof(path));
	memcpy(path, "GET /", 5);
	strcpy(path + 300, " HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(parse(path, &req), 414);
	memset(big, 'x', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	ck_assert_int_eq(http_parse(big, sizeof(big), &req), 431);
	ck_assert_int_eq(http_parse(big, HTTP_HEAD_MAX, &req), 431);
	ck_assert_int_eq(http_parse(big, HTTP_HEAD_MAX - 1, &req), HTTP_MORE);
}
END_TEST

START_TEST(test_reason)
{

	ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(http_reason(200), "OK");
	ck_assert_str_eq(http_reason(299), "Error");
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("accept");
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_more);
	suite_add_tcase(s, tc);
	tc = tcase_create("refuse");
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_reason);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(http_suite()));
}
