/*
 * config: one INI file per node, parsed with inih into typed structures
 * and validated as a whole.  Every error names FILE:LINE.  Never opens
 * sockets; never applies a half-parsed file.  Reference: docs/config.md.
 */
#ifndef SALLYPORT_CONFIG_H
#define SALLYPORT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cred.h"
#include "log.h"

#define CONFIG_NAME_MAX 64 /* peer, outlet, inlet and service names */
#define CONFIG_ID_LEN 32   /* raw identifier (SHA-256 of the public key) */
#define CONFIG_USER_MAX 33 /* [node] user and group: at most 32 characters */
#define CONFIG_INTERCEPT_MAX 64 /* intercept addresses per inlet */

#define CONFIG_RULE_TEXT 200 /* an attribute rule as written */
#define CONFIG_PATH_MAX 4096
#define CONFIG_ENROLL_ADDRS 8 /* an authority's addresses in a token */

/*
 * [authorities] NAME = ID1, ID2: an issuer of credentials we trust.  One
 * entry per identifier: a name may have up to CONFIG_AUTHORITY_IDS of
 * them (a key rotation's overlap, docs/credentials.md), in the order
 * written; an identifier belongs to one name only.
 */
#define CONFIG_AUTHORITY_IDS 4
struct config_authority {
	char name[CONFIG_NAME_MAX];
	uint8_t id[CONFIG_ID_LEN];
	int line;
};

#define CONFIG_RULE_VALUES 8 /* values of one term: KEY=V1|V2|... */

/*
 * One term of an attribute rule: "KEY=V1|V2" holds when the credential's
 * attribute KEY has one of the values; "!KEY=V1|V2" when it has none of
 * them (an absent KEY included).  Values are kept in ascending order.
 */
struct config_term {
	char key[CRED_KEY_MAX + 1];
	int neg;
	size_t nvalues;
	char values[CONFIG_RULE_VALUES][CRED_VALUE_MAX + 1];
};

/*
 * An attribute rule of an allow, deny (or register) list,
 * "k=v+k2=v2|v3+!k3=v4@NAME": a peer holding a valid credential from the
 * authority NAME in which every term holds matches.  Terms are kept in
 * ascending order of their keys (the normal form, config_rule_format).
 */
struct config_rule {
	char text[CONFIG_RULE_TEXT]; /* as written, for audit lines */
	char authority[CONFIG_NAME_MAX];
	/* resolved from [authorities]: every identifier of the name */
	uint8_t issuer[CONFIG_AUTHORITY_IDS][CONFIG_ID_LEN];
	size_t nissuers;
	size_t nterms;
	struct config_term terms[CRED_MAX_ATTRS];
	int line;
};

/* A list of entries: resolved identifiers and attribute rules. */
struct config_list {
	uint8_t (*ids)[CONFIG_ID_LEN];
	size_t nids;
	struct config_rule *rules;
	size_t nrules;
};

/*
 * from = CIDR[, CIDR] (repeatable): the addresses a connection may come
 * from, as this node sees them (an inlet: its local client; an outlet or
 * relay: the node that connected); none: any (docs/config.md).
 */
struct config_from {
	struct addr_cidr *nets;
	size_t n;
};
#define CONFIG_FROM_MAX 64

/*
 * What an outlet or a relay name adds to its allow list(s): from, checked
 * with the deny entries;
 * deny = ENTRY[, ENTRY]: checked before any allow entry (a match denies,
 * whatever allows the peer); try_allow, try_deny = ENTRY[, ENTRY]: try-out
 * entries, never enforced: a decision they would turn is logged
 * (decision=would-allow, would-deny) and counted (docs/config.md).
 */
struct config_policy {
	struct config_from from;
	struct config_list deny;
	struct config_list try_allow;
	struct config_list try_deny;
};
#define CONFIG_POLICY_LISTS 3 /* the lists of struct config_policy */

/*
 * One relay to use, "PEER@HOST:PORT" (relay = of an outlet, via = of an
 * inlet): the relay's pinned identity and its address as written.  A
 * name stands for every address it resolves to (a fleet of replicas
 * sharing that identity; docs/relay.md "Fleets").
 */
struct config_hop {
	uint8_t id[CONFIG_ID_LEN];
	struct addr addr;
	int line;
};
#define CONFIG_HOPS_MAX 8 /* relay = lines per outlet, via = per inlet */

struct config_peer {
	char name[CONFIG_NAME_MAX];
	uint8_t id[CONFIG_ID_LEN];
	int line;
};

/*
 * Limits per peer and per service ([outlet NAME], [relay NAME]; limit.c,
 * docs/config.md "Limits per peer"): 0 is no limit.
 */
struct config_limits {
	unsigned max_conns; /* max_connections_per_peer: live at once */
	unsigned rate;      /* new_connections_per_second */
	unsigned burst;     /* new_connections_burst (0: the rate) */
	unsigned bytes;     /* bytes_per_second_per_connection (outlets) */
	unsigned peer_bytes; /* bytes_per_second_per_peer (outlets) */
};
/* [relay NAME] max_connections_per_peer when absent (docs/config.md). */
#define CONFIG_RELAY_PEER_CONNS 4096

/* [outlet] max_dials when absent: below the listen backlog of 5 that
 * socat and many small servers use (docs/config.md). */
#define CONFIG_MAX_DIALS 4

struct config_outlet {
	char name[CONFIG_NAME_MAX]; /* the service name clients ask for */
	struct addr target;
	uint8_t (*allow)[CONFIG_ID_LEN]; /* resolved identifiers */
	size_t nallow;                   /* 0: nobody (deny by default) */
	struct config_rule *rules;       /* attribute rules of allow */
	size_t nrules;
	struct config_policy pol;        /* deny first; try entries */
	int line;
	/* relay = PEER@HOST:PORT (repeatable): register at those relays,
	 * at every address of each (docs/relay.md). */
	int has_relay; /* nrelay > 0 */
	struct config_hop relay[CONFIG_HOPS_MAX];
	size_t nrelay;
	unsigned pool; /* ready connections kept at the relay, default 4 */
	/* Dials to the target in their early phase at once (0: no cap),
	 * default CONFIG_MAX_DIALS; the others wait (outlet.c). */
	unsigned max_dials;
	int proxy_v2; /* proxy_protocol = v2: a PROXY header to the target */
	struct config_limits limits; /* per peer (limit.c) */
};

/* The largest [inlet] warm (warm.h's WARM_MAX). */
#define CONFIG_WARM_MAX 16

struct config_inlet {
	char name[CONFIG_NAME_MAX];
	struct addr listen;
	uint8_t outlet_id[CONFIG_ID_LEN]; /* pinned outlet node identity */
	struct addr outlet;               /* the outlet node's address */
	/* outlet = RULE[@HOST:PORT]: pinned by an attribute rule instead
	 * (outlet_id unused): any outlet with a valid credential holding
	 * the rule's attributes (docs/config.md). */
	int outlet_by_rule;
	struct config_rule outlet_rule;
	char service[CONFIG_NAME_MAX];    /* default: the inlet's name */
	int line;
	/* via = PEER@HOST:PORT (repeatable): reach the outlet through one
	 * of those relays (any address of each). */
	int has_via; /* nvia > 0; then ${outlet} is not used */
	struct config_hop via[CONFIG_HOPS_MAX];
	size_t nvia;
	int has_listen; /* listen is optional with intercept */
	/* intercept = HOST:PORT, ...: original destinations it serves. */
	struct addr *intercept;
	size_t nintercept;
	struct config_from from; /* the clients it serves; none: any */
	struct config_list deny; /* outlets refused when pinned by rule */
	unsigned warm; /* channels made ahead of clients (0: none) */
};

/* [relay NAME]: this node relays the service NAME (docs/relay.md). */
struct config_relay {
	char name[CONFIG_NAME_MAX];
	uint8_t (*reg)[CONFIG_ID_LEN];   /* who may register NAME */
	size_t nreg;                     /* 0: nobody */
	uint8_t (*allow)[CONFIG_ID_LEN]; /* who may reach NAME */
	size_t nallow;                   /* 0: nobody */
	struct config_rule *reg_rules;   /* attribute rules of register */
	size_t nreg_rules;
	struct config_rule *allow_rules; /* attribute rules of allow */
	size_t nallow_rules;
	struct config_policy pol;        /* for register and allow */
	int has_via;                     /* forward to the next relay */
	uint8_t via_id[CONFIG_ID_LEN];
	struct addr via;
	int line;
	struct config_limits limits; /* per client peer (limit.c) */
};

/*
 * [authority NAME]: this node is the authority NAME (issue 21): it holds
 * the authority key, enrols nodes with tokens and renews their
 * credentials from its store (docs/credentials.md, "Enrolment").
 */
#define CONFIG_AUTHORITY_ADDRS 8   /* address = lines (AUTHTOKEN_MAX_ADDRS) */
#define CONFIG_AUTHORITY_ADDR_MAX 256 /* bytes of one, with its NUL */
#define CONFIG_STORE_DIR "/var/lib/sallyport" /* default store: DIR/NAME.db */
/*
 * config_store_is_postgres(store):
 * Whether an [authority NAME] store = value names a PostgreSQL database
 * (it starts with postgresql:// or postgres://) rather than an SQLite
 * file.
 */
int config_store_is_postgres(const char *store);
struct config_authority_role {
	char name[CONFIG_NAME_MAX]; /* [a-z0-9_-], at most 31 */
	int line;
	char key[CONFIG_PATH_MAX];  /* the authority key (authority create) */
	int key_line;
	char store[CONFIG_PATH_MAX]; /* default CONFIG_STORE_DIR/NAME.db */
	int store_line;             /* the section's line if defaulted */
	uint64_t credential_ttl;    /* seconds, default 1h */
	uint64_t token_ttl;         /* seconds, default 10m: token create */
	unsigned enrol_rate;        /* channels per second per source (4) */
	unsigned enrol_burst;       /* ... after a burst of that many (32) */
	/* address = HOST:PORT (repeatable): what tokens carry; default the
	 * [node] listen address when it is not a wildcard. */
	char address[CONFIG_AUTHORITY_ADDRS][CONFIG_AUTHORITY_ADDR_MAX];
	size_t naddress;
};

struct config_node {
	char identity[4096]; /* key file; relative: to the config's dir */
	int identity_line;   /* line of "identity =", for key file errors */
	struct addr listen;  /* where secure channels are accepted */
	int has_listen;
	/* Limits and timeouts, with defaults; documented in docs/config.md. */
	unsigned max_connections;   /* default 10000 */
	unsigned max_handshakes;    /* pending handshakes, default 256 */
	double handshake_timeout;   /* seconds, default 10 */
	double connect_timeout;     /* seconds, default 10 */
	double idle_timeout;        /* seconds, 0 = none; default 0 */
	double shutdown_grace;      /* seconds, default 10 */
	double keepalive;           /* seconds, 0 = off; default 30 */
	double tcp_keepalive;       /* seconds, 0 = off; default 120 */
	int has_log_level;          /* log_level was set in the file */
	enum log_level log_level;   /* default: the command line's */
	int reload_watch;           /* reload = watch: poll the files */
	double reload_interval;     /* seconds between polls, default 2 */
	double relay_resolve;       /* relay/via names re-resolved, def. 30 */
	struct addr admin;          /* the admin endpoint (admin.c) */
	int has_admin;
	int admin_line;             /* for the check warning */
	int admin_public;           /* admin may be non-loopback */
	/* Privileges after start-up (sandbox.c; docs/security.md). */
	char user[CONFIG_USER_MAX];  /* switch to it if root; "" = none */
	char group[CONFIG_USER_MAX]; /* "" = the user's primary group */
	int user_line, group_line;   /* for lookup errors */
	int allow_root;              /* allow_root = yes: may stay root */
	int resume;                  /* resume = yes: resumed handshakes */
	/* intercept = ADDR[, ADDR]: the interception listener, loopback,
	 * at most one IPv4 and one IPv6 address. */
	struct addr intercept[2];
	size_t nintercept;
	/* Credentials presented (one per authority), revocation list. */
	char credential[CRED_MAX_BLOCK][CONFIG_PATH_MAX]; /* as identity */
	int credential_line[CRED_MAX_BLOCK];
	size_t ncredentials;
	char revoked[CONFIG_PATH_MAX]; /* "" = none */
	int revoked_line;
	unsigned credential_skew; /* seconds, default CRED_SKEW_DEFAULT */
	/*
	 * enroll = TOKENFILE, enroll_credential = FILE: join the authority
	 * the token names on first start, keep the credential in FILE
	 * (then one of credential[]) and renew it; the authority is trusted
	 * under its name (an [authorities] entry is added).  What the
	 * token says besides its secret, read at each load:
	 */
	char enroll[CONFIG_PATH_MAX]; /* "" = none */
	int enroll_line;
	char enroll_cred[CONFIG_PATH_MAX];
	int enroll_cred_line;
	char enroll_name[CONFIG_NAME_MAX];     /* the authority's name */
	/* ... its identifiers: the token's, then the others [authorities]
	 * gives its name (a key rotation) */
	uint8_t enroll_ids[CONFIG_AUTHORITY_IDS][CONFIG_ID_LEN];
	size_t enroll_nids;
	char enroll_addrs[CONFIG_ENROLL_ADDRS][ADDR_TEXT_MAX]; /* as written */
	size_t enroll_naddrs;
};

struct config {
	char path[4096];
	struct config_node node;
	struct config_peer *peers;
	size_t npeers;
	struct config_outlet *outlets;
	size_t noutlets;
	struct config_inlet *inlets;
	size_t ninlets;
	struct config_relay *relays;
	size_t nrelays;
	struct config_authority *authorities;
	size_t nauthorities;
	struct config_authority_role *authority_roles; /* [authority NAME] */
	size_t nauthority_roles;
};

/*
 * Every error found in one file, in the order found (line by line, then
 * the checks that need the whole file); at most one per line.  For
 * "sallyport check", which reports them all.
 */
#define CONFIG_ERRORS_MAX 50
struct config_errors {
	size_t n;    /* messages in msg[], at most CONFIG_ERRORS_MAX */
	size_t more; /* errors found beyond those (counted, not kept) */
	char msg[CONFIG_ERRORS_MAX][512]; /* "FILE:LINE: message" */
};

/*
 * config_load(cfg, path, err, errlen):
 * Parse and validate ${path} into ${cfg}.  Return 0, or -1 with
 * "FILE:LINE: message" in ${err} (${cfg} then holds nothing to free).
 * Key files are not opened here (identity_load does that).
 */
int config_load(struct config *cfg, const char *path, char *err,
    size_t errlen);

/*
 * config_parse(cfg, path, text, len, err, errlen):
 * As config_load, for the ${len} bytes of INI text at ${text} (borrowed);
 * ${path} names the file in messages and anchors relative key paths.
 */
int config_parse(struct config *cfg, const char *path, const char *text,
    size_t len, char *err, size_t errlen);

/*
 * config_load_all(cfg, path, errs):
 * As config_load, but record every error (up to CONFIG_ERRORS_MAX, the
 * rest counted) in ${errs}; its first is the one config_load reports.
 * Return 0 (${errs}->n is 0), or -1 (${cfg} then holds nothing to free).
 */
int config_load_all(struct config *cfg, const char *path,
    struct config_errors *errs);

/*
 * config_parse_all(cfg, path, text, len, errs):
 * As config_parse, recording every error in ${errs} (config_load_all).
 */
int config_parse_all(struct config *cfg, const char *path, const char *text,
    size_t len, struct config_errors *errs);

/*
 * config_free(cfg):
 * Free what config_load allocated in ${cfg}.
 */
void config_free(struct config *cfg);

/*
 * config_rule_parse(r, s, err, errlen):
 * Parse the attribute rule ${s} ("[!]KEY=V[|V...][+...]@AUTHORITY", no
 * blanks) into ${r}, terms and values in their normal order (its line
 * and issuer are left 0).  Return 0, or -1 with the problem in ${err}
 * (${errlen} bytes).
 */
int config_rule_parse(struct config_rule *r, const char *s, char *err,
    size_t errlen);

/*
 * config_rule_format(r, buf, size):
 * Write the normal form of ${r} into ${buf} (${size} bytes, at least
 * CONFIG_RULE_TEXT: never longer than the rule as written): terms by key,
 * each one's values in order.  Return ${buf}.
 */
char *config_rule_format(const struct config_rule *r, char *buf,
    size_t size);

/*
 * config_outlet_find(cfg, service):
 * The outlet named ${service}, or NULL.
 */
const struct config_outlet *config_outlet_find(const struct config *cfg,
    const char *service);

/*
 * config_relay_find(cfg, name):
 * The [relay NAME] section named ${name}, or NULL.
 */
const struct config_relay *config_relay_find(const struct config *cfg,
    const char *name);

/*
 * config_rule_issued_by(r, id):
 * Whether ${id} is one of the identifiers the authority of the rule ${r}
 * has (its issuer[]).
 */
int config_rule_issued_by(const struct config_rule *r,
    const uint8_t id[CONFIG_ID_LEN]);

/*
 * config_authority_find(cfg, id):
 * The [authorities] entry whose identifier is ${id}, or NULL.
 */
const struct config_authority *config_authority_find(
    const struct config *cfg, const uint8_t id[CONFIG_ID_LEN]);

/* The most files config_files() names. */
#define CONFIG_FILES_MAX (3 + CRED_MAX_BLOCK)

/*
 * config_authority_role_find(cfg, name):
 * The [authority ${name}] section of ${cfg}, or NULL.
 */
const struct config_authority_role *config_authority_role_find(
    const struct config *cfg, const char *name);

/*
 * config_files(cfg, files, lines):
 * The files besides itself that ${cfg} names and every load reads again
 * (the key, the credentials, the revocation list), into ${files} (at
 * most CONFIG_FILES_MAX, borrowed from ${cfg}), each with the line that
 * names it in ${lines}.  Return how many.
 */
size_t config_files(const struct config *cfg, const char **files,
    int *lines);

/*
 * config_peer_name(cfg, id):
 * The name [peers] gives the identifier ${id}, or NULL.
 */
const char *config_peer_name(const struct config *cfg,
    const uint8_t id[CONFIG_ID_LEN]);

/* What config_diff() found of one section. */
enum config_change { CONFIG_ADDED = 1, CONFIG_REMOVED, CONFIG_CHANGED };

/* config_diff()'s callback: the section [${kind} ${name}] was ${what}. */
typedef void config_change_fn(void *arg, const char *kind, const char *name,
    enum config_change what);

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
void config_diff(const struct config *old, const struct config *new,
    config_change_fn *fn, void *arg);

/*
 * config_key(kind, i):
 * The name of the ${i}th key (from 0) of the sections of ${kind} ("node",
 * "outlet", "inlet", "relay"), or NULL past the last one or for a kind
 * without keys of its own ("peers", "authorities": NAME = IDENTIFIER).
 */
const char *config_key(const char *kind, size_t i);

/*
 * config_key_default(kind, i, buf, len):
 * Write the default of the ${i}th key of ${kind} (config_key) into ${buf}
 * (${len} bytes) as docs/config.md writes it ("10000", "2.5", "off"),
 * or "" if the key's table gives none (paths, addresses, lists, required
 * keys, log_level: the command line's).  Return ${buf}.
 */
const char *config_key_default(const char *kind, size_t i, char *buf,
    size_t len);

#endif
