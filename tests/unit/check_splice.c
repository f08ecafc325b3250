/*
 * check_splice: the relay's pair engine on its own, inside one process
 * and one loop.  The test holds both far ends:
 *
 *   cli <-> [a  splice  b] <-> srv
 *
 * Behaviours: bytes cross intact both ways, the preamble first; EOF in
 * one direction is passed on as a half-close and the pair ends "eof"
 * when both ended, with the byte counts; a write to a vanished side ends
 * it "reset"; a second side that takes nothing ends it
 * "connect-timeout"; ending it from outside calls nobody.  The pipe
 * pool: an idle pair holds no pipe, an emptied pipe goes back and is
 * reused, at most the limit is kept, a pipe with bytes stays with its
 * pair (and dies with it), and with no descriptor left for a pipe a
 * direction waits until a pipe comes back, losing nothing.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "fixture.h"
#include "reap.h"
#include "splice.h"

static struct ev_loop *loop;
static struct reaper reaper;
static int cli = -1, srv = -1;
static const char *reason; /* set by done */
static uint64_t got[2];

static void
done(void *arg, const char *why, const uint64_t bytes[2])
{

	ck_assert_ptr_null(reason); /* once */
	ck_assert_ptr_eq(arg, &reaper);
	reason = why;
	got[0] = bytes[0];
	got[1] = bytes[1];
}

/* A pair cli <-> [a b] <-> srv; ${pre} goes to srv first. */
static struct splice *
pair(const char *pre, double timeout)
{
	struct splice *sp;
	int s1[2], s2[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    s1), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    s2), 0);
	cli = s1[0];
	srv = s2[1];
	sp = splice_new(&reaper, s1[1], s2[0], (const uint8_t *)pre,
	    pre != NULL ? strlen(pre) : 0, timeout, done, &reaper);
	ck_assert_ptr_nonnull(sp);
	return (sp);
}

/* Run the loop until ${cond}() holds or 5 s passed; return cond(). */
static int
run_until(int (*cond)(void *))
{

	return (fixture_run_until(loop, cond, NULL, 5));
}

static int
ended(void *arg)
{

	(void)arg;
	return (reason != NULL);
}

/* Read exactly ${n} bytes from ${fd} (non-blocking) while the loop runs. */
static void
read_exact(int fd, char *buf, size_t n)
{
	size_t have = 0;
	ssize_t r;
	ev_tstamp end;

	ev_now_update(loop);
	end = ev_now(loop) + 5;
	while (have < n && ev_now(loop) < end) {
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
		if ((r = read(fd, buf + have, n - have)) > 0)
			have += (size_t)r;
		ev_now_update(loop);
	}
	ck_assert_uint_eq(have, n);
}

/* Return 1 once ${fd} reads EOF (nothing else may arrive). */
static int
eof_on(int fd)
{
	char b;
	ev_tstamp end;
	ssize_t r;

	ev_now_update(loop);
	end = ev_now(loop) + 5;
	while (ev_now(loop) < end) {
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
		r = read(fd, &b, 1);
		if (r == 0)
			return (1);
		ck_assert_int_eq((int)r, -1);
		ev_now_update(loop);
	}
	return (0);
}

static void
setup(void)
{

	/* As in the daemon: a broken socket is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(0);
	reaper_init(&reaper, loop);
	reason = NULL;
	got[0] = got[1] = 0;
	splice_pool_limit(0); /* a fresh pool, also with CK_FORK=no */
	splice_pool_limit(SPLICE_POOL_DEFAULT);
}

static void
teardown(void)
{

	reaper_fini(&reaper);
	if (cli != -1)
		close(cli);
	if (srv != -1)
		close(srv);
	cli = srv = -1;
}

/* Both ways, preamble first, half-close each way, then "eof". */
START_TEST(test_both_ways)
{
	char buf[32];

	(void)pair("PRE", 5);
	ck_assert_int_eq(write(cli, "hello", 5), 5);
	read_exact(srv, buf, 8);
	ck_assert_int_eq(memcmp(buf, "PREhello", 8), 0);
	ck_assert_int_eq(write(srv, "world!", 6), 6);
	read_exact(cli, buf, 6);
	ck_assert_int_eq(memcmp(buf, "world!", 6), 0);

	/* cli's EOF reaches srv; srv can still answer. */
	ck_assert_int_eq(shutdown(cli, SHUT_WR), 0);
	ck_assert(eof_on(srv));
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(write(srv, "late", 4), 4);
	read_exact(cli, buf, 4);
	ck_assert_int_eq(memcmp(buf, "late", 4), 0);
	ck_assert_int_eq(shutdown(srv, SHUT_WR), 0);
	ck_assert(eof_on(cli));
	ck_assert(run_until(ended));
	ck_assert_str_eq(reason, "eof");
	ck_assert_uint_eq(got[0], 8);
	ck_assert_uint_eq(got[1], 10);
}
END_TEST

/* A side that vanished: the next write through the pair resets it. */
START_TEST(test_reset)
{

	(void)pair(NULL, 5);
	close(srv);
	srv = -1;
	ck_assert_int_eq(write(cli, "x", 1), 1);
	ck_assert(run_until(ended));
	/* srv's close reads as EOF first; the write to it then fails. */
	ck_assert_str_eq(reason, "reset");
}
END_TEST

/* The second side takes nothing: the preamble's deadline ends the pair. */
START_TEST(test_connect_timeout)
{
	char fill[4096];
	ssize_t n;

	{
		int s1[2], s2[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_NONBLOCK, 0, s1), 0);
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_NONBLOCK, 0, s2), 0);
		cli = s1[0];
		srv = s2[1];
		/* b's way to srv is full: nothing more goes in. */
		memset(fill, 'f', sizeof(fill));
		do
			n = write(s2[0], fill, sizeof(fill));
		while (n > 0);
		ck_assert_int_eq(errno, EAGAIN);
		ck_assert_ptr_nonnull(splice_new(&reaper, s1[1], s2[0],
		    (const uint8_t *)"PRE", 3, 0.2, done, &reaper));
	}
	ck_assert(run_until(ended));
	ck_assert_str_eq(reason, "connect-timeout");
	ck_assert_uint_eq(got[0], 0);
}
END_TEST

/* Ended from outside: no callback, the far ends see the close. */
START_TEST(test_close_outside)
{
	struct splice *sp;
	uint64_t bytes[2];
	char buf[8];

	sp = pair(NULL, 5);
	ck_assert_int_eq(write(cli, "abc", 3), 3);
	read_exact(srv, buf, 3);
	splice_close(sp, 0, bytes);
	ck_assert_uint_eq(bytes[0], 3);
	ck_assert_uint_eq(bytes[1], 0);
	ck_assert(eof_on(cli));
	ck_assert(eof_on(srv));
	ck_assert_ptr_null(reason);
}
END_TEST


/* Pipes held by pairs (bytes in flight). */
static size_t
busy(void)
{
	size_t i, b;

	splice_pool_counts(&i, &b);
	return (b);
}

/* Idle pipes kept by the pool. */
static size_t
idle(void)
{
	size_t i, b;

	splice_pool_counts(&i, &b);
	return (i);
}

/* How many descriptors this process has open. */
static int
nfds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/* An idle pair holds no pipe; one pipe serves both directions and the
 * next pair in turn, never more than one made. */
START_TEST(test_pool_reuse)
{
	struct splice *sp1;
	uint64_t bytes[2];
	char buf[8];
	int c1, s1, n0;

	sp1 = pair(NULL, 5);
	ck_assert_uint_eq(busy(), 0);
	ck_assert_uint_eq(idle(), 0);
	ck_assert_int_eq(write(cli, "ab", 2), 2);
	read_exact(srv, buf, 2);
	ck_assert_uint_eq(busy(), 0);
	ck_assert_uint_eq(idle(), 1); /* made once, given back */
	n0 = nfds();
	ck_assert_int_eq(write(srv, "cd", 2), 2);
	read_exact(cli, buf, 2);
	ck_assert_int_eq(memcmp(buf, "cd", 2), 0);
	ck_assert_uint_eq(idle(), 1);

	/* A second pair takes the same pipe: no descriptor is made. */
	c1 = cli;
	s1 = srv;
	(void)pair(NULL, 5);
	n0 += 4; /* the second pair's four sockets */
	ck_assert_int_eq(write(cli, "ef", 2), 2);
	read_exact(srv, buf, 2);
	ck_assert_int_eq(memcmp(buf, "ef", 2), 0);
	ck_assert_int_eq(nfds(), n0);
	ck_assert_uint_eq(idle(), 1);
	splice_close(sp1, 0, bytes);
	ck_assert_uint_eq(bytes[0], 2);
	ck_assert_uint_eq(bytes[1], 2);
	close(c1);
	close(s1);

	/* Half-close with the pipe given back: the EOF still crosses. */
	ck_assert_int_eq(shutdown(cli, SHUT_WR), 0);
	ck_assert(eof_on(srv));
	ck_assert_int_eq(shutdown(srv, SHUT_WR), 0);
	ck_assert(eof_on(cli));
	ck_assert(run_until(ended));
	ck_assert_str_eq(reason, "eof");
	ck_assert_uint_eq(busy(), 0);
}
END_TEST

/* Fill ${to}'s way until the pair's pipe holds bytes it cannot pass on
 * (${to} does not read); return how many bytes were written. */
static size_t
stuff(int from, int to)
{
	char b[4096];
	size_t total = 0;
	ssize_t n;
	int i, again = 0;

	(void)to;
	memset(b, 's', sizeof(b));
	for (i = 0; i < 10000 && again < 50; i++) {
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
		if ((n = write(from, b, sizeof(b))) > 0) {
			total += (size_t)n;
			again = 0;
		} else
			again++;
	}
	ck_assert_int_eq(again, 50);
	return (total);
}

/* A pipe still holding bytes stays with its pair and is closed with it,
 * not pooled; with a limit of 0 an emptied pipe is closed at once. */
START_TEST(test_pool_bytes_stay)
{
	struct splice *sp;
	uint64_t bytes[2];
	char buf[2];

	splice_pool_limit(0);
	sp = pair(NULL, 5);
	ck_assert_int_eq(write(cli, "ab", 2), 2);
	read_exact(srv, buf, 2);
	ck_assert_uint_eq(idle(), 0); /* limit 0: closed */
	(void)stuff(cli, srv);
	ck_assert_uint_eq(busy(), 1);
	splice_close(sp, 1, bytes);
	ck_assert_uint_eq(busy(), 0);
	ck_assert_uint_eq(idle(), 0);
}
END_TEST

/* No descriptor left for a pipe: the direction waits (nothing lost) and
 * gets the pipe another pair gives back. */
START_TEST(test_pool_exhausted)
{
	struct splice *spa, *spb;
	struct rlimit rl, low;
	uint64_t bytes[2];
	char buf[4], *big;
	size_t sent;
	int ca, sa, fd;

	spa = pair(NULL, 5);
	ca = cli;
	sa = srv;
	sent = stuff(ca, sa); /* pair A holds a pipe with bytes */
	ck_assert_uint_eq(busy(), 1);
	ck_assert_uint_eq(idle(), 0);
	spb = pair(NULL, 5);

	/* No descriptor above the ones open now. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_ge(fd = open("/dev/null", O_RDONLY), 0);
	close(fd);
	low = rl;
	low.rlim_cur = (rlim_t)fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);

	/* B's data has no pipe to go through: it waits. */
	ck_assert_int_eq(write(cli, "wait", 4), 4);
	for (fd = 0; fd < 20; fd++)
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
	ck_assert_int_eq((int)read(srv, buf, 4), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_eq(busy(), 1);

	/* A's pipe empties and comes back: B takes it and delivers. */
	ck_assert_ptr_nonnull(big = malloc(sent));
	read_exact(sa, big, sent);
	free(big);
	read_exact(srv, buf, 4);
	ck_assert_int_eq(memcmp(buf, "wait", 4), 0);
	ck_assert_uint_eq(busy(), 0);
	ck_assert_uint_eq(idle(), 1);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	splice_close(spa, 0, bytes);
	ck_assert_uint_eq(bytes[0], sent);
	splice_close(spb, 0, bytes);
	ck_assert_uint_eq(bytes[0], 4);
	close(ca);
	close(sa);
}
END_TEST

static Suite *
splice_suite(void)
{
	Suite *s = suite_create("splice");
	TCase *tc = tcase_create("splice");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_both_ways);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_close_outside);
	suite_add_tcase(s, tc);
	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pool_reuse);
	tcase_add_test(tc, test_pool_bytes_stay);
	tcase_add_test(tc, test_pool_exhausted);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(splice_suite()));
}
