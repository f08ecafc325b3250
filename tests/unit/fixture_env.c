/*
 * fixture_env: the fake environment of fixture.h, a struct env as the
 * runtime (node.c) lends it to the roles, made without the binary.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fixture.h"
#include "log.h"

/* What node.c sizes them to; a test needs far fewer. */
#define FIXTURE_CACHE_ENTRIES 64
#define FIXTURE_RESUME_ENTRIES 16
#define FIXTURE_LOG_LINES 10

void
fixture_env_init(struct env *e, struct config *cfg, const char *ini)
{
	char err[1024];

	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_msg(config_parse(cfg, "fixture.ini", ini, strlen(ini), err,
	    sizeof(err)) == 0, "%s", err);
	e->cfg = cfg;
	ck_assert_ptr_nonnull(e->loop = ev_default_loop(0));
	ev_now_update(e->loop);
	conn_ctx_init(&e->ctx, e->loop);
	e->ctx.handshake_timeout = cfg->node.handshake_timeout;
	e->ctx.connect_timeout = cfg->node.connect_timeout;
	e->ctx.idle_timeout = cfg->node.idle_timeout;
	e->ctx.keepalive = cfg->node.tcp_keepalive;
	fixture_local(&e->local[0], NULL, (uint64_t)ev_now(e->loop), 86400);
	ck_assert_ptr_nonnull(e->cache = channel_cache_new(
	    FIXTURE_CACHE_ENTRIES));
	ck_assert_ptr_nonnull(e->resume_out = channel_resume_cache_new(
	    FIXTURE_RESUME_ENTRIES, 1));
	ck_assert_ptr_nonnull(e->resume_in = channel_resume_cache_new(
	    FIXTURE_RESUME_ENTRIES, 0));
	ck_assert_ptr_nonnull(e->epool = epool_new(e->loop));
	log_limit_init(&e->refuse_log, FIXTURE_LOG_LINES);
	log_limit_init(&e->anyone_log, FIXTURE_LOG_LINES);
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
	conn_ctx_fini(&e->ctx);
	channel_cache_free(e->cache);
	channel_resume_cache_free(e->resume_out);
	channel_resume_cache_free(e->resume_in);
	epool_free(e->epool);
	cred_revoked_free(&e->revoked);
	channel_local_fini(&e->local[0]);
	channel_local_fini(&e->local[1]);
	config_free((struct config *)e->cfg);
	e->cfg = NULL;
}
