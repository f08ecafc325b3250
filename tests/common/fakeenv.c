/*
 * fakeenv: see fakeenv.h.
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "fakeenv.h"
#include "log.h"

/* What node.c sizes them to; a test needs far fewer. */
#define FAKEENV_CACHE_ENTRIES 64
#define FAKEENV_RESUME_ENTRIES 16
#define FAKEENV_LOG_LINES 10

int
fakeenv_init(struct env *e, struct config *cfg, const char *ini, char *err,
    size_t errlen)
{

	memset(e, 0, sizeof(*e));
	if (crypto_init() == -1) {
		snprintf(err, errlen, "crypto_init failed");
		return (-1);
	}
	if (config_parse(cfg, "fixture.ini", ini, strlen(ini), err,
	    errlen) == -1)
		return (-1);
	e->cfg = cfg;
	if ((e->loop = ev_default_loop(0)) == NULL) {
		snprintf(err, errlen, "no event loop");
		return (-1);
	}
	ev_now_update(e->loop);
	conn_ctx_init(&e->ctx, e->loop);
	env_audit_init();
	e->ctx.handshake_timeout = cfg->node.handshake_timeout;
	e->ctx.connect_timeout = cfg->node.connect_timeout;
	e->ctx.idle_timeout = cfg->node.idle_timeout;
	e->ctx.keepalive = cfg->node.tcp_keepalive;
	if ((e->cache = sigcache_new(FAKEENV_CACHE_ENTRIES)) == NULL ||
	    (e->resume_out = resumecache_new(FAKEENV_RESUME_ENTRIES,
	    1)) == NULL ||
	    (e->resume_in = resumecache_new(FAKEENV_RESUME_ENTRIES,
	    0)) == NULL ||
	    (e->epool = epool_new(e->loop)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	log_limit_init(&e->refuse_log, FAKEENV_LOG_LINES);
	log_limit_init(&e->anyone_log, FAKEENV_LOG_LINES);
	return (0);
}

void
fakeenv_fini(struct env *e)
{

	conn_ctx_fini(&e->ctx);
	sigcache_free(e->cache);
	resumecache_free(e->resume_out);
	resumecache_free(e->resume_in);
	epool_free(e->epool);
	cred_revoked_free(&e->revoked);
	channel_local_fini(&e->local[0]);
	channel_local_fini(&e->local[1]);
	config_free((struct config *)e->cfg);
	e->cfg = NULL;
}
