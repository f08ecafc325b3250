/*
 * check_conn: one tunneled connection end to end inside one process and
 * one loop.  Two conns play the inlet and the outlet over a loopback TCP
 * channel socket; the test holds the far ends of both plain sockets:
 *
 *   cli <-> [A: initiator conn] <-- channel --> [B: responder conn] <-> srv
 *
 * Behaviours: bytes arrive intact both ways with half-close carried; a
 * reset of one plain side reaches the other promptly as a reset; a reader
 * that stops reading stalls the writer without the buffers growing; a
 * wrong pinned identity never opens.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "conn.h"
#include "crypto.h"
#include "fixture.h"
#include "frame.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"

static struct ev_loop *loop;
static struct conn_ctx ctx;
static struct channel_local la, lb;
static struct conn *ca, *cb;
static int cli = -1, srv = -1;
static int opened;

/* Both roles open as soon as the handshake is done. */
static void
t_dialed(struct conn *c, int err)
{

	(void)err;
	conn_drop(c, CONN_R_CONNECT_FAILED);
}

/*
 * Hold mode: the initiator keeps what its client sends until the
 * responder serves it (conn_hold_plain); refuse mode: its client has sent
 * "hello" and its EOF already, and the responder refuses (not-allowed)
 * instead of opening.  The initiator is established first (it writes
 * msg3), so it reads its client before the refusal can come.
 */
static int hold_mode, refuse_mode;

static void
t_established(struct conn *c)
{

	opened++;
	if (c->hs_responder && refuse_mode) {
		conn_refuse(c, CHANNEL_REFUSAL_NOT_ALLOWED, CONN_R_DENIED);
		return;
	}
	if (!c->hs_responder && refuse_mode) {
		ck_assert_int_eq(write(cli, "hello", 5), 5);
		ck_assert_int_eq(shutdown(cli, SHUT_WR), 0);
	}
	if (!c->hs_responder && hold_mode)
		ck_assert_int_eq(conn_hold_plain(c), 0);
	/* What a role resolves for its part (conn.h: c->opened). */
	c->opened = metrics_series(METRICS_CONN_OPENED, c->role, c->name,
	    NULL);
	conn_open(c);
}

/* A refusal: what the initiator held is taken (conn_take_held). */
static int took_fd = -1, took_eof;
static uint8_t *took;
static size_t took_len;

static void
t_refused(struct conn *c, unsigned code)
{

	ck_assert_uint_eq(code, CHANNEL_REFUSAL_NOT_ALLOWED);
	took_fd = conn_take_held(c, &took, &took_len, &took_eof);
}

/* Renewed credentials: counted; kept unless ${renew_verdict} says no. */
static int renewed, renew_verdict;

static int
t_renewed(struct conn *c)
{

	(void)c;
	renewed++;
	return (renew_verdict);
}

static const struct conn_ops ops = {
	.dialed = t_dialed,
	.established = t_established,
	.handshake_failed = NULL,
	.refused = t_refused,
	.renewed = t_renewed,
};

/*
 * Make the pair of conns; ${pin} is the identity A expects (B's, or a
 * wrong one).  Spin until both opened or 2 s passed.
 */
static void
setup_pair(const uint8_t *pin)
{
	struct channel *ch;
	uint64_t now;
	int plain_a[2], plain_b[2], chan[2];
	int i;

	ck_assert_int_eq(crypto_init(), 0);
	log_open(LOG_LVL_ERROR, 0);
	loop = ev_default_loop(0);
	conn_ctx_init(&ctx, loop);
	now = (uint64_t)time(NULL);
	fixture_local(&la, NULL, now, 86400);
	fixture_local(&lb, NULL, now, 86400);

	fixture_tcp_pair(plain_a);
	fixture_tcp_pair(plain_b);
	fixture_tcp_pair(chan);
	cli = plain_a[0];
	srv = plain_b[0];
	ck_assert_ptr_nonnull(ca = conn_new(&ctx, &ops, plain_a[1], chan[0]));
	ck_assert_ptr_nonnull(cb = conn_new(&ctx, &ops, plain_b[1], chan[1]));
	ca->role = "inlet";
	cb->role = "outlet";
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, &lb, NULL));
	ck_assert_int_eq(conn_handshake(cb, ch, CHANNEL_RESPONDER), 0);
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_INITIATOR, &la, NULL));
	channel_expect_peer(ch, pin != NULL ? pin : lb.id);
	ck_assert_int_eq(channel_set_request(ch, (const uint8_t *)"svc", 3),
	    0);
	ck_assert_int_eq(conn_handshake(ca, ch, CHANNEL_INITIATOR), 0);
	for (i = 0; i < 10000 && opened < 2 && ctx.nconns == 2; i++)
		fixture_spin(loop);
}

static void
setup(void)
{

	setup_pair(NULL);
	ck_assert_int_eq(opened, 2);
}

static void
teardown(void)
{

	conn_ctx_drop_all(&ctx, CONN_R_SHUTDOWN);
	conn_ctx_fini(&ctx);
	channel_local_fini(&la);
	channel_local_fini(&lb);
	if (cli != -1)
		close(cli);
	if (srv != -1)
		close(srv);
	cli = srv = -1;
	opened = 0;
	hold_mode = refuse_mode = 0;
	if (took_fd != -1)
		close(took_fd);
	took_fd = -1;
	free(took);
	took = NULL;
}

/*
 * Send ${len} bytes of ${out} on ${wfd} (then shut it down) while reading
 * ${rfd} into ${in} until EOF, spinning the loop.  Return the bytes read,
 * or -1 on a read error (errno kept) or after about 10 s.
 */
static long
transfer(int wfd, const uint8_t *out, size_t len, int rfd, uint8_t *in,
    size_t cap)
{
	size_t sent = 0, got = 0;
	ssize_t n;
	int i, shut = 0;

	for (i = 0; i < 50000; i++) {
		if (sent < len) {
			n = write(wfd, out + sent, len - sent);
			if (n > 0)
				sent += (size_t)n;
		} else if (!shut) {
			ck_assert_int_eq(shutdown(wfd, SHUT_WR), 0);
			shut = 1;
		}
		n = read(rfd, in + got, cap - got);
		if (n == 0)
			return ((long)got);
		if (n > 0)
			got += (size_t)n;
		else if (errno != EAGAIN)
			return (-1);
		fixture_spin(loop);
	}
	return (-1);
}

/* Read ${fd} until EOF or error; return 0 at EOF, errno on error. */
static int
drain(int fd)
{
	uint8_t buf[4096];
	ssize_t n;
	int i;

	for (i = 0; i < 20000; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return (0);
		if (n < 0 && errno != EAGAIN)
			return (errno);
		fixture_spin(loop);
	}
	return (-1);
}

/* A megabyte each way, each direction half-closed in turn. */
START_TEST(test_both_ways_half_close)
{
	size_t len = 1 << 20;
	uint8_t *out = malloc(len), *in = malloc(len + 1);
	int i;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(crypto_random(out, len), 0);
	/* Request: client -> server, then the client's FIN. */
	ck_assert_int_eq(transfer(cli, out, len, srv, in, len + 1),
	    (long)len);
	ck_assert_mem_eq(in, out, len);
	/* Answer after the half-close: server -> client, then its FIN. */
	out[0] ^= 1;
	ck_assert_int_eq(transfer(srv, out, len, cli, in, len + 1),
	    (long)len);
	ck_assert_mem_eq(in, out, len);
	/* Both directions done: both conns end cleanly. */
	for (i = 0; i < 5000 && ctx.nconns > 0; i++)
		fixture_spin(loop);
	ck_assert_uint_eq(ctx.nconns, 0);
	free(out);
	free(in);
}
END_TEST

/* A counter of bytes moved on plain sockets, as a scrape sees it. */
static double
scraped(enum metrics_id id, const char *role)
{

	(void)metrics_text(NULL, 0); /* runs the collectors */
	return (metrics_get(id, role, NULL, NULL));
}

/*
 * The plain bytes each side read and wrote reach the received and sent
 * counters of its role by the next scrape; none are counted twice.
 */
START_TEST(test_bytes_counted)
{
	static uint8_t out[100000], in[100001];
	double rx_in = scraped(METRICS_BYTES_RECEIVED, "inlet");
	double tx_out = scraped(METRICS_BYTES_SENT, "outlet");
	double rx_out = scraped(METRICS_BYTES_RECEIVED, "outlet");
	double tx_in = scraped(METRICS_BYTES_SENT, "inlet");

	ck_assert_int_eq(crypto_random(out, sizeof(out)), 0);
	ck_assert_int_eq(transfer(cli, out, sizeof(out), srv, in, sizeof(in)),
	    (long)sizeof(out));
	ck_assert_int_eq(transfer(srv, out, 1000, cli, in, sizeof(in)), 1000);
	ck_assert(scraped(METRICS_BYTES_RECEIVED, "inlet") - rx_in == 100000);
	ck_assert(scraped(METRICS_BYTES_SENT, "outlet") - tx_out == 100000);
	ck_assert(scraped(METRICS_BYTES_RECEIVED, "outlet") - rx_out == 1000);
	ck_assert(scraped(METRICS_BYTES_SENT, "inlet") - tx_in == 1000);
}
END_TEST

/* A CREDS record reaches the peer's renewed op and replaces the block
 * its channel holds; a refusal there ends the connection. */
START_TEST(test_creds_renewed)
{
	static const uint8_t b1[] = {1, 0, 2, 'c', '1'};
	static const uint8_t b2[] = {1, 0, 2, 'c', '2'};
	const uint8_t *got;
	uint8_t x = 'x', y = 0;
	size_t len;
	int i;

	/* The responder's first record, its credentials (protocol 3),
	 * reaches the initiator's renewed op first. */
	for (i = 0; i < 5000 && renewed == 0; i++)
		fixture_spin(loop);
	ck_assert_int_eq(renewed, 1);
	renewed = renew_verdict = 0;
	ck_assert_int_eq(conn_send_creds(ca, b1, sizeof(b1)), 0);
	for (i = 0; i < 5000 && renewed == 0; i++)
		fixture_spin(loop);
	ck_assert_int_eq(renewed, 1);
	ck_assert_ptr_nonnull(got = channel_peer_creds(cb->ch, &len));
	ck_assert_uint_eq(len, sizeof(b1));
	ck_assert_mem_eq(got, b1, sizeof(b1));
	/* Data still flows both ways after it. */
	ck_assert_int_eq(write(cli, &x, 1), 1);
	for (i = 0; i < 5000 && read(srv, &y, 1) != 1; i++)
		fixture_spin(loop);
	ck_assert_int_eq(y, 'x');
	/* The peer no longer admits: both ends go. */
	renew_verdict = -1;
	ck_assert_int_eq(conn_send_creds(ca, b2, sizeof(b2)), 0);
	for (i = 0; i < 5000 && ctx.nconns > 0; i++)
		fixture_spin(loop);
	ck_assert_int_eq(renewed, 2);
	ck_assert_uint_eq(ctx.nconns, 0);
	ck_assert_int_ne(drain(srv), 0); /* reset, not a clean end */
}
END_TEST

/* A reset of the server's socket reaches the client as a reset. */
START_TEST(test_reset_propagates)
{
	struct linger lg = {1, 0};
	uint8_t b = 'x';
	int r, i;

	ck_assert_int_eq(write(cli, &b, 1), 1);
	for (i = 0; i < 5000 && read(srv, &b, 1) != 1; i++)
		fixture_spin(loop);
	ck_assert_int_eq(b, 'x');
	ck_assert_int_eq(setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(srv);
	srv = -1;
	r = drain(cli);
	/* Never a clean EOF: the stream did not end normally. */
	ck_assert_int_eq(r, ECONNRESET);
	for (i = 0; i < 5000 && ctx.nconns > 0; i++)
		fixture_spin(loop);
	ck_assert_uint_eq(ctx.nconns, 0);
}
END_TEST

/* A reader that stops: the writer stalls; buffers stay bounded. */
START_TEST(test_backpressure)
{
	static uint8_t chunk[65536];
	size_t sent = 0;
	ssize_t n;
	int i, stalled = 0;

	for (i = 0; i < 20000 && stalled < 200; i++) {
		n = write(cli, chunk, sizeof(chunk));
		if (n > 0) {
			sent += (size_t)n;
			stalled = 0;
		} else
			stalled++;
		fixture_spin(loop);
	}
	/* The writer stopped: kernel buffers plus at most one buffer per
	 * direction and conn, not everything that was offered. */
	ck_assert_int_ge(stalled, 200);
	ck_assert_uint_lt(sent, 256u << 20); /* kernel buffers: tens of MB */
	ck_assert_uint_le(ctx.npool, 16);
	/* Once the reader reads again, everything flows. */
	ck_assert_int_eq(shutdown(cli, SHUT_WR), 0);
	{
		size_t got = 0;
		uint8_t buf[65536];

		for (i = 0; i < 50000 && got < sent; i++) {
			n = read(srv, buf, sizeof(buf));
			if (n > 0)
				got += (size_t)n;
			fixture_spin(loop);
		}
		ck_assert_uint_eq(got, sent);
	}
}
END_TEST

/*
 * Bulk data moves in big batches: 256 KiB waiting at the inlet's plain
 * socket are taken by one read (16 records sealed and written together),
 * not 64 KiB per turn of the loop; then they arrive intact.
 */
START_TEST(test_batch_read)
{
	static uint8_t out[256 << 10], in[(256 << 10) + 1];
	size_t sent = 0;
	ssize_t n;
	int big = 4 << 20, avail = 0, i;

	ck_assert_int_eq(setsockopt(ca->fd_plain, SOL_SOCKET, SO_RCVBUF, &big,
	    sizeof(big)), 0);
	ck_assert_int_eq(setsockopt(cli, SOL_SOCKET, SO_SNDBUF, &big,
	    sizeof(big)), 0);
	ck_assert_int_eq(crypto_random(out, sizeof(out)), 0);
	/* All of it in the inlet's receive queue before the loop turns. */
	for (i = 0; i < 20000 && sent < sizeof(out); i++) {
		if ((n = write(cli, out + sent, sizeof(out) - sent)) > 0)
			sent += (size_t)n;
		else
			usleep(200);
	}
	ck_assert_uint_eq(sent, sizeof(out));
	for (i = 0; i < 20000 && avail < (int)sizeof(out); i++) {
		ck_assert_int_eq(ioctl(ca->fd_plain, FIONREAD, &avail), 0);
		if (avail < (int)sizeof(out))
			usleep(200);
	}
	ck_assert_int_eq(avail, (int)sizeof(out));
	/* The first turn that reads reads everything. */
	for (i = 0; i < 1000 && ca->bytes_in == 0; i++)
		fixture_spin(loop);
	ck_assert_uint_eq(ca->bytes_in, sizeof(out));
	ck_assert_int_eq(transfer(cli, out, 0, srv, in, sizeof(in)),
	    (long)sizeof(out));
	ck_assert_mem_eq(in, out, sizeof(out));
}
END_TEST

/*
 * Holding: the PING the initiator sends is answered, which ends the hold
 * (the copy goes); then bytes flow as usual, beyond what a hold keeps.
 */
START_TEST(test_hold_released)
{
	size_t len = 4 * CONN_HOLD_MAX;
	uint8_t *out = malloc(len), *in = malloc(len + 1);
	int i;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	teardown();
	hold_mode = 1;
	setup_pair(NULL);
	ck_assert_int_eq(opened, 2);
	ck_assert_int_eq(ca->holding, 1);
	for (i = 0; i < 5000 && ca->holding; i++)
		fixture_spin(loop);
	ck_assert_int_eq(ca->holding, 0);
	ck_assert_ptr_null(ca->held);
	ck_assert_int_eq(crypto_random(out, len), 0);
	ck_assert_int_eq(transfer(cli, out, len, srv, in, len + 1),
	    (long)len);
	ck_assert_mem_eq(in, out, len);
	free(out);
	free(in);
}
END_TEST

/*
 * Refused while holding: the plain socket and the bytes the client sent
 * are taken (nothing reached the refusing peer's plain side); a new
 * connection that replays them (conn_replay_plain) delivers them, then
 * the client's EOF.
 */
START_TEST(test_hold_refused_replay)
{
	struct channel *ch;
	struct conn *a2, *b2;
	int chan[2], plain_b[2], i;
	uint8_t buf[16];
	ssize_t n;
	size_t got = 0;

	teardown();
	hold_mode = refuse_mode = 1;
	setup_pair(NULL);
	for (i = 0; i < 5000 && ctx.nconns > 0; i++)
		fixture_spin(loop);
	ck_assert_uint_eq(ctx.nconns, 0);
	ck_assert_int_ne(took_fd, -1);
	ck_assert_uint_eq(took_len, 5);
	ck_assert_mem_eq(took, "hello", 5);
	/* Its EOF was read (then replayed) or still waits in the socket. */
	ck_assert_int_le(read(srv, buf, sizeof(buf)), 0); /* no byte came */

	/* A new connection for the same client replays them. */
	hold_mode = refuse_mode = 0;
	close(srv);
	fixture_tcp_pair(plain_b);
	fixture_tcp_pair(chan);
	srv = plain_b[0];
	ck_assert_ptr_nonnull(a2 = conn_new(&ctx, &ops, took_fd, chan[0]));
	took_fd = -1; /* a2's now */
	ck_assert_ptr_nonnull(b2 = conn_new(&ctx, &ops, plain_b[1], chan[1]));
	conn_replay_plain(a2, took, took_len, took_eof);
	took = NULL; /* a2's now */
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, &lb, NULL));
	ck_assert_int_eq(conn_handshake(b2, ch, CHANNEL_RESPONDER), 0);
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_INITIATOR, &la, NULL));
	channel_expect_peer(ch, lb.id);
	/* (Protocol 3: a msg3 without a request waits for a REQUEST.) */
	ck_assert_int_eq(channel_set_request(ch, (const uint8_t *)"svc", 3),
	    0);
	ck_assert_int_eq(conn_handshake(a2, ch, CHANNEL_INITIATOR), 0);
	for (i = 0; i < 10000; i++) {
		n = read(srv, buf + got, sizeof(buf) - got);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		fixture_spin(loop);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(got, 5);
	ck_assert_mem_eq(buf, "hello", 5);
}
END_TEST

/* An initiator pinned to another identity never opens. */
START_TEST(test_wrong_pin)
{
	uint8_t other[CHANNEL_ID_LEN];
	int i;

	teardown();
	memset(other, 0x42, sizeof(other));
	setup_pair(other);
	for (i = 0; i < 5000 && ctx.nconns > 0; i++)
		fixture_spin(loop);
	ck_assert_int_eq(opened, 0);
	ck_assert_uint_eq(ctx.nconns, 0);
	/* The client is closed without any data. */
	ck_assert_int_ne(drain(cli), -1);
}
END_TEST

/* SO_KEEPALIVE of ${fd}, and TCP_KEEPIDLE in *${idle}. */
static int
keepalive_of(int fd, int *idle)
{
	socklen_t len = sizeof(int);
	int on = -1;

	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len),
	    0);
	len = sizeof(int);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle, &len),
	    0);
	return (on);
}

/*
 * TCP keepalive is set on a channel socket once its handshake completes,
 * on both ends; a handshake that never completes costs no setsockopt(2).
 */
START_TEST(test_keepalive_established)
{
	struct channel *ch;
	struct conn *c;
	int pair[2], idle = 0;

	ck_assert_int_eq(keepalive_of(ca->fd_chan, &idle), 1);
	ck_assert_int_eq(idle, (int)ctx.keepalive);
	ck_assert_int_eq(keepalive_of(cb->fd_chan, &idle), 1);
	ck_assert_int_eq(idle, (int)ctx.keepalive);
	fixture_tcp_pair(pair);
	ck_assert_ptr_nonnull(c = conn_new(&ctx, &ops, -1, pair[1]));
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, &lb, NULL));
	ck_assert_int_eq(conn_handshake(c, ch, CHANNEL_RESPONDER), 0);
	fixture_spin(loop);
	ck_assert_int_eq(keepalive_of(pair[1], &idle), 0);
	conn_drop(c, CONN_R_SHUTDOWN);
	close(pair[0]);
}
END_TEST

/* A responder conn waiting for msg1 on a socketpair: pending. */
static struct conn *
pending_conn(uint64_t src)
{
	struct channel *ch;
	struct conn *c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_ptr_nonnull(c = conn_new(&ctx, &ops, -1, sv[0]));
	ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, &lb, NULL));
	ck_assert_int_eq(conn_handshake(c, ch, CHANNEL_RESPONDER), 0);
	close(sv[1]); /* never read: the conn stays pending until dropped */
	c->src = src;
	return (c);
}

/*
 * At a limit, a handshake with no progress goes: the oldest of a source
 * holding most pending handshakes, else the oldest; never a young one.
 * One with progress goes only when no idle one is left, and only old.
 */
START_TEST(test_evict)
{
	struct conn *a1, *a2, *a3, *b1, *b2;

	a1 = pending_conn(0xa);
	a2 = pending_conn(0xa);
	b1 = pending_conn(0xb);
	a3 = pending_conn(0xa);
	ck_assert_uint_eq(ctx.npending, 4);
	/* Nothing is old enough yet. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 3600., 3600.), -1);
	ck_assert_uint_eq(ctx.npending, 4);
	/* The oldest of the majority source goes. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), 0);
	ck_assert_int_eq(a1->state, CONN_DEAD);
	ck_assert_int_ne(a2->state, CONN_DEAD);
	ck_assert_uint_eq(ctx.npending, 3);
	/* 2 of 3 is still most: a2 goes next, not the older b1. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), 0);
	ck_assert_int_eq(a2->state, CONN_DEAD);
	ck_assert_int_ne(b1->state, CONN_DEAD);
	/* 0xb holds 2 of 3: its oldest without progress goes. */
	b2 = pending_conn(0xb);
	b2->hs_progress = 1; /* a real peer's first message came in */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), 0);
	ck_assert_int_eq(b1->state, CONN_DEAD);
	/* 1 of 2 is not most: the oldest without progress goes. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), 0);
	ck_assert_int_eq(a3->state, CONN_DEAD);
	/* A handshake making progress is not evicted before its age. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), -1);
	ck_assert_int_ne(b2->state, CONN_DEAD);
	/* ... and goes last, once nothing idle is left and it is old. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 0.), 0);
	ck_assert_int_eq(b2->state, CONN_DEAD);
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 0.), -1);
}
END_TEST

/*
 * FIRST_BYTES (a relay's accepted socket): ops->first gets the first
 * byte, then exactly the bytes it asked for (what follows stays in
 * the socket for whoever takes it); a handshake started from there keeps
 * its slot; a connection whose first bytes never come goes at the
 * handshake deadline.  All of them are on the pending list, but counted
 * apart (ctx->nfirst, ctx->npending: their own bounds), and
 * conn_ctx_evict takes one of the kind asked for, a first-bytes one with
 * its own reason.
 */
static size_t first_want;
static uint8_t first_got[8];
static size_t first_have;
static int first_fd = -1, first_hs;
static enum conn_reason first_reason;

static size_t
t_first(struct conn *c, const uint8_t *p, size_t have)
{
	struct channel *ch;

	memcpy(first_got, p, have);
	first_have = have;
	if (first_hs) {
		ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER, &lb,
		    NULL));
		ck_assert_int_eq(conn_handshake(c, ch, CHANNEL_RESPONDER), 0);
		return (0);
	}
	if (have < first_want)
		return (first_want);
	first_fd = conn_take_chan(c);
	return (0);
}

static void
t_first_dropped(struct conn *c, enum conn_reason reason)
{

	(void)c;
	first_reason = reason;
}

static const struct conn_ops first_ops = {
	.first = t_first,
	.dropped = t_first_dropped,
};

/* A connection waiting for its first bytes; the peer's end in ${peer}. */
static struct conn *
first_conn(int *peer)
{
	struct conn *c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_ptr_nonnull(c = conn_new(&ctx, &first_ops, -1, sv[0]));
	conn_first_bytes(c);
	*peer = sv[1];
	return (c);
}

static int
is_dead(void *arg)
{

	return (((struct conn *)arg)->state == CONN_DEAD);
}

START_TEST(test_first_bytes)
{
	struct conn *c, *h, *old;
	uint8_t rest[8];
	size_t n0 = ctx.npending, f0 = ctx.nfirst;
	int peer, peer_old, i;

	/* The first byte, then 4 bytes in all, no more. */
	c = first_conn(&peer);
	ck_assert_int_eq(c->state, CONN_FIRST_BYTES);
	ck_assert_uint_eq(ctx.npending, n0);
	ck_assert_uint_eq(ctx.nfirst, f0 + 1);
	first_want = 4;
	ck_assert_int_eq(write(peer, "pre!rest", 8), 8);
	for (i = 0; i < 200 && first_fd == -1; i++)
		fixture_spin(loop);
	ck_assert_int_ne(first_fd, -1);
	ck_assert_uint_eq(first_have, 4);
	ck_assert_mem_eq(first_got, "pre!", 4);
	ck_assert_int_eq(c->state, CONN_DEAD);
	ck_assert_uint_eq(first_reason, CONN_R_EOF);
	ck_assert_uint_eq(ctx.npending, n0);
	ck_assert_uint_eq(ctx.nfirst, f0);
	ck_assert_int_eq(read(first_fd, rest, sizeof(rest)), 4);
	ck_assert_mem_eq(rest, "rest", 4);
	close(first_fd);
	close(peer);

	/* Idle first bytes and a handshake share the pending list. */
	old = first_conn(&peer_old);
	first_hs = 1;
	h = first_conn(&peer);
	ck_assert_int_eq(write(peer, "\0", 1), 1);
	for (i = 0; i < 200 && h->state == CONN_FIRST_BYTES; i++)
		fixture_spin(loop);
	ck_assert_int_eq(h->state, CONN_HANDSHAKE);
	ck_assert_uint_eq(first_have, 1); /* the first byte only */
	/* The handshake left the first-bytes count for a handshake slot. */
	ck_assert_uint_eq(ctx.npending, n0 + 1);
	ck_assert_uint_eq(ctx.nfirst, f0 + 1);
	ck_assert_int_eq(conn_ctx_evict(&ctx, 1, 3600., 3600.), -1);
	/* Each kind is evicted only for its own bound. */
	ck_assert_int_eq(conn_ctx_evict(&ctx, 1, 0., 3600.), 0);
	ck_assert_int_eq(old->state, CONN_DEAD);
	ck_assert_int_ne(h->state, CONN_DEAD);
	ck_assert_uint_eq(first_reason, CONN_R_FIRST_EVICTED);
	ck_assert_str_eq(conn_reason_name(CONN_R_FIRST_EVICTED), "evicted");
	ck_assert_uint_eq(ctx.nfirst, f0);
	ck_assert_int_eq(conn_ctx_evict(&ctx, 1, 0., 3600.), -1);
	ck_assert_int_eq(conn_ctx_evict(&ctx, 0, 0., 3600.), 0);
	ck_assert_int_eq(h->state, CONN_DEAD);
	ck_assert_uint_eq(ctx.npending, n0);
	ck_assert_str_eq(conn_reason_name(CONN_R_MAX_HANDSHAKES),
	    "max-handshakes");
	close(peer_old);
	close(peer);

	/* Nothing comes: the handshake deadline. */
	first_hs = 0;
	ctx.handshake_timeout = 0.01;
	c = first_conn(&peer);
	ck_assert(fixture_run_until(loop, is_dead, c, 30.));
	ck_assert_uint_eq(first_reason, CONN_R_HANDSHAKE_TIMEOUT);
	ck_assert_uint_eq(ctx.npending, n0);
	close(peer);
}
END_TEST

/*
 * A handshake frame is judged by its 2-byte prefix: a body over
 * CHANNEL_MAX_HANDSHAKE - FRAME_HDR (3070) is refused when the prefix
 * arrives, not held while its body would be awaited; 3070 itself waits.
 */
START_TEST(test_handshake_frame_limit)
{
	static const size_t lens[] = {CHANNEL_MAX_HANDSHAKE - FRAME_HDR + 1,
	    CHANNEL_MAX_HANDSHAKE, CHANNEL_MAX_HANDSHAKE - FRAME_HDR};
	struct channel *ch;
	struct conn *c;
	uint8_t prefix[FRAME_HDR];
	size_t k, n0 = ctx.nconns;
	int sv[2], i;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		ck_assert_int_eq(socketpair(AF_UNIX,
		    SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		ck_assert_ptr_nonnull(c = conn_new(&ctx, &ops, -1, sv[0]));
		ck_assert_ptr_nonnull(ch = channel_new(CHANNEL_RESPONDER,
		    &lb, NULL));
		ck_assert_int_eq(conn_handshake(c, ch, CHANNEL_RESPONDER), 0);
		prefix[0] = (uint8_t)(lens[k] >> 8);
		prefix[1] = (uint8_t)lens[k];
		ck_assert_int_eq(write(sv[1], prefix, sizeof(prefix)),
		    (ssize_t)sizeof(prefix));
		for (i = 0; i < 200 && ctx.nconns > n0; i++)
			fixture_spin(loop);
		/* Dropped at once when oversized, else still waiting. */
		if (lens[k] > CHANNEL_MAX_HANDSHAKE - FRAME_HDR)
			ck_assert_uint_eq(ctx.nconns, n0);
		else {
			ck_assert_uint_eq(ctx.nconns, n0 + 1);
			conn_drop(c, CONN_R_SHUTDOWN);
		}
		close(sv[1]);
		fixture_spin(loop);
	}
}
END_TEST

/*
 * Every role's every end reason is a series of its own, resolved with the
 * context (no lookup by labels when a stranger's connection ends) and
 * shown from its first count: all of them fit in the family, none
 * dropped.
 */
START_TEST(test_failures_every_reason)
{
	static const char *const roles[] = {"inlet", "outlet", "relay"};
	struct conn *c;
	char *t, want[96];
	size_t need, i, r;

	need = metrics_text(NULL, 0);
	ck_assert_ptr_nonnull(t = malloc(need + 1));
	metrics_text(t, need + 1);
	ck_assert_ptr_null(strstr(t, "failures_total{role=\"relay\""));
	free(t);
	for (i = 0; i < 3; i++)
		for (r = 1; r < CONN_REASONS; r++) {
			ck_assert_ptr_nonnull(c = conn_new(&ctx, &ops, -1, -1));
			c->role = roles[i];
			conn_drop(c, (enum conn_reason)r);
		}
	for (i = 0; i < 3; i++)
		for (r = 1; r < CONN_REASONS; r++)
			ck_assert(metrics_get(METRICS_HANDSHAKE_FAILURES,
			    roles[i], conn_reason_name((enum conn_reason)r),
			    NULL) >= 1);
	ck_assert(metrics_get(METRICS_SERIES_DROPPED, NULL, NULL, NULL) == 0);
	need = metrics_text(NULL, 0);
	ck_assert_ptr_nonnull(t = malloc(need + 1));
	metrics_text(t, need + 1);
	snprintf(want, sizeof(want), "failures_total{role=\"relay\","
	    "reason=\"%s\"} 1\n", conn_reason_name(CONN_R_NOMEM));
	ck_assert_ptr_nonnull(strstr(t, want));
	free(t);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc;

	tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_both_ways_half_close);
	tcase_add_test(tc, test_bytes_counted);
	tcase_add_test(tc, test_backpressure);
	tcase_add_test(tc, test_batch_read);
	tcase_add_test(tc, test_keepalive_established);
	suite_add_tcase(s, tc);
	tc = tcase_create("abort");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_creds_renewed);
	tcase_add_test(tc, test_reset_propagates);
	tcase_add_test(tc, test_wrong_pin);
	tcase_add_test(tc, test_hold_released);
	tcase_add_test(tc, test_hold_refused_replay);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_evict);
	tcase_add_test(tc, test_first_bytes);
	tcase_add_test(tc, test_handshake_frame_limit);
	tcase_add_test(tc, test_failures_every_reason);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(conn_suite()));
}
