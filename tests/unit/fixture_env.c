/*
 * fixture_env: the fake environment of fixture.h, a struct env as the
 * runtime (node.c) lends it to the roles, made without the binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fakeenv.h"
#include "fixture.h"
#include "log.h"

void
fixture_env_init(struct env *e, struct config *cfg, const char *ini)
{
	char err[1024];

	ck_assert_msg(fakeenv_init(e, cfg, ini, err, sizeof(err)) == 0, "%s",
	    err);
	/* Nothing is bound: the test hands the front its connections. */
	cfg->node.has_listen = 0;
	fixture_local(&e->local[0], NULL, (uint64_t)ev_now(e->loop), 86400);
}

static int
no_conns(void *arg)
{
	struct env *e = arg;

	return (e->ctx.nconns == 0);
}

void
fixture_env_fini(struct env *e)
{

	conn_ctx_drop_all(&e->ctx, CONN_R_SHUTDOWN);
	(void)fixture_run_until(e->loop, no_conns, e, 5);
	fakeenv_fini(e);
}

/* The peer's connection: it opens once established. */
static void
peer_established(struct conn *c)
{
	struct fixture_peer *p = c->arg;

	p->established = 1;
	/* What a role resolves for its part (conn.h: c->opened). */
	c->opened = metrics_series(METRICS_CONN_OPENED, c->role, c->name,
	    NULL);
	conn_open(c);
}

static void
peer_refused(struct conn *c, unsigned code)
{
	struct fixture_peer *p = c->arg;

	p->refused = 1;
	p->code = code;
}

static void
peer_dropped(struct conn *c, enum conn_reason reason)
{
	struct fixture_peer *p = c->arg;

	(void)reason;
	p->c = NULL;
}

static const struct conn_ops peer_ops = {
	.established = peer_established,
	.refused = peer_refused,
	.dropped = peer_dropped,
};

void
fixture_peer_init(struct fixture_peer *p, struct env *e)
{

	memset(p, 0, sizeof(*p));
	p->plain = -1;
	conn_ctx_init(&p->ctx, e->loop);
	fixture_local(&p->local, &p->idn, (uint64_t)ev_now(e->loop), 86400);
	identity_id_format(p->idn.id, p->id);
	p->ctx.data = e; /* whose node it dials */
}

void
fixture_peer_dial(struct fixture_peer *p, struct front *f, const char *req,
    size_t len)
{
	const struct env *e = p->ctx.data;
	struct channel *ch;
	int plain[2], chan[2];

	p->ctx.handshake_timeout = e->ctx.handshake_timeout;
	p->ctx.connect_timeout = e->ctx.connect_timeout;
	fixture_tcp_pair(plain);
	fixture_tcp_pair(chan);
	p->plain = plain[0];
	front_adopt(f, chan[1], NULL, NULL, NULL); /* the front owns it */
	ck_assert_ptr_nonnull(p->c = conn_new(&p->ctx, &peer_ops, plain[1],
	    chan[0]));
	p->c->arg = p;
	p->c->role = "inlet";
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_INITIATOR, &p->local,
	    NULL));
	channel_expect_peer(ch, env_local(e)->id);
	ck_assert_int_eq(channel_set_request(ch, (const uint8_t *)req, len),
	    0);
	ck_assert_int_eq(conn_handshake(p->c, ch, CHANNEL_INITIATOR), 0);
}

int
fixture_peer_gone(void *arg)
{
	struct fixture_peer *p = arg;

	return (p->c == NULL);
}

void
fixture_peer_refused(struct fixture_peer *p, struct front *f,
    const char *req, unsigned code, const char *reason)
{
	const struct env *e = p->ctx.data;
	char want[64];

	fixture_peer_dial(p, f, req, strlen(req));
	ck_assert(fixture_run_until(e->loop, fixture_peer_gone, p, 20));
	ck_assert_msg(p->refused, "%s not refused", req);
	ck_assert_uint_eq(p->code, code);
	snprintf(want, sizeof(want), "event=audit decision=deny reason=%s ",
	    reason);
	ck_assert_msg(fixture_log_has(want, p->id), "no %s", want);
}

void
fixture_peer_fini(struct fixture_peer *p)
{

	conn_ctx_drop_all(&p->ctx, CONN_R_SHUTDOWN);
	conn_ctx_fini(&p->ctx);
	channel_local_fini(&p->local);
	identity_fini(&p->idn);
	if (p->plain != -1)
		close(p->plain);
	p->plain = -1;
}
