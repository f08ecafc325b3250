/*
 * config: see config.h; the reference is docs/config.md.
 *
 * How inih is used.  inih (as Debian builds it) gives the handler no line
 * number, cuts long lines, treats indented lines as continuations of the
 * previous value and truncates section names to 49 characters.  So the
 * text is fed to ini_parse_stream() through our own reader, which:
 *   - counts lines (inih calls it once per line and then calls the
 *     handler for that line, so the count is the line being handled);
 *   - refuses lines longer than inih's buffer and NUL bytes;
 *   - strips leading blanks, so no line is ever a continuation line;
 *   - parses "[section]" headers itself (inih's copy is ignored).
 * Errors are collected, not fatal: each is recorded with its line
 * (perr(), at most one per line, since a second one on the same line
 * follows from the first) and parsing goes on with the next line; a key
 * whose value is bad is left out, and the keys of a bad section header are
 * skipped.  The reader also flags lines inih would call syntax errors (a
 * line that is neither a section, a comment nor key = value), in line
 * order; ini_parse_stream()'s return (the first such line) is a backstop.
 * Only a NUL byte or an over-long line stops the reading (the rest could
 * not be trusted to be what was written), and then the whole-file checks
 * are skipped too, since everything after would look missing.
 * Everything needing the whole file (peer names, required keys, listen
 * clashes) is checked afterwards from the line numbers recorded while
 * parsing, each check going on to the next item after an error.  The
 * first error recorded is the one config_load() reports; "check" prints
 * them all.  On any error everything parsed is freed: a half-parsed file
 * is never returned.
 *
 * Keys.  Each key of [node], [outlet NAME], [inlet NAME] and [relay NAME]
 * is one row of its kind's key table (node_keys[]...; struct key): name,
 * type, bounds, default and where the value lands.  section_key() reads
 * every key = value line from them, keys_default() sets the defaults when
 * a section begins, and config_diff() compares sections key by key
 * (keys_same()), so a key added to a table is parsed, defaulted, compared
 * at a reload and, by check_config, required in docs/config.md at once.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "addr.h"
#include "authtoken.h"
#include "config.h"
#include "file.h"
#include "identity.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* largest config file read */
#define CONFIG_ITEMS_MAX 1024 /* peers, outlets, inlets, allow per outlet */
#define REF_MAX 80            /* a peer name or identifier, with room */

/* Kinds of section; the order is that of kinds[] and of config_diff(). */
enum section {
	SEC_NONE,
	SEC_NODE,
	SEC_PEERS,
	SEC_AUTHORITIES,
	SEC_OUTLET,
	SEC_INLET,
	SEC_RELAY,
	SEC_AUTHORITY,
	SEC_BAD
};

/* [node] keys: indices into node_keys[] and struct node_p's seen[]. */
enum node_key {
	NK_IDENTITY,
	NK_LISTEN,
	NK_MAX_CONNECTIONS,
	NK_MAX_HANDSHAKES,
	NK_HANDSHAKE_TIMEOUT,
	NK_CONNECT_TIMEOUT,
	NK_IDLE_TIMEOUT,
	NK_SHUTDOWN_GRACE,
	NK_KEEPALIVE,
	NK_LOG_LEVEL,
	NK_RELOAD,
	NK_RELOAD_INTERVAL,
	NK_ADMIN,
	NK_ADMIN_PUBLIC,
	NK_USER,
	NK_GROUP,
	NK_ALLOW_ROOT,
	NK_TCP_KEEPALIVE,
	NK_INTERCEPT,
	NK_CREDENTIAL,
	NK_REVOKED,
	NK_CREDENTIAL_SKEW,
	NK_RESUME,
	NK_RELAY_RESOLVE,
	NK_ENROLL,
	NK_ENROLL_CREDENTIAL,
	NK_COUNT
};

/* [outlet NAME], [inlet NAME] and [relay NAME] keys, likewise. */
enum outlet_key {
	OK_TARGET,
	OK_ALLOW,
	OK_RELAY,
	OK_POOL,
	OK_PROXY_PROTOCOL,
	OK_MAX_DIALS,
	OK_DENY, /* then the other lists of struct config_policy, in order */
	OK_TRY_ALLOW,
	OK_TRY_DENY,
	OK_FROM,
	OK_PEER_CONNS,
	OK_PEER_RATE,
	OK_PEER_BURST,
	OK_CONN_BYTES,
	OK_PEER_BYTES,
	OK_COUNT
};
enum inlet_key { IK_LISTEN, IK_INTERCEPT, IK_OUTLET, IK_SERVICE, IK_VIA,
	IK_FROM, IK_DENY, IK_WARM, IK_COUNT };
enum relay_key { RK_REGISTER, RK_ALLOW, RK_VIA, RK_DENY, RK_TRY_ALLOW,
	RK_TRY_DENY, RK_FROM, RK_PEER_CONNS, RK_PEER_RATE, RK_PEER_BURST,
	RK_COUNT };
enum authority_key { AK_KEY, AK_STORE, AK_CREDENTIAL_TTL, AK_TOKEN_TTL,
	AK_ADDRESS, AK_ENROL_RATE, AK_ENROL_BURST, AK_COUNT };

#define KEYS_MAX ((int)NK_COUNT) /* keys of the kind with the most */

/* A peer reference (name or identifier) to resolve once [peers] is read. */
struct ref {
	char text[REF_MAX];
	int line;
};

/*
 * Parse-time state of a section: first, the line each of its keys was
 * first seen on (0: not yet), indexed as its key table.
 */
struct node_p {
	int seen[KEYS_MAX];
};

/* Parse-time state of one [outlet NAME]. */
struct outlet_p {
	int seen[KEYS_MAX];
	struct ref *allow;
	size_t nallow;
	struct ref *pol[CONFIG_POLICY_LISTS]; /* of deny, try_allow, try_deny */
	size_t npol[CONFIG_POLICY_LISTS];
	struct ref relay_ref[CONFIG_HOPS_MAX];
};

/* Parse-time state of one [inlet NAME]. */
struct inlet_p {
	int seen[KEYS_MAX];
	int outlet_has_addr; /* outlet = PEER@ADDRESS, not just PEER */
	struct ref outlet_ref;
	struct ref via_ref[CONFIG_HOPS_MAX];
	struct ref *deny;
	size_t ndeny;
};

/* Parse-time state of one [relay NAME]. */
struct relay_p {
	int seen[KEYS_MAX];
	struct ref *reg;
	size_t nreg;
	struct ref *allow;
	size_t nallow;
	struct ref *pol[CONFIG_POLICY_LISTS]; /* as outlet_p's */
	size_t npol[CONFIG_POLICY_LISTS];
	struct ref via_ref;
};

/* Parse-time state of one [authority NAME]. */
struct authority_p {
	int seen[KEYS_MAX];
};

struct parse {
	struct config *cfg;
	const char *path;
	const char *text; /* the file, and the reader's position in it */
	size_t len;
	size_t pos;
	int line;         /* line being handled */
	const char *raw;  /* that line as read (leading blanks stripped) */
	enum section sec; /* current section, and its index if named */
	size_t idx;
	int begun[SEC_BAD]; /* line of [node], [peers], [authorities] (0) */
	struct node_p np;        /* [node] */
	struct outlet_p *op;     /* parallel to cfg->outlets */
	struct inlet_p *ip;      /* parallel to cfg->inlets */
	struct relay_p *rp;      /* parallel to cfg->relays */
	struct authority_p *ap;  /* parallel to cfg->authority_roles */
	struct config_errors *errs; /* what perr() records */
	int err_lines[CONFIG_ERRORS_MAX]; /* line of each errs->msg[] */
	int last_err_line;                /* line of the last error found */
	size_t nerr;                      /* errors found, kept or not */
	int stopped; /* the reader gave up: skip the whole-file checks */
};

/*
 * The key tables.  Each key of a section is described once: its name, the
 * type of its value (which says how it is read, what its error says and
 * how two values compare), its bounds and default, and where it lands in
 * the section's struct (offsetof).  One loop reads every section's keys
 * (section_key) and one compares them (keys_same, for config_diff), so a
 * key cannot be parsed and forgotten by the diff.
 */
struct key;

/* KT_FN: read ${value} of ${k} into the section ${sec} (state ${ps}). */
typedef void key_parse_fn(struct parse *p, const struct key *k, void *sec,
    void *ps, const char *value);

/* KT_FN: 1 if the key's values in the sections ${a} and ${b} are alike. */
typedef int key_same_fn(const void *a, const void *b);

enum key_type {
	KT_UINT,    /* unsigned, from min to max */
	KT_SECONDS, /* double, up to max; KF_POSITIVE: more than 0 */
	KT_WORDS,   /* int: 1 for word[on], 0 for the other word */
	KT_LEVEL,   /* enum log_level (log_level_parse) */
	KT_ADDR,    /* struct addr */
	KT_PATH,    /* char[size]: relative to the config's directory */
	KT_ACCOUNT, /* char[CONFIG_USER_MAX]: a user or group name */
	KT_DURATION, /* uint64_t seconds, "90", "90s", "15m", "12h", "7d"
		      * (cred_parse_duration), from min to max */
	KT_FN       /* read by parse, compared by same */
};

#define KF_REPEAT 1   /* may be given on several lines */
#define KF_POSITIVE 2 /* KT_SECONDS: 0 is refused */

struct key {
	const char *name;
	enum key_type type;
	unsigned flags;
	size_t off;  /* where the value lands in the section's struct */
	size_t has;  /* an int set to 1 once a value is read; 0: none */
	size_t line; /* an int set to the key's line; 0: none (offset 0
		      * of each section's struct is a string, never these) */
	size_t size; /* KT_PATH: bytes at off */
	double min, max; /* KT_UINT: bounds; KT_SECONDS: max */
	double def;  /* the default (KT_UINT, KT_SECONDS, KT_WORDS, KT_LEVEL) */
	const char *word[2]; /* KT_WORDS: as the error lists them */
	unsigned on;         /* KT_WORDS: the index of the word meaning 1 */
	key_parse_fn *parse; /* KT_FN */
	key_same_fn *same;   /* KT_FN */
};

/*
 * A kind of section.  Named kinds ([outlet NAME]...) are arrays of struct
 * config (arr, count: offsets in it) whose elements begin with their name
 * and have a line (line_off); each has a parse-time state in an array of
 * struct parse (ps).  The others come once; [peers] and [authorities]
 * have no key table: each line is NAME = IDENTIFIER (entry).
 */
struct kind {
	const char *name;
	const char *plural;     /* named kinds: "outlets"; NULL: once */
	const struct key *keys; /* NULL: entry reads every line */
	size_t nkeys;
	int refuse_empty; /* "empty value for ..." */
	size_t arr, count, size, line_off;
	size_t ps, ps_size;
	void (*entry)(struct parse *, const char *, const char *);
	int (*same)(const struct config *, const struct config *); /* once */
};

static const struct kind kinds[SEC_BAD];

/*
 * Record an error at line ${line} as "FILE:LINE: message", unless that
 * line has one already; past CONFIG_ERRORS_MAX only count it.
 */
static void
perr(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parse *p, int line, const char *fmt, ...)
{
	struct config_errors *e = p->errs;
	char msg[384];
	va_list ap;
	size_t i;

	if (line <= 0)
		line = 1;
	if (line == p->last_err_line)
		return;
	for (i = 0; i < e->n; i++)
		if (p->err_lines[i] == line)
			return;
	p->last_err_line = line;
	p->nerr++;
	if (e->n == CONFIG_ERRORS_MAX) {
		e->more++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s:%d: %s", p->path, line,
	    msg);
	p->err_lines[e->n++] = line;
}

/*
 * Names of peers, outlets, inlets and services: 1 to CONFIG_NAME_MAX - 1
 * letters, digits, '.', '_' or '-', starting with a letter or digit.
 */
static int
name_is_valid(const char *s)
{
	size_t i;
	char c;

	for (i = 0; (c = s[i]) != '\0'; i++) {
		if (i >= CONFIG_NAME_MAX - 1)
			return (0);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return (0);
	}
	return (i > 0);
}

/*
 * Whether ${s} is a valid name (name_is_valid): 0, or -1 with the problem,
 * naming it ${what}, in ${err} (${errlen} bytes).
 */
static int
name_check(const char *s, const char *what, char *err, size_t errlen)
{

	if (name_is_valid(s))
		return (0);
	if (s[0] == '\0')
		snprintf(err, errlen, "empty %s", what);
	else if (strlen(s) >= CONFIG_NAME_MAX)
		snprintf(err, errlen, "%s \"%.70s\" is too long (at most %d "
		    "characters)", what, s, CONFIG_NAME_MAX - 1);
	else
		snprintf(err, errlen, "invalid %s \"%s\" (letters, digits, "
		    "'.', '_' and '-', starting with a letter or digit)", what,
		    s);
	return (-1);
}

/* Check a name and report what is wrong with it, as ${what}. */
static int
check_name(struct parse *p, const char *s, const char *what)
{
	char err[CONFIG_NAME_MAX + 160];

	if (name_check(s, what, err, sizeof(err)) == 0)
		return (0);
	perr(p, p->line, "%s", err);
	return (-1);
}

/* Grow the array *${arr} of *${n} elements of ${size} bytes by one zeroed
 * element.  Return 0 or -1 (out of memory; the array is unchanged). */
static int
grow(void *arr, size_t n, size_t size)
{
	void **ap = arr;
	void *q;

	if ((q = realloc(*ap, (n + 1) * size)) == NULL)
		return (-1);
	memset((char *)q + n * size, 0, size);
	*ap = q;
	return (0);
}

/* Record a peer reference ${s} (name or identifier) for later resolution. */
static int
ref_set(struct parse *p, struct ref *r, const char *s)
{

	if (s[0] == '\0') {
		perr(p, p->line, "empty peer name or identifier");
		return (-1);
	}
	if (strlen(s) >= sizeof(r->text)) {
		perr(p, p->line, "\"%.40s...\" is neither a peer name nor an "
		    "identifier", s);
		return (-1);
	}
	strcpy(r->text, s);
	r->line = p->line;
	return (0);
}

/*
 * Resolve ${r}: an identifier ("I" + 64 lowercase hex digits) as is, or
 * a name from [peers].  Return 0 or -1 with the error recorded.
 */
static int
ref_resolve(struct parse *p, const struct ref *r, uint8_t id[CONFIG_ID_LEN])
{
	struct config *cfg = p->cfg;
	size_t i;

	if (identity_id_parse(r->text, id) == 0)
		return (0);
	/* Names are at most 63 characters: longer is a bad identifier. */
	if (strlen(r->text) >= CONFIG_NAME_MAX) {
		perr(p, r->line, "malformed identifier \"%s\" (expected I and "
		    "64 lowercase hex digits)", r->text);
		return (-1);
	}
	if (!name_is_valid(r->text)) {
		perr(p, r->line, "invalid peer name or identifier \"%s\"",
		    r->text);
		return (-1);
	}
	for (i = 0; i < cfg->npeers; i++) {
		if (strcmp(cfg->peers[i].name, r->text) == 0) {
			memcpy(id, cfg->peers[i].id, CONFIG_ID_LEN);
			return (0);
		}
	}
	perr(p, r->line, "unknown peer \"%s\" (not in [peers]; or give its "
	    "identifier)", r->text);
	return (-1);
}

/* Address of the member at offset ${off} of the struct at ${base}. */
#define AT(base, off) ((void *)((char *)(base) + (off)))
#define CAT(base, off) ((const void *)((const char *)(base) + (off)))

/* Give the keys of ${kd} of the section ${sec} their defaults. */
static void
keys_default(const struct kind *kd, void *sec)
{
	const struct key *k;

	for (k = kd->keys; k < kd->keys + kd->nkeys; k++) {
		if (k->type == KT_UINT)
			*(unsigned *)AT(sec, k->off) = (unsigned)k->def;
		else if (k->type == KT_SECONDS)
			*(double *)AT(sec, k->off) = k->def;
		else if (k->type == KT_WORDS)
			*(int *)AT(sec, k->off) = (int)k->def;
		else if (k->type == KT_LEVEL)
			*(enum log_level *)AT(sec, k->off) =
			    (enum log_level)k->def;
		else if (k->type == KT_DURATION)
			*(uint64_t *)AT(sec, k->off) = (uint64_t)k->def;
	}
}

/* Start the section [${kd->name}] (named ${name}: an error) of kind ${s}. */
static void
once_begin(struct parse *p, enum section s, const char *name)
{
	const struct kind *kd = &kinds[s];

	if (*name != '\0') {
		perr(p, p->line, "[%s] takes no name", kd->name);
		return;
	}
	if (p->begun[s] != 0) {
		perr(p, p->line, "duplicate [%s] section (first on line %d)",
		    kd->name, p->begun[s]);
		return;
	}
	p->begun[s] = p->line;
	p->sec = s;
}

/* Start a section [${kd->name} ${name}] of the named kind ${s}. */
static void
named_begin(struct parse *p, enum section s, const char *name)
{
	const struct kind *kd = &kinds[s];
	char **arr = AT(p->cfg, kd->arr), *sec, what[32];
	size_t *n = AT(p->cfg, kd->count), i;

	if (*name == '\0') {
		perr(p, p->line, "[%s] needs a name: [%s NAME]", kd->name,
		    kd->name);
		return;
	}
	snprintf(what, sizeof(what), "%s name", kd->name);
	if (check_name(p, name, what) == -1)
		return;
	for (i = 0; i < *n; i++) {
		sec = *arr + i * kd->size;
		if (strcmp(sec, name) == 0) {
			perr(p, p->line, "duplicate [%s %s] (first on line %d)",
			    kd->name, name, *(int *)AT(sec, kd->line_off));
			return;
		}
	}
	if (*n >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many %s (at most %d)", kd->plural,
		    CONFIG_ITEMS_MAX);
		return;
	}
	if (grow(arr, *n, kd->size) == -1 ||
	    grow(AT(p, kd->ps), *n, kd->ps_size) == -1) {
		perr(p, p->line, "out of memory");
		return;
	}
	sec = *arr + *n * kd->size;
	strcpy(sec, name);
	*(int *)AT(sec, kd->line_off) = p->line;
	keys_default(kd, sec);
	p->idx = (*n)++;
	p->sec = s;
}

/* Start the section named ${s} (the text inside the brackets). */
static void
section_begin(struct parse *p, char *s)
{
	char *kind, *name, *end;
	int k;

	p->sec = SEC_BAD;
	/* Split "kind name" at blanks; trim both ends. */
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	kind = s;
	name = s + strcspn(s, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name += strspn(name, " \t");
	}
	for (k = SEC_NODE; k < SEC_BAD; k++)
		if (strcmp(kind, kinds[k].name) == 0)
			break;
	if (k == SEC_BAD)
		perr(p, p->line, "unknown section [%.60s] (expected [node], "
		    "[peers], [authorities], [outlet NAME], [inlet NAME], "
		    "[relay NAME] or [authority NAME])", kind);
	else if (kinds[k].plural == NULL)
		once_begin(p, (enum section)k, name);
	else
		named_begin(p, (enum section)k, name);
}

/*
 * A section header line "[...]" (blanks stripped before it): check that
 * nothing but a comment follows the ']' and start the section.
 */
static void
section_line(struct parse *p, const char *line, size_t len)
{
	char buf[256];
	const char *close;
	size_t i, n;

	if ((close = memchr(line, ']', len)) == NULL) {
		perr(p, p->line, "malformed section header (missing ']')");
		p->sec = SEC_BAD;
		return;
	}
	for (i = (size_t)(close - line) + 1; i < len; i++) {
		if (line[i] == ';' || line[i] == '#')
			break;
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
			perr(p, p->line, "unexpected text after section "
			    "header");
			p->sec = SEC_BAD;
			return;
		}
	}
	if ((n = (size_t)(close - line) - 1) >= sizeof(buf)) {
		perr(p, p->line, "section header too long");
		p->sec = SEC_BAD;
		return;
	}
	memcpy(buf, line + 1, n);
	buf[n] = '\0';
	section_begin(p, buf);
}

#define SYNTAX_ERROR "syntax error (expected [section], key = value or a ; comment)"

/*
 * Return 1 unless the ${len} bytes at ${line} (leading blanks stripped, not
 * a section header) are what inih calls a syntax error: a line that is not
 * blank, not a comment (';' or '#' first), and has no '=' or ':' before any
 * inline comment (a ';' after a blank).
 */
static int
line_is_pair(const char *line, size_t len)
{
	size_t i;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
			      line[len - 1] == '\r' || line[len - 1] == '\v' ||
			      line[len - 1] == '\f'))
		len--;
	if (len == 0 || line[0] == ';' || line[0] == '#')
		return (1);
	for (i = 0; i < len; i++) {
		if (line[i] == '=' || line[i] == ':')
			return (1);
		if (line[i] == ';' && i > 0 &&
		    (line[i - 1] == ' ' || line[i - 1] == '\t'))
			return (0);
	}
	return (0);
}

/*
 * inih reader: hand inih the next line of the text, leading blanks
 * stripped, after counting it and checking its length.  Section headers
 * are parsed here.  Return NULL at the end or on an error.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *line, *nl;
	size_t len;

	if (p->pos >= p->len || num < 3)
		return (NULL);
	line = p->text + p->pos;
	if ((nl = memchr(line, '\n', p->len - p->pos)) != NULL) {
		len = (size_t)(nl - line);
		p->pos += len + 1;
	} else {
		len = p->len - p->pos;
		p->pos = p->len;
	}
	p->line++;
	/* A UTF-8 byte order mark may open the file. */
	if (p->line == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (memchr(line, '\0', len) != NULL) {
		perr(p, p->line, "NUL byte in line");
		p->stopped = 1;
		return (NULL);
	}
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (len > (size_t)num - 2) {
		perr(p, p->line, "line too long (at most %d characters)",
		    num - 2);
		p->stopped = 1;
		return (NULL);
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	p->raw = str;
	if (len > 0 && line[0] == '[')
		section_line(p, line, len);
	else if (!line_is_pair(line, len))
		perr(p, p->line, SYNTAX_ERROR);
	return (str);
}

/*
 * Parse a whole number of at most 9 digits in [${min}, ${max}] into *${v}.
 * Return 0 or -1 with the error recorded.
 */
static int
parse_uint(struct parse *p, const char *key, const char *s, unsigned min,
    unsigned max, unsigned *v)
{
	unsigned long x = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 9)
			goto bad;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || x < min || x > max)
		goto bad;
	*v = (unsigned)x;
	return (0);
bad:
	perr(p, p->line, "%s must be a whole number from %u to %u", key, min,
	    max);
	return (-1);
}

/* Write ${secs} as docs/config.md writes a duration: "1h", "10m", "90s". */
static void
duration_format(uint64_t secs, char *buf, size_t len)
{

	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(secs / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)secs);
}

/* Parse the duration ${s} of the key ${k} into *${v}: 0, or -1 (recorded). */
static int
parse_duration(struct parse *p, const struct key *k, const char *s,
    uint64_t *v)
{
	char lo[24], hi[24];
	uint64_t x;

	if (cred_parse_duration(s, &x) == 0 && x >= (uint64_t)k->min &&
	    x <= (uint64_t)k->max) {
		*v = x;
		return (0);
	}
	duration_format((uint64_t)k->min, lo, sizeof(lo));
	duration_format((uint64_t)k->max, hi, sizeof(hi));
	perr(p, p->line, "%s must be a duration from %s to %s (like 90s, 15m, "
	    "12h or 7d)", k->name, lo, hi);
	return (-1);
}

/*
 * Parse seconds ("10", "2.5": digits, optionally a dot and up to 3
 * digits) in [${min}, ${max}] into *${v}; with ${positive}, 0 is refused.
 * Return 0 or -1 with the error recorded.
 */
static int
parse_seconds(struct parse *p, const char *key, const char *s, double max,
    int positive, double *v)
{
	size_t i = 0, ni = 0, nf = 0;
	double x;

	while (s[i] >= '0' && s[i] <= '9' && ni < 7) {
		i++;
		ni++;
	}
	if (s[i] == '.') {
		i++;
		while (s[i] >= '0' && s[i] <= '9' && nf < 4) {
			i++;
			nf++;
		}
		if (nf == 0 || nf > 3)
			goto bad;
	}
	if (ni == 0 || s[i] != '\0')
		goto bad;
	x = strtod(s, NULL);
	if (x > max || (positive && x <= 0))
		goto bad;
	*v = x;
	return (0);
bad:
	perr(p, p->line, "%s must be %s seconds up to %g (like 10 or 2.5)",
	    key, positive ? "a positive number of" : "a number of", max);
	return (-1);
}

/* Parse an address value, recording the error with ${key}. */
static int
parse_addr(struct parse *p, const char *key, const char *s, struct addr *a)
{
	char msg[160];

	if (addr_parse(s, a, msg, sizeof(msg)) == -1) {
		perr(p, p->line, "%s: %s", key, msg);
		return (-1);
	}
	return (0);
}

/* Join a relative path of ${key} to the directory of the config file. */
static int
set_path(struct parse *p, const char *key, const char *value, char *dst,
    size_t cap)
{
	size_t dirlen = 0;
	const char *slash;
	int n;

	if (value[0] != '/' && (slash = strrchr(p->path, '/')) != NULL)
		dirlen = (size_t)(slash - p->path) + 1;
	if (dirlen >= cap) {
		perr(p, p->line, "%s path too long", key);
		return (-1);
	}
	n = snprintf(dst, cap, "%.*s%s", (int)dirlen, p->path, value);
	if (n < 0 || (size_t)n >= cap) {
		perr(p, p->line, "%s path too long", key);
		return (-1);
	}
	return (0);
}

/*
 * Copy the user or group name ${value} into ${dst} (CONFIG_USER_MAX
 * bytes): 1 to 32 of letters, digits, '.', '_' and '-', not starting
 * with '-' (the portable names of POSIX and Debian's adduser).
 */
static void
set_account(struct parse *p, const char *key, const char *value, char *dst)
{
	size_t i, n = strlen(value);

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)value[i]) && value[i] != '.' &&
		    value[i] != '_' && value[i] != '-')
			break;
	if (i < n || n >= CONFIG_USER_MAX || value[0] == '-') {
		perr(p, p->line, "%s must be a %s name of at most %d letters, "
		    "digits, '.', '_' and '-', not starting with '-'", key,
		    strcmp(key, "user") == 0 ? "user" : "group",
		    CONFIG_USER_MAX - 1);
		return;
	}
	memcpy(dst, value, n + 1);
}

/*
 * Call ${fn}(p, entry, arg) for each comma-separated entry of ${value},
 * blanks trimmed; an empty entry is an error.  Stop at the first error
 * ${fn} reports (-1).
 */
static void
each_entry(struct parse *p, const char *value, const char *what,
    int (*fn)(struct parse *, const char *, void *), void *arg)
{
	char entry[ADDR_TEXT_MAX + 16];
	const char *s = value, *comma;
	size_t len, b, e;

	for (;;) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		for (b = 0; b < len && (s[b] == ' ' || s[b] == '\t'); b++)
			;
		for (e = len; e > b && (s[e - 1] == ' ' || s[e - 1] == '\t');
		     e--)
			;
		if (e == b) {
			perr(p, p->line, "empty entry in %s", what);
			return;
		}
		if (e - b >= sizeof(entry))
			e = b + sizeof(entry) - 1; /* addr_parse reports it */
		memcpy(entry, s + b, e - b);
		entry[e - b] = '\0';
		if (fn(p, entry, arg) == -1 || comma == NULL)
			return;
		s = comma + 1;
	}
}

/* Parse an intercept address ${s} into ${a}: IP (or name) and port. */
static int
intercept_addr(struct parse *p, const char *s, struct addr *a)
{

	if (parse_addr(p, "intercept", s, a) == -1)
		return (-1);
	if (a->is_unix) {
		perr(p, p->line, "intercept: %s is a unix socket (an IP "
		    "address and port are needed)", s);
		return (-1);
	}
	return (0);
}

/* One entry of [node] intercept. */
static int
node_intercept_one(struct parse *p, const char *s, void *arg)
{
	struct config_node *node = &p->cfg->node;
	struct addr a;
	size_t i;

	(void)arg;
	if (intercept_addr(p, s, &a) == -1)
		return (-1);
	if (!addr_is_loopback(&a) || a.salen == 0) {
		perr(p, p->line, "intercept address %s is not loopback "
		    "(127.0.0.0/8 or ::1): the interception listener must "
		    "stay on this host", s);
		return (-1);
	}
	for (i = 0; i < node->nintercept; i++)
		if (node->intercept[i].sa.ss_family == a.sa.ss_family)
			break;
	if (i < node->nintercept || node->nintercept == 2) {
		perr(p, p->line, "intercept: at most one IPv4 and one IPv6 "
		    "address");
		return (-1);
	}
	node->intercept[node->nintercept++] = a;
	return (0);
}

/* [node] intercept = ADDR[, ADDR]. */
static void
node_intercept(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{

	(void)k;
	(void)sec;
	(void)ps;
	each_entry(p, value, "intercept", node_intercept_one, NULL);
}

/*
 * config_store_is_postgres(store):
 * Whether ${store} names a PostgreSQL database, not an SQLite file.
 */
int
config_store_is_postgres(const char *store)
{

	return (strncmp(store, "postgresql://", 13) == 0 ||
	    strncmp(store, "postgres://", 11) == 0);
}

/*
 * [authority NAME] store = FILE (relative to the config's directory) or a
 * PostgreSQL URI (as it is: libpq reads it).
 */
static void
authority_store(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_authority_role *a = sec;

	(void)ps;
	if (!config_store_is_postgres(value))
		(void)set_path(p, k->name, value, a->store, sizeof(a->store));
	else if (snprintf(a->store, sizeof(a->store), "%s", value) >=
	    (int)sizeof(a->store))
		perr(p, p->line, "%s: the URI is too long", k->name);
}

/* Two [authority NAME] sections' stores alike. */
static int
authority_store_same(const void *a, const void *b)
{
	const struct config_authority_role *x = a, *y = b;

	return (strcmp(x->store, y->store) == 0);
}

/* [node] credential = FILE (repeatable, one per authority). */
static void
node_credential(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_node *node = sec;

	(void)ps;
	if (node->ncredentials >= CRED_MAX_BLOCK) {
		perr(p, p->line, "too many credential files (at most %d, one "
		    "per authority)", CRED_MAX_BLOCK);
		return;
	}
	if (set_path(p, k->name, value, node->credential[node->ncredentials],
	    sizeof(node->credential[0])) == 0)
		node->credential_line[node->ncredentials++] = p->line;
}

/* Read ${value} of the key ${k} into the section ${sec} (state ${ps}). */
static void
key_parse(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	void *at = AT(sec, k->off);
	enum log_level lvl;
	int ok = 0;

	if (k->line != 0)
		*(int *)AT(sec, k->line) = p->line;
	switch (k->type) {
	case KT_UINT:
		ok = parse_uint(p, k->name, value, (unsigned)k->min,
		    (unsigned)k->max, at) == 0;
		break;
	case KT_SECONDS:
		ok = parse_seconds(p, k->name, value, k->max,
		    (k->flags & KF_POSITIVE) != 0, at) == 0;
		break;
	case KT_WORDS:
		if (strcmp(value, k->word[0]) != 0 &&
		    strcmp(value, k->word[1]) != 0) {
			perr(p, p->line, "%s must be %s or %s", k->name,
			    k->word[0], k->word[1]);
			break;
		}
		*(int *)at = strcmp(value, k->word[k->on]) == 0;
		break;
	case KT_LEVEL:
		if ((ok = log_level_parse(value, &lvl) == 0))
			*(enum log_level *)at = lvl;
		else
			perr(p, p->line, "%s must be error, warn, info or "
			    "debug", k->name);
		break;
	case KT_ADDR:
		ok = parse_addr(p, k->name, value, at) == 0;
		break;
	case KT_PATH:
		(void)set_path(p, k->name, value, at, k->size);
		break;
	case KT_ACCOUNT:
		set_account(p, k->name, value, at);
		break;
	case KT_DURATION:
		ok = parse_duration(p, k, value, at) == 0;
		break;
	case KT_FN:
		k->parse(p, k, sec, ps, value);
		break;
	}
	if (ok && k->has != 0)
		*(int *)AT(sec, k->has) = 1;
}

/*
 * The section being read, of kind ${kd} (with a key table): return its
 * struct and set *${ps} to its parse-time state.
 */
static void *
current(struct parse *p, const struct kind *kd, void **ps)
{

	if (kd->plural == NULL) {
		assert(kd == &kinds[SEC_NODE]);
		*ps = &p->np;
		return (&p->cfg->node);
	}
	*ps = *(char **)AT(p, kd->ps) + p->idx * kd->ps_size;
	return (*(char **)AT(p->cfg, kd->arr) + p->idx * kd->size);
}

/*
 * One key = value line of the current section: find the key in its
 * table, refuse a key given twice (unless repeatable) or, in [node], an
 * empty value, and read the value.
 */
static void
section_key(struct parse *p, const char *key, const char *value)
{
	const struct kind *kd = &kinds[p->sec];
	const struct key *k;
	const char *name;
	void *sec, *ps;
	int *seen;

	if (kd->keys == NULL) {
		kd->entry(p, key, value);
		return;
	}
	sec = current(p, kd, &ps);
	seen = ps; /* each state begins with seen[] */
	name = kd->plural != NULL ? sec : ""; /* named: the name is first */
	for (k = kd->keys; k < kd->keys + kd->nkeys; k++)
		if (strcmp(key, k->name) == 0)
			break;
	if (k == kd->keys + kd->nkeys) {
		perr(p, p->line, "unknown key \"%.60s\" in [%s%s%s]", key,
		    kd->name, *name != '\0' ? " " : "", name);
		return;
	}
	if (seen[k - kd->keys] != 0) {
		if ((k->flags & KF_REPEAT) == 0) {
			perr(p, p->line, "duplicate key \"%s\" in [%s%s%s] "
			    "(first on line %d)", key, kd->name, *name != '\0' ?
			    " " : "", name, seen[k - kd->keys]);
			return;
		}
	} else
		seen[k - kd->keys] = p->line;
	if (kd->refuse_empty && value[0] == '\0') {
		perr(p, p->line, "empty value for \"%s\"", key);
		return;
	}
	key_parse(p, k, sec, ps, value);
}

/* One "name = identifier" line of [peers]. */
static void
peer_key(struct parse *p, const char *key, const char *value)
{
	struct config *cfg = p->cfg;
	struct config_peer *peer;
	size_t i;

	if (check_name(p, key, "peer name") == -1)
		return;
	for (i = 0; i < cfg->npeers; i++) {
		if (strcmp(cfg->peers[i].name, key) == 0) {
			perr(p, p->line, "duplicate peer \"%s\" (first on line "
			    "%d)", key, cfg->peers[i].line);
			return;
		}
	}
	if (cfg->npeers >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many peers (at most %d)",
		    CONFIG_ITEMS_MAX);
		return;
	}
	if (grow(&cfg->peers, cfg->npeers, sizeof(*cfg->peers)) == -1) {
		perr(p, p->line, "out of memory");
		return;
	}
	peer = &cfg->peers[cfg->npeers];
	if (identity_id_parse(value, peer->id) == -1) {
		perr(p, p->line, "malformed identifier for peer \"%s\" "
		    "(expected I and 64 lowercase hex digits, as sallyport "
		    "identity show prints)", key);
		return;
	}
	strcpy(peer->name, key);
	peer->line = p->line;
	cfg->npeers++;
}

/* Where allow_one() adds: a list of references and its length, and the
 * attribute rules (NULL where the list takes none) and their count. */
struct ref_list {
	struct ref **list;
	size_t *n;
	struct config_rule **rules;
	size_t *nrules;
};

static void rule_add(struct parse *p, struct config_rule **rules, size_t *n,
    const char *s);

/* One entry of an allow (or register) list: a peer reference, or an
 * attribute rule (it has a '='). */
static int
allow_one(struct parse *p, const char *entry, void *arg)
{
	struct ref_list *rl = arg;

	if (rl->rules != NULL && strchr(entry, '=') != NULL) {
		rule_add(p, rl->rules, rl->nrules, entry);
		return (0);
	}
	if (*rl->n >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many allow entries (at most %d)",
		    CONFIG_ITEMS_MAX);
		return (-1);
	}
	if (grow(rl->list, *rl->n, sizeof(**rl->list)) == -1) {
		perr(p, p->line, "out of memory");
		return (-1);
	}
	if (ref_set(p, &(*rl->list)[*rl->n], entry) == -1)
		return (-1);
	(*rl->n)++;
	return (0);
}

/* One identifier ${id} (as written) of the authority ${arg} (its name),
 * from a line "NAME = ID1, ID2" of [authorities]; 0, or -1 if reported. */
static int
authority_id(struct parse *p, const char *id, void *arg)
{
	const char *name = arg;
	struct config *cfg = p->cfg;
	struct config_authority *a;
	size_t i, n = 0;

	for (i = 0; i < cfg->nauthorities; i++)
		if (strcmp(cfg->authorities[i].name, name) == 0)
			n++;
	if (n >= CONFIG_AUTHORITY_IDS) {
		perr(p, p->line, "too many identifiers for authority \"%s\" "
		    "(at most %d: a key rotation's overlap)", name,
		    CONFIG_AUTHORITY_IDS);
		return (-1);
	}
	if (cfg->nauthorities >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many authorities (at most %d)",
		    CONFIG_ITEMS_MAX);
		return (-1);
	}
	if (grow(&cfg->authorities, cfg->nauthorities,
	    sizeof(*cfg->authorities)) == -1) {
		perr(p, p->line, "out of memory");
		return (-1);
	}
	a = &cfg->authorities[cfg->nauthorities];
	if (identity_id_parse(id, a->id) == -1) {
		perr(p, p->line, "malformed identifier \"%.80s\" for authority "
		    "\"%s\" (expected I and 64 lowercase hex digits, as "
		    "sallyport identity show prints)", id, name);
		return (-1);
	}
	for (i = 0; i < cfg->nauthorities; i++) {
		if (memcmp(cfg->authorities[i].id, a->id, CONFIG_ID_LEN) ==
		    0) {
			perr(p, p->line, "authority \"%s\" has the same "
			    "identifier as \"%s\" (line %d)", name,
			    cfg->authorities[i].name,
			    cfg->authorities[i].line);
			return (-1);
		}
	}
	strcpy(a->name, name);
	a->line = p->line;
	cfg->nauthorities++;
	return (0);
}

/*
 * One "NAME = ID1, ID2" line of [authorities]: the name's identifiers,
 * more of them if the line is repeated (a key rotation's overlap).
 */
static void
authority_key(struct parse *p, const char *key, const char *value)
{
	char name[CONFIG_NAME_MAX];

	if (check_name(p, key, "authority name") == -1)
		return;
	snprintf(name, sizeof(name), "%s", key);
	each_entry(p, value, "[authorities]", authority_id, name);
}

/* qsort order of terms (by key) and of values. */
static int
term_cmp(const void *a, const void *b)
{

	return (strcmp(((const struct config_term *)a)->key,
	    ((const struct config_term *)b)->key));
}

static int
value_cmp(const void *a, const void *b)
{

	return (strcmp(a, b));
}

/*
 * Parse the values "V1|V2|..." of the term ${key} of the rule ${s} (in
 * ${vals}, which is cut) into ${t}.  Return 0, or -1 with the problem in
 * ${err} (${errlen} bytes).
 */
static int
term_values(const char *s, const char *key, char *vals, struct config_term *t,
    char *err, size_t errlen)
{
	char *v, *next;
	size_t i;

	for (v = vals; v != NULL; v = next) {
		if ((next = strchr(v, '|')) != NULL)
			*next++ = '\0';
		if (v[0] == '\0') {
			snprintf(err, errlen, "empty value in attribute rule "
			    "\"%s\"", s);
			return (-1);
		}
		if (!cred_value_is_valid(v)) {
			snprintf(err, errlen, "bad attribute value \"%.70s\" "
			    "in rule \"%s\" (1 to %d of A-Z a-z 0-9 . _ : / -)",
			    v, s, CRED_VALUE_MAX);
			return (-1);
		}
		for (i = 0; i < t->nvalues; i++)
			if (strcmp(t->values[i], v) == 0) {
				snprintf(err, errlen, "value \"%s\" twice for "
				    "\"%s\" in rule \"%s\"", v, key, s);
				return (-1);
			}
		if (t->nvalues >= CONFIG_RULE_VALUES) {
			snprintf(err, errlen, "too many values for \"%s\" in "
			    "rule \"%s\" (at most %d)", key, s,
			    CONFIG_RULE_VALUES);
			return (-1);
		}
		strcpy(t->values[t->nvalues++], v);
	}
	qsort(t->values, t->nvalues, sizeof(t->values[0]), value_cmp);
	return (0);
}

/*
 * config_rule_parse(r, s, err, errlen):
 * Parse the attribute rule ${s} ("[!]KEY=V[|V...][+...]@AUTHORITY", no
 * blanks) into ${r} (its line and issuer are not set).  Return 0, or -1
 * with the problem in ${err} (${errlen} bytes).
 */
int
config_rule_parse(struct config_rule *r, const char *s, char *err,
    size_t errlen)
{
	char buf[CONFIG_RULE_TEXT], *at, *item, *eq, *next;
	struct config_term *t;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "attribute rule too long (at most %d "
		    "characters)", CONFIG_RULE_TEXT - 1);
		return (-1);
	}
	strcpy(buf, s);
	strcpy(r->text, s);
	if ((at = strrchr(buf, '@')) == NULL) {
		snprintf(err, errlen, "attribute rule \"%s\" names no "
		    "authority (KEY=VALUE@AUTHORITY)", s);
		return (-1);
	}
	*at++ = '\0';
	if (name_check(at, "authority name", err, errlen) == -1)
		return (-1);
	strcpy(r->authority, at);
	for (item = buf; item != NULL; item = next) {
		if ((next = strchr(item, '+')) != NULL)
			*next++ = '\0';
		if (r->nterms >= CRED_MAX_ATTRS) {
			snprintf(err, errlen, "too many attributes in rule "
			    "\"%s\" (at most %d)", s, CRED_MAX_ATTRS);
			return (-1);
		}
		t = &r->terms[r->nterms];
		if ((t->neg = item[0] == '!'))
			item++;
		if ((eq = strchr(item, '=')) == NULL) {
			snprintf(err, errlen, "\"%s\" in rule \"%s\" is not "
			    "KEY=VALUE ([!]KEY=VALUE[|VALUE...])", item, s);
			return (-1);
		}
		*eq++ = '\0';
		if (item[0] == '\0') {
			snprintf(err, errlen, "empty key in attribute rule "
			    "\"%s\"", s);
			return (-1);
		}
		if (!cred_key_is_valid(item)) {
			snprintf(err, errlen, "bad attribute key \"%.40s\" in "
			    "rule \"%s\" (1 to %d of a-z 0-9 _ -, starting "
			    "with a letter)", item, s, CRED_KEY_MAX);
			return (-1);
		}
		for (i = 0; i < r->nterms; i++)
			if (strcmp(r->terms[i].key, item) == 0) {
				snprintf(err, errlen, "attribute \"%s\" twice "
				    "in rule \"%s\"", item, s);
				return (-1);
			}
		strcpy(t->key, item);
		if (term_values(s, item, eq, t, err, errlen) == -1)
			return (-1);
		r->nterms++;
	}
	qsort(r->terms, r->nterms, sizeof(r->terms[0]), term_cmp);
	return (0);
}

/*
 * config_rule_format(r, buf, size):
 * Write the normal form of ${r} into ${buf} (${size} bytes; the normal
 * form is never longer than the rule as written): its terms by key, each
 * one's values in order.  Return ${buf}.
 */
char *
config_rule_format(const struct config_rule *r, char *buf, size_t size)
{
	size_t i, j, n = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nterms; i++) {
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0,
		    "%s%s%s=", i > 0 ? "+" : "", r->terms[i].neg ? "!" : "",
		    r->terms[i].key);
		for (j = 0; j < r->terms[i].nvalues && n < size; j++)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
			    j > 0 ? "|" : "", r->terms[i].values[j]);
		if (n >= size)
			return (buf);
	}
	if (n < size)
		snprintf(buf + n, size - n, "@%s", r->authority);
	return (buf);
}

/*
 * Parse the attribute rule ${s} into ${r} (config_rule_parse) on the
 * current line; the authority is resolved once the file is read.  Return
 * 0 or -1 with the error recorded.
 */
static int
rule_parse(struct parse *p, const char *s, struct config_rule *r)
{
	char err[CONFIG_RULE_TEXT + 160];

	if (config_rule_parse(r, s, err, sizeof(err)) == -1) {
		perr(p, p->line, "%s", err);
		return (-1);
	}
	r->line = p->line;
	return (0);
}

/* Add the attribute rule ${s} to *${rules} (*${n} of them). */
static void
rule_add(struct parse *p, struct config_rule **rules, size_t *n,
    const char *s)
{

	if (*n >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many attribute rules (at most %d)",
		    CONFIG_ITEMS_MAX);
		return;
	}
	if (grow(rules, *n, sizeof(**rules)) == -1) {
		perr(p, p->line, "out of memory");
		return;
	}
	if (rule_parse(p, s, &(*rules)[*n]) == 0)
		(*n)++;
}

/*
 * Add the comma-separated entries of one "allow =" (or "register =") line
 * to the list *${list} of *${n} references, and its attribute rules (an
 * entry with '=') to *${rules} (*${nrules} of them).
 */
static void
allow_add(struct parse *p, struct ref **list, size_t *n,
    struct config_rule **rules, size_t *nrules, const char *value)
{
	struct ref_list rl = {list, n, rules, nrules};

	/* An empty value adds nobody (it says so explicitly). */
	if (value[0] == '\0')
		return;
	each_entry(p, value, "allow list", allow_one, &rl);
}

static int peer_at(struct parse *p, const char *key, const char *value,
    struct ref *r, struct addr *a);

/*
 * One "relay =" (of [outlet ${sec}]) or "via =" (of [inlet ${sec}]) line:
 * add the PEER@HOST:PORT ${value} to ${hops} (*${n} of them, their peer
 * references in ${refs}).  Return 0, or -1 with the error recorded (too
 * many, the same entry twice, or no PEER@HOST:PORT).
 */
static int
hop_add(struct parse *p, const char *key, const char *value,
    struct config_hop *hops, size_t *n, struct ref *refs, const char *sec)
{
	const char *kind = key[0] == 'r' ? "outlet" : "inlet";
	struct config_hop *h;
	size_t i;

	if (*n >= CONFIG_HOPS_MAX) {
		perr(p, p->line, "too many %s lines in [%s %s] (at most %d)",
		    key, kind, sec, CONFIG_HOPS_MAX);
		return (-1);
	}
	h = &hops[*n];
	memset(h, 0, sizeof(*h));
	memset(&refs[*n], 0, sizeof(refs[*n]));
	if (peer_at(p, key, value, &refs[*n], &h->addr) != 1) {
		perr(p, p->line, "%s must be PEER@HOST:PORT (the relay's "
		    "pinned identity, then its address)", key);
		return (-1);
	}
	for (i = 0; i < *n; i++)
		if (strcmp(refs[i].text, refs[*n].text) == 0 &&
		    addr_same(&hops[i].addr, &h->addr)) {
			perr(p, p->line, "%s = %.100s given twice in [%s %s] "
			    "(first on line %d)", key, value, kind, sec,
			    hops[i].line);
			return (-1);
		}
	h->line = p->line;
	(*n)++;
	return (0);
}

/* [outlet NAME] allow = ENTRY[, ENTRY] (repeatable). */
static void
outlet_allow(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_outlet *o = sec;
	struct outlet_p *op = ps;

	(void)k;
	allow_add(p, &op->allow, &op->nallow, &o->rules, &o->nrules, value);
}

/* One entry of a from line: an address range, added to the struct
 * config_from ${arg}. */
static int
from_one(struct parse *p, const char *entry, void *arg)
{
	struct config_from *f = arg;
	char err[160];

	if (f->n >= CONFIG_FROM_MAX) {
		perr(p, p->line, "too many from ranges (at most %d)",
		    CONFIG_FROM_MAX);
		return (-1);
	}
	if (grow(&f->nets, f->n, sizeof(*f->nets)) == -1) {
		perr(p, p->line, "out of memory");
		return (-1);
	}
	if (addr_cidr_parse(entry, &f->nets[f->n], err, sizeof(err)) == -1) {
		perr(p, p->line, "from: %s", err);
		return (-1);
	}
	f->n++;
	return (0);
}

/* from = CIDR[, CIDR] (repeatable) of an outlet, inlet or relay: the
 * struct config_from at ${k}'s offset in ${sec}. */
static void
from_key(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{

	(void)ps;
	each_entry(p, value, "from", from_one, AT(sec, k->off));
}

/* [inlet NAME] deny = ENTRY[, ENTRY] (repeatable): with outlet = RULE. */
static void
inlet_deny(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_inlet *in = sec;
	struct inlet_p *ip = ps;

	(void)k;
	allow_add(p, &ip->deny, &ip->ndeny, &in->deny.rules, &in->deny.nrules,
	    value);
}

/* The list ${i} of ${pol}: 0 deny, 1 try_allow, 2 try_deny. */
static struct config_list *
pol_list(struct config_policy *pol, size_t i)
{

	return (i == 0 ? &pol->deny : i == 1 ? &pol->try_allow :
	    &pol->try_deny);
}

static const struct key outlet_keys[OK_COUNT];
static const struct key relay_keys[RK_COUNT];

/* [outlet NAME] deny, try_allow, try_deny = ENTRY[, ENTRY] (repeatable). */
static void
outlet_policy(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_outlet *o = sec;
	struct outlet_p *op = ps;
	size_t i = (size_t)(k - &outlet_keys[OK_DENY]);
	struct config_list *l = pol_list(&o->pol, i);

	allow_add(p, &op->pol[i], &op->npol[i], &l->rules, &l->nrules, value);
}

/* [outlet NAME] relay = PEER@HOST:PORT (repeatable). */
static void
outlet_relay(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_outlet *o = sec;
	struct outlet_p *op = ps;

	(void)hop_add(p, k->name, value, o->relay, &o->nrelay, op->relay_ref,
	    o->name);
	o->has_relay = o->nrelay > 0;
}

/*
 * A "PEER@ADDRESS" value of ${key}: record PEER in ${r} and parse ADDRESS
 * into ${a}.  Return 1, 0 if there is no '@' (then the whole value is
 * recorded as PEER), or -1 with the error recorded.
 */
static int
peer_at(struct parse *p, const char *key, const char *value, struct ref *r,
    struct addr *a)
{
	char ref[REF_MAX + 1];
	const char *at;
	size_t n;

	if ((at = strchr(value, '@')) == NULL)
		return (ref_set(p, r, value) == -1 ? -1 : 0);
	if ((n = (size_t)(at - value)) == 0) {
		perr(p, p->line, "%s has no pinned identity before '@' "
		    "(a peer name or identifier)", key);
		return (-1);
	}
	if (n >= sizeof(ref))
		n = sizeof(ref) - 1; /* ref_set reports it */
	memcpy(ref, value, n);
	ref[n] = '\0';
	if (ref_set(p, r, ref) == -1)
		return (-1);
	return (parse_addr(p, key, at + 1, a) == -1 ? -1 : 1);
}

/*
 * "outlet = PEER@ADDRESS" of [inlet NAME], or just "outlet = PEER" with
 * via = (checked once the whole section is read).  Or pinned by an
 * attribute rule: "outlet = KEY=VALUE[+...]@AUTHORITY[@ADDRESS]", told
 * apart by a '=' before the first '@' (no peer name or identifier has
 * one); the rule ends at the second '@', if any.
 */
static void
inlet_outlet(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_inlet *in = sec;
	struct inlet_p *ip = ps;
	char rule[CONFIG_RULE_TEXT];
	const char *at, *at2;
	size_t n;

	(void)k;

	at = strchr(value, '@');
	n = at != NULL ? (size_t)(at - value) : strlen(value);
	if (memchr(value, '=', n) == NULL) {
		if (peer_at(p, "outlet", value, &ip->outlet_ref,
		    &in->outlet) == 1)
			ip->outlet_has_addr = 1;
		return;
	}
	in->outlet_by_rule = 1;
	at2 = at != NULL ? strchr(at + 1, '@') : NULL;
	n = at2 != NULL ? (size_t)(at2 - value) : strlen(value);
	if (n >= sizeof(rule)) {
		perr(p, p->line, "attribute rule too long");
		return;
	}
	memcpy(rule, value, n);
	rule[n] = '\0';
	if (strchr(rule, ',') != NULL) {
		perr(p, p->line, "outlet takes one attribute rule, not a list "
		    "(join attributes with '+')");
		return;
	}
	if (rule_parse(p, rule, &in->outlet_rule) == -1 || at2 == NULL)
		return;
	if (parse_addr(p, "outlet", at2 + 1, &in->outlet) == 0)
		ip->outlet_has_addr = 1;
}

/* One entry of [inlet NAME] intercept. */
static int
inlet_intercept_one(struct parse *p, const char *s, void *arg)
{
	struct config_inlet *in = arg;
	struct addr a;

	if (intercept_addr(p, s, &a) == -1)
		return (-1);
	if (in->nintercept >= CONFIG_INTERCEPT_MAX) {
		perr(p, p->line, "too many intercept addresses in [inlet %s] "
		    "(at most %d)", in->name, CONFIG_INTERCEPT_MAX);
		return (-1);
	}
	if (grow(&in->intercept, in->nintercept, sizeof(*in->intercept)) ==
	    -1) {
		perr(p, p->line, "out of memory");
		return (-1);
	}
	in->intercept[in->nintercept++] = a;
	return (0);
}

/* [inlet NAME] intercept = HOST:PORT[, HOST:PORT] (repeatable). */
static void
inlet_intercept(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{

	(void)k;
	(void)ps;
	each_entry(p, value, "intercept", inlet_intercept_one, sec);
}

/* [inlet NAME] via = PEER@HOST:PORT (repeatable). */
static void
inlet_via(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_inlet *in = sec;
	struct inlet_p *ip = ps;

	(void)hop_add(p, k->name, value, in->via, &in->nvia, ip->via_ref,
	    in->name);
	in->has_via = in->nvia > 0;
}

/* [inlet NAME] service = NAME (default: the inlet's name). */
static void
inlet_service(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_inlet *in = sec;

	(void)k;
	(void)ps;
	if (check_name(p, value, "service name") == 0)
		strcpy(in->service, value);
}

/* [relay NAME] allow = ENTRY[, ENTRY] (repeatable). */
static void
relay_allow(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_relay *r = sec;
	struct relay_p *rp = ps;

	(void)k;
	allow_add(p, &rp->allow, &rp->nallow, &r->allow_rules,
	    &r->nallow_rules, value);
}

/* [relay NAME] deny, try_allow, try_deny = ENTRY[, ENTRY] (repeatable). */
static void
relay_policy(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_relay *r = sec;
	struct relay_p *rp = ps;
	size_t i = (size_t)(k - &relay_keys[RK_DENY]);
	struct config_list *l = pol_list(&r->pol, i);

	allow_add(p, &rp->pol[i], &rp->npol[i], &l->rules, &l->nrules, value);
}

/* [relay NAME] register = ENTRY[, ENTRY] (repeatable). */
static void
relay_register(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_relay *r = sec;
	struct relay_p *rp = ps;

	(void)k;
	allow_add(p, &rp->reg, &rp->nreg, &r->reg_rules, &r->nreg_rules,
	    value);
}

/* [relay NAME] via = PEER@HOST:PORT: the next relay. */
static void
relay_via(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_relay *r = sec;
	struct relay_p *rp = ps;

	if (peer_at(p, k->name, value, &rp->via_ref, &r->via) == 1)
		r->has_via = 1;
	else
		perr(p, p->line, "via must be PEER@HOST:PORT (the next "
		    "relay's pinned identity, then its address)");
}

/* inih handler: dispatch one key = value line by the current section. */
static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;

	(void)section; /* inih truncates it; the reader tracks sections */
	if (p->sec == SEC_NONE)
		perr(p, p->line, "key \"%.60s\" outside any section", key);
	else if (p->sec != SEC_BAD)
		section_key(p, key, value);
	return (1); /* errors are recorded, never inih's to report */
}

/* Identifier lists ${a} (${na}) and ${b} (${nb}) are the same, in order. */
static int
ids_same(const uint8_t (*a)[CONFIG_ID_LEN], size_t na,
    const uint8_t (*b)[CONFIG_ID_LEN], size_t nb)
{

	return (na == nb && (na == 0 || memcmp(a, b, na * CONFIG_ID_LEN) ==
	    0));
}

/* Relay lists ${a} (${na}) and ${b} (${nb}) are the same, in order. */
static int
hops_same(const struct config_hop *a, size_t na, const struct config_hop *b,
    size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (memcmp(a[i].id, b[i].id, CONFIG_ID_LEN) != 0 ||
		    !addr_same(&a[i].addr, &b[i].addr))
			return (0);
	return (1);
}

/* Attribute rule lists ${a} (${na}) and ${b} (${nb}) are the same, in
 * order (as written, and the issuer each names). */
static int
rules_same(const struct config_rule *a, size_t na,
    const struct config_rule *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text) != 0 ||
		    a[i].nissuers != b[i].nissuers ||
		    memcmp(a[i].issuer, b[i].issuer,
		    a[i].nissuers * CONFIG_ID_LEN) != 0)
			return (0);
	return (1);
}

/* Address lists ${a} (${na}) and ${b} (${nb}) are the same, in order. */
static int
addrs_same(const struct addr *a, size_t na, const struct addr *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (!addr_same(&a[i], &b[i]))
			return (0);
	return (1);
}

/* The same value of [node] intercept in ${a} and ${b}. */
static int
node_intercept_same(const void *a, const void *b)
{
	const struct config_node *x = a, *y = b;

	return (addrs_same(x->intercept, x->nintercept, y->intercept,
	    y->nintercept));
}

/* The same credential files, in order. */
static int
node_credential_same(const void *a, const void *b)
{
	const struct config_node *x = a, *y = b;
	size_t i;

	if (x->ncredentials != y->ncredentials)
		return (0);
	for (i = 0; i < x->ncredentials; i++)
		if (strcmp(x->credential[i], y->credential[i]) != 0)
			return (0);
	return (1);
}

/* The same allow list of an outlet. */
static int
outlet_allow_same(const void *a, const void *b)
{
	const struct config_outlet *x = a, *y = b;

	return (ids_same(x->allow, x->nallow, y->allow, y->nallow) &&
	    rules_same(x->rules, x->nrules, y->rules, y->nrules));
}

/* The same relay lines of an outlet. */
static int
outlet_relay_same(const void *a, const void *b)
{
	const struct config_outlet *x = a, *y = b;

	return (hops_same(x->relay, x->nrelay, y->relay, y->nrelay));
}

/* The same address ranges ${a} and ${b}, in order. */
static int
from_same(const struct config_from *a, const struct config_from *b)
{

	return (a->n == b->n && (a->n == 0 ||
	    memcmp(a->nets, b->nets, a->n * sizeof(*a->nets)) == 0));
}

/* The same from lines of an inlet. */
static int
inlet_from_same(const void *a, const void *b)
{

	return (from_same(&((const struct config_inlet *)a)->from,
	    &((const struct config_inlet *)b)->from));
}

static int list_same(const struct config_list *a,
    const struct config_list *b);

/* The same deny lines of an inlet. */
static int
inlet_deny_same(const void *a, const void *b)
{

	return (list_same(&((const struct config_inlet *)a)->deny,
	    &((const struct config_inlet *)b)->deny));
}

/* The same intercept addresses of an inlet. */
static int
inlet_intercept_same(const void *a, const void *b)
{
	const struct config_inlet *x = a, *y = b;

	return (addrs_same(x->intercept, x->nintercept, y->intercept,
	    y->nintercept));
}

/* The same outlet of an inlet: identity or rule, and address. */
static int
inlet_outlet_same(const void *a, const void *b)
{
	const struct config_inlet *x = a, *y = b;

	return (memcmp(x->outlet_id, y->outlet_id, CONFIG_ID_LEN) == 0 &&
	    x->outlet_by_rule == y->outlet_by_rule &&
	    rules_same(&x->outlet_rule, 1, &y->outlet_rule, 1) &&
	    addr_same(&x->outlet, &y->outlet));
}

/* The same service of an inlet. */
static int
inlet_service_same(const void *a, const void *b)
{
	const struct config_inlet *x = a, *y = b;

	return (strcmp(x->service, y->service) == 0);
}

/* The same via lines of an inlet. */
static int
inlet_via_same(const void *a, const void *b)
{
	const struct config_inlet *x = a, *y = b;

	return (hops_same(x->via, x->nvia, y->via, y->nvia));
}

/* The same lists ${a} and ${b}. */
static int
list_same(const struct config_list *a, const struct config_list *b)
{

	return (ids_same(a->ids, a->nids, b->ids, b->nids) &&
	    rules_same(a->rules, a->nrules, b->rules, b->nrules));
}

/* The same deny and try lists ${a} and ${b}. */
static int
policy_same(const struct config_policy *a, const struct config_policy *b)
{

	return (from_same(&a->from, &b->from) &&
	    list_same(&a->deny, &b->deny) &&
	    list_same(&a->try_allow, &b->try_allow) &&
	    list_same(&a->try_deny, &b->try_deny));
}

/* The same deny and try lists of an outlet. */
static int
outlet_policy_same(const void *a, const void *b)
{

	return (policy_same(&((const struct config_outlet *)a)->pol,
	    &((const struct config_outlet *)b)->pol));
}

/* The same deny and try lists of a relay. */
static int
relay_policy_same(const void *a, const void *b)
{

	return (policy_same(&((const struct config_relay *)a)->pol,
	    &((const struct config_relay *)b)->pol));
}

/* The same register list of a relay. */
static int
relay_register_same(const void *a, const void *b)
{
	const struct config_relay *x = a, *y = b;

	return (ids_same(x->reg, x->nreg, y->reg, y->nreg) &&
	    rules_same(x->reg_rules, x->nreg_rules, y->reg_rules,
	    y->nreg_rules));
}

/* The same allow list of a relay. */
static int
relay_allow_same(const void *a, const void *b)
{
	const struct config_relay *x = a, *y = b;

	return (ids_same(x->allow, x->nallow, y->allow, y->nallow) &&
	    rules_same(x->allow_rules, x->nallow_rules, y->allow_rules,
	    y->nallow_rules));
}

/* The same next relay of a relay. */
static int
relay_via_same(const void *a, const void *b)
{
	const struct config_relay *x = a, *y = b;

	return (x->has_via == y->has_via && (!x->has_via ||
	    (memcmp(x->via_id, y->via_id, CONFIG_ID_LEN) == 0 &&
	    addr_same(&x->via, &y->via))));
}

/* address = HOST:PORT of [authority NAME] (repeatable): what tokens carry. */
static void
authority_address(struct parse *p, const struct key *k, void *sec, void *ps,
    const char *value)
{
	struct config_authority_role *a = sec;

	(void)ps;
	if (a->naddress == CONFIG_AUTHORITY_ADDRS) {
		perr(p, p->line, "too many %s lines in [authority %s] (at most "
		    "%d)", k->name, a->name, CONFIG_AUTHORITY_ADDRS);
		return;
	}
	if (!authtoken_addr_is_valid(value)) {
		perr(p, p->line, "%s must be HOST:PORT or [V6]:PORT as nodes "
		    "reach this authority (a name or an address, no unix "
		    "socket)", k->name);
		return;
	}
	snprintf(a->address[a->naddress++], sizeof(a->address[0]), "%s",
	    value);
}

static int
authority_address_same(const void *a, const void *b)
{
	const struct config_authority_role *x = a, *y = b;
	size_t i;

	if (x->naddress != y->naddress)
		return (0);
	for (i = 0; i < x->naddress; i++)
		if (strcmp(x->address[i], y->address[i]) != 0)
			return (0);
	return (1);
}

#define N_(m) offsetof(struct config_node, m)
#define N_SIZE(m) sizeof(((struct config_node *)NULL)->m)
#define O_(m) offsetof(struct config_outlet, m)
#define I_(m) offsetof(struct config_inlet, m)
#define R_(m) offsetof(struct config_relay, m)
#define A_(m) offsetof(struct config_authority_role, m)
#define A_SIZE(m) sizeof(((struct config_authority_role *)NULL)->m)

/* [node]; the defaults and bounds are those of docs/config.md. */
static const struct key node_keys[NK_COUNT] = {
    [NK_IDENTITY] = {"identity", KT_PATH, .off = N_(identity),
	.line = N_(identity_line), .size = N_SIZE(identity)},
    [NK_LISTEN] = {"listen", KT_ADDR, .off = N_(listen),
	.has = N_(has_listen)},
    [NK_MAX_CONNECTIONS] = {"max_connections", KT_UINT,
	.off = N_(max_connections), .min = 1, .max = 1000000, .def = 10000},
    [NK_MAX_HANDSHAKES] = {"max_handshakes", KT_UINT,
	.off = N_(max_handshakes), .min = 1, .max = 100000, .def = 256},
    [NK_HANDSHAKE_TIMEOUT] = {"handshake_timeout", KT_SECONDS, KF_POSITIVE,
	.off = N_(handshake_timeout), .max = 3600, .def = 10},
    [NK_CONNECT_TIMEOUT] = {"connect_timeout", KT_SECONDS, KF_POSITIVE,
	.off = N_(connect_timeout), .max = 3600, .def = 10},
    [NK_IDLE_TIMEOUT] = {"idle_timeout", KT_SECONDS,
	.off = N_(idle_timeout), .max = 604800, .def = 0},
    [NK_SHUTDOWN_GRACE] = {"shutdown_grace", KT_SECONDS,
	.off = N_(shutdown_grace), .max = 3600, .def = 10},
    [NK_KEEPALIVE] = {"keepalive", KT_SECONDS, .off = N_(keepalive),
	.max = 3600, .def = 30},
    [NK_LOG_LEVEL] = {"log_level", KT_LEVEL, .off = N_(log_level),
	.has = N_(has_log_level), .def = LOG_LVL_INFO},
    [NK_RELOAD] = {"reload", KT_WORDS, .off = N_(reload_watch),
	.word = {"off", "watch"}, .on = 1, .def = 0},
    [NK_RELOAD_INTERVAL] = {"reload_interval", KT_SECONDS, KF_POSITIVE,
	.off = N_(reload_interval), .max = 3600, .def = 2},
    [NK_ADMIN] = {"admin", KT_ADDR, .off = N_(admin), .has = N_(has_admin),
	.line = N_(admin_line)},
    [NK_ADMIN_PUBLIC] = {"admin_public", KT_WORDS, .off = N_(admin_public),
	.word = {"yes", "no"}, .on = 0, .def = 0},
    [NK_USER] = {"user", KT_ACCOUNT, .off = N_(user),
	.line = N_(user_line)},
    [NK_GROUP] = {"group", KT_ACCOUNT, .off = N_(group),
	.line = N_(group_line)},
    [NK_ALLOW_ROOT] = {"allow_root", KT_WORDS, .off = N_(allow_root),
	.word = {"yes", "no"}, .on = 0, .def = 0},
    [NK_TCP_KEEPALIVE] = {"tcp_keepalive", KT_SECONDS,
	.off = N_(tcp_keepalive), .max = 86400, .def = 120},
    [NK_INTERCEPT] = {"intercept", KT_FN, .parse = node_intercept,
	.same = node_intercept_same},
    [NK_CREDENTIAL] = {"credential", KT_FN, KF_REPEAT,
	.parse = node_credential, .same = node_credential_same},
    [NK_REVOKED] = {"revoked", KT_PATH, .off = N_(revoked),
	.line = N_(revoked_line), .size = N_SIZE(revoked)},
    [NK_CREDENTIAL_SKEW] = {"credential_skew", KT_UINT,
	.off = N_(credential_skew), .min = 0, .max = 600,
	.def = CRED_SKEW_DEFAULT},
    [NK_RESUME] = {"resume", KT_WORDS, .off = N_(resume),
	.word = {"yes", "no"}, .on = 0, .def = 1},
    [NK_RELAY_RESOLVE] = {"relay_resolve", KT_SECONDS, KF_POSITIVE,
	.off = N_(relay_resolve), .max = 3600, .def = 30},
    [NK_ENROLL] = {"enroll", KT_PATH, .off = N_(enroll),
	.line = N_(enroll_line), .size = N_SIZE(enroll)},
    [NK_ENROLL_CREDENTIAL] = {"enroll_credential", KT_PATH,
	.off = N_(enroll_cred), .line = N_(enroll_cred_line),
	.size = N_SIZE(enroll_cred)},
};

/* [outlet NAME]. */
static const struct key outlet_keys[OK_COUNT] = {
    [OK_TARGET] = {"target", KT_ADDR, .off = O_(target)},
    [OK_ALLOW] = {"allow", KT_FN, KF_REPEAT, .parse = outlet_allow,
	.same = outlet_allow_same},
    [OK_RELAY] = {"relay", KT_FN, KF_REPEAT, .parse = outlet_relay,
	.same = outlet_relay_same},
    [OK_POOL] = {"pool", KT_UINT, .off = O_(pool), .min = 1, .max = 64,
	.def = 4},
    [OK_PROXY_PROTOCOL] = {"proxy_protocol", KT_WORDS, .off = O_(proxy_v2),
	.word = {"off", "v2"}, .on = 1, .def = 0},
    [OK_MAX_DIALS] = {"max_dials", KT_UINT, .off = O_(max_dials), .min = 0,
	.max = 100000, .def = CONFIG_MAX_DIALS},
    [OK_DENY] = {"deny", KT_FN, KF_REPEAT, .parse = outlet_policy,
	.same = outlet_policy_same},
    [OK_TRY_ALLOW] = {"try_allow", KT_FN, KF_REPEAT, .parse = outlet_policy,
	.same = outlet_policy_same},
    [OK_TRY_DENY] = {"try_deny", KT_FN, KF_REPEAT, .parse = outlet_policy,
	.same = outlet_policy_same},
    [OK_FROM] = {"from", KT_FN, KF_REPEAT, .off = O_(pol.from),
	.parse = from_key, .same = outlet_policy_same},
    [OK_PEER_CONNS] = {"max_connections_per_peer", KT_UINT,
	.off = O_(limits.max_conns), .min = 0, .max = 1000000, .def = 0},
    [OK_PEER_RATE] = {"new_connections_per_second", KT_UINT,
	.off = O_(limits.rate), .min = 0, .max = 1000000, .def = 0},
    [OK_PEER_BURST] = {"new_connections_burst", KT_UINT,
	.off = O_(limits.burst), .min = 0, .max = 1000000, .def = 0},
    [OK_CONN_BYTES] = {"bytes_per_second_per_connection", KT_UINT,
	.off = O_(limits.bytes), .min = 0, .max = 4000000000., .def = 0},
    [OK_PEER_BYTES] = {"bytes_per_second_per_peer", KT_UINT,
	.off = O_(limits.peer_bytes), .min = 0, .max = 4000000000., .def = 0},
};

/* [inlet NAME]. */
static const struct key inlet_keys[IK_COUNT] = {
    [IK_LISTEN] = {"listen", KT_ADDR, .off = I_(listen),
	.has = I_(has_listen)},
    [IK_INTERCEPT] = {"intercept", KT_FN, KF_REPEAT,
	.parse = inlet_intercept, .same = inlet_intercept_same},
    [IK_OUTLET] = {"outlet", KT_FN, .parse = inlet_outlet,
	.same = inlet_outlet_same},
    [IK_SERVICE] = {"service", KT_FN, .parse = inlet_service,
	.same = inlet_service_same},
    [IK_VIA] = {"via", KT_FN, KF_REPEAT, .parse = inlet_via,
	.same = inlet_via_same},
    [IK_FROM] = {"from", KT_FN, KF_REPEAT, .off = I_(from),
	.parse = from_key, .same = inlet_from_same},
    [IK_DENY] = {"deny", KT_FN, KF_REPEAT, .parse = inlet_deny,
	.same = inlet_deny_same},
    [IK_WARM] = {"warm", KT_UINT, .off = I_(warm), .min = 0,
	.max = CONFIG_WARM_MAX, .def = 0},
};

/* [relay NAME]. */
static const struct key relay_keys[RK_COUNT] = {
    [RK_REGISTER] = {"register", KT_FN, KF_REPEAT, .parse = relay_register,
	.same = relay_register_same},
    [RK_ALLOW] = {"allow", KT_FN, KF_REPEAT, .parse = relay_allow,
	.same = relay_allow_same},
    [RK_VIA] = {"via", KT_FN, .parse = relay_via, .same = relay_via_same},
    [RK_DENY] = {"deny", KT_FN, KF_REPEAT, .parse = relay_policy,
	.same = relay_policy_same},
    [RK_TRY_ALLOW] = {"try_allow", KT_FN, KF_REPEAT, .parse = relay_policy,
	.same = relay_policy_same},
    [RK_TRY_DENY] = {"try_deny", KT_FN, KF_REPEAT, .parse = relay_policy,
	.same = relay_policy_same},
    [RK_FROM] = {"from", KT_FN, KF_REPEAT, .off = R_(pol.from),
	.parse = from_key, .same = relay_policy_same},
    [RK_PEER_CONNS] = {"max_connections_per_peer", KT_UINT,
	.off = R_(limits.max_conns), .min = 0, .max = 1000000,
	.def = CONFIG_RELAY_PEER_CONNS},
    [RK_PEER_RATE] = {"new_connections_per_second", KT_UINT,
	.off = R_(limits.rate), .min = 0, .max = 1000000, .def = 0},
    [RK_PEER_BURST] = {"new_connections_burst", KT_UINT,
	.off = R_(limits.burst), .min = 0, .max = 1000000, .def = 0},
};

/*
 * [authority NAME].  credential_ttl's floor is 10 s, not a minute: issue
 * 21's own test renews 15 s credentials.
 */
static const struct key authority_keys[AK_COUNT] = {
    [AK_KEY] = {"key", KT_PATH, .off = A_(key), .line = A_(key_line),
	.size = A_SIZE(key)},
    [AK_STORE] = {"store", KT_FN, .parse = authority_store,
	.same = authority_store_same, .line = A_(store_line)},
    [AK_CREDENTIAL_TTL] = {"credential_ttl", KT_DURATION,
	.off = A_(credential_ttl), .min = 10, .max = 366 * 86400,
	.def = 3600},
    [AK_TOKEN_TTL] = {"token_ttl", KT_DURATION, .off = A_(token_ttl),
	.min = 60, .max = 30 * 86400, .def = 600},
    [AK_ADDRESS] = {"address", KT_FN, KF_REPEAT, .parse = authority_address,
	.same = authority_address_same},
    [AK_ENROL_RATE] = {"enrol_rate", KT_UINT, .off = A_(enrol_rate),
	.min = 1, .max = 10000, .def = 4},
    [AK_ENROL_BURST] = {"enrol_burst", KT_UINT, .off = A_(enrol_burst),
	.min = 1, .max = 100000, .def = 32},
};

static int node_same(const struct config *, const struct config *);
static int peers_same(const struct config *, const struct config *);
static int authorities_same(const struct config *, const struct config *);

#define NAMED(t, a, n) .arr = offsetof(struct config, a),                      \
	.count = offsetof(struct config, n), .size = sizeof(t),                \
	.line_off = offsetof(t, line)

static const struct kind kinds[SEC_BAD] = {
    [SEC_NODE] = {"node", NULL, node_keys, NK_COUNT, 1, .same = node_same},
    [SEC_PEERS] = {"peers", .entry = peer_key, .same = peers_same},
    [SEC_AUTHORITIES] = {"authorities", .entry = authority_key,
	.same = authorities_same},
    [SEC_OUTLET] = {"outlet", "outlets", outlet_keys, OK_COUNT,
	NAMED(struct config_outlet, outlets, noutlets),
	.ps = offsetof(struct parse, op), .ps_size = sizeof(struct outlet_p)},
    [SEC_INLET] = {"inlet", "inlets", inlet_keys, IK_COUNT,
	NAMED(struct config_inlet, inlets, ninlets),
	.ps = offsetof(struct parse, ip), .ps_size = sizeof(struct inlet_p)},
    [SEC_RELAY] = {"relay", "relays", relay_keys, RK_COUNT,
	NAMED(struct config_relay, relays, nrelays),
	.ps = offsetof(struct parse, rp), .ps_size = sizeof(struct relay_p)},
    [SEC_AUTHORITY] = {"authority", "authority sections", authority_keys,
	AK_COUNT, NAMED(struct config_authority_role, authority_roles,
	nauthority_roles),
	.ps = offsetof(struct parse, ap),
	.ps_size = sizeof(struct authority_p)},
};

/* Named sections begin with their name (named_begin, config_diff). */
_Static_assert(offsetof(struct config_outlet, name) == 0 &&
    offsetof(struct config_inlet, name) == 0 &&
    offsetof(struct config_relay, name) == 0 &&
    offsetof(struct config_authority_role, name) == 0, "name first");
_Static_assert((int)OK_COUNT <= KEYS_MAX && (int)IK_COUNT <= KEYS_MAX &&
    (int)RK_COUNT <= KEYS_MAX && (int)AK_COUNT <= KEYS_MAX,
    "seen[] holds every key");
_Static_assert(CONFIG_AUTHORITY_ADDRS == AUTHTOKEN_MAX_ADDRS &&
    CONFIG_AUTHORITY_ADDR_MAX == sizeof(((struct authtoken *)NULL)->addrs[0]),
    "a token carries every address");

/* Return 1 if ${h} is a wildcard address (0.0.0.0 or ::). */
static int
is_wildcard(const struct addr *a)
{

	return (!a->is_unix &&
	    (strcmp(a->host, "0.0.0.0") == 0 || strcmp(a->host, "::") == 0));
}

/* Return 1 if listening on ${a} and on ${b} would clash. */
static int
addr_clash(const struct addr *a, const struct addr *b)
{

	if (a->is_unix || b->is_unix)
		return (a->is_unix && b->is_unix &&
		    strcmp(a->host, b->host) == 0);
	if (strcmp(a->port, b->port) != 0)
		return (0);
	if (strcasecmp(a->host, b->host) == 0 || is_wildcard(a) ||
	    is_wildcard(b))
		return (1);
	return (a->salen != 0 && a->salen == b->salen &&
	    memcmp(&a->sa, &b->sa, a->salen) == 0);
}

/*
 * Resolve the ${n} references of ${refs} into the array *${ids} (made
 * here) and their count *${nids}; a reference that does not resolve is
 * left out, one listed twice is refused.  ${what} names the list of
 * [${kind} ${name}] ("register", "allow", "deny"), or is NULL for the
 * allow list of an outlet.  Return 0, or -1 if any error was recorded.
 */
static int
resolve_list(struct parse *p, const struct ref *refs, size_t n,
    uint8_t (**ids)[CONFIG_ID_LEN], size_t *nids, const char *what,
    const char *kind, const char *name)
{
	size_t j, k;
	int rc = 0;

	if (n == 0)
		return (0);
	if ((*ids = calloc(n, sizeof(**ids))) == NULL) {
		perr(p, refs[0].line, "out of memory");
		return (-1);
	}
	for (j = 0; j < n; j++) {
		if (ref_resolve(p, &refs[j], (*ids)[*nids]) == -1) {
			rc = -1;
			continue;
		}
		for (k = 0; k < *nids; k++)
			if (memcmp((*ids)[k], (*ids)[*nids], CONFIG_ID_LEN) ==
			    0)
				break;
		if (k < *nids) {
			if (what == NULL)
				perr(p, refs[j].line, "\"%s\" is allowed twice "
				    "in [outlet %s]", refs[j].text, name);
			else
				perr(p, refs[j].line, "\"%s\" is listed twice "
				    "in %s of [%s %s]", refs[j].text, what,
				    kind, name);
			rc = -1;
			continue;
		}
		(*nids)++;
	}
	return (rc);
}

/* Resolve the authority of each of the ${n} rules at ${rules}. */
static void
resolve_rules(struct parse *p, struct config_rule *rules, size_t n)
{
	struct config *cfg = p->cfg;
	size_t i, j;

	for (i = 0; i < n; i++) {
		rules[i].nissuers = 0;
		for (j = 0; j < cfg->nauthorities; j++)
			if (strcmp(cfg->authorities[j].name,
			    rules[i].authority) == 0 &&
			    rules[i].nissuers < CONFIG_AUTHORITY_IDS)
				memcpy(rules[i].issuer[rules[i].nissuers++],
				    cfg->authorities[j].id, CONFIG_ID_LEN);
		if (rules[i].nissuers == 0)
			perr(p, rules[i].line, "unknown authority \"%s\" in "
			    "rule \"%s\" (not in [authorities])",
			    rules[i].authority, rules[i].text);
	}
}

/* The key names of the lists of struct config_policy, in order. */
static const char *const pol_keys[CONFIG_POLICY_LISTS] = {"deny",
    "try_allow", "try_deny"};

/*
 * Resolve the references ${refs} (${n} of each) and the rules of each list
 * of ${pol}, of [${kind} ${name}].
 */
static void
resolve_policy(struct parse *p, struct ref *const *refs, const size_t *n,
    struct config_policy *pol, const char *kind, const char *name)
{
	struct config_list *l;
	size_t i;

	for (i = 0; i < CONFIG_POLICY_LISTS; i++) {
		l = pol_list(pol, i);
		(void)resolve_list(p, refs[i], n[i], &l->ids, &l->nids,
		    pol_keys[i], kind, name);
		resolve_rules(p, l->rules, l->nrules);
	}
}

/* Free the lists of ${pol}. */
static void
policy_free(struct config_policy *pol)
{
	size_t i;

	for (i = 0; i < CONFIG_POLICY_LISTS; i++) {
		free(pol_list(pol, i)->ids);
		free(pol_list(pol, i)->rules);
	}
	free(pol->from.nets);
}

/*
 * Return 1 if the node can accept connections: [node] listen is set, or
 * was given and is already reported as bad (no second error for it).
 */
static int
has_listen(const struct parse *p)
{

	return (p->cfg->node.has_listen || p->np.seen[NK_LISTEN] != 0);
}

/* The [outlet NAME] checks; each error is recorded, the next one looked at. */
static void
validate_outlets(struct parse *p)
{
	struct config *cfg = p->cfg;
	struct config_outlet *o;
	size_t i, j;

	for (i = 0; i < cfg->noutlets; i++) {
		o = &cfg->outlets[i];
		if (p->op[i].seen[OK_TARGET] == 0)
			perr(p, o->line, "[outlet %s] has no target = "
			    "HOST:PORT", o->name);
		else if (p->begun[SEC_NODE] != 0 && !has_listen(p) &&
		    !o->has_relay)
			perr(p, o->line, "[outlet %s] needs listen = HOST:PORT "
			    "in [node] (where inlets reach this node)",
			    o->name);
		for (j = 0; j < o->nrelay; j++)
			(void)ref_resolve(p, &p->op[i].relay_ref[j],
			    o->relay[j].id);
		(void)resolve_list(p, p->op[i].allow, p->op[i].nallow,
		    &o->allow, &o->nallow, NULL, "outlet", o->name);
		resolve_rules(p, o->rules, o->nrules);
		resolve_policy(p, p->op[i].pol, p->op[i].npol, &o->pol,
		    "outlet", o->name);
	}
}

/* Report an intercept address of inlet ${i} that an earlier one has. */
static void
intercept_clashes(struct parse *p, size_t i)
{
	const struct config_inlet *in = &p->cfg->inlets[i], *o;
	char buf[ADDR_TEXT_MAX + 8];
	size_t j, k, m;

	for (k = 0; k < in->nintercept; k++)
		for (j = 0; j <= i; j++) {
			o = &p->cfg->inlets[j];
			for (m = 0; m < (j == i ? k : o->nintercept); m++) {
				if (!addr_same(&in->intercept[k],
				    &o->intercept[m]))
					continue;
				addr_format(&in->intercept[k], buf,
				    sizeof(buf));
				perr(p, p->ip[i].seen[IK_INTERCEPT],
				    "intercept address %s is declared twice "
				    "([inlet %s])", buf, o->name);
				return;
			}
		}
}

/* The [inlet NAME] checks; each error is recorded, the next one looked at. */
static void
validate_inlets(struct parse *p)
{
	struct config *cfg = p->cfg;
	struct config_inlet *in;
	struct inlet_p *ip;
	char buf[ADDR_TEXT_MAX + 8];
	size_t i, j;

	for (i = 0; i < cfg->ninlets; i++) {
		in = &cfg->inlets[i];
		ip = &p->ip[i];
		if (in->service[0] == '\0') /* the default: the inlet's name */
			strcpy(in->service, in->name);
		if (ip->seen[IK_LISTEN] == 0 && ip->seen[IK_INTERCEPT] == 0)
			perr(p, in->line, "[inlet %s] has no listen = "
			    "HOST:PORT (or intercept = HOST:PORT)", in->name);
		if (ip->seen[IK_INTERCEPT] != 0 &&
		    p->np.seen[NK_INTERCEPT] == 0)
			perr(p, ip->seen[IK_INTERCEPT], "[inlet %s] intercept "
			    "needs intercept = HOST:PORT in [node] (the "
			    "interception listener)", in->name);
		intercept_clashes(p, i);
		if (ip->seen[IK_OUTLET] == 0)
			perr(p, in->line, "[inlet %s] has no outlet = "
			    "PEER@HOST:PORT (the outlet node's pinned "
			    "identity and address)", in->name);
		else if (in->has_via && ip->outlet_has_addr)
			perr(p, ip->seen[IK_OUTLET], "with via, outlet is just "
			    "the outlet's pinned %s (no @address)",
			    in->outlet_by_rule ? "attribute rule" :
			    "identity");
		else if (!in->has_via && !ip->outlet_has_addr &&
		    ip->seen[IK_VIA] == 0 && in->outlet_by_rule)
			perr(p, ip->seen[IK_OUTLET], "outlet must be "
			    "KEY=VALUE@AUTHORITY@HOST:PORT (the attribute "
			    "rule, then the outlet node's address)");
		else if (!in->has_via && !ip->outlet_has_addr &&
		    ip->seen[IK_VIA] == 0)
			perr(p, ip->seen[IK_OUTLET], "outlet must be "
			    "PEER@HOST:PORT (the outlet node's pinned "
			    "identity, then its address)");
		else if (in->outlet_by_rule)
			resolve_rules(p, &in->outlet_rule, 1);
		else if (ip->outlet_ref.line != 0)
			(void)ref_resolve(p, &ip->outlet_ref, in->outlet_id);
		if (in->warm > 0 && (in->outlet_by_rule || in->has_via))
			perr(p, ip->seen[IK_WARM], "warm in [inlet %s] needs "
			    "outlet = PEER@HOST:PORT without via (warm "
			    "channels to an outlet pinned by rule or through "
			    "a relay are not supported yet)", in->name);
		if (ip->seen[IK_DENY] != 0 && !in->outlet_by_rule)
			perr(p, ip->seen[IK_DENY], "deny in [inlet %s] takes "
			    "effect only with outlet = RULE (an outlet pinned "
			    "by identity is that one node)", in->name);
		(void)resolve_list(p, ip->deny, ip->ndeny, &in->deny.ids,
		    &in->deny.nids, "deny", "inlet", in->name);
		resolve_rules(p, in->deny.rules, in->deny.nrules);
		for (j = 0; j < in->nvia; j++)
			(void)ref_resolve(p, &ip->via_ref[j], in->via[j].id);
		/* Clashes, only between addresses that parsed. */
		if (!in->has_listen)
			continue;
		if (cfg->node.has_listen &&
		    addr_clash(&in->listen, &cfg->node.listen)) {
			perr(p, ip->seen[IK_LISTEN], "listen address %s is "
			    "also [node] listen (line %d)",
			    addr_format(&in->listen, buf, sizeof(buf)),
			    p->np.seen[NK_LISTEN]);
			continue;
		}
		for (j = 0; j < i; j++) {
			if (!cfg->inlets[j].has_listen ||
			    !addr_clash(&in->listen, &cfg->inlets[j].listen))
				continue;
			perr(p, ip->seen[IK_LISTEN], "listen address %s "
			    "clashes with [inlet %s] (line %d)",
			    addr_format(&in->listen, buf, sizeof(buf)),
			    cfg->inlets[j].name, p->ip[j].seen[IK_LISTEN]);
			break;
		}
	}
}

/*
 * [node] enroll: what the token says (its secret is wiped at once), its
 * authority trusted under its name, the credential file presented.
 */
static void
validate_enroll(struct parse *p)
{
	struct config_node *n = &p->cfg->node;
	struct config_authority *a = NULL;
	struct authtoken *t;
	uint8_t buf[AUTHTOKEN_LINE_MAX + 2];
	char err[CONFIG_PATH_MAX + 128];
	const char *why;
	size_t i, len;
	int r;

	if (n->enroll[0] == '\0') {
		if (n->enroll_cred[0] != '\0')
			perr(p, n->enroll_cred_line, "enroll_credential "
			    "without enroll = TOKENFILE");
		return;
	}
	if (n->enroll_cred[0] == '\0') {
		perr(p, n->enroll_line, "enroll = TOKENFILE needs "
		    "enroll_credential = FILE (where its credential is kept)");
		return;
	}
	if (file_read(n->enroll, buf, sizeof(buf), &len, err, sizeof(err)) ==
	    -1) {
		perr(p, n->enroll_line, "%s", err);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		perr(p, n->enroll_line, "out of memory");
		goto out;
	}
	r = authtoken_parse((const char *)buf, len, t, &why);
	if (r == -1) {
		perr(p, n->enroll_line, "%s: %s", n->enroll, why);
		goto out;
	}
	snprintf(n->enroll_name, sizeof(n->enroll_name), "%s", t->name);
	for (i = 0; i < t->naddrs && i < CONFIG_ENROLL_ADDRS; i++)
		snprintf(n->enroll_addrs[i], sizeof(n->enroll_addrs[i]), "%s",
		    t->addrs[i]);
	n->enroll_naddrs = i;
	/*
	 * The authority's identifiers: those [authorities] gives its name if
	 * it does (a key rotation: docs/credentials.md), else the token's.
	 */
	n->enroll_nids = 0;
	for (i = 0; i < p->cfg->nauthorities; i++)
		if (strcmp(p->cfg->authorities[i].name, t->name) == 0 &&
		    n->enroll_nids < CONFIG_AUTHORITY_IDS) {
			a = &p->cfg->authorities[i];
			memcpy(n->enroll_ids[n->enroll_nids++], a->id,
			    CONFIG_ID_LEN);
		}
	if (a == NULL) {
		memcpy(n->enroll_ids[0], t->authority, CONFIG_ID_LEN);
		n->enroll_nids = 1;
	}
	if (a == NULL && grow(&p->cfg->authorities,
	    p->cfg->nauthorities, sizeof(*p->cfg->authorities)) == 0) {
		a = &p->cfg->authorities[p->cfg->nauthorities++];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", t->name);
		memcpy(a->id, t->authority, CONFIG_ID_LEN);
		a->line = n->enroll_line;
	}
	if (n->ncredentials >= CRED_MAX_BLOCK)
		perr(p, n->enroll_cred_line, "too many credential files (at "
		    "most %d, one per authority)", CRED_MAX_BLOCK);
	else {
		memcpy(n->credential[n->ncredentials], n->enroll_cred,
		    sizeof(n->enroll_cred));
		n->credential_line[n->ncredentials++] = n->enroll_cred_line;
	}
out:
	if (t != NULL) {
		wipe(t, sizeof(*t));
		free(t);
	}
	wipe(buf, sizeof(buf));
}

/* Checks that need the whole file; each error is recorded. */
static void
validate(struct parse *p)
{
	struct config *cfg = p->cfg;
	char buf[ADDR_TEXT_MAX + 8];
	size_t i, j;

	if (p->begun[SEC_NODE] == 0)
		perr(p, 1, "missing [node] section (with identity = KEYFILE)");
	else if (p->np.seen[NK_IDENTITY] == 0)
		perr(p, p->begun[SEC_NODE], "[node] has no identity = KEYFILE");
	if (cfg->node.has_admin && !cfg->node.admin_public &&
	    !addr_is_loopback(&cfg->node.admin))
		perr(p, p->np.seen[NK_ADMIN], "admin address %s is not "
		    "loopback (127.0.0.0/8, ::1, localhost) or unix: set "
		    "admin_public = yes to serve it beyond this host",
		    addr_format(&cfg->node.admin, buf, sizeof(buf)));
	for (i = 0; i < cfg->npeers; i++) {
		for (j = 0; j < i; j++) {
			if (memcmp(cfg->peers[i].id, cfg->peers[j].id,
				CONFIG_ID_LEN) == 0) {
				perr(p, cfg->peers[i].line, "peer \"%s\" has "
				    "the same identifier as \"%s\" (line %d)",
				    cfg->peers[i].name, cfg->peers[j].name,
				    cfg->peers[j].line);
				break;
			}
		}
	}
	validate_enroll(p);
	validate_outlets(p);
	validate_inlets(p);
}

/* The [relay NAME] checks; each error is recorded. */
static void
validate_relays(struct parse *p)
{
	struct config *cfg = p->cfg;
	struct config_relay *r;
	size_t i;

	for (i = 0; i < cfg->nrelays; i++) {
		r = &cfg->relays[i];
		if (p->begun[SEC_NODE] != 0 && !has_listen(p))
			perr(p, r->line, "[relay %s] needs listen = HOST:PORT "
			    "in [node] (where nodes reach this relay)",
			    r->name);
		(void)resolve_list(p, p->rp[i].reg, p->rp[i].nreg, &r->reg,
		    &r->nreg, "register", "relay", r->name);
		(void)resolve_list(p, p->rp[i].allow, p->rp[i].nallow,
		    &r->allow, &r->nallow, "allow", "relay", r->name);
		resolve_rules(p, r->reg_rules, r->nreg_rules);
		resolve_rules(p, r->allow_rules, r->nallow_rules);
		resolve_policy(p, p->rp[i].pol, p->rp[i].npol, &r->pol,
		    "relay", r->name);
		if (r->has_via)
			(void)ref_resolve(p, &p->rp[i].via_ref, r->via_id);
	}
}

/*
 * The [authority NAME] checks: a name a token can carry, a key, the
 * store's default, and the addresses tokens carry (default: [node] listen
 * unless it is a wildcard).  Each error is recorded.
 */
static void
validate_authority_roles(struct parse *p)
{
	struct config *cfg = p->cfg;
	struct config_authority_role *a;
	const struct addr *l = &cfg->node.listen;
	size_t i;

	for (i = 0; i < cfg->nauthority_roles; i++) {
		a = &cfg->authority_roles[i];
		if (!authtoken_name_is_valid(a->name))
			perr(p, a->line, "[authority %s]: the name of an "
			    "authority is 1 to %d of a-z 0-9 _ - (tokens carry "
			    "it)", a->name, AUTHTOKEN_NAME_MAX);
		if (p->ap[i].seen[AK_KEY] == 0)
			perr(p, a->line, "[authority %s] has no key = FILE "
			    "(the authority key: sallyport authority create)",
			    a->name);
		if (p->ap[i].seen[AK_STORE] == 0) {
			snprintf(a->store, sizeof(a->store), "%s/%s.db",
			    CONFIG_STORE_DIR, a->name);
			a->store_line = a->line;
		}
		if (a->naddress > 0 || p->ap[i].seen[AK_ADDRESS] != 0)
			continue;
		if (!cfg->node.has_listen || l->is_unix || is_wildcard(l)) {
			perr(p, a->line, "[authority %s] needs address = "
			    "HOST:PORT (where nodes reach it: tokens carry "
			    "it), as [node] listen is %s", a->name,
			    !cfg->node.has_listen ? "not set" : l->is_unix ?
			    "a unix socket" : "a wildcard address");
			continue;
		}
		addr_format(l, a->address[0], sizeof(a->address[0]));
		if (!authtoken_addr_is_valid(a->address[0]))
			perr(p, a->line, "[authority %s] needs address = "
			    "HOST:PORT ([node] listen %s cannot be carried by "
			    "a token)", a->name, a->address[0]);
		else
			a->naddress = 1;
	}
}

/* Free the parse-time side arrays. */
static void
parse_fini(struct parse *p)
{
	size_t i, j;

	if (p->op != NULL)
		for (i = 0; i < p->cfg->noutlets; i++) {
			free(p->op[i].allow);
			for (j = 0; j < CONFIG_POLICY_LISTS; j++)
				free(p->op[i].pol[j]);
		}
	if (p->rp != NULL)
		for (i = 0; i < p->cfg->nrelays; i++) {
			free(p->rp[i].reg);
			free(p->rp[i].allow);
			for (j = 0; j < CONFIG_POLICY_LISTS; j++)
				free(p->rp[i].pol[j]);
		}
	if (p->ip != NULL)
		for (i = 0; i < p->cfg->ninlets; i++)
			free(p->ip[i].deny);
	free(p->op);
	free(p->ip);
	free(p->rp);
	free(p->ap);
	p->ap = NULL;
	p->op = NULL;
	p->ip = NULL;
	p->rp = NULL;
}

/*
 * config_parse_all(cfg, path, text, len, errs):
 * As config_parse, recording every error in ${errs} (config_load_all).
 */
int
config_parse_all(struct config *cfg, const char *path, const char *text,
    size_t len, struct config_errors *errs)
{
	struct parse p;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	errs->n = errs->more = 0;
	p.cfg = cfg;
	p.path = path;
	p.text = text;
	p.len = len;
	p.errs = errs;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	/* [node]'s defaults, as documented in docs/config.md (named
	 * sections get theirs as they begin). */
	keys_default(&kinds[SEC_NODE], &cfg->node);

	/* The reader flags syntax errors itself; inih's first is a backstop. */
	r = ini_parse_stream(reader, &p, handler, &p);
	if (r > 0)
		perr(&p, r, SYNTAX_ERROR);
	else if (r < 0)
		perr(&p, p.line, "out of memory");
	if (!p.stopped) {
		validate(&p);
		validate_relays(&p);
		validate_authority_roles(&p);
	}
	parse_fini(&p);
	if (p.nerr != 0) {
		config_free(cfg);
		return (-1);
	}
	return (0);
}

/*
 * config_parse(cfg, path, text, len, err, errlen):
 * As config_load, for the ${len} bytes of INI text at ${text} (borrowed);
 * ${path} names the file in messages and anchors relative key paths.
 */
int
config_parse(struct config *cfg, const char *path, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct config_errors *errs;

	if ((errs = malloc(sizeof(*errs))) == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	if (config_parse_all(cfg, path, text, len, errs) == -1) {
		snprintf(err, errlen, "%s", errs->msg[0]);
		free(errs);
		return (-1);
	}
	free(errs);
	return (0);
}

/* Record a file-level error (no line) as the only one in ${errs}. */
static void
ferr(struct config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ferr(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errs->msg[0], sizeof(errs->msg[0]), fmt, ap);
	va_end(ap);
	errs->n = 1;
	errs->more = 0;
}

/*
 * config_load_all(cfg, path, errs):
 * As config_load, but record every error (up to CONFIG_ERRORS_MAX, the
 * rest counted) in ${errs}; its first is the one config_load reports.
 * Return 0 (${errs}->n is 0), or -1 (${cfg} then holds nothing to free).
 */
int
config_load_all(struct config *cfg, const char *path,
    struct config_errors *errs)
{
	char *text, msg[sizeof(errs->msg[0])];
	size_t len = 0;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if ((text = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		ferr(errs, "%s: out of memory", path);
		return (-1);
	}
	if (file_read(path, (uint8_t *)text, CONFIG_FILE_MAX, &len, msg,
	    sizeof(msg)) == -1) {
		if (errno == EFBIG)
			ferr(errs, "%s: too large (over %d bytes)", path,
			    CONFIG_FILE_MAX);
		else
			ferr(errs, "%s", msg);
		goto out;
	}
	rc = config_parse_all(cfg, path, text, len, errs);
out:
	free(text);
	return (rc);
}

/*
 * config_load(cfg, path, err, errlen):
 * Parse and validate ${path} into ${cfg}.  Return 0, or -1 with
 * "FILE:LINE: message" in ${err} (${cfg} then holds nothing to free).
 * Key files are not opened here (identity_load does that).  The message
 * is the first of those config_load_all() would record.
 */
int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct config_errors *errs;

	if ((errs = malloc(sizeof(*errs))) == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	if (config_load_all(cfg, path, errs) == -1) {
		snprintf(err, errlen, "%s", errs->msg[0]);
		free(errs);
		return (-1);
	}
	free(errs);
	return (0);
}

/*
 * config_free(cfg):
 * Free what config_load allocated in ${cfg}.
 */
void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->noutlets; i++) {
		free(cfg->outlets[i].allow);
		free(cfg->outlets[i].rules);
		policy_free(&cfg->outlets[i].pol);
	}
	free(cfg->outlets);
	for (i = 0; i < cfg->ninlets; i++) {
		free(cfg->inlets[i].intercept);
		free(cfg->inlets[i].from.nets);
		free(cfg->inlets[i].deny.ids);
		free(cfg->inlets[i].deny.rules);
	}
	free(cfg->inlets);
	for (i = 0; i < cfg->nrelays; i++) {
		free(cfg->relays[i].reg);
		free(cfg->relays[i].allow);
		free(cfg->relays[i].reg_rules);
		free(cfg->relays[i].allow_rules);
		policy_free(&cfg->relays[i].pol);
	}
	free(cfg->relays);
	free(cfg->authority_roles);
	free(cfg->peers);
	free(cfg->authorities);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * config_outlet_find(cfg, service):
 * The outlet named ${service}, or NULL.
 */
const struct config_outlet *
config_outlet_find(const struct config *cfg, const char *service)
{
	size_t i;

	for (i = 0; i < cfg->noutlets; i++)
		if (strcmp(cfg->outlets[i].name, service) == 0)
			return (&cfg->outlets[i]);
	return (NULL);
}

/*
 * config_relay_find(cfg, name):
 * The [relay NAME] section named ${name}, or NULL.
 */
const struct config_relay *
config_relay_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nrelays; i++)
		if (strcmp(cfg->relays[i].name, name) == 0)
			return (&cfg->relays[i]);
	return (NULL);
}

/*
 * config_authority_find(cfg, id):
 * The [authorities] entry whose identifier is ${id}, or NULL.
 */
int
config_rule_issued_by(const struct config_rule *r,
    const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < r->nissuers && i < CONFIG_AUTHORITY_IDS; i++)
		if (memcmp(r->issuer[i], id, CONFIG_ID_LEN) == 0)
			return (1);
	return (0);
}

const struct config_authority *
config_authority_find(const struct config *cfg,
    const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < cfg->nauthorities; i++)
		if (memcmp(cfg->authorities[i].id, id, CONFIG_ID_LEN) == 0)
			return (&cfg->authorities[i]);
	return (NULL);
}

/*
 * config_files(cfg, files, lines):
 * See config.h.
 */
size_t
config_files(const struct config *cfg, const char **files, int *lines)
{
	size_t n = 0, k;

	files[n] = cfg->node.identity;
	lines[n++] = cfg->node.identity_line;
	for (k = 0; k < cfg->node.ncredentials; k++) {
		files[n] = cfg->node.credential[k];
		lines[n++] = cfg->node.credential_line[k];
	}
	if (cfg->node.revoked[0] != '\0') {
		files[n] = cfg->node.revoked;
		lines[n++] = cfg->node.revoked_line;
	}
	if (cfg->node.enroll[0] != '\0') {
		files[n] = cfg->node.enroll;
		lines[n++] = cfg->node.enroll_line;
	}
	return (n);
}

/*
 * config_authority_role_find(cfg, name):
 * The [authority ${name}] section of ${cfg}, or NULL.
 */
const struct config_authority_role *
config_authority_role_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nauthority_roles; i++)
		if (strcmp(cfg->authority_roles[i].name, name) == 0)
			return (&cfg->authority_roles[i]);
	return (NULL);
}

/*
 * config_peer_name(cfg, id):
 * The name [peers] gives the identifier ${id}, or NULL.
 */
const char *
config_peer_name(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < cfg->npeers; i++)
		if (memcmp(cfg->peers[i].id, id, CONFIG_ID_LEN) == 0)
			return (cfg->peers[i].name);
	return (NULL);
}

/* Every key of the table ${keys} (${n}) alike in the sections ${a}, ${b}. */
static int
keys_same(const struct key *keys, size_t n, const void *a, const void *b)
{
	const struct key *k;
	const void *x, *y;
	int same = 1;

	for (k = keys; k < keys + n && same; k++) {
		x = CAT(a, k->off);
		y = CAT(b, k->off);
		if (k->has != 0 && *(const int *)CAT(a, k->has) !=
		    *(const int *)CAT(b, k->has))
			same = 0;
		else if (k->has != 0 && !*(const int *)CAT(a, k->has))
			same = 1; /* absent from both */
		else if (k->type == KT_UINT)
			same = *(const unsigned *)x == *(const unsigned *)y;
		else if (k->type == KT_SECONDS)
			same = *(const double *)x == *(const double *)y;
		else if (k->type == KT_WORDS)
			same = *(const int *)x == *(const int *)y;
		else if (k->type == KT_LEVEL)
			same = *(const enum log_level *)x ==
			    *(const enum log_level *)y;
		else if (k->type == KT_ADDR)
			same = addr_same(x, y);
		else if (k->type == KT_PATH || k->type == KT_ACCOUNT)
			same = strcmp(x, y) == 0;
		else if (k->type == KT_DURATION)
			same = *(const uint64_t *)x == *(const uint64_t *)y;
		else
			same = k->same(a, b);
	}
	return (same);
}

/* [node] of ${a} and ${b} alike. */
static int
node_same(const struct config *a, const struct config *b)
{

	return (keys_same(node_keys, NK_COUNT, &a->node, &b->node));
}

/* [peers] of ${a} and ${b} alike: the same names for the same identities,
 * in any order. */
static int
peers_same(const struct config *a, const struct config *b)
{
	size_t i, j;

	if (a->npeers != b->npeers)
		return (0);
	for (i = 0; i < b->npeers; i++) {
		for (j = 0; j < a->npeers; j++)
			if (strcmp(a->peers[j].name, b->peers[i].name) == 0)
				break;
		if (j == a->npeers || memcmp(a->peers[j].id, b->peers[i].id,
		    CONFIG_ID_LEN) != 0)
			return (0);
	}
	return (1);
}

/* [authorities] of ${a} and ${b} alike, likewise. */
static int
authorities_same(const struct config *a, const struct config *b)
{
	const struct config_authority *x;
	size_t i;

	if (a->nauthorities != b->nauthorities)
		return (0);
	for (i = 0; i < b->nauthorities; i++) {
		x = config_authority_find(a, b->authorities[i].id);
		if (x == NULL || strcmp(x->name, b->authorities[i].name) != 0)
			return (0);
	}
	return (1);
}

/* The section named ${name} of the named kind ${kd} in ${cfg}, or NULL. */
static const char *
named_find(const struct kind *kd, const struct config *cfg, const char *name)
{
	const char *arr = *(const char *const *)CAT(cfg, kd->arr);
	size_t i, n = *(const size_t *)CAT(cfg, kd->count);

	for (i = 0; i < n; i++)
		if (strcmp(arr + i * kd->size, name) == 0)
			return (arr + i * kd->size);
	return (NULL);
}

/* config_diff() for the named kind ${kd}: added or changed sections of
 * ${c}, in its order, then those of ${o} gone from ${c}. */
static void
named_diff(const struct kind *kd, const struct config *o,
    const struct config *c, config_change_fn *fn, void *arg)
{
	const struct config *cfgs[2] = {c, o};
	const char *arr, *sec, *was;
	size_t i, n, pass;

	for (pass = 0; pass < 2; pass++) {
		arr = *(const char *const *)CAT(cfgs[pass], kd->arr);
		n = *(const size_t *)CAT(cfgs[pass], kd->count);
		for (i = 0; i < n; i++) {
			sec = arr + i * kd->size;
			was = named_find(kd, cfgs[!pass], sec);
			if (pass == 1 && was == NULL)
				fn(arg, kd->name, sec, CONFIG_REMOVED);
			else if (pass == 0 && was == NULL)
				fn(arg, kd->name, sec, CONFIG_ADDED);
			else if (pass == 0 && !keys_same(kd->keys, kd->nkeys,
			    was, sec))
				fn(arg, kd->name, sec, CONFIG_CHANGED);
		}
	}
}

/*
 * config_diff(old, new, fn, arg):
 * Call ${fn}(${arg}, kind, name, what) once for every section of ${new}
 * added, removed or changed (any key of its table) against ${old}: kinds
 * in the order node, peers, authorities, outlet, inlet, relay; within a
 * kind, sections added or changed in ${new}'s file order, then those
 * removed in ${old}'s.  [node], [peers] and [authorities] (name: the
 * kind) are only ever changed; [peers] and [authorities] when a name is
 * added, removed or given another identifier.  Nothing is called for
 * sections alike.  Both are borrowed.
 */
void
config_diff(const struct config *old, const struct config *new,
    config_change_fn *fn, void *arg)
{
	const struct kind *kd;

	for (kd = &kinds[SEC_NODE]; kd < &kinds[SEC_BAD]; kd++) {
		if (kd->plural != NULL)
			named_diff(kd, old, new, fn, arg);
		else if (!kd->same(old, new))
			fn(arg, kd->name, kd->name, CONFIG_CHANGED);
	}
}

/*
 * config_key(kind, i):
 * The name of the ${i}th key (from 0) of the sections of ${kind} ("node",
 * "outlet", "inlet", "relay"), or NULL past the last one or for a kind
 * without keys of its own ("peers", "authorities": NAME = IDENTIFIER).
 */
const char *
config_key(const char *kind, size_t i)
{
	const struct kind *kd;

	for (kd = &kinds[SEC_NODE]; kd < &kinds[SEC_BAD]; kd++)
		if (strcmp(kd->name, kind) == 0)
			return (i < kd->nkeys ? kd->keys[i].name : NULL);
	return (NULL);
}

/*
 * config_key_default(kind, i, buf, len):
 * Write the default of the ${i}th key of ${kind} (config_key) into ${buf}
 * (${len} bytes) as docs/config.md writes it ("10000", "2.5", "off"),
 * or "" if the key's table gives none (paths, addresses, lists, required
 * keys, log_level: the command line's).  Return ${buf}.
 */
const char *
config_key_default(const char *kind, size_t i, char *buf, size_t len)
{
	const struct kind *kd;
	const struct key *k = NULL;

	for (kd = &kinds[SEC_NODE]; kd < &kinds[SEC_BAD]; kd++)
		if (strcmp(kd->name, kind) == 0 && i < kd->nkeys)
			k = &kd->keys[i];
	if (k != NULL && (k->type == KT_UINT || k->type == KT_SECONDS))
		snprintf(buf, len, "%g", k->def);
	else if (k != NULL && k->type == KT_WORDS)
		snprintf(buf, len, "%s", k->word[k->def != 0 ? k->on :
		    !k->on]);
	else if (k != NULL && k->type == KT_DURATION)
		duration_format((uint64_t)k->def, buf, len);
	else
		snprintf(buf, len, "%s", "");
	return (buf);
}
