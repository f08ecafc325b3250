/*
 * fakeenv: a struct env as the runtime (node.c) lends it to the roles,
 * made without the binary: what the unit suites' fake environment
 * (tests/unit/fixture_env.c) and the in-process node fuzz targets
 * (tests/fuzz/fuzz_nodeenv.c) share.  No test framework: a
 * failure is returned, the caller asserts or aborts.
 */
#ifndef SALLYPORT_FAKEENV_H
#define SALLYPORT_FAKEENV_H

#include <stddef.h>

#include "config.h"
#include "env.h"

/*
 * fakeenv_init(e, cfg, ini, err, errlen):
 * The environment ${e} of the node whose configuration ${cfg} (the
 * caller's, kept by ${e}) is parsed from the INI text ${ini}: the default
 * loop, the connection context with the file's limits and timeouts, the
 * attestation and resume caches, the key pair pool and the log limits.
 * The credentials (e->local[0]) are the caller's to make.  Return 0, or
 * -1 with a message in ${err}.
 */
int fakeenv_init(struct env *e, struct config *cfg, const char *ini,
    char *err, size_t errlen);

/*
 * fakeenv_fini(e):
 * Free what fakeenv_init made, the credentials and the configuration
 * (its connections must be gone: conn_ctx_drop_all, then the loop run).
 */
void fakeenv_fini(struct env *e);

#endif
