/*
 * check_front: the front's dispatch in a fake environment (fixture_env).
 * The test registers its own parts: the relay's kind of request (its
 * front_kind, "@") and the outlet's service callback (front_serve_outlet)
 * record what reaches them.  A peer node dials: a relay session request
 * ("@S", "@R" + name) reaches the relay kind's part only, a service name
 * the outlet's only (with the name and the request parsed), a malformed
 * request neither (audit reason=bad-request, REFUSE bad-request); a
 * session request the part does not take is refused as an unknown
 * service, a service request no part serves too; and a second kind of
 * request with a longer prefix ("@A", as the authority to come) reaches
 * its own part, not the relay's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "fixture.h"
#include "front.h"
#include "relay.h"

static struct env env;
static struct config cfg;
static struct front *front;
static struct fixture_peer peer;

/* What the callbacks saw; the relay's takes a session when ${take}. */
static int nsessions, nservices, nother, take;
static char service[CONFIG_NAME_MAX], request[16];

static const struct conn_ops taken_ops = {NULL};

/* The roles' answers: a REFUSE code the front itself never sends. */
static int
t_session(void *arg, struct conn *c)
{
	const uint8_t *req;
	size_t len;

	ck_assert_ptr_eq(arg, &env);
	nsessions++;
	req = channel_request(c->ch, &len);
	ck_assert_uint_lt(len, sizeof(request));
	memcpy(request, req, len);
	if (!take)
		return (0);
	conn_set_ops(c, &taken_ops, NULL);
	conn_refuse(c, CHANNEL_REFUSAL_NO_REGISTRANT, CONN_R_DENIED);
	return (1);
}

/* The second kind: taken, refused with a code of its own. */
static int
t_other(void *arg, struct conn *c)
{

	ck_assert_ptr_eq(arg, &env);
	nother++;
	conn_set_ops(c, &taken_ops, NULL);
	conn_refuse(c, CHANNEL_REFUSAL_OLD_REQUEST, CONN_R_DENIED);
	return (1);
}

/* What a stranger asking "@A" is audited as: no name. */
static size_t
t_claim(const uint8_t *req, size_t len, const char **why, unsigned *code)
{

	(void)req;
	(void)why;
	(void)code;
	return (len);
}

static const struct front_kind other_kind = {"@A", "authority", t_claim, 0};
/* The same kind, deciding on strangers itself. */
static const struct front_kind open_kind = {"@A", "authority", t_claim, 1};

static void
t_service(void *arg, struct conn *c, const char *svc,
    const struct request *r)
{

	ck_assert_ptr_eq(arg, &env);
	ck_assert_str_eq(r->service, svc);
	nservices++;
	snprintf(service, sizeof(service), "%s", svc);
	conn_set_ops(c, &taken_ops, NULL);
	conn_refuse(c, CHANNEL_REFUSAL_TARGET_FAILED, CONN_R_DENIED);
}

static void
setup(void)
{
	char ini[1024], err[256];

	fixture_log_capture();
	ck_assert_int_eq(crypto_init(), 0);
	env.loop = ev_default_loop(0);
	fixture_peer_init(&peer, &env);
	snprintf(ini, sizeof(ini), "[node]\nidentity = k\n"
	    "listen = 127.0.0.1:1\n"
	    "[outlet db]\ntarget = 127.0.0.1:2\nallow = %s\n"
	    "[relay r]\nregister = %s\nallow = %s\n", peer.id, peer.id,
	    peer.id);
	fixture_env_init(&env, &cfg, ini);
	ck_assert_msg((front = front_new(&env, err, sizeof(err))) != NULL,
	    "%s", err);
	nsessions = nservices = nother = take = 0;
	service[0] = '\0';
	memset(request, 0, sizeof(request));
}

static void
teardown(void)
{

	fixture_peer_fini(&peer);
	front_free(front);
	fixture_env_fini(&env);
}

/* Both roles plugged in. */
static void
serve_both(void)
{

	ck_assert_int_eq(front_register(front, &relay_kind, t_session, &env),
	    0);
	front_serve_outlet(front, t_service, &env);
}

/* Dial with ${req} (${len} bytes); return the REFUSE code (or -1). */
static int
dial(const char *req, size_t len)
{

	fixture_peer_dial(&peer, front, req, len);
	ck_assert(fixture_run_until(env.loop, fixture_peer_gone, &peer, 20));
	return (peer.refused ? (int)peer.code : -1);
}

START_TEST(test_session_to_relay)
{

	serve_both();
	take = 1;
	ck_assert_int_eq(dial("@Rr", 3), CHANNEL_REFUSAL_NO_REGISTRANT);
	ck_assert_int_eq(nsessions, 1);
	ck_assert_int_eq(nservices, 0);
	ck_assert_str_eq(request, "@Rr");
}
END_TEST

START_TEST(test_service_to_outlet)
{

	serve_both();
	ck_assert_int_eq(dial("db", 2), CHANNEL_REFUSAL_TARGET_FAILED);
	ck_assert_int_eq(nservices, 1);
	ck_assert_int_eq(nsessions, 0);
	ck_assert_str_eq(service, "db");
}
END_TEST

/* A version 2 request naming no service: no role sees it. */
START_TEST(test_bad_request)
{

	serve_both();
	ck_assert_int_eq(dial("\002", 1), CHANNEL_REFUSAL_BAD_REQUEST);
	ck_assert_int_eq(nservices + nsessions, 0);
	ck_assert(fixture_log_has("event=audit decision=deny "
	    "reason=bad-request", NULL));
}
END_TEST

/* A session request the relay lets go is not a service. */
START_TEST(test_session_not_taken)
{

	serve_both();
	ck_assert_int_eq(dial("@S", 2), CHANNEL_REFUSAL_UNKNOWN_SERVICE);
	ck_assert_int_eq(nsessions, 1);
	ck_assert_int_eq(nservices, 0);
	ck_assert(fixture_log_has("reason=unknown-service", "role=relay"));
}
END_TEST

/* No outlet role: a service request is refused by the front. */
START_TEST(test_no_outlet)
{

	ck_assert_int_eq(front_register(front, &relay_kind, t_session, &env),
	    0);
	ck_assert_int_eq(dial("db", 2), CHANNEL_REFUSAL_UNKNOWN_SERVICE);
	ck_assert_int_eq(nservices + nsessions, 0);
	ck_assert(fixture_log_has("event=audit decision=deny "
	    "reason=unknown-service", "service=db"));
}
END_TEST

/* The longest registered prefix decides: "@A..." is not the relay's. */
START_TEST(test_second_kind)
{

	serve_both();
	ck_assert_int_eq(front_register(front, &other_kind, t_other, &env),
	    0);
	ck_assert_int_eq(dial("@Ax", 3), CHANNEL_REFUSAL_OLD_REQUEST);
	ck_assert_int_eq(nother, 1);
	ck_assert_int_eq(nsessions + nservices, 0);
}
END_TEST

/*
 * A peer no allow list names reaches a kind that takes strangers
 * (front_kind.strangers), and only such a kind: the same request to a
 * kind without it, or a service name, is refused in the handshake.
 */
START_TEST(test_stranger_kind)
{
	struct fixture_peer stranger;

	fixture_peer_init(&stranger, &env);
	serve_both();
	ck_assert_int_eq(front_register(front, &other_kind, t_other, &env),
	    0);
	fixture_peer_refused(&stranger, front, "@Ax",
	    CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
	ck_assert_int_eq(nother, 0);
	ck_assert_int_eq(front_register(front, &open_kind, t_other, &env), 0);
	fixture_peer_dial(&stranger, front, "@Ax", 3);
	ck_assert(fixture_run_until(env.loop, fixture_peer_gone, &stranger,
	    20));
	ck_assert_int_eq(nother, 1);
	ck_assert(stranger.refused);
	ck_assert_uint_eq(stranger.code, CHANNEL_REFUSAL_OLD_REQUEST);
	fixture_peer_refused(&stranger, front, "db",
	    CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
	ck_assert_int_eq(nservices, 0);
	fixture_peer_fini(&stranger);
}
END_TEST

static Suite *
front_suite(void)
{
	Suite *s = suite_create("front");
	TCase *tc = tcase_create("dispatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_session_to_relay);
	tcase_add_test(tc, test_service_to_outlet);
	tcase_add_test(tc, test_bad_request);
	tcase_add_test(tc, test_session_not_taken);
	tcase_add_test(tc, test_no_outlet);
	tcase_add_test(tc, test_second_kind);
	tcase_add_test(tc, test_stranger_kind);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(front_suite()));
}
