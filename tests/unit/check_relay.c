/*
 * check_relay: the relay's decisions on session requests in a fake
 * environment (fixture_env), without the binary.  Peer nodes dial the
 * front: a registrant of a name registers it ("@R" + name; audit allow
 * reason=registered), a client of some name opens a client session
 * ("@S"), by identifier and by attribute rule; and every refusal carries
 * its word: not-registrant, not-allowed, unknown-service (audit deny and
 * the REFUSE code the peer reads).
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
static struct relay *relay;
/* By identifier: out registers "db", app reaches it.  By rule (corp):
 * role=outlet registers "web", role=app reaches it. */
static struct fixture_peer out, app, rout, rapp;
static struct identity corp;

static void
setup(void)
{
	char ini[2048], err[256], corp_id[IDENTITY_TEXT_SIZE];
	uint8_t block[CRED_BLOCK_MAX];
	uint64_t now;
	size_t len;

	fixture_log_capture();
	ck_assert_int_eq(crypto_init(), 0);
	env.loop = ev_default_loop(0);
	ev_now_update(env.loop);
	now = (uint64_t)ev_now(env.loop);
	fixture_peer_init(&out, &env);
	fixture_peer_init(&app, &env);
	fixture_peer_init(&rout, &env);
	fixture_peer_init(&rapp, &env);
	ck_assert_int_eq(identity_generate(&corp), 0);
	len = fixture_cred(block, sizeof(block), &corp, rout.idn.id,
	    "role=outlet", now);
	ck_assert_int_eq(channel_local_set_creds(&rout.local, block, len), 0);
	len = fixture_cred(block, sizeof(block), &corp, rapp.idn.id,
	    "role=app", now);
	ck_assert_int_eq(channel_local_set_creds(&rapp.local, block, len), 0);
	snprintf(ini, sizeof(ini), "[node]\nidentity = k\n"
	    "listen = 127.0.0.1:1\n[authorities]\ncorp = %s\n"
	    "[relay db]\nregister = %s\nallow = %s\n"
	    "[relay web]\nregister = role=outlet@corp\nallow = role=app@corp\n",
	    identity_id_format(corp.id, corp_id), out.id, app.id);
	fixture_env_init(&env, &cfg, ini);
	ck_assert_msg((front = front_new(&env, err, sizeof(err))) != NULL,
	    "%s", err);
	ck_assert_msg((relay = relay_new(&env, front, err, sizeof(err))) !=
	    NULL, "%s", err);
}

static void
teardown(void)
{

	fixture_peer_fini(&out);
	fixture_peer_fini(&app);
	fixture_peer_fini(&rout);
	fixture_peer_fini(&rapp);
	identity_fini(&corp);
	relay_free(relay);
	front_free(front);
	fixture_env_fini(&env);
}

static int
session_opened(void *arg)
{

	return (fixture_log_has("event=session-open role=relay", arg));
}

/* ${p} asks for ${req}: the relay keeps a session of ${kind}. */
static void
opens(struct fixture_peer *p, const char *req, const char *kind)
{
	char want[64];

	snprintf(want, sizeof(want), "kind=%s", kind);
	fixture_peer_dial(p, front, req, strlen(req));
	ck_assert_msg(fixture_run_until(env.loop, session_opened, want, 20),
	    "no session for %s", req);
	ck_assert(!p->refused);
}

/* ${p} asks for ${req}: refused (${code}, ${reason}), no session. */
static void
refused(struct fixture_peer *p, const char *req, unsigned code,
    const char *reason)
{

	fixture_peer_refused(p, front, req, code, reason);
	ck_assert(!fixture_log_has("event=session-open", NULL));
}

START_TEST(test_register_by_id)
{

	opens(&out, "@Rdb", "register");
	ck_assert(fixture_log_has("event=audit decision=allow "
	    "reason=registered", "service=db role=relay"));
}
END_TEST

START_TEST(test_client_by_id)
{

	opens(&app, "@S", "client");
}
END_TEST

START_TEST(test_register_by_rule)
{

	opens(&rout, "@Rweb", "register");
	ck_assert(fixture_log_has("reason=registered", "rule=role=outlet@corp"));
}
END_TEST

START_TEST(test_client_by_rule)
{

	opens(&rapp, "@S", "client");
}
END_TEST

/* A client of db may not register db, nor web (its rule is app's). */
START_TEST(test_not_registrant)
{

	refused(&app, "@Rdb", CHANNEL_REFUSAL_NOT_REGISTRANT,
	    "not-registrant");
}
END_TEST

START_TEST(test_not_registrant_by_rule)
{

	refused(&rapp, "@Rweb", CHANNEL_REFUSAL_NOT_REGISTRANT,
	    "not-registrant");
}
END_TEST

/* A registrant is no client: no allow list names it. */
START_TEST(test_not_allowed)
{

	refused(&out, "@S", CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
}
END_TEST

START_TEST(test_not_allowed_by_rule)
{

	refused(&rout, "@S", CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
}
END_TEST

START_TEST(test_unknown_name)
{

	refused(&out, "@Rnosuch", CHANNEL_REFUSAL_UNKNOWN_SERVICE,
	    "unknown-service");
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("sessions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_register_by_id);
	tcase_add_test(tc, test_client_by_id);
	tcase_add_test(tc, test_register_by_rule);
	tcase_add_test(tc, test_client_by_rule);
	tcase_add_test(tc, test_not_registrant);
	tcase_add_test(tc, test_not_registrant_by_rule);
	tcase_add_test(tc, test_not_allowed);
	tcase_add_test(tc, test_not_allowed_by_rule);
	tcase_add_test(tc, test_unknown_name);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(relay_suite()));
}
