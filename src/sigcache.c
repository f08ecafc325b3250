/*
 * sigcache: verified signatures and recently failed ones.  See sigcache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sigcache.h"

/* Cache geometry: sets of CACHE_WAYS entries, least recently used out. */
#define CACHE_WAYS 4
#define CACHE_MAX_ENTRIES ((size_t)1 << 20)

struct cache_entry {
	uint8_t key[CRYPTO_HASH_LEN]; /* the caller's hash */
	uint64_t used;                /* 0: empty, else last use tick */
};

struct bad_entry {
	uint8_t key[CRYPTO_HASH_LEN];
	uint64_t until; /* forgotten from then on (0: empty) */
};

struct sigcache {
	size_t nsets;
	uint64_t tick;
	uint64_t hits, misses;
	struct bad_entry bad[SIGCACHE_BAD]; /* a ring, oldest out */
	size_t bad_next;
	struct cache_entry e[];
};

/*
 * sigcache_new(entries):
 * A cache holding up to ${entries} verified signatures (rounded up to a
 * multiple of 4, at least 4; at most 1 << 20).  NULL on ENOMEM or a size
 * out of range.
 */
struct sigcache *
sigcache_new(size_t entries)
{
	struct sigcache *cache;
	size_t nsets;

	if (entries > CACHE_MAX_ENTRIES)
		return (NULL);
	nsets = (entries + CACHE_WAYS - 1) / CACHE_WAYS;
	if (nsets == 0)
		nsets = 1;
	if ((cache = calloc(1, sizeof(*cache) + nsets * CACHE_WAYS *
	    sizeof(struct cache_entry))) == NULL)
		return (NULL);
	cache->nsets = nsets;
	return (cache);
}

/*
 * sigcache_free(cache):
 * Free ${cache}; NULL does nothing.  No channel may still borrow it.
 */
void
sigcache_free(struct sigcache *cache)
{

	free(cache);
}

/*
 * sigcache_stats(cache, hits, misses):
 * Store how many signature checks ${cache} answered (${hits}) and how
 * many needed an ECDSA verification (${misses}).
 */
void
sigcache_stats(const struct sigcache *cache, uint64_t *hits,
    uint64_t *misses)
{

	*hits = cache->hits;
	*misses = cache->misses;
}

/* The set of ${cache} that ${key} belongs to. */
static struct cache_entry *
cache_set(struct sigcache *cache, const uint8_t key[CRYPTO_HASH_LEN])
{
	uint32_t h;

	/* The key is a SHA-256 output: any four bytes spread evenly. */
	h = ((uint32_t)key[0] << 24) | ((uint32_t)key[1] << 16) |
	    ((uint32_t)key[2] << 8) | key[3];
	return (&cache->e[(h % cache->nsets) * CACHE_WAYS]);
}

/* Return 1 (and refresh it) if ${key} is in ${cache}, else 0. */
static int
cache_lookup(struct sigcache *cache, const uint8_t key[CRYPTO_HASH_LEN])
{
	struct cache_entry *set = cache_set(cache, key);
	int i;

	for (i = 0; i < CACHE_WAYS; i++) {
		if (set[i].used != 0 &&
		    ct_eq(set[i].key, key, CRYPTO_HASH_LEN)) {
			set[i].used = ++cache->tick;
			return (1);
		}
	}
	return (0);
}

/* Remember ${key}, replacing an empty or the least recently used entry. */
static void
cache_insert(struct sigcache *cache, const uint8_t key[CRYPTO_HASH_LEN])
{
	struct cache_entry *set = cache_set(cache, key);
	struct cache_entry *victim = &set[0];
	int i;

	for (i = 1; i < CACHE_WAYS; i++)
		if (set[i].used < victim->used)
			victim = &set[i];
	memcpy(victim->key, key, CRYPTO_HASH_LEN);
	victim->used = ++cache->tick;
}

/*
 * sigcache_seen(cache, key), sigcache_add(cache, key):
 * Whether the 32-byte ${key} of a verified signature is there (counted as
 * a hit or a miss; a hit counts as a use), and remember it, replacing an
 * empty or the least recently used entry of its set.  ${cache} may be
 * NULL (never seen).
 */
int
sigcache_seen(struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN])
{

	if (cache == NULL)
		return (0);
	if (cache_lookup(cache, key)) {
		cache->hits++;
		return (1);
	}
	cache->misses++;
	return (0);
}

void
sigcache_add(struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN])
{

	if (cache != NULL)
		cache_insert(cache, key);
}

/*
 * sigcache_bad(cache, key, now), sigcache_add_bad(cache, key, now):
 * Whether ${key} failed a verification in the last SIGCACHE_BAD_LIFE
 * seconds before ${now}; remember that it did (the oldest entry goes).
 */
int
sigcache_bad(const struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN], uint64_t now)
{
	size_t i;

	for (i = 0; cache != NULL && i < SIGCACHE_BAD; i++)
		if (now < cache->bad[i].until &&
		    memcmp(cache->bad[i].key, key, CRYPTO_HASH_LEN) == 0)
			return (1);
	return (0);
}

void
sigcache_add_bad(struct sigcache *cache,
    const uint8_t key[CRYPTO_HASH_LEN], uint64_t now)
{
	struct bad_entry *b;

	if (cache == NULL)
		return;
	b = &cache->bad[cache->bad_next++ % SIGCACHE_BAD];
	memcpy(b->key, key, CRYPTO_HASH_LEN);
	b->until = now + SIGCACHE_BAD_LIFE;
}
