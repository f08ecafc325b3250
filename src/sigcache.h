/*
 * sigcache: the signatures a node has verified (identity attestations in
 * channel.c, credential signatures in acl.c), so that steady-state
 * handshakes skip ECDSA, and those that recently failed, so that forged
 * bytes sent again cost no verification either.  Keys are 32-byte hashes
 * of what was verified; the caller chooses them.  Pure: no fds, no libev,
 * no clock reads (callers pass "now" in seconds).  Never holds a secret.
 */
#ifndef SALLYPORT_SIGCACHE_H
#define SALLYPORT_SIGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* Cache of verified signatures, so steady-state handshakes skip ECDSA. */
struct sigcache;

/*
 * sigcache_new(entries):
 * A cache holding up to ${entries} verified signatures (rounded up to a
 * multiple of 4, at least 4; at most 1 << 20).  NULL on ENOMEM or a size
 * out of range.
 */
struct sigcache *sigcache_new(size_t entries);

/*
 * sigcache_free(cache):
 * Free ${cache}; NULL does nothing.  No channel may still borrow it.
 */
void sigcache_free(struct sigcache *cache);

/*
 * sigcache_stats(cache, hits, misses):
 * Store how many signature checks ${cache} answered (${hits}) and how
 * many needed an ECDSA verification (${misses}).
 */
void sigcache_stats(const struct sigcache *cache, uint64_t *hits,
    uint64_t *misses);

/*
 * sigcache_seen(cache, key), sigcache_add(cache, key):
 * Whether the 32-byte ${key} of a verified signature is there (counted as
 * a hit or a miss; a hit counts as a use), and remember it, replacing an
 * empty or the least recently used entry of its set.  ${cache} may be
 * NULL (never seen).
 */
int sigcache_seen(struct sigcache *cache, const uint8_t key[CRYPTO_HASH_LEN]);
void sigcache_add(struct sigcache *cache, const uint8_t key[CRYPTO_HASH_LEN]);

/*
 * sigcache_bad(cache, key, now), sigcache_add_bad(cache, key, now):
 * Signatures that failed (forged credentials), remembered for
 * SIGCACHE_BAD_LIFE seconds in a ring of their own of SIGCACHE_BAD
 * entries, so a bad one never pushes out a verified one: whether the
 * 32-byte ${key} (a hash of the signed bytes) failed at most that long
 * before ${now}, and remember that it failed.  ${cache} may be NULL
 * (nothing remembered).
 */
#define SIGCACHE_BAD 64
#define SIGCACHE_BAD_LIFE 60
int sigcache_bad(const struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN], uint64_t now);
void sigcache_add_bad(struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN], uint64_t now);

#endif
