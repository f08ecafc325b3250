/*
 * metrics: the process's counters, gauges and histograms in plain fixed
 * structs, and the Prometheus text writer (exposition format 0.0.4).  One
 * registry per process (a static table here): events bump it where they
 * happen (conn.c, env.c) through a handle to their series, resolved once
 * (metrics_series), objects that hold a count (the relay) register a
 * collector that sets their gauges just before a scrape.  Bounded: a
 * fixed set of families, at most METRICS_SERIES_MAX label combinations
 * each (more are counted in sallyport_metrics_series_dropped_total, never
 * stored).  Labels have low cardinality by contract: role, name, service,
 * reason, decision, status; never a peer identifier or an address.  No
 * sockets, no libev, no clock reads.
 */
#ifndef SALLYPORT_METRICS_H
#define SALLYPORT_METRICS_H

#include <stddef.h>

/* Label combinations per family: room for every role's end reasons
 * (conn.h: 3 roles x 33 reasons, all resolved when a context is made). */
#define METRICS_SERIES_MAX 128
#define METRICS_LABEL_MAX 32  /* bytes of a label value, with the NUL */
#define METRICS_BUCKETS 12    /* histogram buckets, +Inf apart */

/* The families; docs/logging.md lists their names, labels and meaning. */
enum metrics_id {
	METRICS_BUILD_INFO,         /* gauge {version, aes} = 1 */
	METRICS_CONN_OPENED,        /* counter {role, name} */
	METRICS_CONN_CLOSED,        /* counter {role, reason} (opened ones) */
	METRICS_CONN_ACTIVE,        /* gauge {role} */
	METRICS_BYTES_RECEIVED,     /* counter {role}: from plain sockets */
	METRICS_BYTES_SENT,         /* counter {role}: to plain sockets */
	METRICS_HANDSHAKE_SECONDS,  /* histogram {role} */
	METRICS_HANDSHAKE_FAILURES, /* counter {role, reason} */
	METRICS_ACCESS_DECISIONS,   /* counter {role, decision, reason} */
	METRICS_RELAY_SESSIONS,     /* gauge {kind} */
	METRICS_RELAY_REGISTRANTS,  /* gauge {service} */
	METRICS_RELAY_POOLED,       /* gauge {service} */
	METRICS_RELAY_PAIRS,        /* gauge */
	METRICS_RELAY_PIPES,        /* gauge {state}: the pipe pool */
	METRICS_RELOADS,            /* counter {status} */
	METRICS_ATTEST_HITS,        /* counter */
	METRICS_ATTEST_MISSES,      /* counter */
	METRICS_SIG_VERIFIES,       /* counter: every P-256 verification */
	METRICS_SERIES_DROPPED,     /* counter: series that did not fit */
	METRICS_REFUSED,            /* counter {role, reason}: limits */
	METRICS_DIALS_QUEUED,       /* counter {name}: target dials queued */
	METRICS_DIALS_WAITING,      /* gauge {name}: target dials queued now */
	METRICS_AUTHORITY_ENROLMENTS, /* counter {result} */
	METRICS_AUTHORITY_RENEWALS, /* counter {result} */
	METRICS_AUTHORITY_TOKENS,   /* gauge {authority}: tokens outstanding */
	METRICS_CRED_EXPIRY,        /* gauge {authority}: our credential's */
	METRICS_CRED_RENEWALS,      /* counter {authority, result} */
	METRICS_WARM_CHANNELS,      /* gauge {role}: conns in WARM now */
	METRICS_WARM_TAKEN,         /* counter {name}: clients given one */
	METRICS_COUNT
};

/*
 * A handle to one series (a family and its label values): resolved once
 * by its owner (the part, listener or role that counts in it, when it is
 * made, or on its first event, then kept), so that an event is an add
 * through the handle and no search of the registry by label text.
 *
 * Lifetime (the contract every cached handle relies on): a handle is
 * valid for the life of the process.  Series live in the static registry
 * and are never freed or moved; once a handle to a series was given out,
 * that series keeps its label values forever (its slot is never used for
 * another label set).  metrics_reset() and metrics_clear() only zero and
 * hide series: a handle kept across them stays valid, still names the
 * same labels, and counts from zero again; its series shows in the text
 * again at its next metrics_inc()/metrics_observe(), in the order series
 * (re)appear after the reset, as a new series would.  So an owner (a
 * role rebuilt by a reload, a listener, a connection handed over) may
 * drop its handles with itself, or keep them, without ever freeing one.
 *
 * A series shows in the text from its first update, not from the moment
 * its handle is resolved (a handle resolved but never used writes
 * nothing).  A family with no room left for a new label set (more than
 * METRICS_SERIES_MAX) hands out a handle that counts nothing but one
 * sallyport_metrics_series_dropped_total per update made through it.
 */
struct metrics_series;

/*
 * metrics_series(id, l1, l2, l3):
 * The handle of the series of ${id} with the label values ${l1}, ${l2},
 * ${l3} (as many as the family has; the rest NULL; a NULL value is
 * written "-"), made (hidden until its first update) if new.  Values are
 * copied, cut at METRICS_LABEL_MAX - 1 bytes.  Never NULL; valid for the
 * life of the process (see above).
 */
struct metrics_series *metrics_series(enum metrics_id id, const char *l1,
    const char *l2, const char *l3);

/*
 * metrics_inc(s, by):
 * Add ${by} to the counter or gauge ${s} (a metrics_series() handle).
 */
void metrics_inc(struct metrics_series *s, double by);

/*
 * metrics_observe(s, v):
 * Count the observation ${v} in the histogram ${s} (a metrics_series()
 * handle).
 */
void metrics_observe(struct metrics_series *s, double v);

/*
 * A collector: ${fn}(${arg}) runs before every scrape and sets gauges
 * with metrics_reset()/metrics_set().  Embedded by value in its owner.
 */
struct metrics_collector {
	void (*fn)(void *arg);
	void *arg;
	struct metrics_collector *next;
};

/*
 * metrics_add(id, by, l1, l2, l3):
 * Add ${by} to the series of ${id} with the label values ${l1}, ${l2},
 * ${l3} (as metrics_series()), looked up by its labels: for collectors,
 * which run once per scrape; an event counts through its handle.
 */
void metrics_add(enum metrics_id id, double by, const char *l1,
    const char *l2, const char *l3);

/*
 * metrics_set(id, v, l1, l2, l3):
 * As metrics_add(), but set the series to ${v}.
 */
void metrics_set(enum metrics_id id, double v, const char *l1,
    const char *l2, const char *l3);

/*
 * metrics_reset(id):
 * Zero and hide every series of ${id} (a collector starts over); handles
 * stay valid (see above).
 */
void metrics_reset(enum metrics_id id);

/*
 * metrics_get(id, l1, l2, l3):
 * The value of a series (a histogram: its count), 0 if absent or hidden;
 * makes nothing.  Tests.
 */
double metrics_get(enum metrics_id id, const char *l1, const char *l2,
    const char *l3);

/*
 * metrics_collector_add(c, fn, arg):
 * Register ${c} (borrowed until metrics_collector_remove) to run
 * ${fn}(${arg}) before every scrape.
 */
void metrics_collector_add(struct metrics_collector *c, void (*fn)(void *),
    void *arg);

/*
 * metrics_collector_remove(c):
 * Unregister ${c}; one not registered is ignored.
 */
void metrics_collector_remove(struct metrics_collector *c);

/*
 * metrics_text(buf, cap):
 * Run the collectors, then write every family in the Prometheus text
 * format into ${buf} (at most ${cap} bytes, NUL-terminated if ${cap} >
 * 0).  Return the length the whole text needs, without the NUL (as
 * snprintf): call with a NULL ${buf} and 0 to size the buffer.
 */
size_t metrics_text(char *buf, size_t cap);

/*
 * metrics_clear():
 * Zero and hide every series and drop the collectors (tests); handles
 * stay valid (see above).
 */
void metrics_clear(void);

#endif
