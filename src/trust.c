/*
 * trust: see trust.h.
 */
#include <sys/mman.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "dialout.h"
#include "log.h"
#include "sandbox.h"
#include "trust.h"

/* Attestation lifetime (seconds); re-signed at half of it. */
#ifndef TRUST_LIFETIME
#define TRUST_LIFETIME (24 * 3600)
#endif

/*
 * trust_lifetime():
 * The attestation lifetime in seconds (a day; in tests
 * SALLYPORT_TEST_LIFETIME may shorten it).
 *
 * Tests only: SALLYPORT_TEST_LIFETIME=N (seconds, 10 to TRUST_LIFETIME)
 * shortens the attestation lifetime, so sessions and channels reach their
 * end within a test.  It can only shorten it (which costs re-signing and
 * reconnects, never safety); anything else in it is ignored.
 */
uint64_t
trust_lifetime(void)
{
	static uint64_t lifetime;
	const char *v;
	char *end;
	unsigned long long n;

	if (lifetime != 0)
		return (lifetime);
	lifetime = TRUST_LIFETIME;
	if ((v = getenv("SALLYPORT_TEST_LIFETIME")) != NULL) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= 10 &&
		    n < TRUST_LIFETIME) {
			lifetime = n;
			log_warn("event=start test_lifetime=%llu", n);
		}
	}
	return (lifetime);
}

/*
 * trust_load(cfg, id, block, len, rv, extra, extralen, err, errlen):
 * Load what ${cfg} says about trust besides the key: its credential
 * files (for the identity ${id}) into ${block} (its size in ${len}) and
 * its revocation list, with the ${extralen} bytes of list at ${extra}
 * (the enrolment authority's, env->revoked_auth), into ${rv}.  Return
 * 0, or -1 with a message in ${err} (nothing held).
 */
int
trust_load(const struct config *cfg, const uint8_t id[IDENTITY_ID_LEN],
    uint8_t block[CRED_BLOCK_MAX], size_t *len, struct cred_revoked *rv,
    const char *extra, size_t extralen, char *err, size_t errlen)
{
	char msg[1024];

	memset(rv, 0, sizeof(*rv));
	if (cred_block_load(cfg->node.credential, cfg->node.ncredentials, id,
	    block, CRED_BLOCK_MAX, len, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "credential: %s", msg);
		return (-1);
	}
	if ((cfg->node.revoked[0] != '\0' || extralen > 0) &&
	    cred_revoked_load_with(rv, cfg->node.revoked[0] != '\0' ?
	    cfg->node.revoked : NULL, extra, extralen, msg, sizeof(msg)) ==
	    -1) {
		snprintf(err, errlen, "revoked: %s", msg);
		return (-1);
	}
	return (0);
}

/*
 * trust_resign(e, now):
 * Sign a new attestation (fresh static key, at the time ${now}) into the
 * spare generation of ${e}'s credentials and make it current; handshakes
 * in flight keep the old one, which is only overwritten a whole period
 * later.  Logged either way.
 */
void
trust_resign(struct env *e, uint64_t now)
{
	unsigned next = !e->cur;
	struct channel_local tmp;

	if (channel_local_init(&tmp, e->local[e->cur].id_priv, now,
	    trust_lifetime()) == -1) {
		log_error("event=resign error=failed");
		return; /* try again at the next period */
	}
	(void)channel_local_set_creds(&tmp, e->local[e->cur].creds,
	    e->local[e->cur].creds_len);
	channel_local_fini(&e->local[next]);
	e->local[next] = tmp;
	wipe(&tmp, sizeof(tmp));
	e->cur = next;
	log_info("event=resign expiry=%llu",
	    (unsigned long long)e->local[next].expiry);
}

/*
 * trust_protect(e):
 * Keep key material out of core dumps and swap (docs/security.md): no
 * core file at all (RLIMIT_CORE 0, on top of PR_SET_DUMPABLE); the pages
 * of ${e}'s credentials (identity key, static keys) locked and marked
 * MADV_DONTDUMP; and, when RLIMIT_MEMLOCK is unlimited (LimitMEMLOCK=
 * infinity or CAP_IPC_LOCK), every page, now and later (mlockall), so the
 * per-connection keys never reach swap either.  With a finite limit
 * mlockall is not tried (later allocations would fail at the limit): the
 * fallback is logged.
 */
void
trust_protect(struct env *e)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)&e->local, b = a + sizeof(e->local);
	struct rlimit rl = {0, 0};
	const char *keys = "locked";

	(void)setrlimit(RLIMIT_CORE, &rl);
	if (pg <= 0)
		pg = 4096;
	a &= ~((uintptr_t)pg - 1);
	b = (b + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	if (madvise((void *)a, b - a, MADV_DONTDUMP) == -1 ||
	    mlock((void *)a, b - a) == -1)
		keys = "unlocked";
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY &&
	    mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
		log_info("event=memlock scope=all credentials=%s", keys);
		return;
	}
	log_warn("event=memlock scope=credentials credentials=%s error=%s "
	    "fallback=\"connection keys may be swapped: set LimitMEMLOCK=infinity\" "
	    "hint=\"the limit is RLIMIT_MEMLOCK: systemd LimitMEMLOCK=infinity; "
	    "docker or podman run --ulimit memlock=-1:-1 (a container inherits the "
	    "engine's limit: 8 MiB by default since Linux 5.16, 64 KiB before); "
	    "Kubernetes has no per-pod limit, "
	    "the container runtime's applies (CRI-O default_ulimits, "
	    "containerd's own LimitMEMLOCK); on a node without swap (kubelet's "
	    "default) nothing is swapped; docs/security.md\"",
	    keys, strcmp(keys, "locked") == 0 ? "memlock-limit" : strerror(errno));
}

/*
 * Reload: the files ${cfg} names that the reload reads (key, credentials,
 * revocation list) must be where the sandbox lets the node read: its
 * Landlock rules were made at start and cannot grow.  Return 0, or -1
 * with "FILE:LINE: PATH: ..." and the fix in ${err}.
 */
static int
files_readable(const struct config *cfg, char *err, size_t errlen)
{
	const char *files[CONFIG_FILES_MAX];
	int lines[CONFIG_FILES_MAX];
	size_t n, k;

	n = config_files(cfg, files, lines);
	for (k = 0; k < n && sandbox_reads(files[k]); k++)
		;
	if (k == n)
		return (0);
	snprintf(err, errlen, "%.2048s:%d: %.2048s: outside the directories "
	    "the sandbox lets this node read (its Landlock rules are made at "
	    "start from the directories of the files named then); restart "
	    "the node to use a new directory", cfg->path, lines[k], files[k]);
	return (-1);
}

/* The trust row: what a reload loaded, until it is committed. */
struct trust_row {
	struct part p;
	struct identity idn;
	struct channel_local creds; /* a new key's credentials */
	struct cred_revoked revoked;
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen;
	int have_idn, have_creds, renewed;
};

/* Start-up: the credential files and the revocation list. */
static int
trust_start(struct part *p)
{
	struct env *e = p->host->env;
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen;
	char err[2048];

	if (trust_load(e->cfg, p->host->idn->id, block, &blen, &e->revoked,
	    e->revoked_auth, e->revoked_auth_len, err, sizeof(err)) == -1) {
		log_error("event=start error=config path=%s detail=\"%s\"",
		    e->cfg->path, err);
		return (-1);
	}
	memcpy(e->files_creds, block, blen);
	e->files_len = blen;
	env_creds_present(e, block, &blen);
	return (0);
}

/* Undo trust_prepare (and what trust_commit did not take). */
static void
trust_abort(struct part *p, struct part_reload *r)
{
	struct trust_row *t = (struct trust_row *)p;

	(void)r;
	if (t->have_creds)
		channel_local_fini(&t->creds);
	cred_revoked_free(&t->revoked);
	if (t->have_idn)
		identity_fini(&t->idn);
	t->have_creds = t->have_idn = 0;
	wipe(t->block, sizeof(t->block));
}

/* Reload: the key, the credentials for it, the revocation list. */
static int
trust_prepare(struct part *p, struct part_reload *r)
{
	struct trust_row *t = (struct trust_row *)p;
	struct env *e = p->host->env;
	const struct config *cfg = r->cfg;
	char msg[1024];

	t->blen = 0;
	t->renewed = 0;
	memset(&t->revoked, 0, sizeof(t->revoked));
	if (files_readable(cfg, r->err, r->errlen) == -1)
		return (-1);
	if (identity_load(&t->idn, cfg->node.identity, 0, msg, sizeof(msg)) ==
	    -1) {
		snprintf(r->err, r->errlen, "%s:%d: %s", cfg->path,
		    cfg->node.identity_line, msg);
		return (-1);
	}
	t->have_idn = 1;
	if (trust_load(cfg, t->idn.id, t->block, &t->blen, &t->revoked,
	    e->revoked_auth, e->revoked_auth_len, msg, sizeof(msg)) == -1) {
		snprintf(r->err, r->errlen, "%s: %s", cfg->path, msg);
		goto fail;
	}
	r->rotated = memcmp(t->idn.id, e->local[e->cur].id,
	    IDENTITY_ID_LEN) != 0;
	if (r->rotated) {
		if (channel_local_init(&t->creds, t->idn.priv,
		    (uint64_t)ev_now(e->loop), trust_lifetime()) == -1) {
			snprintf(r->err, r->errlen, "channel credentials");
			goto fail;
		}
		t->have_creds = 1;
	}
	return (0);
fail:
	trust_abort(p, r);
	return (-1);
}

/* Swap in the key, the credentials and the revocation list. */
static void
trust_commit(struct part *p, struct part_reload *r)
{
	struct trust_row *t = (struct trust_row *)p;
	struct env *e = p->host->env;
	uint8_t old[CRED_BLOCK_MAX];
	size_t old_len;

	if (t->have_creds) {
		channel_local_fini(&e->local[!e->cur]);
		e->local[!e->cur] = t->creds;
		wipe(&t->creds, sizeof(t->creds));
		e->cur = !e->cur;
		t->have_creds = 0;
	}
	/* The credentials presented from now on (renewed files), and the
	 * revocation list the revocation passes apply. */
	memcpy(e->files_creds, t->block, t->blen);
	e->files_len = t->blen;
	old_len = e->local[e->cur].creds_len;
	memcpy(old, e->local[e->cur].creds, old_len);
	env_creds_present(e, t->block, &t->blen);
	t->renewed = !r->rotated && (e->local[e->cur].creds_len != old_len ||
	    memcmp(e->local[e->cur].creds, old, old_len) != 0);
	cred_revoked_free(&e->revoked);
	e->revoked = t->revoked;
	memset(&t->revoked, 0, sizeof(t->revoked)); /* env owns it now */
	if (r->rotated) {
		/* Tickets name the old identity: full handshakes from now. */
		resumecache_drop(e->resume_out, NULL);
		resumecache_drop(e->resume_in, NULL);
	}
}

/*
 * After every other row: live channels and relay sessions get renewed
 * credentials (an empty block if none is left), so that what peers
 * admitted by our credential outlives the old one.
 */
static void
trust_revoke(struct part *p, struct part_reload *r)
{
	struct trust_row *t = (struct trust_row *)p;
	struct env *e = p->host->env;
	unsigned nconns, nsess;

	(void)r;
	if (t->renewed) {
		nconns = env_send_creds(e, t->block, t->blen);
		nsess = dialout_send_creds_all(e, t->block, t->blen);
		log_info("event=credentials-renewed connections=%u "
		    "sessions=%u", nconns, nsess);
	}
	trust_abort(p, r); /* the key is in the credentials now */
}

/*
 * Every second: wipe the expired resumption tickets (their secrets are
 * of no use any more).
 */
static unsigned
trust_expire(struct part *p)
{
	struct env *e = p->host->env;
	uint64_t now = (uint64_t)ev_now(e->loop);

	(void)resumecache_expire(e->resume_out, now);
	(void)resumecache_expire(e->resume_in, now);
	return (0);
}

/*
 * trust_part:
 * The row of the node's trust (see trust.h).  The keys and the list it
 * swapped in are the environment's, freed with it.
 */
const struct part_ops trust_part = {
	.name = "trust",
	.size = sizeof(struct trust_row),
	.start = trust_start,
	.prepare = trust_prepare,
	.abort = trust_abort,
	.commit = trust_commit,
	.revoke = trust_revoke,
	.expire = trust_expire,
};
