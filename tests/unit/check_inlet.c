/*
 * check_inlet: the inlet role in a fake environment (fixture_env),
 * without the binary.  The test hands the inlet a client socket
 * (inlet_serve) and plays the outlet node itself: it accepts the inlet's
 * channel connection on a socket it listens on and runs the responder
 * side with credentials of its own.  An outlet of the pinned identity
 * gets the service name in the handshake and the client's bytes; an
 * outlet that refuses (REFUSE not-allowed) is audited by the inlet as
 * reason=remote-not-allowed and the client gets nothing; an outlet of
 * another identity is refused by the inlet (reason=peer-mismatch).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "fixture.h"
#include "inlet.h"

static struct env env;
static struct config cfg;
static struct inlet *inlet;
static struct channel_local pinned, impostor; /* the outlet's, another */
static struct conn_ctx octx;  /* the test's outlet node */
static struct conn *oc;       /* its responder connection */
static int node = -1;         /* where it listens */
static int client = -1;       /* the test's end of the client */
static int target = -1;       /* the test's end of the outlet's target */
static int refuse;            /* the outlet refuses instead of opening */
static char service[CONFIG_NAME_MAX];

static void
o_established(struct conn *c)
{
	struct request r;
	const uint8_t *req;
	size_t len;

	req = channel_request(c->ch, &len);
	ck_assert_int_eq(request_parse(req, len, &r), 0);
	snprintf(service, sizeof(service), "%s", r.service);
	if (refuse) {
		conn_refuse(c, CHANNEL_REFUSAL_NOT_ALLOWED, CONN_R_DENIED);
		return;
	}
	/* What a role resolves for its part (conn.h: c->opened). */
	c->opened = metrics_series(METRICS_CONN_OPENED, c->role, c->name,
	    NULL);
	conn_open(c);
}

static void
o_dropped(struct conn *c, enum conn_reason reason)
{

	(void)c;
	(void)reason;
	oc = NULL;
}

static const struct conn_ops outlet_ops = {
	.established = o_established,
	.dropped = o_dropped,
};

static void
setup(void)
{
	char ini[1024], err[256], id[IDENTITY_TEXT_SIZE];
	unsigned port, lport;
	int lfd, fds[2];

	fixture_log_capture();
	ck_assert_int_eq(crypto_init(), 0);
	env.loop = ev_default_loop(0);
	ev_now_update(env.loop);
	fixture_local(&pinned, NULL, (uint64_t)ev_now(env.loop), 86400);
	fixture_local(&impostor, NULL, (uint64_t)ev_now(env.loop), 86400);
	node = fixture_listen(&port);
	lfd = fixture_listen(&lport); /* the inlet's own, taken by it */
	snprintf(ini, sizeof(ini), "[node]\nidentity = k\n"
	    "[peers]\nserver = %s\n"
	    "[inlet db]\nlisten = 127.0.0.1:%u\n"
	    "outlet = server@127.0.0.1:%u\n",
	    identity_id_format(pinned.id, id), lport, port);
	fixture_env_init(&env, &cfg, ini);
	ck_assert_msg((inlet = inlet_new(&env, &cfg.inlets[0], lfd, NULL, err,
	    sizeof(err))) != NULL, "%s", err);
	conn_ctx_init(&octx, env.loop);
	octx.handshake_timeout = env.ctx.handshake_timeout;
	fixture_tcp_pair(fds);
	client = fds[0];
	inlet_serve(inlet, fds[1]);
	refuse = 0;
	service[0] = '\0';
}

static void
teardown(void)
{

	conn_ctx_drop_all(&octx, CONN_R_SHUTDOWN);
	conn_ctx_fini(&octx);
	inlet_free(inlet);
	fixture_env_fini(&env);
	channel_local_fini(&pinned);
	channel_local_fini(&impostor);
	close(node);
	close(client);
	if (target != -1)
		close(target);
	node = client = target = -1;
}

static int
dialed(void *arg)
{
	int *fd = arg;

	if (*fd == -1)
		*fd = accept4(node, NULL, NULL, SOCK_NONBLOCK);
	return (*fd != -1);
}

/* The inlet dials the test's outlet node, which answers as ${l}. */
static void
answer(struct channel_local *l)
{
	struct channel *ch;
	int chan = -1, fds[2];

	ck_assert(fixture_run_until(env.loop, dialed, &chan, 20));
	fixture_tcp_pair(fds);
	target = fds[0];
	ck_assert_ptr_nonnull(oc = conn_new(&octx, &outlet_ops, fds[1],
	    chan));
	oc->role = "outlet";
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, l, NULL));
	ck_assert_int_eq(conn_handshake(oc, ch, CHANNEL_RESPONDER), 0);
}

/* The client's end: EOF or a reset, with no byte before it. */
static int
client_closed(void *arg)
{
	char b;
	ssize_t n = read(client, &b, 1);

	(void)arg;
	ck_assert_int_le(n, 0);
	return (n == 0 || (n == -1 && errno != EAGAIN));
}

START_TEST(test_carried)
{

	answer(&pinned);
	ck_assert_int_eq(write(client, "hello", 5), 5);
	fixture_read(env.loop, target, "hello", 5);
	ck_assert_str_eq(service, "db");
}
END_TEST

START_TEST(test_remote_refusal)
{

	refuse = 1;
	answer(&pinned);
	ck_assert(fixture_run_until(env.loop, client_closed, NULL, 20));
	ck_assert_str_eq(service, "db");
	ck_assert(fixture_log_has("event=audit decision=deny "
	    "reason=remote-not-allowed", "service=db role=inlet"));
}
END_TEST

START_TEST(test_peer_mismatch)
{

	answer(&impostor);
	ck_assert(fixture_run_until(env.loop, client_closed, NULL, 20));
	ck_assert_str_eq(service, ""); /* never told */
	ck_assert(fixture_log_has("event=audit decision=deny "
	    "reason=peer-mismatch", "role=inlet"));
}
END_TEST

static Suite *
inlet_suite(void)
{
	Suite *s = suite_create("inlet");
	TCase *tc = tcase_create("dial");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_carried);
	tcase_add_test(tc, test_remote_refusal);
	tcase_add_test(tc, test_peer_mismatch);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(inlet_suite()));
}
