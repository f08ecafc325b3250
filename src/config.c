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
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "addr.h"
#include "config.h"
#include "identity.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* largest config file read */
#define CONFIG_ITEMS_MAX 1024 /* peers, outlets, inlets, allow per outlet */
#define REF_MAX 80            /* a peer name or identifier, with room */

enum section {
	SEC_NONE,
	SEC_NODE,
	SEC_PEERS,
	SEC_AUTHORITIES,
	SEC_OUTLET,
	SEC_INLET,
	SEC_RELAY,
	SEC_BAD
};

/* [node] keys; the order is that of node_keys[]. */
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
	NK_COUNT
};

static const char *const node_keys[NK_COUNT] = {"identity", "listen",
    "max_connections", "max_handshakes", "handshake_timeout",
    "connect_timeout", "idle_timeout", "shutdown_grace", "keepalive",
    "log_level", "reload", "reload_interval", "admin", "admin_public",
    "user", "group", "allow_root", "tcp_keepalive", "intercept",
    "credential", "revoked", "credential_skew", "resume", "relay_resolve"};

/* A peer reference (name or identifier) to resolve once [peers] is read. */
struct ref {
	char text[REF_MAX];
	int line;
};

/* Parse-time state of one [outlet NAME]. */
struct outlet_p {
	int target_line;
	struct ref *allow;
	size_t nallow;
	int pool_line;
	int dials_line;
	int proxy_line;
	struct ref relay_ref[CONFIG_HOPS_MAX];
};

/* Parse-time state of one [inlet NAME]. */
struct inlet_p {
	int listen_line;
	int outlet_line;
	int service_line;
	int via_line; /* the first via line */
	int intercept_line; /* the first intercept line */
	int outlet_has_addr; /* outlet = PEER@ADDRESS, not just PEER */
	int listen_ok;       /* listen parsed: may be checked for clashes */
	struct ref outlet_ref;
	struct ref via_ref[CONFIG_HOPS_MAX];
};

/* Parse-time state of one [relay NAME]. */
struct relay_p {
	struct ref *reg;
	size_t nreg;
	struct ref *allow;
	size_t nallow;
	int via_line;
	struct ref via_ref;
};

struct parse {
	struct config *cfg;
	const char *path;
	const char *text; /* the file, and the reader's position in it */
	size_t len;
	size_t pos;
	int line;         /* line being handled */
	const char *raw;  /* that line as read (leading blanks stripped) */
	enum section sec; /* current section, and its index if outlet/inlet */
	size_t idx;
	int node_line; /* line of [node], [peers]: 0 if absent */
	int peers_line;
	int authorities_line;
	int node_seen[NK_COUNT]; /* line of each [node] key, for duplicates */
	struct outlet_p *op;     /* parallel to cfg->outlets */
	struct inlet_p *ip;      /* parallel to cfg->inlets */
	struct relay_p *rp;      /* parallel to cfg->relays */
	struct config_errors *errs; /* what perr() records */
	int err_lines[CONFIG_ERRORS_MAX]; /* line of each errs->msg[] */
	int last_err_line;                /* line of the last error found */
	size_t nerr;                      /* errors found, kept or not */
	int stopped; /* the reader gave up: skip the whole-file checks */
};

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

/* Check a name and report what is wrong with it, as ${what}. */
static int
check_name(struct parse *p, const char *s, const char *what)
{

	if (name_is_valid(s))
		return (0);
	if (s[0] == '\0')
		perr(p, p->line, "empty %s", what);
	else if (strlen(s) >= CONFIG_NAME_MAX)
		perr(p, p->line, "%s \"%.70s\" is too long (at most %d "
		    "characters)", what, s, CONFIG_NAME_MAX - 1);
	else
		perr(p, p->line, "invalid %s \"%s\" (letters, digits, '.', '_' "
		    "and '-', starting with a letter or digit)", what, s);
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

/* Start a [relay NAME] section. */
static void
relay_begin(struct parse *p, const char *name)
{
	struct config *cfg = p->cfg;
	size_t i;

	if (*name == '\0') {
		perr(p, p->line, "[relay] needs a name: [relay NAME]");
		return;
	}
	if (check_name(p, name, "relay name") == -1)
		return;
	for (i = 0; i < cfg->nrelays; i++) {
		if (strcmp(cfg->relays[i].name, name) == 0) {
			perr(p, p->line, "duplicate [relay %s] (first on line "
			    "%d)", name, cfg->relays[i].line);
			return;
		}
	}
	if (cfg->nrelays >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many relays (at most %d)",
		    CONFIG_ITEMS_MAX);
		return;
	}
	if (grow(&cfg->relays, cfg->nrelays, sizeof(*cfg->relays)) == -1 ||
	    grow(&p->rp, cfg->nrelays, sizeof(*p->rp)) == -1) {
		perr(p, p->line, "out of memory");
		return;
	}
	strcpy(cfg->relays[cfg->nrelays].name, name);
	cfg->relays[cfg->nrelays].line = p->line;
	p->idx = cfg->nrelays++;
	p->sec = SEC_RELAY;
}

/* Start the section named ${s} (the text inside the brackets). */
static void
section_begin(struct parse *p, char *s)
{
	struct config *cfg = p->cfg;
	char *kind, *name, *end;
	size_t i;

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
	if (strcmp(kind, "node") == 0 || strcmp(kind, "peers") == 0) {
		int *seen = kind[0] == 'n' ? &p->node_line : &p->peers_line;

		if (*name != '\0') {
			perr(p, p->line, "[%s] takes no name", kind);
			return;
		}
		if (*seen != 0) {
			perr(p, p->line, "duplicate [%s] section (first on "
			    "line %d)", kind, *seen);
			return;
		}
		*seen = p->line;
		p->sec = kind[0] == 'n' ? SEC_NODE : SEC_PEERS;
		return;
	}
	if (strcmp(kind, "authorities") == 0) {
		if (*name != '\0') {
			perr(p, p->line, "[authorities] takes no name");
			return;
		}
		if (p->authorities_line != 0) {
			perr(p, p->line, "duplicate [authorities] section "
			    "(first on line %d)", p->authorities_line);
			return;
		}
		p->authorities_line = p->line;
		p->sec = SEC_AUTHORITIES;
		return;
	}
	if (strcmp(kind, "relay") == 0) {
		relay_begin(p, name);
		return;
	}
	if (strcmp(kind, "outlet") != 0 && strcmp(kind, "inlet") != 0) {
		perr(p, p->line, "unknown section [%.60s] (expected [node], "
		    "[peers], [authorities], [outlet NAME], [inlet NAME] or "
		    "[relay NAME])", kind);
		return;
	}
	if (*name == '\0') {
		perr(p, p->line, "[%s] needs a name: [%s NAME]", kind, kind);
		return;
	}
	if (check_name(p, name, kind[0] == 'o' ? "outlet name" :
						 "inlet name") == -1)
		return;
	if (kind[0] == 'o') {
		for (i = 0; i < cfg->noutlets; i++) {
			if (strcmp(cfg->outlets[i].name, name) == 0) {
				perr(p, p->line, "duplicate [outlet %s] (first "
				    "on line %d)", name, cfg->outlets[i].line);
				return;
			}
		}
		if (cfg->noutlets >= CONFIG_ITEMS_MAX) {
			perr(p, p->line, "too many outlets (at most %d)",
			    CONFIG_ITEMS_MAX);
			return;
		}
		if (grow(&cfg->outlets, cfg->noutlets,
			sizeof(*cfg->outlets)) == -1 ||
		    grow(&p->op, cfg->noutlets, sizeof(*p->op)) == -1) {
			perr(p, p->line, "out of memory");
			return;
		}
		strcpy(cfg->outlets[cfg->noutlets].name, name);
		cfg->outlets[cfg->noutlets].line = p->line;
		p->idx = cfg->noutlets++;
		p->sec = SEC_OUTLET;
	} else {
		for (i = 0; i < cfg->ninlets; i++) {
			if (strcmp(cfg->inlets[i].name, name) == 0) {
				perr(p, p->line, "duplicate [inlet %s] (first "
				    "on line %d)", name, cfg->inlets[i].line);
				return;
			}
		}
		if (cfg->ninlets >= CONFIG_ITEMS_MAX) {
			perr(p, p->line, "too many inlets (at most %d)",
			    CONFIG_ITEMS_MAX);
			return;
		}
		if (grow(&cfg->inlets, cfg->ninlets, sizeof(*cfg->inlets)) ==
			-1 ||
		    grow(&p->ip, cfg->ninlets, sizeof(*p->ip)) == -1) {
			perr(p, p->line, "out of memory");
			return;
		}
		strcpy(cfg->inlets[cfg->ninlets].name, name);
		strcpy(cfg->inlets[cfg->ninlets].service, name);
		cfg->inlets[cfg->ninlets].line = p->line;
		p->idx = cfg->ninlets++;
		p->sec = SEC_INLET;
	}
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
node_intercept(struct parse *p, const char *value)
{

	each_entry(p, value, "intercept", node_intercept_one, NULL);
}

/* One key of [node]. */
static void
node_key(struct parse *p, const char *key, const char *value)
{
	struct config_node *node = &p->cfg->node;
	enum log_level lvl;
	size_t k;

	for (k = 0; k < NK_COUNT; k++)
		if (strcmp(key, node_keys[k]) == 0)
			break;
	if (k == NK_COUNT) {
		perr(p, p->line, "unknown key \"%.60s\" in [node]", key);
		return;
	}
	if (p->node_seen[k] != 0 && k != NK_CREDENTIAL) {
		perr(p, p->line, "duplicate key \"%s\" in [node] (first on "
		    "line %d)", key, p->node_seen[k]);
		return;
	}
	p->node_seen[k] = p->line;
	if (value[0] == '\0') {
		perr(p, p->line, "empty value for \"%s\"", key);
		return;
	}
	switch ((enum node_key)k) {
	case NK_IDENTITY:
		node->identity_line = p->line;
		set_path(p, key, value, node->identity,
		    sizeof(node->identity));
		break;
	case NK_CREDENTIAL:
		if (node->ncredentials >= CRED_MAX_BLOCK) {
			perr(p, p->line, "too many credential files (at most "
			    "%d, one per authority)", CRED_MAX_BLOCK);
			break;
		}
		if (set_path(p, key, value,
		    node->credential[node->ncredentials],
		    sizeof(node->credential[0])) == 0)
			node->credential_line[node->ncredentials++] = p->line;
		break;
	case NK_REVOKED:
		node->revoked_line = p->line;
		set_path(p, key, value, node->revoked, sizeof(node->revoked));
		break;
	case NK_CREDENTIAL_SKEW:
		parse_uint(p, key, value, 0, 600, &node->credential_skew);
		break;
	case NK_LISTEN:
		if (parse_addr(p, key, value, &node->listen) == 0)
			node->has_listen = 1;
		break;
	case NK_MAX_CONNECTIONS:
		parse_uint(p, key, value, 1, 1000000, &node->max_connections);
		break;
	case NK_MAX_HANDSHAKES:
		parse_uint(p, key, value, 1, 100000, &node->max_handshakes);
		break;
	case NK_HANDSHAKE_TIMEOUT:
		parse_seconds(p, key, value, 3600, 1,
		    &node->handshake_timeout);
		break;
	case NK_CONNECT_TIMEOUT:
		parse_seconds(p, key, value, 3600, 1, &node->connect_timeout);
		break;
	case NK_IDLE_TIMEOUT:
		parse_seconds(p, key, value, 604800, 0, &node->idle_timeout);
		break;
	case NK_SHUTDOWN_GRACE:
		parse_seconds(p, key, value, 3600, 0, &node->shutdown_grace);
		break;
	case NK_KEEPALIVE:
		parse_seconds(p, key, value, 3600, 0, &node->keepalive);
		break;
	case NK_TCP_KEEPALIVE:
		parse_seconds(p, key, value, 86400, 0, &node->tcp_keepalive);
		break;
	case NK_LOG_LEVEL:
		if (log_level_parse(value, &lvl) == -1) {
			perr(p, p->line, "log_level must be error, warn, info "
			    "or debug");
			break;
		}
		node->log_level = lvl;
		node->has_log_level = 1;
		break;
	case NK_RELOAD:
		if (strcmp(value, "watch") == 0)
			node->reload_watch = 1;
		else if (strcmp(value, "off") == 0)
			node->reload_watch = 0;
		else
			perr(p, p->line, "reload must be off or watch");
		break;
	case NK_RELOAD_INTERVAL:
		parse_seconds(p, key, value, 3600, 1, &node->reload_interval);
		break;
	case NK_RELAY_RESOLVE:
		parse_seconds(p, key, value, 3600, 1, &node->relay_resolve);
		break;
	case NK_ADMIN:
		node->admin_line = p->line;
		if (parse_addr(p, key, value, &node->admin) == 0)
			node->has_admin = 1;
		break;
	case NK_ADMIN_PUBLIC:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			perr(p, p->line, "admin_public must be yes or no");
			break;
		}
		node->admin_public = strcmp(value, "yes") == 0;
		break;
	case NK_USER:
		node->user_line = p->line;
		set_account(p, key, value, node->user);
		break;
	case NK_GROUP:
		node->group_line = p->line;
		set_account(p, key, value, node->group);
		break;
	case NK_ALLOW_ROOT:
		if (strcmp(value, "yes") == 0)
			node->allow_root = 1;
		else if (strcmp(value, "no") != 0)
			perr(p, p->line, "allow_root must be yes or no");
		break;
	case NK_INTERCEPT:
		node_intercept(p, value);
		break;
	case NK_RESUME:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			perr(p, p->line, "resume must be yes or no");
			break;
		}
		node->resume = strcmp(value, "yes") == 0;
		break;
	case NK_COUNT:
		break;
	}
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

/* One "NAME = IDENTIFIER" line of [authorities]. */
static void
authority_key(struct parse *p, const char *key, const char *value)
{
	struct config *cfg = p->cfg;
	struct config_authority *a;
	size_t i;

	if (check_name(p, key, "authority name") == -1)
		return;
	for (i = 0; i < cfg->nauthorities; i++) {
		if (strcmp(cfg->authorities[i].name, key) == 0) {
			perr(p, p->line, "duplicate authority \"%s\" (first "
			    "on line %d)", key, cfg->authorities[i].line);
			return;
		}
	}
	if (cfg->nauthorities >= CONFIG_ITEMS_MAX) {
		perr(p, p->line, "too many authorities (at most %d)",
		    CONFIG_ITEMS_MAX);
		return;
	}
	if (grow(&cfg->authorities, cfg->nauthorities,
	    sizeof(*cfg->authorities)) == -1) {
		perr(p, p->line, "out of memory");
		return;
	}
	a = &cfg->authorities[cfg->nauthorities];
	if (identity_id_parse(value, a->id) == -1) {
		perr(p, p->line, "malformed identifier for authority \"%s\" "
		    "(expected I and 64 lowercase hex digits, as sallyport "
		    "identity show prints)", key);
		return;
	}
	for (i = 0; i < cfg->nauthorities; i++) {
		if (memcmp(cfg->authorities[i].id, a->id, CONFIG_ID_LEN) ==
		    0) {
			perr(p, p->line, "authority \"%s\" has the same "
			    "identifier as \"%s\" (line %d)", key,
			    cfg->authorities[i].name,
			    cfg->authorities[i].line);
			return;
		}
	}
	strcpy(a->name, key);
	a->line = p->line;
	cfg->nauthorities++;
}

/*
 * Parse the attribute rule ${s} ("k=v+k2=v2@AUTHORITY", no blanks) into
 * ${r}; the authority is resolved once the file is read.  Return 0 or -1
 * with the error recorded.
 */
static int
rule_parse(struct parse *p, const char *s, struct config_rule *r)
{
	char buf[CONFIG_RULE_TEXT], *at, *item, *eq, *next;
	size_t i;

	if (strlen(s) >= sizeof(buf)) {
		perr(p, p->line, "attribute rule too long");
		return (-1);
	}
	strcpy(buf, s);
	strcpy(r->text, s);
	r->line = p->line;
	if ((at = strrchr(buf, '@')) == NULL) {
		perr(p, p->line, "attribute rule \"%s\" names no authority "
		    "(KEY=VALUE@AUTHORITY)", s);
		return (-1);
	}
	*at++ = '\0';
	if (check_name(p, at, "authority name") == -1)
		return (-1);
	strcpy(r->authority, at);
	for (item = buf; item != NULL; item = next) {
		if ((next = strchr(item, '+')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(item, '=')) == NULL) {
			perr(p, p->line, "\"%s\" in rule \"%s\" is not "
			    "KEY=VALUE", item, s);
			return (-1);
		}
		*eq++ = '\0';
		if (item[0] == '\0' || eq[0] == '\0') {
			perr(p, p->line, "empty %s in attribute rule \"%s\"",
			    item[0] == '\0' ? "key" : "value", s);
			return (-1);
		}
		if (!cred_key_is_valid(item)) {
			perr(p, p->line, "bad attribute key \"%.40s\" in rule "
			    "\"%s\" (1 to %d of a-z 0-9 _ -, starting with a "
			    "letter)", item, s, CRED_KEY_MAX);
			return (-1);
		}
		if (!cred_value_is_valid(eq)) {
			perr(p, p->line, "bad attribute value \"%.70s\" in rule "
			    "\"%s\" (1 to %d of A-Z a-z 0-9 . _ : / -)", eq,
			    s, CRED_VALUE_MAX);
			return (-1);
		}
		for (i = 0; i < r->nattrs; i++)
			if (strcmp(r->attrs[i].key, item) == 0) {
				perr(p, p->line, "attribute \"%s\" twice in "
				    "rule \"%s\"", item, s);
				return (-1);
			}
		if (r->nattrs >= CRED_MAX_ATTRS) {
			perr(p, p->line, "too many attributes in rule \"%s\" "
			    "(at most %d)", s, CRED_MAX_ATTRS);
			return (-1);
		}
		strcpy(r->attrs[r->nattrs].key, item);
		strcpy(r->attrs[r->nattrs].value, eq);
		r->nattrs++;
	}
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

/* One key of [outlet NAME]. */
static void
outlet_key(struct parse *p, const char *key, const char *value)
{
	struct config_outlet *o = &p->cfg->outlets[p->idx];
	struct outlet_p *op = &p->op[p->idx];

	if (strcmp(key, "allow") == 0) {
		allow_add(p, &op->allow, &op->nallow, &o->rules, &o->nrules,
		    value);
		return;
	}
	if (strcmp(key, "relay") == 0) {
		(void)hop_add(p, key, value, o->relay, &o->nrelay,
		    op->relay_ref, o->name);
		o->has_relay = o->nrelay > 0;
		return;
	}
	if (strcmp(key, "pool") == 0 || strcmp(key, "max_dials") == 0) {
		int *seen = key[0] == 'p' ? &op->pool_line : &op->dials_line;

		if (*seen != 0) {
			perr(p, p->line, "duplicate key \"%s\" in [outlet %s] "
			    "(first on line %d)", key, o->name, *seen);
			return;
		}
		*seen = p->line;
		if (key[0] == 'p')
			parse_uint(p, key, value, 1, 64, &o->pool);
		else
			parse_uint(p, key, value, 0, 100000, &o->max_dials);
		return;
	}
	if (strcmp(key, "proxy_protocol") == 0) {
		if (op->proxy_line != 0) {
			perr(p, p->line, "duplicate key \"%s\" in [outlet %s] "
			    "(first on line %d)", key, o->name, op->proxy_line);
			return;
		}
		op->proxy_line = p->line;
		if (strcmp(value, "v2") == 0)
			o->proxy_v2 = 1;
		else if (strcmp(value, "off") != 0)
			perr(p, p->line, "proxy_protocol must be off or v2");
		return;
	}
	if (strcmp(key, "target") != 0) {
		perr(p, p->line, "unknown key \"%.60s\" in [outlet %s]", key,
		    o->name);
		return;
	}
	if (op->target_line != 0) {
		perr(p, p->line, "duplicate key \"target\" in [outlet %s] "
		    "(first on line %d)", o->name, op->target_line);
		return;
	}
	op->target_line = p->line;
	parse_addr(p, "target", value, &o->target);
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
inlet_outlet(struct parse *p, struct config_inlet *in, struct inlet_p *ip,
    const char *value)
{
	char rule[CONFIG_RULE_TEXT];
	const char *at, *at2;
	size_t n;

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

/* One key of [inlet NAME]. */
static void
inlet_key(struct parse *p, const char *key, const char *value)
{
	struct config_inlet *in = &p->cfg->inlets[p->idx];
	struct inlet_p *ip = &p->ip[p->idx];
	int *seen;

	if (strcmp(key, "intercept") == 0) {
		if (ip->intercept_line == 0)
			ip->intercept_line = p->line;
		each_entry(p, value, "intercept", inlet_intercept_one, in);
		return;
	}
	if (strcmp(key, "via") == 0) {
		if (ip->via_line == 0)
			ip->via_line = p->line;
		(void)hop_add(p, key, value, in->via, &in->nvia, ip->via_ref,
		    in->name);
		in->has_via = in->nvia > 0;
		return;
	}
	if (strcmp(key, "listen") == 0)
		seen = &ip->listen_line;
	else if (strcmp(key, "outlet") == 0)
		seen = &ip->outlet_line;
	else if (strcmp(key, "service") == 0)
		seen = &ip->service_line;
	else {
		perr(p, p->line, "unknown key \"%.60s\" in [inlet %s]", key,
		    in->name);
		return;
	}
	if (*seen != 0) {
		perr(p, p->line, "duplicate key \"%s\" in [inlet %s] (first on "
		    "line %d)", key, in->name, *seen);
		return;
	}
	*seen = p->line;
	if (seen == &ip->listen_line) {
		ip->listen_ok = parse_addr(p, "listen", value, &in->listen) == 0;
		in->has_listen = ip->listen_ok;
	}
	else if (seen == &ip->outlet_line)
		inlet_outlet(p, in, ip, value);
	else if (check_name(p, value, "service name") == 0)
		strcpy(in->service, value);
}

/* One key of [relay NAME]. */
static void
relay_key(struct parse *p, const char *key, const char *value)
{
	struct config_relay *r = &p->cfg->relays[p->idx];
	struct relay_p *rp = &p->rp[p->idx];

	if (strcmp(key, "allow") == 0) {
		allow_add(p, &rp->allow, &rp->nallow, &r->allow_rules,
		    &r->nallow_rules, value);
		return;
	}
	if (strcmp(key, "register") == 0) {
		allow_add(p, &rp->reg, &rp->nreg, &r->reg_rules,
		    &r->nreg_rules, value);
		return;
	}
	if (strcmp(key, "via") != 0) {
		perr(p, p->line, "unknown key \"%.60s\" in [relay %s]", key,
		    r->name);
		return;
	}
	if (rp->via_line != 0) {
		perr(p, p->line, "duplicate key \"via\" in [relay %s] (first "
		    "on line %d)", r->name, rp->via_line);
		return;
	}
	rp->via_line = p->line;
	if (peer_at(p, key, value, &rp->via_ref, &r->via) == 1)
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
	switch (p->sec) {
	case SEC_NONE:
		perr(p, p->line, "key \"%.60s\" outside any section", key);
		break;
	case SEC_NODE:
		node_key(p, key, value);
		break;
	case SEC_PEERS:
		peer_key(p, key, value);
		break;
	case SEC_AUTHORITIES:
		authority_key(p, key, value);
		break;
	case SEC_OUTLET:
		outlet_key(p, key, value);
		break;
	case SEC_INLET:
		inlet_key(p, key, value);
		break;
	case SEC_RELAY:
		relay_key(p, key, value);
		break;
	case SEC_BAD:
		break;
	}
	return (1); /* errors are recorded, never inih's to report */
}

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
 * [relay ${name}] ("register", "allow"), or is NULL for the allow list of
 * [outlet ${name}].  Return 0, or -1 if any error was recorded.
 */
static int
resolve_list(struct parse *p, const struct ref *refs, size_t n,
    uint8_t (**ids)[CONFIG_ID_LEN], size_t *nids, const char *what,
    const char *name)
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
				    "in %s of [relay %s]", refs[j].text, what,
				    name);
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
		for (j = 0; j < cfg->nauthorities; j++)
			if (strcmp(cfg->authorities[j].name,
			    rules[i].authority) == 0)
				break;
		if (j == cfg->nauthorities) {
			perr(p, rules[i].line, "unknown authority \"%s\" in "
			    "rule \"%s\" (not in [authorities])",
			    rules[i].authority, rules[i].text);
			continue;
		}
		memcpy(rules[i].issuer, cfg->authorities[j].id, CONFIG_ID_LEN);
	}
}

/*
 * Return 1 if the node can accept connections: [node] listen is set, or
 * was given and is already reported as bad (no second error for it).
 */
static int
has_listen(const struct parse *p)
{

	return (p->cfg->node.has_listen || p->node_seen[NK_LISTEN] != 0);
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
		if (p->op[i].target_line == 0)
			perr(p, o->line, "[outlet %s] has no target = "
			    "HOST:PORT", o->name);
		else if (p->node_line != 0 && !has_listen(p) && !o->has_relay)
			perr(p, o->line, "[outlet %s] needs listen = HOST:PORT "
			    "in [node] (where inlets reach this node)",
			    o->name);
		for (j = 0; j < o->nrelay; j++)
			(void)ref_resolve(p, &p->op[i].relay_ref[j],
			    o->relay[j].id);
		if (o->pool == 0)
			o->pool = 4;
		if (p->op[i].dials_line == 0)
			o->max_dials = CONFIG_MAX_DIALS;
		(void)resolve_list(p, p->op[i].allow, p->op[i].nallow,
		    &o->allow, &o->nallow, NULL, o->name);
		resolve_rules(p, o->rules, o->nrules);
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
				perr(p, p->ip[i].intercept_line, "intercept "
				    "address %s is declared twice ([inlet "
				    "%s])", addr_format(&in->intercept[k],
				    buf, sizeof(buf)), o->name);
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
		if (ip->listen_line == 0 && ip->intercept_line == 0)
			perr(p, in->line, "[inlet %s] has no listen = "
			    "HOST:PORT (or intercept = HOST:PORT)", in->name);
		if (ip->intercept_line != 0 && p->node_seen[NK_INTERCEPT] == 0)
			perr(p, ip->intercept_line, "[inlet %s] intercept "
			    "needs intercept = HOST:PORT in [node] (the "
			    "interception listener)", in->name);
		intercept_clashes(p, i);
		if (ip->outlet_line == 0)
			perr(p, in->line, "[inlet %s] has no outlet = "
			    "PEER@HOST:PORT (the outlet node's pinned "
			    "identity and address)", in->name);
		else if (in->has_via && ip->outlet_has_addr)
			perr(p, ip->outlet_line, "with via, outlet is just "
			    "the outlet's pinned %s (no @address)",
			    in->outlet_by_rule ? "attribute rule" :
			    "identity");
		else if (!in->has_via && !ip->outlet_has_addr &&
		    ip->via_line == 0 && in->outlet_by_rule)
			perr(p, ip->outlet_line, "outlet must be "
			    "KEY=VALUE@AUTHORITY@HOST:PORT (the attribute "
			    "rule, then the outlet node's address)");
		else if (!in->has_via && !ip->outlet_has_addr &&
		    ip->via_line == 0)
			perr(p, ip->outlet_line, "outlet must be "
			    "PEER@HOST:PORT (the outlet node's pinned "
			    "identity, then its address)");
		else if (in->outlet_by_rule)
			resolve_rules(p, &in->outlet_rule, 1);
		else if (ip->outlet_ref.line != 0)
			(void)ref_resolve(p, &ip->outlet_ref, in->outlet_id);
		for (j = 0; j < in->nvia; j++)
			(void)ref_resolve(p, &ip->via_ref[j], in->via[j].id);
		/* Clashes, only between addresses that parsed. */
		if (!ip->listen_ok)
			continue;
		if (cfg->node.has_listen &&
		    addr_clash(&in->listen, &cfg->node.listen)) {
			perr(p, ip->listen_line, "listen address %s is "
			    "also [node] listen (line %d)",
			    addr_format(&in->listen, buf, sizeof(buf)),
			    p->node_seen[NK_LISTEN]);
			continue;
		}
		for (j = 0; j < i; j++) {
			if (!p->ip[j].listen_ok ||
			    !addr_clash(&in->listen, &cfg->inlets[j].listen))
				continue;
			perr(p, ip->listen_line, "listen address %s clashes "
			    "with [inlet %s] (line %d)",
			    addr_format(&in->listen, buf, sizeof(buf)),
			    cfg->inlets[j].name, p->ip[j].listen_line);
			break;
		}
	}
}

/* Checks that need the whole file; each error is recorded. */
static void
validate(struct parse *p)
{
	struct config *cfg = p->cfg;
	char buf[ADDR_TEXT_MAX + 8];
	size_t i, j;

	if (p->node_line == 0)
		perr(p, 1, "missing [node] section (with identity = KEYFILE)");
	else if (p->node_seen[NK_IDENTITY] == 0)
		perr(p, p->node_line, "[node] has no identity = KEYFILE");
	if (cfg->node.has_admin && !cfg->node.admin_public &&
	    !addr_is_loopback(&cfg->node.admin))
		perr(p, p->node_seen[NK_ADMIN], "admin address %s is not "
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
		if (p->node_line != 0 && !has_listen(p))
			perr(p, r->line, "[relay %s] needs listen = HOST:PORT "
			    "in [node] (where nodes reach this relay)",
			    r->name);
		(void)resolve_list(p, p->rp[i].reg, p->rp[i].nreg, &r->reg,
		    &r->nreg, "register", r->name);
		(void)resolve_list(p, p->rp[i].allow, p->rp[i].nallow,
		    &r->allow, &r->nallow, "allow", r->name);
		resolve_rules(p, r->reg_rules, r->nreg_rules);
		resolve_rules(p, r->allow_rules, r->nallow_rules);
		if (r->has_via)
			(void)ref_resolve(p, &p->rp[i].via_ref, r->via_id);
	}
}

/* Free the parse-time side arrays. */
static void
parse_fini(struct parse *p)
{
	size_t i;

	if (p->op != NULL)
		for (i = 0; i < p->cfg->noutlets; i++)
			free(p->op[i].allow);
	if (p->rp != NULL)
		for (i = 0; i < p->cfg->nrelays; i++) {
			free(p->rp[i].reg);
			free(p->rp[i].allow);
		}
	free(p->op);
	free(p->ip);
	free(p->rp);
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
	/* Defaults, as documented in docs/config.md. */
	cfg->node.max_connections = 10000;
	cfg->node.max_handshakes = 256;
	cfg->node.resume = 1;
	cfg->node.handshake_timeout = 10;
	cfg->node.connect_timeout = 10;
	cfg->node.idle_timeout = 0;
	cfg->node.shutdown_grace = 10;
	cfg->node.keepalive = 30;
	cfg->node.tcp_keepalive = 120;
	cfg->node.credential_skew = CRED_SKEW_DEFAULT;
	cfg->node.reload_interval = 2;
	cfg->node.relay_resolve = 30;
	cfg->node.log_level = LOG_LVL_INFO;

	/* The reader flags syntax errors itself; inih's first is a backstop. */
	r = ini_parse_stream(reader, &p, handler, &p);
	if (r > 0)
		perr(&p, r, SYNTAX_ERROR);
	else if (r < 0)
		perr(&p, p.line, "out of memory");
	if (!p.stopped) {
		validate(&p);
		validate_relays(&p);
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
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		ferr(errs, "%s: cannot open: %s", path,
		    strerror(errno));
		goto fail0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		ferr(errs, "%s: not a regular file", path);
		goto fail1;
	}
	if ((text = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		ferr(errs, "%s: out of memory", path);
		goto fail1;
	}
	/* Read one byte more than allowed, to detect a big file. */
	while (len < CONFIG_FILE_MAX + 1) {
		if ((n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			ferr(errs, "%s: read: %s", path,
			    strerror(errno));
			goto fail2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_FILE_MAX) {
		ferr(errs, "%s: too large (over %d bytes)", path,
		    CONFIG_FILE_MAX);
		goto fail2;
	}
	rc = config_parse_all(cfg, path, text, len, errs);
fail2:
	free(text);
fail1:
	close(fd);
fail0:
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
	}
	free(cfg->outlets);
	for (i = 0; i < cfg->ninlets; i++)
		free(cfg->inlets[i].intercept);
	free(cfg->inlets);
	for (i = 0; i < cfg->nrelays; i++) {
		free(cfg->relays[i].reg);
		free(cfg->relays[i].allow);
		free(cfg->relays[i].reg_rules);
		free(cfg->relays[i].allow_rules);
	}
	free(cfg->relays);
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
