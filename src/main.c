/*
 * main: subcommands, argv, start-up order, signals, the loop.
 *
 * "sallyport [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]": global options are
 * parsed here, then the command is looked up in commands[] and run.  The
 * global options --log-level, --syslog and --help are also accepted after
 * the command, anywhere among its arguments ("check --log-level debug
 * FILE"); "--" ends them.  A command is
 * a function taking its own argc/argv (argv[0] is the command's last word)
 * and returning an exit status from <sysexits.h>.  Errors go to stderr as
 * "sallyport: ...".  The daemon lives in its own file; this one only
 * dispatches to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "addr.h"
#include "authstore.h"
#include "authtoken.h"
#include "config.h"
#include "cred.h"
#include "crypto.h"
#include "enrol.h"
#include "identity.h"
#include "intercept.h"
#include "log.h"
#include "node.h"
#include "probe.h"
#include "resolve.h"
#include "sandbox.h"

struct command {
	const char *name; /* one or two words: "check", "identity create" */
	const char *args; /* synopsis of the arguments */
	const char *summary;
	const char *help; /* shown by "help COMMAND" and "COMMAND --help" */
	int (*fn)(int argc, char *argv[]);
};

static int cmd_identity_create(int, char *[]);
static int cmd_identity_show(int, char *[]);
static int cmd_authority_create(int, char *[]);
static int cmd_credential_issue(int, char *[]);
static int cmd_credential_show(int, char *[]);
static int cmd_enroll(int, char *[]);
static int cmd_check(int, char *[]);
static int check_trust(const struct config *, const struct identity *);
static int cmd_run(int, char *[]);
static int cmd_probe(int, char *[]);
static int cmd_intercept_rules(int, char *[]);
static int cmd_authority_token(int, char *[]);
static int cmd_authority_member(int, char *[]);
static int check_authorities(const struct config *);
static int cmd_policy_explain(int, char *[]);
static int check_expect(const struct config *, const char *);

/* Global options; run needs them again (the file's log_level). */
static enum log_level opt_level = LOG_LVL_INFO;
static int opt_syslog, opt_level_given;
static const char *opt_expect; /* check --expect FILE */

/* Their help, in "sallyport --help" and each command's. */
static const char global_help[] =
    "  --log-level LEVEL      error, warn, info (default) or debug\n"
    "  --syslog               log to syslog instead of stderr\n"
    "  -h, --help             show this help\n";

/* The options every command takes, before or after its name. */
#define GLOBAL_OPTIONS                                                       \
	{"help", no_argument, NULL, 'h'},                                    \
	    {"log-level", required_argument, NULL, 'l'},                     \
	    {"syslog", no_argument, NULL, 's'}

/*
 * The subcommands, in the order "sallyport --help" lists them.  To add
 * one, declare its function in its own module's header (e.g. run.h for
 * "run FILE") and add a line here.
 */
static const struct command commands[] = {
    {"identity create", "FILE", "make a new P-256 identity key",
	"Make a new ECDSA P-256 key pair from system entropy, write the\n"
	"private key to FILE (PKCS#8 PEM, mode 0600; an existing FILE is\n"
	"never overwritten) and print the identifier that allow-lists name.\n",
	cmd_identity_create},
    {"identity show", "FILE", "print the identifier of a key file",
	"Print the identifier of the private key (or public key) in FILE:\n"
	"I followed by the 64 lowercase hex digits of SHA-256 over the\n"
	"uncompressed public key.  PKCS#8, SEC1 (\"EC PRIVATE KEY\") and\n"
	"\"PUBLIC KEY\" PEM files are read; a private key file others could\n"
	"read is refused.\n",
	cmd_identity_show},
    {"authority create", "FILE", "make a new credential authority key",
	"Make a new authority key: an identity like any other (a P-256 key\n"
	"in FILE, mode 0600, never overwritten), whose identifier nodes name\n"
	"in [authorities] to trust the credentials it issues.\n",
	cmd_authority_create},
    {"authority token create", "CONFIG NAME [--attr K=V]... [--uses N] "
	"[--ttl DURATION]", "make an enrolment token",
	"Make an enrolment token for the [authority NAME] of the\n"
	"configuration CONFIG and print it on stdout: one line, all a new\n"
	"node needs (the authority's name, identifier and addresses, and a\n"
	"32-byte secret).  Only the secret's SHA-256 is stored; the line\n"
	"cannot be printed again.  The node that enrols with it becomes a\n"
	"member with the --attr attributes (at most 8).  --uses N: how many\n"
	"nodes may enrol with it (default 1); --ttl: how long it is valid\n"
	"(default: the section's token_ttl, 10m).  Its reference (T and 11\n"
	"characters, what logs and token list show) goes to stderr.  Works\n"
	"while the node runs.  Exit 64 for bad arguments, 78 for CONFIG\n"
	"without [authority NAME], 66 or 77 for an unreadable or unsafe\n"
	"authority key, 74 when the store cannot be opened or written.\n",
	cmd_authority_token},
    {"authority token list", "CONFIG NAME", "list the enrolment tokens",
	"List the tokens of the store of [authority NAME]: reference, uses\n"
	"left, expiry, state (usable, expired, used, revoked), who made it\n"
	"and when, attributes.  Never a secret (the store has none).\n",
	cmd_authority_token},
    {"authority token revoke", "CONFIG NAME REF", "revoke an enrolment token",
	"Revoke the token whose reference is REF: no node can enrol with it\n"
	"any more (members that did stay).  Exit 65 if there is no such\n"
	"token.\n",
	cmd_authority_token},
    {"authority member list", "CONFIG NAME", "list the members",
	"List the members of [authority NAME]: identifier, state (active,\n"
	"removed, locked), newest serial, how and when they joined,\n"
	"attributes.\n",
	cmd_authority_member},
    {"authority member show", "CONFIG NAME ID", "show one member",
	"Show the member ID (I and 64 hex digits): its state, attributes,\n"
	"how and when it joined, its newest and previous serials and whether\n"
	"the node has presented the newest.  Exit 65 if ID is no member.\n",
	cmd_authority_member},
    {"authority member add", "CONFIG NAME ID [--attr K=V]...",
	"add a member without a token",
	"Add the identity ID as an active member with the attributes given:\n"
	"it gets its first credential by renewing over a channel (no token\n"
	"needed).  Exit 65 if ID is a member already (in any state).\n",
	cmd_authority_member},
    {"authority member set", "CONFIG NAME ID [--attr K=V]...",
	"replace a member's attributes",
	"Replace the attributes of the member ID (none given: none); its\n"
	"next credential carries them.  Exit 65 if ID is no member.\n",
	cmd_authority_member},
    {"authority member remove", "CONFIG NAME ID", "remove a member",
	"Remove the member ID: it gets no more credentials, and its\n"
	"identifier and every serial issued to it go on the authority's\n"
	"revocation list.  Exit 65 if ID is no member.\n",
	cmd_authority_member},
    {"authority member unlock", "CONFIG NAME ID", "unlock a locked member",
	"A member is locked when a renewal presents an older credential\n"
	"than its newest (two holders of one key).  Unlock it once the\n"
	"cause is dealt with: its last two credentials may renew again.\n"
	"Exit 65 if ID is no member or was removed.\n",
	cmd_authority_member},
    {"credential issue", "--authority FILE --subject ID [--attr K=V]... "
	"--ttl DURATION [--not-before TIME] --out FILE",
	"issue a credential",
	"Sign a credential with the authority key FILE for the identifier\n"
	"ID, holding the attributes given (at most 8; keys a-z 0-9 _ -,\n"
	"values A-Z a-z 0-9 . _ : / -), valid from --not-before (default\n"
	"now; seconds since the epoch, now, now+DURATION, now-DURATION or\n"
	"YYYY-MM-DDTHH:MM:SSZ) for --ttl (90, 90s, 15m, 12h, 7d).  The\n"
	"credential (PEM) replaces --out FILE at once (a temporary file then\n"
	"a rename), so a node watching the file never reads half of it.\n"
	"Prints its serial and not-after.  Exit 64 for bad arguments, 66 or\n"
	"77 for an unreadable or unsafe key, 73 if FILE cannot be written.\n",
	cmd_credential_issue},
    {"credential show", "FILE", "print a credential and check its signature",
	"Print the fields of the credential in FILE and check its signature\n"
	"against the issuer key it carries.  Exit 0 if it verifies, 65\n"
	"(EX_DATAERR) for a malformed credential or a bad signature, 66 if\n"
	"FILE cannot be read.  Whether a node trusts the issuer is its\n"
	"[authorities] section's business.\n",
	cmd_credential_show},
    {"enroll", "TOKEN --identity KEY --out FILE [--retry-for DURATION]",
	"join an authority with a token",
	"Join the authority a token names (TOKEN: the line \"authority\n"
	"token\" printed, or a file holding it) as the identity KEY (made,\n"
	"mode 0600, if the file does not exist; the key never leaves the\n"
	"node): dial the authority's addresses in turn, check that the node\n"
	"answering holds the credential authority=NAME from the authority\n"
	"the token names (no trust on first use), hand it the token's secret\n"
	"and write the credential it issues to FILE (replaced at once).\n"
	"Prints what it did and the [authorities] line that trusts the\n"
	"authority.  When no address answers, or the authority is busy, it\n"
	"tries again after a backoff (1 s doubling to 10 s, jittered) for\n"
	"--retry-for (default 1m; 0: once; 90s, 15m, up to 1d).  Exit 77\n"
	"(EX_NOPERM) when the authority refuses (the reason: token-used,\n"
	"token-expired, no-token, already-member, ...), 69 when no address\n"
	"answered before the time was up, 65 for a bad token, 73 if FILE\n"
	"cannot be written.\n",
	cmd_enroll},
    {"check", "[--expect EXPECT] FILE",
	"validate a configuration file and its key",
	"Parse and validate the configuration FILE, load the identity key\n"
	"it names and print a summary (each attribute rule in its normal\n"
	"form).  Every error found is printed (up to 50), each naming\n"
	"FILE:LINE; the exit status is 78 (EX_CONFIG) when anything is\n"
	"wrong.  An inlet listening on anything but loopback or a unix\n"
	"socket is warned about (the status stays 0).\n\n"
	"  --expect EXPECT   then decide each line \"PEER SERVICE allow|deny\"\n"
	"                    of EXPECT as run would (PEER: an identifier, a\n"
	"                    [peers] name, or KEY=VALUE[+...]@AUTHORITY for a\n"
	"                    credential holding those attributes); print the\n"
	"                    lines that do not hold, -expected +decided, and\n"
	"                    exit 1 if any (docs/config.md)\n",
	cmd_check},
    {"policy explain", "FILE --peer PEER [--credential CRED]... --service "
	"NAME [--from ADDRESS]", "show how FILE decides on a peer",
	"Decide, as run would with the configuration FILE now, whether PEER\n"
	"(an identifier, a [peers] name, or KEY=VALUE[+...]@AUTHORITY for a\n"
	"credential holding those attributes) may use the service NAME (an\n"
	"[outlet NAME], else the allow list of [relay NAME]), with the\n"
	"credential files CRED it would show; print the decision and the\n"
	"entry (FILE:LINE) that made it.  ADDRESS: where PEER connects from,\n"
	"as this node sees it (for from =; without it, none matches).  Exit\n"
	"0 for allow, 1 for deny, 64 for bad arguments, 78 for a bad FILE or\n"
	"CRED.\n",
	cmd_policy_explain},
    {"run", "[--no-sandbox] FILE", "run the node",
	"Run the node described by the configuration FILE: its inlets and\n"
	"its outlets, in the foreground, logging to stderr (or syslog).\n"
	"SIGTERM or SIGINT stops accepting, lets live connections finish\n"
	"for shutdown_grace seconds, then exits 0.  The exit status is 78\n"
	"(EX_CONFIG) for a bad FILE (its first error is printed: check\n"
	"prints them all) or key, 69 (EX_UNAVAILABLE) when a listener\n"
	"cannot be bound or the sandbox cannot be entered.\n\n"
	"Once started, the node switches to [node] user when run as root\n"
	"(it refuses to stay root unless allow_root = yes), drops every\n"
	"capability, sets no_new_privs and confines itself with Landlock and\n"
	"a seccomp allow-list (a forbidden call kills it with SIGSYS; see\n"
	"docs/security.md).\n\n"
	"  --no-sandbox   for debugging: no seccomp filter, no Landlock\n"
	"                 (the user switch and capability drop still apply)\n",
	cmd_run},
    {"probe", "TARGET", "check a node's admin endpoint or an address",
	"Exit 0 if TARGET is healthy, 1 if not, in at most 2 seconds; for\n"
	"Docker HEALTHCHECK and exec probes without curl.  TARGET is an\n"
	"admin URL, http://HOST:PORT/PATH or http://unix:/SOCKET:/PATH\n"
	"(healthy: the answer is 200; PATH defaults to /readyz), or an\n"
	"address HOST:PORT or unix:/PATH (healthy: a connect succeeds).\n",
	cmd_probe},
    {"intercept-rules", "FILE", "print the nftables rules for intercept",
	"Print an nftables ruleset (input for \"nft -f -\") that redirects\n"
	"locally made TCP connections to every [inlet] intercept address\n"
	"of FILE to the [node] intercept listener of its family, in the\n"
	"output hook, except the connections of [node] user (meta skuid):\n"
	"the node's own dials to outlets and relays are never looped back.\n"
	"FILE must name that user (a name, or a uid such as a pod's\n"
	"runAsUser); host names are resolved now.  Load the\n"
	"rules where CAP_NET_ADMIN is allowed (an init container), never in\n"
	"the node itself.\n",
	cmd_intercept_rules},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Print the general usage to ${f}. */
static void
usage(FILE *f)
{
	size_t i;
	char synopsis[256];

	fprintf(f, "usage: sallyport [--log-level LEVEL] [--syslog] COMMAND "
		   "[ARGS]\n"
		   "       sallyport help [COMMAND] | --help | --version\n\n"
		   "commands:\n");
	/* The whole synopsis (a long one on a line of its own). */
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(synopsis, sizeof(synopsis), "%s %s", commands[i].name,
		    commands[i].args);
		if (strlen(synopsis) > 22)
			fprintf(f, "  %s\n  %-22s %s\n", synopsis, "",
			    commands[i].summary);
		else
			fprintf(f, "  %-22s %s\n", synopsis,
			    commands[i].summary);
	}
	fprintf(f, "\noptions:\n%s"
		   "  -V, --version          show the version\n"
		   "\n--log-level, --syslog and --help may also follow the "
		   "command.\n",
	    global_help);
}

/* Print the help of one command to ${f}. */
static void
command_help(const struct command *c, FILE *f)
{

	fprintf(f, "usage: sallyport %s %s\n\n%s\n"
		   "options (also accepted before the command):\n%s",
	    c->name, c->args, c->help, global_help);
}

/*
 * Apply the global option ${ch} (from getopt_long, argument ${arg}):
 * --log-level or --syslog.  Return 0, or -1 after printing why not.
 */
static int
global_option(int ch, const char *arg)
{

	if (ch == 's') {
		opt_syslog = 1;
		return (0);
	}
	opt_level_given = 1;
	if (log_level_parse(arg, &opt_level) == -1) {
		fprintf(stderr, "sallyport: --log-level must be error, warn, "
				"info or debug\n");
		return (-1);
	}
	return (0);
}

/*
 * Find the command named by the first words of ${argv}; store how many
 * words its name took in *${nwords}.  Return NULL if none matches.
 */
static const struct command *
command_find(int argc, char *argv[], int *nwords)
{
	const char *w;
	size_t i, n;
	int k;

	for (i = 0; i < NCOMMANDS; i++) {
		/* Each word of the name against the next argument. */
		w = commands[i].name;
		for (k = 0; k < argc; k++) {
			n = strcspn(w, " ");
			if (strlen(argv[k]) != n || strncmp(w, argv[k], n) != 0)
				break;
			if (w[n] == '\0') {
				*nwords = k + 1;
				return (&commands[i]);
			}
			w += n + 1;
		}
	}
	return (NULL);
}

/*
 * If ${word} is the first word of two-word commands ("identity"), list
 * them on ${f} and return 1; otherwise return 0.
 */
static int
group_list(const char *word, FILE *f)
{
	size_t i, n = strlen(word);
	int found = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strncmp(commands[i].name, word, n) != 0 ||
		    commands[i].name[n] != ' ')
			continue;
		if (!found)
			fprintf(f, "%s commands:\n", word);
		fprintf(f, "  sallyport %s %s\n", commands[i].name,
		    commands[i].args);
		found = 1;
	}
	return (found);
}

/*
 * Parse the arguments of a command that takes the global options (--help,
 * --log-level, --syslog; anywhere among its arguments, GNU style), and
 * --no-sandbox when ${no_sandbox} is not NULL (*${no_sandbox} is then set
 * to 1 if given), and exactly ${want} operands; reopen the log if they
 * changed it.  Return the index of the first operand (getopt_long moved
 * the operands last), or -1 after printing usage (*${rc} then holds the
 * exit status).
 */
static int
command_args(const char *name, int argc, char *argv[], int want, int *rc,
    int *no_sandbox)
{
	static const struct option opts[] = {
	    GLOBAL_OPTIONS, {"no-sandbox", no_argument, NULL, 'S'},
	    {"expect", required_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
	const struct command *c = NULL;
	size_t i;
	int ch;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			c = &commands[i];
	optind = 0; /* glibc: start afresh */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			command_help(c, stdout);
			*rc = EX_OK;
			return (-1);
		}
		if (ch == 'S' && no_sandbox != NULL) {
			*no_sandbox = 1;
			continue;
		}
		if (ch == 'e' && strcmp(name, "check") == 0) {
			opt_expect = optarg;
			continue;
		}
		if (ch == 'l' || ch == 's') {
			if (global_option(ch, optarg) == -1)
				goto usage;
			continue;
		}
		if (ch == ':')
			fprintf(stderr, "sallyport: %s: %s needs an argument\n",
			    name, argv[optind - 1]);
		else
			fprintf(stderr, "sallyport: %s: unknown option %s\n",
			    name, argv[optind - 1]);
		goto usage;
	}
	log_open(opt_level, opt_syslog);
	if (argc - optind != want) {
		fprintf(stderr, "sallyport: %s: expected %d argument%s\n",
		    name, want, want == 1 ? "" : "s");
		goto usage;
	}
	return (optind);
usage:
	fprintf(stderr, "usage: sallyport %s %s\n", c->name, c->args);
	*rc = EX_USAGE;
	return (-1);
}

/* Exit status for an identity_load() failure, from its errno. */
static int
load_status(int e)
{

	if (e == EPERM)
		return (EX_NOPERM);
	if (e == EINVAL)
		return (EX_DATAERR);
	return (EX_NOINPUT);
}

/* identity create FILE, authority create FILE: the command ${name} */
static int
key_create(const char *name, int argc, char *argv[])
{
	struct identity idn;
	char err[512], text[IDENTITY_TEXT_SIZE];
	int i, rc;

	if ((i = command_args(name, argc, argv, 1, &rc, NULL)) == -1)
		return (rc);
	/* A key holder should not leave core dumps behind. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (crypto_init() == -1) {
		fprintf(stderr, "sallyport: no system entropy\n");
		return (EX_OSERR);
	}
	if (identity_generate(&idn) == -1) {
		fprintf(stderr, "sallyport: key generation failed\n");
		return (EX_SOFTWARE);
	}
	if (identity_save(&idn, argv[i], err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		identity_fini(&idn);
		return (EX_CANTCREAT);
	}
	printf("%s\n", identity_id_format(idn.id, text));
	identity_fini(&idn);
	return (EX_OK);
}

/* identity create FILE */
static int
cmd_identity_create(int argc, char *argv[])
{

	return (key_create("identity create", argc, argv));
}

/* authority create FILE: an identity key, used to sign credentials. */
static int
cmd_authority_create(int argc, char *argv[])
{

	return (key_create("authority create", argc, argv));
}

/* ${t} (seconds since the epoch) as YYYY-MM-DDTHH:MM:SSZ in ${buf}. */
static char *
time_text(uint64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return (buf);
}

/* Print the credential ${c} (its serial, subject, issuer, times). */
static void
cred_print(const struct cred *c)
{
	char text[IDENTITY_TEXT_SIZE], serial[CRED_SERIAL_TEXT], t[32];
	size_t i;

	printf("version     %d\n", CRED_VERSION);
	printf("serial      %s\n", cred_serial_format(c->serial, serial));
	printf("subject     %s\n", identity_id_format(c->subject, text));
	printf("issuer      %s\n", identity_id_format(c->issuer, text));
	printf("not-before  %llu (%s)\n", (unsigned long long)c->not_before,
	    time_text(c->not_before, t));
	printf("not-after   %llu (%s)\n", (unsigned long long)c->not_after,
	    time_text(c->not_after, t));
	for (i = 0; i < c->nattrs; i++)
		printf("attribute   %s=%s\n", c->attrs[i].key,
		    c->attrs[i].value);
}

/* credential show FILE */
static int
cmd_credential_show(int argc, char *argv[])
{
	uint8_t buf[CRED_MAX_LEN];
	struct cred c;
	char err[512];
	size_t len;
	int i, rc;

	if ((i = command_args("credential show", argc, argv, 1, &rc,
	    NULL)) == -1)
		return (rc);
	if (cred_load(argv[i], buf, sizeof(buf), &len, &c, err,
	    sizeof(err)) == -1) {
		rc = errno == EINVAL ? EX_DATAERR : EX_NOINPUT;
		fprintf(stderr, "sallyport: %s\n", err);
		return (rc);
	}
	cred_print(&c);
	if (cred_verify_sig(buf, len) == -1) {
		printf("signature   BAD\n");
		fprintf(stderr, "sallyport: %s: bad signature\n", argv[i]);
		return (EX_DATAERR);
	}
	printf("signature   ok\n");
	return (EX_OK);
}

/*
 * One --attr K=V of the command ${name} into the ${*n} attributes at
 * ${attrs} (room for CRED_MAX_ATTRS).  0 or -1 (printed).
 */
static int
attr_arg(const char *name, struct cred_attr *attrs, size_t *n,
    const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t kl;

	if (*n >= CRED_MAX_ATTRS) {
		fprintf(stderr, "sallyport: %s: at most %d attributes\n", name,
		    CRED_MAX_ATTRS);
		return (-1);
	}
	kl = eq != NULL ? (size_t)(eq - arg) : 0;
	if (eq == NULL || kl > CRED_KEY_MAX || strlen(eq + 1) >
	    CRED_VALUE_MAX) {
		fprintf(stderr, "sallyport: %s: --attr %s: expected "
		    "KEY=VALUE\n", name, arg);
		return (-1);
	}
	memcpy(attrs[*n].key, arg, kl);
	attrs[*n].key[kl] = '\0';
	strcpy(attrs[*n].value, eq + 1);
	if (!cred_key_is_valid(attrs[*n].key) ||
	    !cred_value_is_valid(attrs[*n].value)) {
		fprintf(stderr, "sallyport: %s: --attr %s: keys are 1 to %d of "
		    "a-z 0-9 _ - (a letter first), values 1 to %d of A-Z a-z "
		    "0-9 . _ : / -\n", name, arg, CRED_KEY_MAX,
		    CRED_VALUE_MAX);
		return (-1);
	}
	(*n)++;
	return (0);
}

/* The command named ${name} (one of the table's). */
static const struct command *
command_named(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS - 1; i++)
		if (strcmp(commands[i].name, name) == 0)
			break;
	return (&commands[i]);
}

/* credential issue --authority FILE --subject ID ... --out FILE */
static int
cmd_credential_issue(int argc, char *argv[])
{
	static const struct option opts[] = {GLOBAL_OPTIONS,
	    {"authority", required_argument, NULL, 'a'},
	    {"subject", required_argument, NULL, 'u'},
	    {"attr", required_argument, NULL, 'A'},
	    {"ttl", required_argument, NULL, 't'},
	    {"not-before", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
	const char *name = "credential issue", *key = NULL, *out = NULL;
	const char *subject = NULL, *nbf = NULL, *ttl = NULL;
	uint8_t buf[CRED_MAX_LEN];
	char err[512], serial[CRED_SERIAL_TEXT];
	struct identity idn;
	struct cred c;
	uint64_t now = (uint64_t)time(NULL), life;
	size_t len;
	int ch, i, rc;

	memset(&c, 0, sizeof(c));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			command_help(command_named(name), stdout);
			return (EX_OK);
		case 'l':
		case 's':
			if (global_option(ch, optarg) == -1)
				goto usage;
			break;
		case 'a':
			key = optarg;
			break;
		case 'u':
			subject = optarg;
			break;
		case 'A':
			if (attr_arg(name, c.attrs, &c.nattrs, optarg) == -1)
				goto usage;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'n':
			nbf = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			fprintf(stderr, "sallyport: %s: %s %s\n", name,
			    ch == ':' ? "an argument is missing after" :
			    "unknown option", argv[optind - 1]);
			goto usage;
		}
	}
	log_open(opt_level, opt_syslog);
	if (optind != argc || key == NULL || subject == NULL || ttl == NULL ||
	    out == NULL) {
		fprintf(stderr, "sallyport: %s: --authority, --subject, --ttl "
		    "and --out are needed, and nothing else\n", name);
		goto usage;
	}
	if (identity_id_parse(subject, c.subject) == -1) {
		fprintf(stderr, "sallyport: %s: --subject: expected I and 64 "
		    "lowercase hex digits\n", name);
		goto usage;
	}
	if (cred_parse_duration(ttl, &life) == -1) {
		fprintf(stderr, "sallyport: %s: --ttl: expected 90, 90s, 15m, "
		    "12h or 7d (at most 10 years)\n", name);
		goto usage;
	}
	c.not_before = now;
	if (nbf != NULL && cred_parse_time(nbf, now, &c.not_before) == -1) {
		fprintf(stderr, "sallyport: %s: --not-before: expected "
		    "seconds, now, now+DURATION, now-DURATION or "
		    "YYYY-MM-DDTHH:MM:SSZ\n", name);
		goto usage;
	}
	c.not_after = c.not_before + life;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (crypto_init() == -1) {
		fprintf(stderr, "sallyport: no system entropy\n");
		return (EX_OSERR);
	}
	while (c.serial == 0)
		if (crypto_random(&c.serial, sizeof(c.serial)) == -1)
			return (EX_OSERR);
	if (identity_load(&idn, key, 0, err, sizeof(err)) == -1) {
		rc = load_status(errno);
		fprintf(stderr, "sallyport: %s\n", err);
		return (rc);
	}
	i = cred_sign(&c, idn.priv, buf, sizeof(buf), &len);
	identity_fini(&idn);
	if (i == -1) {
		fprintf(stderr, "sallyport: %s: the credential does not fit "
		    "(at most %d bytes) or has a duplicate attribute\n", name,
		    CRED_MAX_LEN);
		return (EX_DATAERR);
	}
	if (cred_save(out, buf, len, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		return (EX_CANTCREAT);
	}
	printf("%s not-after=%llu\n", cred_serial_format(c.serial, serial),
	    (unsigned long long)c.not_after);
	return (EX_OK);
usage:
	fprintf(stderr, "usage: sallyport %s %s\n", name,
	    command_named(name)->args);
	return (EX_USAGE);
}

/* The key ${path} into ${idn}, made (and said) if it does not exist. */
static int
key_load_or_make(struct identity *idn, const char *path)
{
	char err[512], text[IDENTITY_TEXT_SIZE];
	int rc;

	if (identity_load(idn, path, 0, err, sizeof(err)) == 0)
		return (EX_OK);
	if (errno != ENOENT) {
		rc = load_status(errno);
		fprintf(stderr, "sallyport: %s\n", err);
		return (rc);
	}
	if (identity_generate(idn) == -1) {
		fprintf(stderr, "sallyport: key generation failed\n");
		return (EX_SOFTWARE);
	}
	if (identity_save(idn, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		identity_fini(idn);
		return (EX_CANTCREAT);
	}
	printf("identity %s made: %s\n", path, identity_id_format(idn->id,
	    text));
	return (EX_OK);
}

/* enroll: a try failed; the next in ${in} seconds (enrol_join_retry). */
static void
enroll_retrying(void *arg, const struct authtoken *t, const char *why,
    double in)
{

	(void)arg;
	fprintf(stderr, "sallyport: enroll: authority %s unreachable: %s; "
	    "trying again in %.1f s\n", t->name, why, in);
}

/* enroll TOKEN --identity KEY --out FILE [--retry-for DURATION] */
static int
cmd_enroll(int argc, char *argv[])
{
	static const struct option opts[] = {GLOBAL_OPTIONS,
	    {"identity", required_argument, NULL, 'i'},
	    {"out", required_argument, NULL, 'o'},
	    {"retry-for", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	static const int status[] = {[ENROL_JOINED] = EX_OK,
	    [ENROL_REFUSED] = EX_NOPERM, [ENROL_UNREACHABLE] = EX_UNAVAILABLE,
	    [ENROL_FAILED] = EX_DATAERR};
	const char *name = "enroll", *key = NULL, *out = NULL;
	char err[1024], text[IDENTITY_TEXT_SIZE], serial[CRED_SERIAL_TEXT];
	struct authtoken *t = NULL;
	struct enrol_answer *a = NULL;
	struct identity idn;
	enum enrol_outcome o;
	uint64_t retry_for = 60;
	size_t i;
	int ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			command_help(command_named(name), stdout);
			return (EX_OK);
		} else if ((ch == 'l' || ch == 's') &&
		    global_option(ch, optarg) == 0)
			continue;
		else if (ch == 'i' || ch == 'o') {
			*(ch == 'i' ? &key : &out) = optarg;
			continue;
		} else if (ch == 'r') {
			if (strcmp(optarg, "0") == 0)
				retry_for = 0;
			else if (cred_parse_duration(optarg, &retry_for) == -1 ||
			    retry_for > 86400) {
				fprintf(stderr, "sallyport: %s: --retry-for: "
				    "expected 0 to 1d (90s, 15m, 12h)\n", name);
				goto usage;
			}
			continue;
		} else if (ch != 'l' && ch != 's')
			fprintf(stderr, "sallyport: %s: %s %s\n", name,
			    ch == ':' ? "an argument is missing after" :
			    "unknown option", argv[optind - 1]);
		goto usage;
	}
	log_open(opt_level, opt_syslog);
	if (optind != argc - 1 || key == NULL || out == NULL) {
		fprintf(stderr, "sallyport: %s: a token, --identity and --out "
		    "are needed, and nothing else\n", name);
		goto usage;
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (crypto_init() == -1) {
		fprintf(stderr, "sallyport: no system entropy\n");
		return (EX_OSERR);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		rc = EX_OSERR;
		goto out0;
	}
	if ((rc = key_load_or_make(&idn, key)) != EX_OK)
		goto out0;
	o = enrol_join_retry(argv[optind], &idn, out, t, a, (double)retry_for,
	    ENROL_RETRY_MAX, enroll_retrying, NULL, err, sizeof(err));
	rc = status[o];
	if (o == ENROL_REFUSED)
		fprintf(stderr, "sallyport: %s: authority %s at %s refused: "
		    "%s\n", name, t->name, a->addr, a->reason);
	else if (o == ENROL_UNREACHABLE)
		fprintf(stderr, "sallyport: %s: authority %s unreachable: %s\n",
		    name, t->name, err);
	else if (o == ENROL_FAILED)
		fprintf(stderr, "sallyport: %s: %s\n", name, err);
	if (o != ENROL_JOINED)
		goto out1;
	printf("enrolled with authority %s at %s as %s\n", t->name, a->addr,
	    identity_id_format(idn.id, text));
	printf("credential %s written to %s, not-after=%llu\n",
	    cred_serial_format(a->c.serial, serial), out,
	    (unsigned long long)a->c.not_after);
	for (i = 0; i < a->c.nattrs; i++)
		printf("attribute %s=%s\n", a->c.attrs[i].key,
		    a->c.attrs[i].value);
	printf("trust it with: [authorities] %s = %s\n", t->name,
	    identity_id_format(t->authority, text));
out1:
	identity_fini(&idn);
out0:
	enrol_join_free(t, a);
	return (rc);
usage:
	fprintf(stderr, "usage: sallyport %s %s\n", name,
	    command_named(name)->args);
	return (EX_USAGE);
}

/* identity show FILE */
static int
cmd_identity_show(int argc, char *argv[])
{
	struct identity idn;
	char err[512], text[IDENTITY_TEXT_SIZE];
	int i, rc;

	if ((i = command_args("identity show", argc, argv, 1, &rc,
	    NULL)) == -1)
		return (rc);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (identity_load(&idn, argv[i], IDENTITY_PUBLIC_OK, err,
		sizeof(err)) == -1) {
		rc = load_status(errno);
		fprintf(stderr, "sallyport: %s\n", err);
		return (rc);
	}
	printf("%s\n", identity_id_format(idn.id, text));
	identity_fini(&idn);
	return (EX_OK);
}

/* Print a peer as its [peers] name and identifier, or the identifier. */
static void
print_peer(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN])
{
	char text[IDENTITY_TEXT_SIZE];
	const char *name;

	identity_id_format(id, text);
	if ((name = config_peer_name(cfg, id)) != NULL)
		printf("%s (%s)", name, text);
	else
		printf("%s", text);
}

/*
 * Print who a list admits: the ${n} peers of ${list}, then the ${nrules}
 * attribute rules of ${rules} in their normal form (config_rule_format),
 * separated by commas, or "nobody".
 */
static void
print_admitted(const struct config *cfg,
    const uint8_t (*list)[CONFIG_ID_LEN], size_t n,
    const struct config_rule *rules, size_t nrules)
{
	char norm[CONFIG_RULE_TEXT];
	size_t j;

	if (n == 0 && nrules == 0)
		printf("nobody");
	for (j = 0; j < n; j++) {
		if (j > 0)
			printf(", ");
		print_peer(cfg, list[j]);
	}
	for (j = 0; j < nrules; j++)
		printf("%s%s", n + j > 0 ? ", " : "",
		    config_rule_format(&rules[j], norm, sizeof(norm)));
}

/* Print "; from: " and the ranges of ${f}; nothing if none. */
static void
print_from(const struct config_from *f)
{
	char buf[ADDR_TEXT_MAX];
	size_t i;

	for (i = 0; i < f->n; i++)
		printf("%s%s", i == 0 ? "; from: " : ", ",
		    addr_cidr_format(&f->nets[i], buf, sizeof(buf)));
}

/* Print "; KEY: " and who each nonempty list of ${pol} names (from
 * first). */
static void
print_policy(const struct config *cfg, const struct config_policy *pol)
{
	const struct config_list *l[] = {&pol->deny, &pol->try_allow,
	    &pol->try_deny};
	const char *key[] = {"deny", "try_allow", "try_deny"};
	size_t i;

	print_from(&pol->from);
	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		if (l[i]->nids == 0 && l[i]->nrules == 0)
			continue;
		printf("; %s: ", key[i]);
		print_admitted(cfg, l[i]->ids, l[i]->nids, l[i]->rules,
		    l[i]->nrules);
	}
}

/* Print the summary of a valid configuration ${cfg} for node ${idn}. */
static void
check_summary(const struct config *cfg, const struct identity *idn)
{
	const struct config_outlet *o;
	const struct config_inlet *in;
	char text[IDENTITY_TEXT_SIZE], a[ADDR_TEXT_MAX + 8],
	    b[ADDR_TEXT_MAX + 8], norm[CONFIG_RULE_TEXT], store[CONFIG_PATH_MAX];
	size_t i, j;

	printf("%s: OK\n", cfg->path);
	printf("node     %s\n", identity_id_format(idn->id, text));
	printf("key      %s\n", cfg->node.identity);
	if (cfg->node.has_listen)
		printf("listen   %s\n",
		    addr_format(&cfg->node.listen, a, sizeof(a)));
	printf("peers    %zu\n", cfg->npeers);
	for (i = 0; i < cfg->nauthorities; i++)
		printf("trust    authority %s %s\n", cfg->authorities[i].name,
		    identity_id_format(cfg->authorities[i].id, text));
	for (i = 0; i < cfg->noutlets; i++) {
		o = &cfg->outlets[i];
		printf("outlet   %s -> %s, allow: ", o->name,
		    addr_format(&o->target, a, sizeof(a)));
		print_admitted(cfg, o->allow, o->nallow, o->rules, o->nrules);
		print_policy(cfg, &o->pol);
		for (j = 0; j < o->nrelay; j++) {
			printf(", registered at %s, relay ",
			    addr_format(&o->relay[j].addr, a, sizeof(a)));
			print_peer(cfg, o->relay[j].id);
		}
		if (o->has_relay)
			printf(", pool %u", o->pool);
		printf("\n");
	}
	for (i = 0; i < cfg->ninlets; i++) {
		in = &cfg->inlets[i];
		printf("inlet    %s %s -> %s %s %s, outlet node ", in->name,
		    addr_format(&in->listen, a, sizeof(a)), in->service,
		    in->has_via ? "via relay at" : "at",
		    addr_format(in->has_via ? &in->via[0].addr : &in->outlet,
		    b, sizeof(b)));
		if (in->outlet_by_rule)
			printf("by rule %s", config_rule_format(
			    &in->outlet_rule, norm, sizeof(norm)));
		else
			print_peer(cfg, in->outlet_id);
		for (j = 0; j < in->nvia; j++) {
			if (j > 0)
				printf(", or via relay at %s", addr_format(
				    &in->via[j].addr, b, sizeof(b)));
			printf(", relay ");
			print_peer(cfg, in->via[j].id);
		}
		print_from(&in->from);
		printf("\n");
	}
	for (i = 0; i < cfg->nrelays; i++) {
		const struct config_relay *r = &cfg->relays[i];

		printf("relay    %s, register: ", r->name);
		print_admitted(cfg, r->reg, r->nreg, r->reg_rules,
		    r->nreg_rules);
		printf("; allow: ");
		print_admitted(cfg, r->allow, r->nallow, r->allow_rules,
		    r->nallow_rules);
		print_policy(cfg, &r->pol);
		if (r->has_via) {
			printf("; via %s, relay ",
			    addr_format(&r->via, a, sizeof(a)));
			print_peer(cfg, r->via_id);
		}
		printf("\n");
	}
	for (i = 0; i < cfg->nauthority_roles; i++) {
		const struct config_authority_role *r =
		    &cfg->authority_roles[i];

		printf("authority %s, store %s, credentials for %llus, tokens "
		    "for %llus, tokens carry", r->name, authstore_redact(
		    r->store, store, sizeof(store)),
		    (unsigned long long)r->credential_ttl,
		    (unsigned long long)r->token_ttl);
		for (j = 0; j < r->naddress; j++)
			printf("%s %s", j > 0 ? "," : "", r->address[j]);
		printf("\n");
	}
}

/*
 * Warn about what ${cfg} allows but should rarely mean: an inlet that
 * hosts other than this one can reach (whoever connects to it speaks with
 * this node's identity), an admin endpoint beyond this host.
 */
static void
check_warnings(const struct config *cfg)
{
	const struct config_inlet *in;
	char a[ADDR_TEXT_MAX + 8];
	size_t i;

	for (i = 0; i < cfg->ninlets; i++) {
		in = &cfg->inlets[i];
		if (!in->has_listen || addr_is_loopback(&in->listen))
			continue;
		fprintf(stderr, "sallyport: %s:%d: warning: [inlet %s] listens "
				"on %s, not on loopback: whoever reaches it "
				"speaks with this node's identity\n",
		    cfg->path, in->line, in->name,
		    addr_format(&in->listen, a, sizeof(a)));
	}
	if (cfg->node.has_admin && !addr_is_loopback(&cfg->node.admin))
		fprintf(stderr, "sallyport: %s:%d: warning: admin endpoint on "
		    "%s, beyond this host (admin_public = yes): it has no "
		    "authentication\n", cfg->path, cfg->node.admin_line,
		    addr_format(&cfg->node.admin, a, sizeof(a)));
}

/*
 * The uid of [node] user of ${cfg} into ${uid}: its passwd entry, or a
 * number (a pod's runAsUser, unknown to /etc/passwd).  Return 0, or -1 if
 * there is none or no such user.
 */
static int
node_user_uid(const struct config *cfg, uid_t *uid)
{
	struct passwd *pw;

	if (cfg->node.user[0] == '\0')
		return (-1);
	if ((pw = getpwnam(cfg->node.user)) != NULL)
		*uid = pw->pw_uid;
	else if (cfg->node.user[strspn(cfg->node.user, "0123456789")] == '\0')
		*uid = (uid_t)strtoul(cfg->node.user, NULL, 10);
	else
		return (-1);
	return (0);
}

/*
 * Who may own the node's private key besides the effective user
 * (identity_load_for): the [node] user a node started as root switches to
 * (sandbox.c), else none ((uid_t)-1).
 */
static uid_t
key_owner(const struct config *cfg)
{
	uid_t uid;

	if ((getuid() != 0 && geteuid() != 0) ||
	    node_user_uid(cfg, &uid) == -1)
		return ((uid_t)-1);
	return (uid);
}

/* check FILE: every error in FILE (up to CONFIG_ERRORS_MAX), or a summary. */
static int
cmd_check(int argc, char *argv[])
{
	struct config cfg;
	struct config_errors *errs;
	struct identity idn;
	char err[1024];
	size_t j;
	int i, rc;

	if ((i = command_args("check", argc, argv, 1, &rc,
	    NULL)) == -1)
		return (rc);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((errs = malloc(sizeof(*errs))) == NULL) {
		fprintf(stderr, "sallyport: out of memory\n");
		return (EX_OSERR);
	}
	if (config_load_all(&cfg, argv[i], errs) == -1) {
		for (j = 0; j < errs->n; j++)
			fprintf(stderr, "sallyport: %s\n", errs->msg[j]);
		if (errs->more > 0)
			fprintf(stderr, "sallyport: %s: %zu more error%s not "
					"shown\n",
			    argv[i], errs->more, errs->more == 1 ? "" : "s");
		free(errs);
		return (EX_CONFIG);
	}
	free(errs);
	/* Key problems are reported at the line naming the key. */
	if (identity_load_for(&idn, cfg.node.identity, 0, key_owner(&cfg),
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s:%d: %s\n", cfg.path,
		    cfg.node.identity_line, err);
		config_free(&cfg);
		return (EX_CONFIG);
	}
	if (check_trust(&cfg, &idn) == -1 || check_authorities(&cfg) == -1) {
		identity_fini(&idn);
		config_free(&cfg);
		return (EX_CONFIG);
	}
	/* What run would refuse before serving, said here too. */
	if (sandbox_preflight(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		identity_fini(&idn);
		config_free(&cfg);
		return (EX_CONFIG);
	}
	check_warnings(&cfg);
	check_summary(&cfg, &idn);
	/* node.c refuses a reload that breaks this (files_readable). */
	printf("reload   reads the key, credential and revoked files only in "
	    "the directories named at start (the sandbox's Landlock rules): "
	    "a new directory needs a restart\n");
	identity_fini(&idn);
	rc = opt_expect != NULL ? check_expect(&cfg, opt_expect) : EX_OK;
	config_free(&cfg);
	return (rc);
}

/*
 * check: the credential files (one at a time, each at its line) and the
 * revocation list of ${cfg} for the node ${idn}; print every problem
 * and return -1 if there was one.
 */
static int
check_trust(const struct config *cfg, const struct identity *idn)
{
	uint8_t block[CRED_BLOCK_MAX];
	struct cred_revoked rv;
	char err[1024];
	size_t k, len, n = cfg->node.ncredentials;
	int rc = 0;

	/* [node] enroll's credential (the last one) comes at the first run. */
	if (cfg->node.enroll[0] != '\0' && access(cfg->node.enroll_cred,
	    F_OK) == -1 && errno == ENOENT) {
		printf("enroll: %s is not there yet: run enrols first (%s)\n",
		    cfg->node.enroll_cred, cfg->node.enroll_name);
		n--;
	}
	for (k = 0; k < n; k++) {
		if (cred_block_load(&cfg->node.credential[k], 1, idn->id, block,
		    sizeof(block), &len, err, sizeof(err)) == 0)
			continue;
		fprintf(stderr, "sallyport: %s:%d: %s\n", cfg->path,
		    cfg->node.credential_line[k], err);
		rc = -1;
	}
	if (rc == 0 && cred_block_load(cfg->node.credential, n, idn->id,
	    block, sizeof(block), &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s: %s\n", cfg->path, err);
		rc = -1;
	}
	if (cfg->node.revoked[0] != '\0') {
		if (cred_revoked_load(&rv, cfg->node.revoked, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sallyport: %s:%d: %s\n", cfg->path,
			    cfg->node.revoked_line, err);
			rc = -1;
		} else
			cred_revoked_free(&rv);
	}
	return (rc);
}

/*
 * check: the [authority NAME] sections of ${cfg}: each key loads (its
 * owner and mode as for the identity key), each store's directory exists
 * and may be written, an existing store is a file group and others may
 * not write.  Print every problem and return -1 if there was one.
 */
static int
check_authorities(const struct config *cfg)
{
	const struct config_authority_role *a;
	struct identity idn;
	struct stat st;
	char err[1024], dir[CONFIG_PATH_MAX], *slash;
	size_t i;
	int bad = 0;

	for (i = 0; i < cfg->nauthority_roles; i++) {
		a = &cfg->authority_roles[i];
		if (identity_load_for(&idn, a->key, 0, key_owner(cfg), err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sallyport: %s:%d: %s\n", cfg->path,
			    a->key_line, err);
			bad = 1;
		} else
			identity_fini(&idn);
		if (config_store_is_postgres(a->store))
			continue; /* a database: `authority token list` tries it */
		snprintf(dir, sizeof(dir), "%s", a->store);
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		else
			strcpy(dir, ".");
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    access(dir, W_OK | X_OK) == -1) {
			fprintf(stderr, "sallyport: %s:%d: store %s: its "
			    "directory %s %s\n", cfg->path, a->store_line,
			    a->store, dir, stat(dir, &st) == -1 ? "does not "
			    "exist" : !S_ISDIR(st.st_mode) ? "is not a "
			    "directory" : "is not writable (the store and its "
			    "-wal and -shm files are made there)");
			bad = 1;
		} else if (stat(a->store, &st) == 0 && (!S_ISREG(st.st_mode) ||
		    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
			fprintf(stderr, "sallyport: %s:%d: store %s: %s\n",
			    cfg->path, a->store_line, a->store,
			    !S_ISREG(st.st_mode) ? "not a regular file" :
			    "group or others may write it: chmod go-w");
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/* The arguments of the authority commands (authority_args). */
struct auth_args {
	const char *name;                   /* the whole command name */
	const char *config, *authority, *arg; /* CONFIG NAME [ID or REF] */
	struct cred_attr attrs[CRED_MAX_ATTRS];
	size_t nattrs;
	unsigned uses;                      /* 0: not given */
	uint64_t ttl;                       /* 0: not given */
};

#define AUTH_ATTRS 1 /* --attr is an option of the command */
#define AUTH_TOKEN 2 /* --uses and --ttl are */

/*
 * Parse the arguments of the authority command ${a->name}: the global
 * options, those of ${flags} (AUTH_ATTRS, AUTH_TOKEN), and CONFIG NAME
 * and ${extra} more operands (0 or 1) into ${a}.  Return 0, or -1 with
 * the exit status in *${rc} (EX_OK after --help).
 */
static int
authority_args(int argc, char *argv[], struct auth_args *a, int flags,
    int extra, int *rc)
{
	static const struct option opts[] = {GLOBAL_OPTIONS,
	    {"attr", required_argument, NULL, 'A'},
	    {"uses", required_argument, NULL, 'u'},
	    {"ttl", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	unsigned long v;
	char *end;
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			command_help(command_named(a->name), stdout);
			*rc = EX_OK;
			return (-1);
		}
		if (ch == 'l' || ch == 's') {
			if (global_option(ch, optarg) == -1)
				goto usage;
		} else if (ch == 'A' && (flags & AUTH_ATTRS)) {
			if (attr_arg(a->name, a->attrs, &a->nattrs,
			    optarg) == -1)
				goto usage;
		} else if (ch == 'u' && (flags & AUTH_TOKEN)) {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (optarg[0] < '1' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || v > 1000000) {
				fprintf(stderr, "sallyport: %s: --uses: "
				    "expected 1 to 1000000\n", a->name);
				goto usage;
			}
			a->uses = (unsigned)v;
		} else if (ch == 't' && (flags & AUTH_TOKEN)) {
			if (cred_parse_duration(optarg, &a->ttl) == -1 ||
			    a->ttl < 60 || a->ttl > 30 * 86400) {
				fprintf(stderr, "sallyport: %s: --ttl: "
				    "expected 1m to 30d (90s, 15m, 12h, 7d)\n",
				    a->name);
				goto usage;
			}
		} else {
			fprintf(stderr, "sallyport: %s: %s %s\n", a->name,
			    ch == ':' ? "an argument is missing after" :
			    "unknown option", argv[optind - 1]);
			goto usage;
		}
	}
	log_open(opt_level, opt_syslog);
	if (argc - optind != 2 + extra) {
		fprintf(stderr, "sallyport: %s: expected %d arguments\n",
		    a->name, 2 + extra);
		goto usage;
	}
	a->config = argv[optind];
	a->authority = argv[optind + 1];
	a->arg = extra ? argv[optind + 2] : NULL;
	return (0);
usage:
	fprintf(stderr, "usage: sallyport %s %s\n", a->name,
	    command_named(a->name)->args);
	*rc = EX_USAGE;
	return (-1);
}

/*
 * Load ${a->config} into ${cfg}, find its [authority NAME] (*${role}) and
 * open its store (*${st}, waiting up to 5 s for a running node's lock).
 * Return EX_OK, or the exit status after printing why (${cfg} then holds
 * nothing).
 */
static int
authority_open(const struct auth_args *a, struct config *cfg,
    const struct config_authority_role **role, struct authstore **st)
{
	char err[1024];

	if (config_load(cfg, a->config, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		return (EX_CONFIG);
	}
	if ((*role = config_authority_role_find(cfg, a->authority)) == NULL) {
		fprintf(stderr, "sallyport: %s: no [authority %s] section\n",
		    a->config, a->authority);
		config_free(cfg);
		return (EX_CONFIG);
	}
	if (authstore_open(st, (*role)->store, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		config_free(cfg);
		return (EX_IOERR);
	}
	authstore_busy_timeout(*st, 5000);
	return (EX_OK);
}

/*
 * The exit status for the store's answer ${r} to the command of ${a}
 * about ${what}, printed unless it is AUTHSTORE_OK.
 */
static int
authority_status(const struct auth_args *a, enum authstore_result r,
    const char *what, const char *err)
{

	if (r == AUTHSTORE_OK)
		return (EX_OK);
	if (r == AUTHSTORE_ERROR || r == AUTHSTORE_UNAVAILABLE) {
		fprintf(stderr, "sallyport: %s\n", err);
		return (EX_IOERR);
	}
	fprintf(stderr, "sallyport: %s: %s: %s\n", a->name, what,
	    authstore_result_name(r));
	return (EX_DATAERR);
}

/* The ${n} attributes at ${at} as "k=v,k=v" ("-" for none) in ${buf}. */
static char *
attrs_text(const struct cred_attr *at, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	snprintf(buf, len, "-");
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s=%s",
		    i > 0 ? "," : "", at[i].key, at[i].value);
	return (buf);
}

/* token list: one line a token. */
static int
token_line(void *arg, const struct authstore_token *t)
{
	uint64_t now = *(const uint64_t *)arg;
	char e[32], c[32], at[CRED_MAX_ATTRS * (CRED_KEY_MAX +
	    CRED_VALUE_MAX + 2) + 2];

	printf("%s %s uses=%u expires=%s created=%s by=%s attrs=%s\n", t->ref,
	    t->revoked ? "revoked" : t->uses == 0 ? "used" : t->expiry <= now ?
	    "expired" : "usable", t->uses, time_text(t->expiry, e),
	    time_text(t->created, c), t->creator, attrs_text(t->attrs,
	    t->nattrs, at, sizeof(at)));
	return (0);
}

/*
 * token create: a secret, its hash stored with the token's attributes,
 * uses and expiry, the line printed on stdout, its reference on stderr.
 */
static int
token_create(const struct auth_args *a, const struct config *cfg,
    const struct config_authority_role *role, struct authstore *st)
{
	struct authtoken t;
	struct identity idn;
	struct passwd *pw;
	uint8_t hash[CRYPTO_HASH_LEN];
	char line[AUTHTOKEN_LINE_MAX + 1], err[1024], by[48], ref[16], e[32];
	uint64_t now = (uint64_t)time(NULL), ttl;
	enum authstore_result r;
	size_t i;
	int rc = EX_OK;

	memset(&t, 0, sizeof(t));
	/* The token carries the authority key's identifier. */
	if (identity_load_for(&idn, role->key, 0, key_owner(cfg), err,
	    sizeof(err)) == -1) {
		rc = load_status(errno);
		fprintf(stderr, "sallyport: %s:%d: %s\n", cfg->path,
		    role->key_line, err);
		return (rc);
	}
	memcpy(t.authority, idn.id, CRED_ID_LEN);
	identity_fini(&idn);
	memcpy(t.name, role->name, strnlen(role->name, sizeof(t.name) - 1));
	for (i = 0; i < role->naddress; i++)
		snprintf(t.addrs[i], sizeof(t.addrs[i]), "%s",
		    role->address[i]);
	t.naddrs = role->naddress;
	if (crypto_init() == -1 || crypto_random(t.secret,
	    sizeof(t.secret)) == -1) {
		fprintf(stderr, "sallyport: no system entropy\n");
		rc = EX_OSERR;
		goto out;
	}
	if (authtoken_format(&t, line, sizeof(line)) == 0) {
		fprintf(stderr, "sallyport: %s: the token does not fit in %d "
		    "bytes (fewer or shorter address = lines)\n", a->name,
		    AUTHTOKEN_LINE_MAX);
		rc = EX_CONFIG;
		goto out;
	}
	authtoken_hash(t.secret, hash);
	pw = getpwuid(geteuid());
	if (pw != NULL)
		snprintf(by, sizeof(by), "cli:%s", pw->pw_name);
	else
		snprintf(by, sizeof(by), "cli:%u", (unsigned)geteuid());
	ttl = a->ttl != 0 ? a->ttl : role->token_ttl;
	r = authstore_token_add(st, hash, a->attrs, a->nattrs,
	    a->uses != 0 ? a->uses : 1, now + ttl, by, now, err, sizeof(err));
	if ((rc = authority_status(a, r, "token", err)) != EX_OK)
		goto out;
	authtoken_ref(hash, ref);
	printf("%s\n", line);
	fprintf(stderr, "sallyport: token %s: %u use%s, expires %s\n", ref,
	    a->uses != 0 ? a->uses : 1, a->uses > 1 ? "s" : "",
	    time_text(now + ttl, e));
out:
	wipe(&t, sizeof(t));
	wipe(line, sizeof(line));
	return (rc);
}

/* authority token create|list|revoke CONFIG NAME ... */
static int
cmd_authority_token(int argc, char *argv[])
{
	const struct config_authority_role *role;
	struct auth_args a;
	struct authstore *st;
	struct config cfg;
	char name[64], err[1024];
	uint64_t now = (uint64_t)time(NULL);
	int rc, create = strcmp(argv[0], "create") == 0;
	int revoke = strcmp(argv[0], "revoke") == 0;

	memset(&a, 0, sizeof(a));
	snprintf(name, sizeof(name), "authority token %s", argv[0]);
	a.name = name;
	if (authority_args(argc, argv, &a, create ? AUTH_ATTRS | AUTH_TOKEN :
	    0, revoke, &rc) == -1)
		return (rc);
	if (revoke && !authtoken_ref_is_valid(a.arg)) {
		fprintf(stderr, "sallyport: %s: expected a reference, T and 11 "
		    "of a-z 2-7 (as token list shows)\n", name);
		return (EX_USAGE);
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((rc = authority_open(&a, &cfg, &role, &st)) != EX_OK)
		return (rc);
	if (create)
		rc = token_create(&a, &cfg, role, st);
	else if (revoke)
		rc = authority_status(&a, authstore_token_revoke(st, a.arg, err,
		    sizeof(err)), a.arg, err);
	else if (authstore_token_each(st, token_line, &now, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		rc = EX_IOERR;
	}
	authstore_close(st);
	config_free(&cfg);
	return (rc);
}

/* member list: one line a member. */
static int
member_line(void *arg, const struct authstore_member *m)
{
	char id[IDENTITY_TEXT_SIZE], s[CRED_SERIAL_TEXT], j[32];
	char at[CRED_MAX_ATTRS * (CRED_KEY_MAX + CRED_VALUE_MAX + 2) + 2];

	(void)arg;
	printf("%s %s serial=%s joined=%s how=%s attrs=%s\n",
	    identity_id_format(m->id, id), authstore_state_name(m->state),
	    m->serial != 0 ? cred_serial_format(m->serial, s) : "-",
	    time_text(m->joined, j), m->how, attrs_text(m->attrs, m->nattrs,
	    at, sizeof(at)));
	return (0);
}

/* member show: the member ${m}, a field a line. */
static void
member_print(const struct authstore_member *m)
{
	char id[IDENTITY_TEXT_SIZE], s[CRED_SERIAL_TEXT], j[32];
	size_t i;

	printf("member      %s\n", identity_id_format(m->id, id));
	printf("state       %s\n", authstore_state_name(m->state));
	printf("joined      %llu (%s)\n", (unsigned long long)m->joined,
	    time_text(m->joined, j));
	printf("how         %s\n", m->how);
	printf("serial      %s%s\n", m->serial != 0 ?
	    cred_serial_format(m->serial, s) : "none yet", m->serial == 0 ? "" :
	    m->confirmed ? " (presented)" : " (not presented yet)");
	if (m->previous != 0)
		printf("previous    %s\n", cred_serial_format(m->previous, s));
	for (i = 0; i < m->nattrs; i++)
		printf("attribute   %s=%s\n", m->attrs[i].key,
		    m->attrs[i].value);
}

/* authority member list|show|add|set|remove|unlock CONFIG NAME [ID] */
static int
cmd_authority_member(int argc, char *argv[])
{
	const struct config_authority_role *role;
	struct authstore_member m;
	struct auth_args a;
	struct authstore *st;
	struct config cfg;
	enum authstore_result r;
	uint8_t id[CRED_ID_LEN];
	char name[64], err[1024];
	int rc, list = strcmp(argv[0], "list") == 0;
	int add = strcmp(argv[0], "add") == 0;
	int set = strcmp(argv[0], "set") == 0;

	memset(&a, 0, sizeof(a));
	snprintf(name, sizeof(name), "authority member %s", argv[0]);
	a.name = name;
	if (authority_args(argc, argv, &a, add || set ? AUTH_ATTRS : 0, !list,
	    &rc) == -1)
		return (rc);
	if (!list && identity_id_parse(a.arg, id) == -1) {
		fprintf(stderr, "sallyport: %s: ID: expected I and 64 "
		    "lowercase hex digits\n", name);
		return (EX_USAGE);
	}
	if ((rc = authority_open(&a, &cfg, &role, &st)) != EX_OK)
		return (rc);
	if (list) {
		if (authstore_member_each(st, member_line, NULL, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sallyport: %s\n", err);
			rc = EX_IOERR;
		}
		goto out;
	}
	if (strcmp(argv[0], "show") == 0)
		r = authstore_member_get(st, id, &m, err, sizeof(err));
	else if (add)
		r = authstore_member_add(st, id, a.attrs, a.nattrs,
		    (uint64_t)time(NULL), err, sizeof(err));
	else if (set)
		r = authstore_member_set_attrs(st, id, a.attrs, a.nattrs, err,
		    sizeof(err));
	else if (strcmp(argv[0], "remove") == 0)
		r = authstore_member_remove(st, id, err, sizeof(err));
	else
		r = authstore_member_unlock(st, id, err, sizeof(err));
	if ((rc = authority_status(&a, r, a.arg, err)) == EX_OK &&
	    strcmp(argv[0], "show") == 0)
		member_print(&m);
out:
	authstore_close(st);
	config_free(&cfg);
	return (rc);
}

/*
 * A peer to decide on (policy explain, check --expect): its identifier
 * and the credentials it would show, or, described by attributes, one
 * credential taken as verified.
 */
struct who {
	uint8_t id[CONFIG_ID_LEN];
	uint8_t block[CRED_BLOCK_MAX]; /* credential files, as a block */
	size_t blen;
	int described;          /* by attributes: ck holds its credential */
	struct acl_checked ck;
};

/*
 * Parse the peer ${s} for ${cfg} into ${w}: an identifier, a name of
 * [peers], or KEY=VALUE[+KEY=VALUE...]@AUTHORITY: a peer with no
 * identifier of its own (all zero bits, which no list names) holding a
 * valid credential of AUTHORITY with exactly those attributes, as if its
 * signature, subject, validity and serial had been checked (acl_admit
 * takes it through ck, as a credential it checked itself).  Return 0, or
 * -1 with the problem in ${err}.
 */
static int
who_parse(const struct config *cfg, const char *s, struct who *w, char *err,
    size_t errlen)
{
	const struct config_authority *a = NULL;
	struct config_rule r;
	struct cred *c = &w->ck.valid[0];
	size_t i;

	memset(w, 0, sizeof(*w));
	if (strchr(s, '=') == NULL) {
		if (identity_id_parse(s, w->id) == 0)
			return (0);
		for (i = 0; i < cfg->npeers; i++)
			if (strcmp(cfg->peers[i].name, s) == 0) {
				memcpy(w->id, cfg->peers[i].id, CONFIG_ID_LEN);
				return (0);
			}
		snprintf(err, errlen, "peer \"%.80s\" is neither an identifier "
		    "nor a name of [peers] nor KEY=VALUE@AUTHORITY", s);
		return (-1);
	}
	if (config_rule_parse(&r, s, err, errlen) == -1)
		return (-1);
	for (i = 0; i < cfg->nauthorities; i++)
		if (strcmp(cfg->authorities[i].name, r.authority) == 0)
			a = &cfg->authorities[i];
	if (a == NULL) {
		snprintf(err, errlen, "unknown authority \"%s\" in \"%s\" (not "
		    "in [authorities])", r.authority, s);
		return (-1);
	}
	/* The terms are in key order: a credential's order. */
	for (i = 0; i < r.nterms; i++) {
		if (r.terms[i].neg || r.terms[i].nvalues != 1) {
			snprintf(err, errlen, "\"%s\" describes a credential: "
			    "one value per attribute, no '!' or '|'", s);
			return (-1);
		}
		strcpy(c->attrs[i].key, r.terms[i].key);
		strcpy(c->attrs[i].value, r.terms[i].values[0]);
	}
	c->nattrs = r.nterms;
	memcpy(c->issuer, a->id, CRED_ID_LEN);
	memcpy(c->subject, w->id, CRED_ID_LEN);
	c->serial = 1;
	c->not_after = UINT64_MAX;
	w->described = 1;
	w->ck.done = 1;
	w->ck.nvalid = 1;
	return (0);
}

/*
 * The decision of ${cfg} (revoked: ${rv}) at ${now} for ${w} asking for
 * ${service} from the address ${src} (zero: unknown), through the function run uses: acl_outlet for an [outlet]
 * of that name, else acl_relay on the allow list of a [relay] of that
 * name.  Write it in ${buf} (${size} bytes): "allow|deny service=NAME
 * role=outlet|relay", rule=, reason= and deny_rule= as the audit line has
 * them, then the entry that decided, and a would- line of a try entry.
 * Return 1 for allow, 0 for deny, -1 if no such service.
 */
static int
policy_decide(const struct config *cfg, const struct cred_revoked *rv,
    uint64_t now, const struct who *w, const char *service,
    const struct sockaddr_storage *src, char *buf, size_t size)
{
	struct acl_ctx ax = {cfg, rv, NULL, now};
	struct acl_peer peer = {w->id, w->described || w->blen > 0 ?
	    w->block : NULL, w->blen, src};
	struct acl_checked ck = w->ck;
	const struct config_outlet *co = config_outlet_find(cfg, service);
	const struct config_relay *cr = config_relay_find(cfg, service);
	struct acl_verdict v;
	char id[IDENTITY_TEXT_SIZE];
	char sec[CONFIG_NAME_MAX + CONFIG_PATH_MAX + 64];
	const char *role = co != NULL ? "outlet" : "relay";
	int ok, line;

	if (co != NULL)
		ok = acl_outlet(&ax, co, &peer, &ck, &v);
	else if (cr != NULL)
		ok = acl_relay(&ax, cr, 0, &peer, &ck, &v);
	else
		return (-1);
	line = co != NULL ? co->line : cr->line;
	snprintf(sec, sizeof(sec), "[%s %s] at %s:%d", role, service,
	    cfg->path, line);
	if (ok && v.rule != NULL)
		snprintf(buf, size, "allow service=%s role=%s rule=%s (%s:%d)",
		    service, role, v.rule, cfg->path, v.line);
	else if (ok)
		snprintf(buf, size, "allow service=%s role=%s (its identifier "
		    "in allow of %s)", service, role, sec);
	else if (v.deny_rule != NULL || v.deny_listed)
		snprintf(buf, size, "deny service=%s role=%s reason=denied "
		    "deny_rule=%s (%s%s:%d)", service, role, v.deny_rule !=
		    NULL ? v.deny_rule : identity_id_format(w->id, id),
		    v.deny_rule != NULL ? "" : "deny of ", cfg->path,
		    v.deny_rule != NULL ? v.line : line);
	else
		snprintf(buf, size, "deny service=%s role=%s reason=%s (no "
		    "entry of %s admits the peer: deny by default)", service,
		    role, v.reason != NULL ? v.reason : "not-allowed", sec);
	if (v.would != NULL) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, "; %s %s=%s (try entry of %s)",
		    v.would, ok ? "deny_rule" : "rule", v.try_rule != NULL ?
		    v.try_rule : identity_id_format(w->id, id), sec);
	}
	return (ok);
}

/* The IP address ${s} into ${ss}: 0, or -1 if it is none. */
static int
src_parse(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return (0);
	}
	return (-1);
}

/* The revocation list of ${cfg} into ${rv} (empty if none); 0 or -1
 * (printed). */
static int
policy_revoked(const struct config *cfg, struct cred_revoked *rv)
{
	char err[512];

	memset(rv, 0, sizeof(*rv));
	if (cfg->node.revoked[0] == '\0' || cred_revoked_load(rv,
	    cfg->node.revoked, err, sizeof(err)) == 0)
		return (0);
	fprintf(stderr, "sallyport: %s:%d: %s\n", cfg->path,
	    cfg->node.revoked_line, err);
	return (-1);
}

/*
 * check --expect: decide each line "PEER SERVICE allow|deny [ADDRESS]"
 * of the file ${path} by ${cfg} now (policy_decide; ADDRESS: where the
 * peer connects from, for from =; none: unknown); print each that does not hold as
 * "-PATH:LINE: expected" and "+PATH:LINE: decided".  Return EX_OK if all
 * hold, 1 if one does not, EX_CONFIG for a malformed line or file.
 */
static int
check_expect(const struct config *cfg, const char *path)
{
	char line[1024], peer[512], svc[CONFIG_NAME_MAX + 8], want[16];
	char from[64], extra[2], err[512], got[3 * CONFIG_PATH_MAX];
	struct sockaddr_storage src;
	struct cred_revoked rv;
	struct who *w;
	FILE *f;
	int ln = 0, n = 0, bad = 0, rc = EX_OK, ok, nf;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "sallyport: %s: %s\n", path, strerror(errno));
		return (EX_CONFIG);
	}
	if ((w = malloc(sizeof(*w))) == NULL || policy_revoked(cfg, &rv) ==
	    -1) {
		free(w);
		fclose(f);
		return (w == NULL ? EX_OSERR : EX_CONFIG);
	}
	while (rc == EX_OK && fgets(line, sizeof(line), f) != NULL) {
		ln++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "sallyport: %s:%d: line too long\n",
			    path, ln);
			rc = EX_CONFIG;
			break;
		}
		line[strcspn(line, "#\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		from[0] = '\0';
		nf = sscanf(line, "%511s %71s %15s %63s %1s", peer, svc, want,
		    from, extra);
		if (nf < 3 || nf > 4 ||
		    (strcmp(want, "allow") != 0 && strcmp(want, "deny") != 0) ||
		    (from[0] != '\0' && src_parse(from, &src) == -1)) {
			fprintf(stderr, "sallyport: %s:%d: expected PEER SERVICE "
			    "allow|deny [ADDRESS]\n", path, ln);
			rc = EX_CONFIG;
		} else if (who_parse(cfg, peer, w, err, sizeof(err)) == -1) {
			fprintf(stderr, "sallyport: %s:%d: %s\n", path, ln, err);
			rc = EX_CONFIG;
		} else if ((ok = policy_decide(cfg, &rv, (uint64_t)time(NULL),
		    w, svc, from[0] != '\0' ? &src : NULL, got,
		    sizeof(got))) == -1) {
			fprintf(stderr, "sallyport: %s:%d: no [outlet %s] or "
			    "[relay %s] in %s\n", path, ln, svc, svc,
			    cfg->path);
			rc = EX_CONFIG;
		} else {
			n++;
			if (ok != (want[0] == 'a')) {
				printf("-%s:%d: %s %s %s\n+%s:%d: %s %s %s: %s\n",
				    path, ln, peer, svc, want, path, ln, peer,
				    svc, ok ? "allow" : "deny", got);
				bad++;
			}
		}
	}
	fclose(f);
	free(w);
	cred_revoked_free(&rv);
	if (rc != EX_OK)
		return (rc);
	printf("expect   %s: %d of %d expectation%s hold%s\n", path, n - bad,
	    n, n == 1 ? "" : "s", n - bad == 1 ? "s" : "");
	return (bad > 0 ? 1 : EX_OK);
}

/* policy explain FILE --peer PEER [--credential CRED]... --service NAME */
static int
cmd_policy_explain(int argc, char *argv[])
{
	static const struct option opts[] = {GLOBAL_OPTIONS,
	    {"peer", required_argument, NULL, 'p'},
	    {"credential", required_argument, NULL, 'c'},
	    {"service", required_argument, NULL, 'v'},
	    {"from", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *name = "policy explain", *peer = NULL, *svc = NULL;
	const char *from = NULL;
	struct sockaddr_storage src;
	const char *creds[CRED_MAX_BLOCK];
	uint8_t buf[CRED_MAX_LEN];
	char err[1024], got[3 * CONFIG_PATH_MAX];
	struct config_errors *errs;
	struct cred_revoked rv;
	struct config cfg;
	struct who *w;
	struct cred c;
	size_t ncreds = 0, len, j;
	int ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			command_help(command_named(name), stdout);
			return (EX_OK);
		} else if (ch == 'l' || ch == 's') {
			if (global_option(ch, optarg) == -1)
				goto usage;
		} else if (ch == 'p')
			peer = optarg;
		else if (ch == 'v')
			svc = optarg;
		else if (ch == 'f')
			from = optarg;
		else if (ch == 'c' && ncreds < CRED_MAX_BLOCK)
			creds[ncreds++] = optarg;
		else {
			fprintf(stderr, "sallyport: %s: %s %s\n", name,
			    ch == ':' ? "an argument is missing after" : ch ==
			    'c' ? "too many credentials at" : "unknown option",
			    argv[optind - 1]);
			goto usage;
		}
	}
	log_open(opt_level, opt_syslog);
	if (argc - optind != 1 || peer == NULL || svc == NULL) {
		fprintf(stderr, "sallyport: %s: FILE, --peer and --service are "
		    "needed\n", name);
		goto usage;
	}
	if (from != NULL && src_parse(from, &src) == -1) {
		fprintf(stderr, "sallyport: %s: --from: not an IP address\n",
		    name);
		goto usage;
	}
	if ((errs = malloc(sizeof(*errs))) == NULL || (w = malloc(
	    sizeof(*w))) == NULL) {
		free(errs);
		return (EX_OSERR);
	}
	rc = EX_CONFIG;
	if (config_load_all(&cfg, argv[optind], errs) == -1) {
		for (j = 0; j < errs->n; j++)
			fprintf(stderr, "sallyport: %s\n", errs->msg[j]);
		free(errs);
		free(w);
		return (EX_CONFIG);
	}
	free(errs);
	if (policy_revoked(&cfg, &rv) == -1)
		goto out;
	if (who_parse(&cfg, peer, w, err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s: --peer: %s\n", name, err);
		rc = EX_USAGE;
		goto done;
	}
	for (j = 0; j < ncreds && !w->described; j++) {
		if (cred_load(creds[j], buf, sizeof(buf), &len, &c, err,
		    sizeof(err)) == -1 || cred_block_add(w->block,
		    sizeof(w->block), &w->blen, buf, len) == -1) {
			fprintf(stderr, "sallyport: %s: %s\n", name, j < ncreds &&
			    w->blen < sizeof(w->block) ? err : "too many "
			    "credentials");
			goto done;
		}
	}
	if ((rc = policy_decide(&cfg, &rv, (uint64_t)time(NULL), w, svc,
	    from != NULL ? &src : NULL, got, sizeof(got))) == -1) {
		fprintf(stderr, "sallyport: %s: no [outlet %s] or [relay %s] "
		    "in %s\n", name, svc, svc, cfg.path);
		rc = EX_CONFIG;
		goto done;
	}
	printf("%s\n", got);
	rc = rc == 1 ? EX_OK : 1;
done:
	cred_revoked_free(&rv);
out:
	free(w);
	config_free(&cfg);
	return (rc);
usage:
	fprintf(stderr, "usage: sallyport %s %s\n", name,
	    command_named(name)->args);
	return (EX_USAGE);
}

/* run FILE: load, then hand over to the node (node.c). */
static int
cmd_run(int argc, char *argv[])
{
	struct config cfg;
	struct identity idn;
	char err[1024];
	int i, rc, no_sandbox = 0;

	if ((i = command_args("run", argc, argv, 1, &rc,
	    &no_sandbox)) == -1)
		return (rc);
	/* Before any key is read: no core dumps of this process. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (config_load(&cfg, argv[i], err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		return (EX_CONFIG);
	}
	if (cfg.node.has_log_level && !opt_level_given)
		log_open(cfg.node.log_level, opt_syslog);
	if (identity_load_for(&idn, cfg.node.identity, 0, key_owner(&cfg),
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s:%d: %s\n", cfg.path,
		    cfg.node.identity_line, err);
		config_free(&cfg);
		return (EX_CONFIG);
	}
	if (no_sandbox)
		sandbox_disable();
	if (crypto_init() == -1) {
		fprintf(stderr, "sallyport: no system entropy\n");
		rc = EX_OSERR;
	} else
		rc = node_run(&cfg, &idn, opt_level_given) == 0 ? EX_OK :
		    EX_UNAVAILABLE;
	identity_fini(&idn);
	config_free(&cfg);
	return (rc);
}

/* intercept-rules FILE: the nftables ruleset for [inlet] intercept. */
static int
cmd_intercept_rules(int argc, char *argv[])
{
	struct config cfg;
	uid_t uid;
	char err[1024];
	size_t i, k;
	int a, rc = EX_OK;

	if ((a = command_args("intercept-rules", argc, argv, 1, &rc,
	    NULL)) == -1)
		return (rc);
	if (config_load(&cfg, argv[a], err, sizeof(err)) == -1) {
		fprintf(stderr, "sallyport: %s\n", err);
		return (EX_CONFIG);
	}
	if (cfg.node.user[0] == '\0') {
		fprintf(stderr, "sallyport: %s: intercept-rules needs [node] "
		    "user (the dedicated user the node runs as, whose own "
		    "connections are not redirected)\n", cfg.path);
		rc = EX_CONFIG;
		goto out;
	}
	if (node_user_uid(&cfg, &uid) == -1) {
		fprintf(stderr, "sallyport: %s:%d: no user \"%s\"\n",
		    cfg.path, cfg.node.user_line, cfg.node.user);
		rc = EX_CONFIG;
		goto out;
	}
	for (i = 0; i < cfg.ninlets; i++)
		for (k = 0; k < cfg.inlets[i].nintercept; k++)
			if (resolve_addr_now(&cfg.inlets[i].intercept[k], err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "sallyport: %s: [inlet %s] "
				    "intercept: %s\n", cfg.path,
				    cfg.inlets[i].name, err);
				rc = EX_UNAVAILABLE;
				goto out;
			}
	if (intercept_rules(&cfg, uid, stdout) == -1)
		rc = EX_CONFIG;
out:
	config_free(&cfg);
	return (rc);
}

/* probe TARGET */
static int
cmd_probe(int argc, char *argv[])
{
	char msg[256];
	int i, rc;

	if ((i = command_args("probe", argc, argv, 1, &rc, NULL)) == -1)
		return (rc);
	if (probe_run(argv[i], msg, sizeof(msg)) == 0) {
		printf("%s\n", msg);
		return (0);
	}
	fprintf(stderr, "sallyport: probe %s: %s\n", argv[i], msg);
	return (1);
}

/* help [COMMAND...] */
static int
help(int argc, char *argv[])
{
	const struct command *c;
	int nwords;

	if (argc == 0) {
		usage(stdout);
		return (EX_OK);
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		printf("usage: sallyport help [COMMAND]\n\n"
		       "Show the usage of sallyport, or of COMMAND.\n");
		return (EX_OK);
	}
	if ((c = command_find(argc, argv, &nwords)) != NULL &&
	    nwords == argc) {
		command_help(c, stdout);
		return (EX_OK);
	}
	if (argc == 1 && group_list(argv[0], stdout))
		return (EX_OK);
	fprintf(stderr, "sallyport: help: unknown command \"%s\"\n", argv[0]);
	return (EX_USAGE);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {GLOBAL_OPTIONS,
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	const struct command *c;
	int ch, nwords;

	/* '+': options end at the command name. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return (EX_OK);
		case 'V':
			printf("%s\n", PACKAGE_STRING);
			return (EX_OK);
		case 'l':
		case 's':
			if (global_option(ch, optarg) == -1)
				return (EX_USAGE);
			break;
		default:
			fprintf(stderr, "sallyport: bad option or missing "
					"argument: %s\n",
			    argv[optind - 1]);
			usage(stderr);
			return (EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return (EX_USAGE);
	}
	log_open(opt_level, opt_syslog);
	if (strcmp(argv[0], "help") == 0)
		return (help(argc - 1, argv + 1));
	if ((c = command_find(argc, argv, &nwords)) == NULL) {
		if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
				     strcmp(argv[1], "-h") == 0) &&
		    group_list(argv[0], stdout))
			return (EX_OK);
		if (group_list(argv[0], stderr)) {
			if (argc > 1)
				fprintf(stderr, "sallyport: %s: unknown "
						"command \"%s\"\n",
				    argv[0], argv[1]);
			return (EX_USAGE);
		}
		fprintf(stderr, "sallyport: unknown command \"%s\" (see "
				"sallyport --help)\n",
		    argv[0]);
		return (EX_USAGE);
	}
	return (c->fn(argc - nwords + 1, argv + nwords - 1));
}
