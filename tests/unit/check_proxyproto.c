/*
 * check_proxyproto: the PROXY v2 header byte for byte (IPv4, IPv6, mixed,
 * no addresses), and the version 2 request that carries the client's
 * addresses to the outlet (request_encode/parse, docs/protocol.md).
 */
#include <check.h>
#include <string.h>

#include "channel.h"
#include "fixture.h"
#include "proxyproto.h"
#include "request.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a,
    0x51, 0x55, 0x49, 0x54, 0x0a};

START_TEST(test_ipv4)
{
	struct request_endpoint s = {4, {127, 0, 0, 2}, 40000};
	struct request_endpoint d = {4, {10, 20, 0, 5}, 5432};
	struct proxyproto_info pi = {&s, &d, "Iab", "pg", 42};
	static const uint8_t want[] = {0x21, 0x11, 0x00, 12 + 6 + 5 + 5,
	    127, 0, 0, 2, 10, 20, 0, 5, 0x9c, 0x40, 0x15, 0x38,
	    0xe0, 0x00, 0x03, 'I', 'a', 'b',
	    0x02, 0x00, 0x02, 'p', 'g',
	    0x05, 0x00, 0x02, '4', '2'};
	uint8_t h[PROXYPROTO_MAX];
	long n = proxyproto_build(&pi, h, sizeof(h));

	ck_assert_int_eq(n, 12 + (long)sizeof(want));
	ck_assert_mem_eq(h, sig, 12);
	ck_assert_mem_eq(h + 12, want, sizeof(want));
	/* Too small a buffer: refused, never cut. */
	ck_assert_int_eq(proxyproto_build(&pi, h, (size_t)n - 1), -1);
}
END_TEST

START_TEST(test_ipv6_mixed_none)
{
	struct request_endpoint s = {4, {192, 0, 2, 1}, 1};
	struct request_endpoint d = {6, {0xfd, 0, [15] = 5}, 2};
	struct request_endpoint none = {0, {0}, 0};
	struct proxyproto_info pi = {&s, &d, NULL, NULL, 7};
	uint8_t h[PROXYPROTO_MAX];
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0,
	    2, 1};

	ck_assert_int_eq(proxyproto_build(&pi, h, sizeof(h)), 16 + 36 + 4);
	ck_assert_uint_eq(h[13], 0x21);
	ck_assert_mem_eq(h + 16, mapped, 16);
	ck_assert_mem_eq(h + 32, d.ip, 16);
	ck_assert_uint_eq(h[48] << 8 | h[49], 1);
	ck_assert_uint_eq(h[50] << 8 | h[51], 2);
	/* Without an address: AF_UNSPEC, the TLVs only. */
	pi.src = &none;
	ck_assert_int_eq(proxyproto_build(&pi, h, sizeof(h)), 16 + 4);
	ck_assert_uint_eq(h[13], 0x00);
	ck_assert_uint_eq(h[15], 4);
}
END_TEST

START_TEST(test_request_roundtrip)
{
	struct request r, back;
	uint8_t buf[CHANNEL_MAX_REQUEST];
	size_t len;

	memset(&r, 0, sizeof(r));
	strcpy(r.service, "postgres");
	r.src = (struct request_endpoint){4, {127, 0, 0, 2}, 40000};
	r.dst = (struct request_endpoint){6, {0xfd, [15] = 5}, 5432};
	ck_assert_int_eq(request_encode(&r, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 1 + 2 + 8 + 2 + 7 + 2 + 19);
	ck_assert_uint_eq(buf[0], REQUEST_V2);
	ck_assert_int_eq(request_parse(buf, len, &back), 0);
	ck_assert_uint_eq(back.version, 2);
	ck_assert_str_eq(back.service, "postgres");
	ck_assert_mem_eq(&back.src, &r.src, sizeof(r.src));
	ck_assert_mem_eq(&back.dst, &r.dst, sizeof(r.dst));
	/* Too small: refused. */
	ck_assert_int_eq(request_encode(&r, buf, 20, &len),
	    -CHANNEL_EFRAME);
}
END_TEST

START_TEST(test_request_versions)
{
	struct request r;
	static const uint8_t v1[] = "postgres";
	static const uint8_t opt[] = {2, 1, 2, 'p', 'g', 0x80, 1, 'x'};
	static const uint8_t bad[][16] = {
	    {2},                      /* no service */
	    {2, 1, 2, 'p', 'g', 1, 1, 'x'}, /* service twice */
	    {2, 1, 3, 'p', 'g'},     /* cut short */
	    {2, 1, 2, 'p', ' '},     /* not a name */
	    {2, 1, 2, 'p', 'g', 4, 0}, /* unknown critical type */
	    {2, 1, 2, 'p', 'g', 2, 1}, /* a bad endpoint */
	    {3, 'p', 'g'},           /* another version */
	    /* type 0 (no such type) with an endpoint: not taken for DEST */
	    {2, 1, 2, 'p', 'g', 0, 7, 4, 10, 0, 0, 1, 0, 80},
	};
	static const size_t badlen[] = {1, 8, 5, 5, 7, 7, 3, 14};
	size_t i;

	ck_assert_int_eq(request_parse(v1, sizeof(v1) - 1, &r), 0);
	ck_assert_uint_eq(r.version, 1);
	ck_assert_str_eq(r.service, "postgres");
	ck_assert_uint_eq(r.src.family, 0);
	ck_assert_int_eq(request_parse(opt, sizeof(opt), &r), 0);
	ck_assert_str_eq(r.service, "pg");
	for (i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++)
		ck_assert_msg(request_parse(bad[i], badlen[i], &r) ==
			-CHANNEL_EPAYLOAD, "bad request %zu accepted", i);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("header");

	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6_mixed_none);
	suite_add_tcase(s, tc);
	tc = tcase_create("request v2");
	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_request_versions);
	suite_add_tcase(s, tc);
	return (fixture_main(s));
}
