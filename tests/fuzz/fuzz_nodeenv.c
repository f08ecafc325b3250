/*
 * fuzz_nodeenv: one node in the fuzzer's process.  See fuzz_nodeenv.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authmsg.h"
#include "authority.h"
#include "authstore.h"
#include "authtoken.h"
#include "authwork.h"
#include "cred.h"
#include "fakeenv.h"
#include "frame.h"
#include "front.h"
#include "fuzz_channel.h"
#include "fuzz_nodeenv.h"
#include "gen.h"
#include "identity.h"
#include "listener.h"
#include "log.h"
#include "part.h"
#include "rows.h"

/*
 * The attestations' and credentials' horizon: the script's clock only
 * goes forward, by up to a minute an operation, for as many inputs as a
 * campaign runs; far beyond it, nothing expires while fuzzing.
 */
#define FZN_EXPIRY ((uint64_t)1 << 40)

/* Past every deadline of the node: handshake, linger, admin, eviction. */
#define FZN_END_SECS 60.
#define FZN_TURNS 8 /* loop iterations after an operation */

const char *const fzn_requests[FZN_REQUESTS] = {
	"db", "web", "@S", "@Rr", "@Rx", "nosuch", "@Zq", "db\001",
	"\002\001\002db", /* version 2: REQUEST_V2, REQUEST_SERVICE "db" */
	AUTHMSG_PREFIX "corp", /* FZN_AUTHORITY: the node's [authority] */
};

/*
 * The clock: the real one plus ${advanced} while ${virtual} is set, in
 * the harness's thread only (a fuzzer's own clocks, in its threads and
 * between inputs, stay real).
 */
static double advanced;
static _Thread_local int virtual;

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	double s;

	if (syscall(SYS_clock_gettime, id, ts) != 0)
		return (-1);
	if (!virtual || (id != CLOCK_MONOTONIC && id != CLOCK_REALTIME))
		return (0);
	s = (double)ts->tv_sec + (double)ts->tv_nsec / 1e9 + advanced;
	ts->tv_sec = (time_t)s;
	ts->tv_nsec = (long)((s - (double)ts->tv_sec) * 1e9);
	return (0);
}

/*
 * replay.c's PROVEN() hook ends an input where the node's peer is
 * proven; the harness's own initiators verifying the node are not that.
 */
int fuzz_own_side;

/*
 * replay.c's PROVEN() hook goes on past a proof while this is set: every
 * handshake of the input so far asked the node's authority, and what a
 * proven stranger runs there (its enrolment, renewal, garbage) is
 * pre-auth input too (docs/security.md, "A node that is also an
 * authority").  Set at an input's start, cleared by a handshake asking
 * anything else.
 */
int fuzz_past_proof;

static struct env env;
static struct config cfg;
static struct gens gens;
static struct part_host host;
#define FZN_PARTS 5
static struct part *parts[FZN_PARTS];
static const struct part_ops *const table[FZN_PARTS] = {
	&rows_front, &rows_outlet, &rows_relay, &rows_authority, &rows_admin,
};
#define FZN_AUTH_PART 3 /* parts[]: the authority */
static char dir[64], node_path[96], admin_path[96];
static char key_path[96], store_path[96], wal_path[104], shm_path[104];
static int tcp_l = -1; /* loopback: FZN_TCP's connections come from it */

/* The initiators: fz_li's and fz_ls's identities, fz_ls with role=app,
 * with role=ops, and a stranger [peers] names (FZN_EXPIRY, all). */
static struct channel_local li, ls, ls_app, ls_ops, named;

/* The harness's clients. */
static int cli[FZN_SLOTS];
static struct channel *hs[FZN_SLOTS]; /* an initiator on that slot */
/* A msg3 FZN_REPLY held back, to go in one write with FZN_ASK's record
 * (sealed behind it). */
#define FZN_HELD (CHANNEL_MAX_HANDSHAKE + FRAME_HDR)
static uint8_t held[FZN_SLOTS][FZN_HELD + AUTHMSG_MAX + CHANNEL_OVERHEAD];
static size_t heldlen[FZN_SLOTS];

/* The node's sockets and their directory (also replay.c's, proven). */
void fuzz_cleanup(void);

void
fuzz_cleanup(void)
{

	(void)unlink(node_path);
	(void)unlink(admin_path);
	(void)unlink(key_path);
	(void)unlink(store_path);
	(void)unlink(wal_path);
	(void)unlink(shm_path);
	(void)rmdir(dir);
}

/* A connection or a handshake slot was given back, as node.c's. */
static void
slot_cb(struct conn_ctx *ctx)
{

	listener_slot_freed(ctx->data);
}

/* A loopback TCP socket to accept FZN_TCP's connections on. */
static void
tcp_listen(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((tcp_l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(tcp_l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(tcp_l, FZN_SLOTS) == -1)
		abort();
}

/* fz_ls's credentials with a credential of the authority for ${attr}. */
static void
stranger(struct channel_local *l, const uint8_t apriv[CRYPTO_P256_PRIV_LEN],
    const char *attr)
{
	uint8_t one[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	const char *eq = strchr(attr, '=');
	struct cred c;
	size_t len, blen = 0;

	fz_local_fixed(l, 3, FZN_EXPIRY);
	memset(&c, 0, sizeof(c));
	memcpy(c.subject, l->id, CRED_ID_LEN);
	c.serial = 1;
	c.not_before = FZ_NOW;
	c.not_after = FZN_EXPIRY;
	memcpy(c.attrs[0].key, attr, (size_t)(eq - attr));
	strcpy(c.attrs[0].value, eq + 1);
	c.nattrs = 1;
	if (cred_sign(&c, apriv, one, sizeof(one), &len) != 0 ||
	    cred_block_add(block, sizeof(block), &blen, one, len) != 0 ||
	    channel_local_set_creds(l, block, blen) != 0)
		abort();
}

/*
 * The authority's key (the fixed authority's: [authorities] corp) and its
 * store, with the tokens FZN_ASK's secrets name: a token of many uses, one
 * of one use, one expired (in a campaign the store lives as long as the
 * process: who enrolled stays a member).
 */
static void
authority_files(const uint8_t apriv[CRYPTO_P256_PRIV_LEN])
{
	static const struct {
		uint8_t fill;
		unsigned uses;
		uint64_t expiry;
	} tokens[] = {
		{FZN_SECRET_MANY, 1000000, FZN_EXPIRY},
		{FZN_SECRET_ONCE, 1, FZN_EXPIRY},
		{FZN_SECRET_EXPIRED, 10, FZ_NOW},
	};
	struct identity key;
	struct authstore *st;
	struct cred_attr attr;
	uint8_t secret[AUTHMSG_SECRET_LEN], hash[CRYPTO_HASH_LEN];
	char err[1024];
	size_t i;

	snprintf(key_path, sizeof(key_path), "%s/corp.key", dir);
	snprintf(store_path, sizeof(store_path), "%s/corp.db", dir);
	snprintf(wal_path, sizeof(wal_path), "%s-wal", store_path);
	snprintf(shm_path, sizeof(shm_path), "%s-shm", store_path);
	if (identity_from_priv(&key, apriv) != 0 ||
	    identity_save(&key, key_path, err, sizeof(err)) != 0 ||
	    authstore_open(&st, store_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_node: %s\n", err);
		abort();
	}
	identity_fini(&key);
	memset(&attr, 0, sizeof(attr));
	strcpy(attr.key, "role");
	strcpy(attr.value, "app");
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		memset(secret, tokens[i].fill, sizeof(secret));
		authtoken_hash(secret, hash);
		if (authstore_token_add(st, hash, &attr, 1, tokens[i].uses,
		    tokens[i].expiry, "fuzz", FZ_NOW - 3600, err,
		    sizeof(err)) != AUTHSTORE_OK) {
			fprintf(stderr, "fuzz_node: %s\n", err);
			abort();
		}
	}
	authstore_close(st);
}

void
fzn_setup(void)
{
	uint8_t apriv[CRYPTO_P256_PRIV_LEN], apub[CRYPTO_P256_PUB_LEN];
	uint8_t aid[IDENTITY_ID_LEN];
	char a[IDENTITY_TEXT_SIZE], friend[IDENTITY_TEXT_SIZE];
	char stranger_id[IDENTITY_TEXT_SIZE], ini[3072];
	char err[1024];
	unsigned i;

	if (env.loop != NULL)
		return;
	for (i = 0; i < FZN_SLOTS; i++)
		cli[i] = -1;
	virtual = 1; /* the loop's first look at the clock */
	signal(SIGPIPE, SIG_IGN);
	log_open(LOG_LVL_INFO, 0); /* the daemon's default */
	fz_setup();
	fz_key_fixed(apriv, 4);
	if (crypto_p256_pub(apub, apriv) != 0)
		abort();
	crypto_sha256(aid, apub, sizeof(apub));
	stranger(&ls_app, apriv, "role=app");
	stranger(&ls_ops, apriv, "role=ops");
	fz_local_fixed(&li, 1, FZN_EXPIRY);
	fz_local_fixed(&ls, 3, FZN_EXPIRY);
	fz_local_fixed(&named, 5, FZN_EXPIRY);
	snprintf(dir, sizeof(dir), "%s/fuzz_node.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 32 ?
	    getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(node_path, sizeof(node_path), "%s/node.sock", dir);
	snprintf(admin_path, sizeof(admin_path), "%s/admin.sock", dir);
	atexit(fuzz_cleanup);
	authority_files(apriv);
	identity_id_format(aid, a);
	identity_id_format(li.id, friend);
	identity_id_format(named.id, stranger_id);
	snprintf(ini, sizeof(ini), "[node]\nidentity = k\n"
	    "listen = unix:%s\nadmin = unix:%s\n"
	    "max_handshakes = 3\nhandshake_timeout = 5\n"
	    "[authorities]\ncorp = %s\n"
	    "[outlet db]\ntarget = unix:%s/db.sock\nallow = %s\n"
	    "[outlet web]\ntarget = unix:%s/db.sock\nallow = role=app@corp\n"
	    "[relay r]\nregister = %s\nallow = %s\n"
	    "[peers]\nfriend = %s\nstranger = %s\n"
	    "[authority corp]\nkey = %s\nstore = %s\n"
	    "address = 198.18.0.1:7000\n", node_path, admin_path, a, dir,
	    friend, dir, friend, friend, friend, stranger_id, key_path,
	    store_path);
	if (fakeenv_init(&env, &cfg, ini, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_node: %s\n", err);
		abort();
	}
	fz_local_fixed(&env.local[0], 2, FZN_EXPIRY); /* the node: fz_lr */
	if ((gens.cur = gen_new(&gens, &cfg, 0)) == NULL)
		abort();
	env.ctx.epoch = gens.cur;
	env.ctx.epoch_ref = gen_ref;
	env.ctx.data = &env;
	env.ctx.slot_cb = slot_cb;
	host.env = &env;
	host.cur = &gens.cur;
	if (parts_start(parts, table, FZN_PARTS, &host) == -1)
		abort();
	tcp_listen();
	virtual = 0;
}

/* libFuzzer's start-up hook (and replay's, measuring): the node. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	fzn_setup();
	return (0);
}

/*
 * Let the node do what it can now: its loop, and the authority's jobs
 * with the worker thread (authwork.h) until none is left, each job's
 * result delivered on the loop (the worker's ev_async) before the script
 * goes on, so an input runs the same way however busy the machine is.
 */
static void
turn(void)
{
	const struct timespec nap = {0, 100000};
	int i;

	do {
		while (authwork_pending() > 0)
			(void)nanosleep(&nap, NULL);
		for (i = 0; i < FZN_TURNS; i++)
			ev_run(env.loop, EVRUN_NOWAIT);
	} while (authwork_pending() > 0);
}

/* The next byte of the script, 0 past its end. */
static uint8_t
next(const uint8_t **p, const uint8_t *end)
{

	return (*p < end ? *(*p)++ : 0);
}

static void
slot_close(unsigned s)
{

	if (cli[s] != -1)
		close(cli[s]);
	cli[s] = -1;
	channel_free(hs[s]);
	hs[s] = NULL;
	heldlen[s] = 0;
}

static void
slot_connect(unsigned s, enum fzn_port port)
{
	struct sockaddr_un sun;

	slot_close(s);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    port == FZN_NODE ? node_path : admin_path);
	if ((cli[s] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		abort();
	/* The backlog may be full (the node paused at a limit): a slot
	 * without a connection. */
	if (connect(cli[s], (struct sockaddr *)&sun, sizeof(sun)) == -1)
		slot_close(s);
}

/*
 * Connect ${s} over loopback TCP and hand the node's end to the front,
 * as if accepted at [node] listen (fixture_peer_dial's way): the node's
 * lines for addresses (a unix socket has none).
 */
static void
slot_tcp(unsigned s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	slot_close(s);
	if (getsockname(tcp_l, (struct sockaddr *)&sin, &len) == -1 ||
	    (cli[s] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(cli[s], (struct sockaddr *)&sin, len) == -1 ||
	    (fd = accept4(tcp_l, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1 ||
	    fcntl(cli[s], F_SETFL, O_NONBLOCK) == -1)
		abort();
	front_adopt(host.front, fd, NULL, NULL, NULL); /* the front owns fd */
}

static void
slot_write(unsigned s, const uint8_t *b, size_t n)
{

	if (cli[s] != -1)
		(void)send(cli[s], b, n, MSG_NOSIGNAL);
}

/* Read what the node sent on ${s} into ${buf}; return its length. */
static size_t
slot_read(unsigned s, uint8_t *buf, size_t cap)
{
	ssize_t r;

	if (cli[s] == -1 || (r = recv(cli[s], buf, cap, 0)) <= 0)
		return (0);
	return ((size_t)r);
}

/* Connect ${s} (over TCP if ${w} says) and send msg1 of the initiator
 * ${w} asks for. */
static void
hello(unsigned s, uint8_t w)
{
	const struct channel_local *who[FZN_WHO] = {&li, &ls, &ls_app, &ls_ops,
	    &named};
	uint8_t m[CHANNEL_MAX_HANDSHAKE];
	size_t n;

	if (w / (FZN_WHO * FZN_REQUESTS) % 2 == 1)
		slot_tcp(s);
	else
		slot_connect(s, FZN_NODE);
	if (w / FZN_WHO % FZN_REQUESTS != FZN_AUTHORITY)
		fuzz_past_proof = 0;
	fuzz_own_side = 1;
	hs[s] = fz_initiator_as(who[w % FZN_WHO], fzn_requests[w / FZN_WHO %
	    FZN_REQUESTS]);
	if (channel_start(hs[s], m, sizeof(m), &n) != 0)
		abort();
	fuzz_own_side = 0;
	slot_write(s, m, n);
}

/*
 * msg2 on ${s}: answer with msg3 (${hold}: held back for the next
 * FZN_ASK on ${s}); the channel is kept for FZN_ASK.
 */
static void
reply(unsigned s, int hold)
{
	uint8_t in[CHANNEL_MAX_HANDSHAKE + FRAME_HDR];
	uint8_t out[CHANNEL_MAX_HANDSHAKE + FRAME_HDR];
	size_t n, total, olen;
	int rc;

	n = slot_read(s, in, sizeof(in));
	if (hs[s] == NULL || frame_peek(in, n, FRAME_MAX_BODY, &total) != 1)
		return;
	fuzz_own_side = 1;
	rc = channel_handshake(hs[s], in, total, (uint64_t)ev_now(env.loop),
	    out, sizeof(out), &olen);
	fuzz_own_side = 0;
	if (rc != 1) {
		channel_free(hs[s]);
		hs[s] = NULL;
		return;
	}
	if (hold && olen <= FZN_HELD) {
		memcpy(held[s], out, olen);
		heldlen[s] = olen;
	} else
		slot_write(s, out, olen);
}

/*
 * FZN_ASK on ${s}: the authority message ${k} asks for (fuzz_nodeenv.h)
 * sealed as a DATA record on the channel made there.
 */
static void
ask(unsigned s, uint8_t k)
{
	static const uint8_t fills[] = {FZN_SECRET_MANY, FZN_SECRET_ONCE,
	    FZN_SECRET_EXPIRED, FZN_SECRET_NONE};
	uint8_t *m;
	size_t len;
	long n;
	int hang_up;

	if (hs[s] == NULL)
		return;
	/* A held msg3 goes first, in the same write. */
	m = held[s] + heldlen[s] + CHANNEL_HDR;
	hang_up = k >= FZN_ASK_HANG_UP;
	k %= FZN_ASK_HANG_UP;
	switch (k % FZN_ASKS) {
	case FZN_ASK_ENROL:
		m[0] = AUTHMSG_ENROL;
		memset(m + 1, fills[k / FZN_ASKS % 4], AUTHMSG_SECRET_LEN);
		len = 1 + AUTHMSG_SECRET_LEN;
		break;
	case FZN_ASK_RENEW:
		m[0] = AUTHMSG_RENEW;
		len = 1;
		break;
	case FZN_ASK_REVOKED:
		m[0] = AUTHMSG_REVOKED;
		len = 1;
		break;
	case FZN_ASK_MORE: /* the offset of piece k / FZN_ASKS */
		n = (long)(k / FZN_ASKS) * AUTHMSG_PIECE;
		m[0] = AUTHMSG_MORE;
		m[1] = m[2] = 0;
		m[3] = (uint8_t)(n >> 8);
		m[4] = (uint8_t)n;
		len = 5;
		break;
	default: /* FZN_ASK_JUNK: a type no message has */
		m[0] = 'Q';
		m[1] = k;
		len = 2;
		break;
	}
	fuzz_own_side = 1;
	n = channel_seal(hs[s], CHANNEL_DATA, held[s] + heldlen[s], len);
	fuzz_own_side = 0;
	if (n > 0)
		slot_write(s, held[s], heldlen[s] + (size_t)n);
	heldlen[s] = 0;
	if (hang_up) /* before the node read it: its question in flight */
		slot_close(s);
}

static int
no_conns(void)
{

	return (env.ctx.nconns == 0);
}

void
fzn_run(const uint8_t *data, size_t size, enum fzn_port port)
{
	const struct linger reset = {1, 0}; /* close: RST, not FIN */
	const uint8_t *p = data, *end = data + size;
	uint8_t buf[4096];
	unsigned s, i, n;

	fzn_setup();
	virtual = 1;
	fuzz_past_proof = 1;
	while (p < end) {
		switch (next(&p, end) % FZN_OPS) {
		case FZN_CONNECT:
			slot_connect(next(&p, end) % FZN_SLOTS, port);
			break;
		case FZN_WRITE:
			s = next(&p, end) % FZN_SLOTS;
			n = (unsigned)next(&p, end) + 1;
			if (n > (size_t)(end - p))
				n = (unsigned)(end - p);
			slot_write(s, p, n);
			p += n;
			break;
		case FZN_CLOSE:
			s = next(&p, end);
			if (s / FZN_SLOTS % 2 == 1 && cli[s % FZN_SLOTS] != -1)
				(void)setsockopt(cli[s % FZN_SLOTS], SOL_SOCKET,
				    SO_LINGER, &reset, sizeof(reset));
			slot_close(s % FZN_SLOTS);
			break;
		case FZN_SHUT:
			s = next(&p, end) % FZN_SLOTS;
			if (cli[s] != -1)
				(void)shutdown(cli[s], SHUT_WR);
			break;
		case FZN_TIME:
			advanced += next(&p, end) / 4.;
			/* node.c's timer: every second, what expired ends. */
			(void)parts_expire(parts, FZN_PARTS);
			break;
		case FZN_TCP:
			slot_tcp(next(&p, end) % FZN_SLOTS);
			break;
		case FZN_HELLO:
			s = next(&p, end) % FZN_SLOTS;
			hello(s, next(&p, end));
			break;
		case FZN_REPLY:
			s = next(&p, end);
			reply(s % FZN_SLOTS, s / FZN_SLOTS % 2);
			break;
		case FZN_ASK:
			s = next(&p, end) % FZN_SLOTS;
			ask(s, next(&p, end));
			break;
		default: /* FZN_DRAIN */
			(void)slot_read(next(&p, end) % FZN_SLOTS, buf,
			    sizeof(buf));
			break;
		}
		turn();
	}
	/* Everyone hangs up; every deadline passes. */
	for (i = 0; i < FZN_SLOTS; i++)
		slot_close(i);
	for (i = 0; i < 3; i++) {
		turn();
		advanced += FZN_END_SECS;
		turn();
	}
	if (!no_conns() || authority_live(parts[FZN_AUTH_PART]->self) != 0) {
		fprintf(stderr, "fuzz_node: %u connections, %u authority "
		    "channels left\n", env.ctx.nconns,
		    authority_live(parts[FZN_AUTH_PART]->self));
		abort();
	}
	virtual = 0;
}
