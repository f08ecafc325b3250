/*
 * bench_authstore: what an enrolment and a renewal cost in the
 * authority's store on this machine (never run as a test): each one a
 * BEGIN IMMEDIATE transaction committed with synchronous=FULL in WAL
 * mode, so each waits for its fsync.
 *
 *   bench/bench_authstore [N [DIR]]
 *
 * N enrolments (default 500), each with its own single-use token, then N
 * renewals of those members; once with a signer that only copies bytes
 * (the store's own cost) and once signing each credential with ECDSA
 * P-256 (cred_sign, what the authority does).  Prints per phase:
 * operations per second and the latency of one call (p50, p99, max).
 * DIR (default ".") must be on the disk the store will live on: a tmpfs
 * has no fsync to wait for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authstore.h"
#include "authtoken.h"
#include "cred.h"
#include "crypto.h"
#include "identity.h"

static struct identity ca;

/* Copy the serial into 12 bytes: the store's cost alone. */
static int
issue_copy(void *arg, const struct authstore_member *m, uint8_t *cred,
    size_t cap, size_t *len)
{

	(void)arg;
	if (cap < 12)
		return (-1);
	memcpy(cred, "cred", 4);
	memcpy(cred + 4, &m->serial, 8);
	*len = 12;
	return (0);
}

/* Sign a one-hour credential for ${m} with the authority key. */
static int
issue_sign(void *arg, const struct authstore_member *m, uint8_t *cred,
    size_t cap, size_t *len)
{
	struct cred c;

	(void)arg;
	memset(&c, 0, sizeof(c));
	memcpy(c.subject, m->id, CRED_ID_LEN);
	c.serial = m->serial;
	c.not_before = 1700000000;
	c.not_after = c.not_before + 3600;
	c.nattrs = m->nattrs;
	memcpy(c.attrs, m->attrs, sizeof(c.attrs));
	return (cred_sign(&c, ca.priv, cred, cap, len));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Print a phase: ${n} latencies in ${lat} (sorted here), over ${total} s. */
static void
report(const char *what, double *lat, size_t n, double total)
{

	qsort(lat, n, sizeof(*lat), dcmp);
	printf("%-22s %6.0f/s   p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms\n",
	    what, (double)n / total, lat[n / 2] * 1e3, lat[n * 99 / 100] * 1e3,
	    lat[n - 1] * 1e3);
}

/* One round: N enrolments then N renewals with the signer ${issue}. */
static int
round_run(const char *dir, size_t n, authstore_issue_fn issue,
    const char *label)
{
	struct authstore *st;
	struct authstore_member m;
	struct cred_attr a;
	uint8_t (*ids)[CRED_ID_LEN], (*hashes)[CRYPTO_HASH_LEN];
	uint8_t secret[AUTHTOKEN_SECRET_LEN], cred[CRED_MAX_LEN];
	uint64_t *serials, now = 1700000000;
	double *lat, t0, t, total;
	char path[4096], ref[AUTHTOKEN_REF_TEXT], err[512], what[64];
	size_t i, len;

	snprintf(path, sizeof(path), "%s/bench-authstore-%ld.db", dir,
	    (long)getpid());
	ids = calloc(n, sizeof(*ids));
	hashes = calloc(n, sizeof(*hashes));
	serials = calloc(n, sizeof(*serials));
	lat = calloc(n, sizeof(*lat));
	if (ids == NULL || hashes == NULL || serials == NULL || lat == NULL ||
	    authstore_open(&st, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_authstore: %s\n", err);
		return (-1);
	}
	strcpy(a.key, "role");
	strcpy(a.value, "web");
	for (i = 0; i < n; i++) {
		if (crypto_random(secret, sizeof(secret)) == -1 ||
		    crypto_random(ids[i], CRED_ID_LEN) == -1)
			return (-1);
		authtoken_hash(secret, hashes[i]);
		if (authstore_token_add(st, hashes[i], &a, 1, 1, now + 600,
		    "bench", now, err, sizeof(err)) != AUTHSTORE_OK) {
			fprintf(stderr, "bench_authstore: %s\n", err);
			return (-1);
		}
	}
	total = 0;
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if (authstore_enrol(st, hashes[i], ids[i], now, issue, NULL, &m,
		    ref, cred, sizeof(cred), &len, err, sizeof(err)) !=
		    AUTHSTORE_OK) {
			fprintf(stderr, "bench_authstore: enrol: %s\n", err);
			return (-1);
		}
		t = now_s() - t0;
		lat[i] = t;
		total += t;
		serials[i] = m.serial;
	}
	snprintf(what, sizeof(what), "enrol (%s)", label);
	report(what, lat, n, total);
	total = 0;
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if (authstore_renew(st, ids[i], serials[i], now, issue, NULL,
		    &m, cred, sizeof(cred), &len, err, sizeof(err)) !=
		    AUTHSTORE_OK) {
			fprintf(stderr, "bench_authstore: renew: %s\n", err);
			return (-1);
		}
		t = now_s() - t0;
		lat[i] = t;
		total += t;
	}
	snprintf(what, sizeof(what), "renew (%s)", label);
	report(what, lat, n, total);
	authstore_close(st);
	unlink(path); /* the last close removed -wal and -shm */
	free(ids);
	free(hashes);
	free(serials);
	free(lat);
	return (0);
}

int
main(int argc, char *argv[])
{
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 500;
	const char *dir = argc > 2 ? argv[2] : ".";

	if (n < 2 || crypto_init() == -1 || identity_generate(&ca) == -1) {
		fprintf(stderr, "usage: bench_authstore [N >= 2 [DIR]]\n");
		return (1);
	}
	printf("bench_authstore: %zu each, store in %s, synchronous=FULL, "
	    "WAL\n", n, dir);
	if (round_run(dir, n, issue_copy, "store only") == -1 ||
	    round_run(dir, n, issue_sign, "with ECDSA") == -1)
		return (1);
	identity_fini(&ca);
	return (0);
}
