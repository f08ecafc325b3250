/*
 * check_outlet: the outlet role in a fake environment (fixture_env),
 * without the binary.  A peer node dials the front; the outlet decides:
 * an allowed peer is carried to a target socket the test holds (audit
 * allow), a peer another outlet allows but this one does not is refused
 * (audit reason=not-allowed, REFUSE not-allowed) and the target never
 * sees a connection, a request for a service the node does not have is
 * refused (reason=unknown-service, REFUSE unknown-service), and a peer
 * no list names is refused by the front before the outlet sees it.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "fixture.h"
#include "front.h"
#include "outlet.h"

static struct env env;
static struct config cfg;
static struct front *front;
static struct outlet *outlet;
static struct fixture_peer peer, other;
static int target = -1, served = -1; /* the test's target: listen, one */

static void
setup(void)
{
	char ini[1024], err[256];
	unsigned port;

	fixture_log_capture();
	ck_assert_int_eq(crypto_init(), 0);
	target = fixture_listen(&port);
	ck_assert_int_ne(fcntl(target, F_SETFL, O_NONBLOCK), -1);
	/* Identities first: the configuration names them. */
	env.loop = ev_default_loop(0);
	fixture_peer_init(&peer, &env);
	fixture_peer_init(&other, &env);
	snprintf(ini, sizeof(ini), "[node]\nidentity = k\n"
	    "listen = 127.0.0.1:1\n"
	    "[outlet db]\ntarget = 127.0.0.1:%u\nallow = %s\n"
	    "[outlet web]\ntarget = 127.0.0.1:%u\nallow = %s\n",
	    port, peer.id, port, other.id);
	fixture_env_init(&env, &cfg, ini);
	ck_assert_msg((front = front_new(&env, err, sizeof(err))) != NULL,
	    "%s", err);
	ck_assert_msg((outlet = outlet_new(&env, front, NULL, err,
	    sizeof(err))) != NULL, "%s", err);
}

static void
teardown(void)
{

	fixture_peer_fini(&peer);
	fixture_peer_fini(&other);
	outlet_free(outlet);
	front_free(front);
	fixture_env_fini(&env);
	if (served != -1)
		close(served);
	close(target);
	served = target = -1;
}

/* The target accepted a connection of the outlet (in ${served}). */
static int
target_accepted(void *arg)
{

	(void)arg;
	if (served == -1)
		served = accept4(target, NULL, NULL, SOCK_NONBLOCK);
	return (served != -1);
}

/*
 * ${p} asks for ${svc}: refused with ${code} and audit deny ${reason}
 * for ${svc}; the target never sees a connection.
 */
static void
refused(struct fixture_peer *p, const char *svc, unsigned code,
    const char *reason)
{
	char tail[64];

	fixture_peer_refused(p, front, svc, code, reason);
	ck_assert(!target_accepted(NULL));
	snprintf(tail, sizeof(tail), "service=%s role=outlet", svc);
	ck_assert(fixture_log_has(reason, tail));
	ck_assert(!fixture_log_has("decision=allow", NULL));
}

/* Allowed: the target gets the connection and the peer's bytes. */
START_TEST(test_allowed)
{

	fixture_peer_dial(&peer, front, "db", 2);
	ck_assert(fixture_run_until(env.loop, target_accepted, NULL, 20));
	ck_assert(peer.established);
	ck_assert_int_eq(write(peer.plain, "hello", 5), 5);
	fixture_read(env.loop, served, "hello", 5);
	ck_assert(!peer.refused);
	ck_assert(fixture_log_has("event=audit decision=allow reason=allowed "
	    "peer=", "service=db role=outlet"));
	ck_assert(fixture_log_has("decision=allow", peer.id));
}
END_TEST

/* Known to the node (web allows it), not to db: refused, no target. */
START_TEST(test_not_allowed)
{

	refused(&other, "db", CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
}
END_TEST

/* A service the node does not have. */
START_TEST(test_unknown_service)
{

	refused(&peer, "nosuch", CHANNEL_REFUSAL_UNKNOWN_SERVICE,
	    "unknown-service");
}
END_TEST

/* A peer no list of the node names: the front refuses it, unproven. */
START_TEST(test_stranger)
{
	struct fixture_peer stranger;

	fixture_peer_init(&stranger, &env);
	fixture_peer_refused(&stranger, front, "db",
	    CHANNEL_REFUSAL_NOT_ALLOWED, "not-allowed");
	ck_assert(!target_accepted(NULL));
	ck_assert(fixture_log_has("reason=not-allowed", "verified=no"));
	fixture_peer_fini(&stranger);
}
END_TEST

static Suite *
outlet_suite(void)
{
	Suite *s = suite_create("outlet");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_not_allowed);
	tcase_add_test(tc, test_unknown_service);
	tcase_add_test(tc, test_stranger);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(outlet_suite()));
}
