/*
 * metrics: see metrics.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

enum mtype { T_COUNTER, T_GAUGE, T_HISTOGRAM };

/* A series (struct metrics_series is its handle). */
struct metrics_series {
	char lv[3][METRICS_LABEL_MAX];
	double v;                           /* counter, gauge */
	unsigned long long b[METRICS_BUCKETS]; /* histogram: per bucket */
	unsigned long long count;
	double sum;
	enum metrics_id id; /* its family */
	unsigned held : 1;  /* a handle was given out: its labels stay */
	unsigned shown : 1; /* updated since made or reset: in the text */
};

struct family {
	const char *name;
	const char *help;
	enum mtype type;
	const char *labels[3]; /* label names, NULL-terminated early */
	size_t n;              /* its slots (slots[]) ever used */
	size_t nshown;
	struct metrics_series *shown[METRICS_SERIES_MAX]; /* in text order */
};

/* The series of each family: zeroed storage, its pages touched as used. */
static struct metrics_series slots[METRICS_COUNT][METRICS_SERIES_MAX];

/* Handshake durations: 1 ms to 10 s (the default handshake timeout). */
static const double buckets[METRICS_BUCKETS] = {0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1., 2.5, 10.};

/* A family: designated fields, its series start empty. */
#define FAM(nm, hl, ty, l1, l2, l3)                                           \
	{.name = (nm), .help = (hl), .type = (ty), .labels = {l1, l2, l3}}

/* The registry, in enum metrics_id order. */
static struct family fam[METRICS_COUNT] = {
    FAM("sallyport_build_info", "Version and AES implementation; always 1.",
	T_GAUGE, "version", "aes", NULL),
    FAM("sallyport_connections_opened_total",
	"Tunneled connections that opened (handshake done, bytes flow).",
	T_COUNTER, "role", "name", NULL),
    FAM("sallyport_connections_closed_total",
	"Opened connections that closed, by reason.", T_COUNTER,
	"role", "reason", NULL),
    FAM("sallyport_connections_active", "Open tunneled connections.", T_GAUGE,
	"role", NULL, NULL),
    FAM("sallyport_received_bytes_total",
	"Plaintext bytes read from local plain sockets.", T_COUNTER,
	"role", NULL, NULL),
    FAM("sallyport_sent_bytes_total",
	"Plaintext bytes written to local plain sockets.", T_COUNTER,
	"role", NULL, NULL),
    FAM("sallyport_handshake_duration_seconds",
	"From accept or dial to open: dial, handshake, access decision, "
	"target connect.", T_HISTOGRAM, "role", NULL, NULL),
    FAM("sallyport_handshake_failures_total",
	"Connections that ended before they opened, by reason.", T_COUNTER,
	"role", "reason", NULL),
    FAM("sallyport_access_decisions_total",
	"Access decisions (audit lines) by decision and reason.", T_COUNTER,
	"role", "decision", "reason"),
    FAM("sallyport_relay_sessions", "Sessions held by the relay, by kind.",
	T_GAUGE, "kind", NULL, NULL),
    FAM("sallyport_relay_registrants",
	"Live registrations at the relay, by service.", T_GAUGE,
	"service", NULL, NULL),
    FAM("sallyport_relay_pooled_connections",
	"Ready pooled connections at the relay, by service.", T_GAUGE,
	"service", NULL, NULL),
    FAM("sallyport_relay_pairs", "Client connections the relay splices.",
	T_GAUGE, NULL, NULL, NULL),
    FAM("sallyport_relay_pipes",
	"Pipes of the relay's pool: idle (kept) or busy (bytes in flight).",
	T_GAUGE, "state", NULL, NULL),
    FAM("sallyport_reloads_total", "Configuration reloads, by status.",
	T_COUNTER, "status", NULL, NULL),
    FAM("sallyport_attestation_cache_hits_total",
	"Peer attestations answered by the cache (no ECDSA).", T_COUNTER,
	NULL, NULL, NULL),
    FAM("sallyport_attestation_cache_misses_total",
	"Peer attestations that needed an ECDSA verification.", T_COUNTER,
	NULL, NULL, NULL),
    FAM("sallyport_signature_verifications_total",
	"P-256 signature verifications run (attestations, credentials), "
	"valid or not.", T_COUNTER, NULL, NULL, NULL),
    FAM("sallyport_metrics_series_dropped_total",
	"Metric updates lost because a family had no room for a new "
	"series.", T_COUNTER, NULL, NULL, NULL),
    FAM("sallyport_refused_total",
	"Connections a limit refused, reset or kept waiting in the listen "
	"backlog (refuse, backlog lines), by reason.", T_COUNTER,
	"role", "reason", NULL),
    FAM("sallyport_target_dials_queued_total",
	"Target dials of an outlet that waited for a free slot of its "
	"max_dials.", T_COUNTER, "name", NULL, NULL),
    FAM("sallyport_target_dials_waiting",
	"Target dials of an outlet waiting for a slot now.", T_GAUGE,
	"name", NULL, NULL),
    FAM("sallyport_authority_enrolments_total",
	"Enrolments this node's authority answered, by result (ok or the "
	"refusal word).", T_COUNTER, "result", NULL, NULL),
    FAM("sallyport_authority_renewals_total",
	"Renewals this node's authority answered, by result (ok or the "
	"refusal word).", T_COUNTER, "result", NULL, NULL),
    FAM("sallyport_authority_tokens_outstanding",
	"Enrolment tokens with uses left and not expired, per authority.",
	T_GAUGE, "authority", NULL, NULL),
    FAM("sallyport_credential_expiry_seconds",
	"When the credential this node enrolled for expires (seconds since "
	"the epoch), per authority.", T_GAUGE, "authority", NULL, NULL),
    FAM("sallyport_credential_renewals_total",
	"This node's enrolments and renewals, by authority and result (ok, "
	"unreachable or the refusal word).", T_COUNTER, "authority",
	"result", NULL),
    FAM("sallyport_warm_channels",
	"Channels made ahead of a client, waiting for one (an inlet's warm "
	"channels; at an outlet, channels waiting for their request).",
	T_GAUGE, "role", NULL, NULL),
    FAM("sallyport_warm_taken_total",
	"Client connections of an inlet that took a warm channel.",
	T_COUNTER, "name", NULL, NULL),
};

static struct metrics_collector *collectors;

/* The handle a full family hands out: it counts series_dropped only. */
static struct metrics_series lost;

/* How many labels ${f} has. */
static size_t
nlabels(const struct family *f)
{
	size_t k = 0;

	while (k < 3 && f->labels[k] != NULL)
		k++;
	return (k);
}

/* Copy the label value ${v} into ${dst}: printable ASCII, cut short. */
static void
label_copy(char *dst, const char *v)
{
	size_t i;

	if (v == NULL)
		v = "-";
	for (i = 0; v[i] != '\0' && i < METRICS_LABEL_MAX - 1; i++) {
		unsigned char ch = (unsigned char)v[i];

		dst[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	dst[i] = '\0';
}

/*
 * The series of ${id} with these labels; one not there is made (hidden)
 * if ${make}, in a slot never used or one hidden that no handle holds;
 * NULL if absent (or the family is full).
 */
static struct metrics_series *
lookup(enum metrics_id id, const char *l1, const char *l2, const char *l3,
    int make)
{
	struct family *f = &fam[id];
	struct metrics_series *s = NULL, *fs = slots[id];
	const char *in[3] = {l1, l2, l3};
	char want[3][METRICS_LABEL_MAX];
	size_t i, k, nl = nlabels(f);

	for (k = 0; k < nl; k++)
		label_copy(want[k], in[k]);
	for (i = 0; i < f->n; i++) {
		for (k = 0; k < nl; k++)
			if (strcmp(fs[i].lv[k], want[k]) != 0)
				break;
		if (k == nl)
			return (&fs[i]);
	}
	if (!make)
		return (NULL);
	if (f->n < METRICS_SERIES_MAX)
		s = &fs[f->n++];
	for (i = 0; s == NULL && i < f->n; i++)
		if (!fs[i].held && !fs[i].shown)
			s = &fs[i];
	if (s == NULL)
		return (NULL);
	memset(s, 0, sizeof(*s));
	s->id = id;
	for (k = 0; k < nl; k++)
		memcpy(s->lv[k], want[k], METRICS_LABEL_MAX);
	return (s);
}

/*
 * An update of ${s} (NULL or &lost: no room for its series) comes: ${s},
 * shown in the text from now on (after the others), to be updated, or
 * NULL after counting the update as dropped.
 */
static struct metrics_series *
updated(struct metrics_series *s)
{
	struct family *f;

	if (s == NULL || s == &lost) {
		/* Its one series (no labels) is always found or made. */
		updated(lookup(METRICS_SERIES_DROPPED, NULL, NULL, NULL, 1))->v++;
		return (NULL);
	}
	f = &fam[s->id];
	if (!s->shown) {
		s->shown = 1;
		f->shown[f->nshown++] = s;
	}
	return (s);
}

/*
 * metrics_series(id, l1, l2, l3):
 * The handle of the series of ${id} with the label values ${l1}, ${l2},
 * ${l3} (as many as the family has; the rest NULL; a NULL value is
 * written "-"), made (hidden until its first update) if new.  Values are
 * copied, cut at METRICS_LABEL_MAX - 1 bytes.  Never NULL; valid for the
 * life of the process (see above).
 */
struct metrics_series *
metrics_series(enum metrics_id id, const char *l1, const char *l2,
    const char *l3)
{
	struct metrics_series *s;

	if ((s = lookup(id, l1, l2, l3, 1)) == NULL)
		return (&lost);
	s->held = 1;
	return (s);
}

/*
 * metrics_inc(s, by):
 * Add ${by} to the counter or gauge ${s} (a metrics_series() handle).
 */
void
metrics_inc(struct metrics_series *s, double by)
{

	if ((s = updated(s)) != NULL)
		s->v += by;
}

/*
 * metrics_observe(s, v):
 * Count the observation ${v} in the histogram ${s} (a metrics_series()
 * handle).
 */
void
metrics_observe(struct metrics_series *s, double v)
{
	size_t i;

	if ((s = updated(s)) == NULL)
		return;
	for (i = 0; i < METRICS_BUCKETS; i++)
		if (v <= buckets[i]) {
			s->b[i]++;
			break;
		}
	s->count++;
	s->sum += v;
}

/*
 * metrics_add(id, by, l1, l2, l3):
 * Add ${by} to the series of ${id} with the label values ${l1}, ${l2},
 * ${l3} (as metrics_series()), looked up by its labels: for collectors,
 * which run once per scrape; an event counts through its handle.
 */
void
metrics_add(enum metrics_id id, double by, const char *l1, const char *l2,
    const char *l3)
{
	struct metrics_series *s;

	if ((s = updated(lookup(id, l1, l2, l3, 1))) != NULL)
		s->v += by;
}

/*
 * metrics_set(id, v, l1, l2, l3):
 * As metrics_add(), but set the series to ${v}.
 */
void
metrics_set(enum metrics_id id, double v, const char *l1, const char *l2,
    const char *l3)
{
	struct metrics_series *s;

	if ((s = updated(lookup(id, l1, l2, l3, 1))) != NULL)
		s->v = v;
}

/*
 * metrics_reset(id):
 * Zero and hide every series of ${id} (a collector starts over); handles
 * stay valid (see above).
 */
void
metrics_reset(enum metrics_id id)
{
	struct family *f = &fam[id];
	struct metrics_series *s;
	size_t i;

	for (i = 0; i < f->nshown; i++) {
		s = f->shown[i];
		s->v = s->sum = 0;
		s->count = 0;
		memset(s->b, 0, sizeof(s->b));
		s->shown = 0;
	}
	f->nshown = 0;
}

/*
 * metrics_get(id, l1, l2, l3):
 * The value of a series (a histogram: its count), 0 if absent or hidden;
 * makes nothing.  Tests.
 */
double
metrics_get(enum metrics_id id, const char *l1, const char *l2,
    const char *l3)
{
	struct metrics_series *s;

	if ((s = lookup(id, l1, l2, l3, 0)) == NULL || !s->shown)
		return (0);
	return (fam[id].type == T_HISTOGRAM ? (double)s->count : s->v);
}

/*
 * metrics_collector_add(c, fn, arg):
 * Register ${c} (borrowed until metrics_collector_remove) to run
 * ${fn}(${arg}) before every scrape.
 */
void
metrics_collector_add(struct metrics_collector *c, void (*fn)(void *),
    void *arg)
{

	c->fn = fn;
	c->arg = arg;
	c->next = collectors;
	collectors = c;
}

/*
 * metrics_collector_remove(c):
 * Unregister ${c}; one not registered is ignored.
 */
void
metrics_collector_remove(struct metrics_collector *c)
{
	struct metrics_collector **pp;

	for (pp = &collectors; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = NULL;
}

/* A bounded text sink with snprintf's "length needed" semantics. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
	    o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* Write the label value ${v} escaped (\\, \", \n: the format's rule). */
static void
out_label_value(struct out *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			out_printf(o, "\\%c", *v);
		else
			out_printf(o, "%c", *v);
	}
}

/*
 * Write the labels of ${s} in ${f} as {a="x",b="y"}, with ${extra} (a
 * le="..." text) last; nothing at all when there is neither.
 */
static void
out_labels(struct out *o, const struct family *f,
    const struct metrics_series *s, const char *extra)
{
	size_t k, nl = nlabels(f);

	if (nl == 0 && extra == NULL)
		return;
	out_printf(o, "{");
	for (k = 0; k < nl; k++) {
		out_printf(o, "%s%s=\"", k > 0 ? "," : "", f->labels[k]);
		out_label_value(o, s->lv[k]);
		out_printf(o, "\"");
	}
	if (extra != NULL)
		out_printf(o, "%s%s", nl > 0 ? "," : "", extra);
	out_printf(o, "}");
}

/* Write one family: HELP, TYPE, its series (a bare 0 if it has none). */
static void
out_family(struct out *o, const struct family *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct metrics_series *s;
	unsigned long long cum;
	char le[40];
	size_t i, j;

	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
	    f->name, types[f->type]);
	/* A family without labels always has its one series. */
	if (f->nshown == 0 && nlabels(f) == 0) {
		out_printf(o, "%s 0\n", f->name);
		return;
	}
	for (i = 0; i < f->nshown; i++) {
		s = f->shown[i];
		if (f->type != T_HISTOGRAM) {
			out_printf(o, "%s", f->name);
			out_labels(o, f, s, NULL);
			out_printf(o, " %.17g\n", s->v);
			continue;
		}
		cum = 0;
		for (j = 0; j < METRICS_BUCKETS; j++) {
			cum += s->b[j];
			snprintf(le, sizeof(le), "le=\"%g\"", buckets[j]);
			out_printf(o, "%s_bucket", f->name);
			out_labels(o, f, s, le);
			out_printf(o, " %llu\n", cum);
		}
		out_printf(o, "%s_bucket", f->name);
		out_labels(o, f, s, "le=\"+Inf\"");
		out_printf(o, " %llu\n%s_sum", s->count, f->name);
		out_labels(o, f, s, NULL);
		out_printf(o, " %.17g\n%s_count", s->sum, f->name);
		out_labels(o, f, s, NULL);
		out_printf(o, " %llu\n", s->count);
	}
}

/*
 * metrics_text(buf, cap):
 * Run the collectors, then write every family in the Prometheus text
 * format into ${buf} (at most ${cap} bytes, NUL-terminated if ${cap} >
 * 0).  Return the length the whole text needs, without the NUL (as
 * snprintf): call with a NULL ${buf} and 0 to size the buffer.
 */
size_t
metrics_text(char *buf, size_t cap)
{
	struct out o = {buf, cap, 0};
	struct metrics_collector *c;
	size_t i;

	for (c = collectors; c != NULL; c = c->next)
		c->fn(c->arg);
	if (cap > 0)
		buf[0] = '\0';
	for (i = 0; i < METRICS_COUNT; i++)
		out_family(&o, &fam[i]);
	return (o.len);
}

/*
 * metrics_clear():
 * Zero and hide every series and drop the collectors (tests); handles
 * stay valid (see above).
 */
void
metrics_clear(void)
{
	size_t i;

	for (i = 0; i < METRICS_COUNT; i++)
		metrics_reset((enum metrics_id)i);
	collectors = NULL;
}
