/*
 * splice: see splice.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"
#include "splice.h"

#define SPLICE_CHUNK (1 << 16) /* bytes asked of one splice(2) */

/*
 * The pipe pool.  A direction holds a pipe only while bytes are in
 * flight: it takes one when its socket becomes readable and gives it
 * back as soon as the pipe is empty again, so an idle pair holds its two
 * sockets and nothing else.  Empty pipes are kept (at most ${limit}, the
 * rest closed) so that a busy relay does not pay pipe2(2) and two
 * close(2) per burst.  One pool per process: the daemon runs one loop.
 * When no pipe can be made (EMFILE, ENFILE, ENOMEM) the direction stops
 * reading ("starved") and waits in a list; a pipe coming back or a pair
 * ending wakes the oldest waiter, which tries again.
 */
static struct {
	int idle[SPLICE_POOL_MAX][2];
	size_t nidle;   /* pipes in idle[] */
	size_t limit;   /* idle pipes kept */
	size_t busy;    /* pipes held by directions */
	struct splice *wait_head, *wait_tail; /* starved pairs, oldest first */
} pool = {.limit = SPLICE_POOL_DEFAULT};

struct splice {
	struct reaper *reaper;
	struct ev_loop *loop;
	int fd[2];         /* 0: the first socket, 1: the second */
	int pipe[2][2];    /* pipe[d] carries fd[d] -> fd[!d]; -1: none */
	size_t inpipe[2];  /* bytes waiting in pipe[d] */
	unsigned eof[2];   /* fd[d] said EOF */
	unsigned full[2];  /* pipe[d] took nothing: wait for a drain */
	unsigned shut[2];  /* fd[!d] shut down for writing */
	unsigned started;  /* a byte reached fd[1] (connect deadline off) */
	unsigned closed;   /* ended: everything below is stopped */
	unsigned starved[2]; /* fd[d] waits for a pipe (in the wait list) */
	struct splice *wprev, *wnext; /* the pool's wait list */
	ev_io rd[2], wr[2];
	ev_timer timer;
	uint64_t bytes[2];
	splice_done_fn *done;
	void *arg;
	struct reap_entry reap;
};

static void update(struct splice *);

/* Close the pipe ${p} and mark it gone. */
static void
pipe_close(int p[2])
{

	close(p[0]);
	close(p[1]);
	p[0] = p[1] = -1;
}

/* Take the first starved pair off the wait list and let it read again
 * (its next readable event asks for a pipe once more). */
static void
wake(void)
{
	struct splice *sp;
	int d;

	if ((sp = pool.wait_head) == NULL)
		return;
	if ((pool.wait_head = sp->wnext) == NULL)
		pool.wait_tail = NULL;
	else
		pool.wait_head->wprev = NULL;
	sp->wprev = sp->wnext = NULL;
	for (d = 0; d < 2; d++)
		sp->starved[d] = 0;
	update(sp);
}

/* Take ${sp} off the wait list if it is on it. */
static void
wait_unlink(struct splice *sp)
{

	if (!sp->starved[0] && !sp->starved[1])
		return;
	if (sp->wprev != NULL)
		sp->wprev->wnext = sp->wnext;
	else
		pool.wait_head = sp->wnext;
	if (sp->wnext != NULL)
		sp->wnext->wprev = sp->wprev;
	else
		pool.wait_tail = sp->wprev;
	sp->wprev = sp->wnext = NULL;
	sp->starved[0] = sp->starved[1] = 0;
}

/*
 * Give pipe[d] of ${sp} a pipe: an idle one of the pool, else a new one.
 * Return 0, or -1 (errno set) with the direction starved: it stops
 * reading and waits in the pool's list.
 */
static int
pipe_take(struct splice *sp, int d)
{

	if (sp->pipe[d][0] != -1)
		return (0);
	if (pool.nidle > 0) {
		pool.nidle--;
		sp->pipe[d][0] = pool.idle[pool.nidle][0];
		sp->pipe[d][1] = pool.idle[pool.nidle][1];
	} else if (pipe2(sp->pipe[d], O_NONBLOCK | O_CLOEXEC) == -1) {
		sp->pipe[d][0] = sp->pipe[d][1] = -1;
		if (!sp->starved[0] && !sp->starved[1]) {
			sp->wprev = pool.wait_tail;
			sp->wnext = NULL;
			if (pool.wait_tail != NULL)
				pool.wait_tail->wnext = sp;
			else
				pool.wait_head = sp;
			pool.wait_tail = sp;
		}
		sp->starved[d] = 1;
		return (-1);
	}
	pool.busy++;
	return (0);
}

/* Give pipe[d] of ${sp} back (it must be empty): kept idle, or closed
 * beyond the limit; a starved pair may now get it. */
static void
pipe_give(struct splice *sp, int d)
{

	if (sp->pipe[d][0] == -1)
		return;
	pool.busy--;
	if (pool.nidle < pool.limit) {
		pool.idle[pool.nidle][0] = sp->pipe[d][0];
		pool.idle[pool.nidle][1] = sp->pipe[d][1];
		pool.nidle++;
		sp->pipe[d][0] = sp->pipe[d][1] = -1;
	} else
		pipe_close(sp->pipe[d]);
	wake();
}

/*
 * splice_pool_limit(n):
 * Keep at most ${n} idle pipes (capped at SPLICE_POOL_MAX; default
 * SPLICE_POOL_DEFAULT); idle pipes beyond it are closed now.
 */
void
splice_pool_limit(size_t n)
{

	pool.limit = n > SPLICE_POOL_MAX ? SPLICE_POOL_MAX : n;
	while (pool.nidle > pool.limit) {
		pool.nidle--;
		pipe_close(pool.idle[pool.nidle]);
	}
}

/*
 * splice_pool_counts(idle, busy):
 * Store the number of idle pipes kept in ${idle} and of pipes held by
 * pairs (bytes in flight) in ${busy}.
 */
void
splice_pool_counts(size_t *idle, size_t *busy)
{

	*idle = pool.nidle;
	*busy = pool.busy;
}

/* Stop and close everything of ${sp} (${reset}: sockets with a reset) and
 * hand it to the reaper. */
static void
shut_all(struct splice *sp, int reset)
{
	int d;

	wait_unlink(sp); /* before a pipe given back could wake sp */
	sp->closed = 1;
	for (d = 0; d < 2; d++) {
		ev_io_stop(sp->loop, &sp->rd[d]);
		ev_io_stop(sp->loop, &sp->wr[d]);
		if (reset)
			sock_close_reset(sp->fd[d]);
		else
			close(sp->fd[d]);
		/* An empty pipe goes back; one with bytes dies with sp. */
		if (sp->pipe[d][0] != -1 && sp->inpipe[d] == 0)
			pipe_give(sp, d);
		else if (sp->pipe[d][0] != -1) {
			pipe_close(sp->pipe[d]);
			pool.busy--;
		}
	}
	ev_timer_stop(sp->loop, &sp->timer);
	reaper_defer(sp->reaper, &sp->reap, free, sp);
	/* Its descriptors are free: a starved pair may make a pipe now. */
	wake();
}

/* The pair ended by itself: close, then tell the owner. */
static void
end(struct splice *sp, const char *reason, int reset)
{

	shut_all(sp, reset);
	sp->done(sp->arg, reason, sp->bytes);
}

/*
 * splice_close(sp, reset, bytes):
 * End ${sp} now from outside (${done} is not called): close both sockets
 * (${reset}: with a reset) and store the byte counts in ${bytes}.
 */
void
splice_close(struct splice *sp, int reset, uint64_t bytes[2])
{

	bytes[0] = sp->bytes[0];
	bytes[1] = sp->bytes[1];
	if (!sp->closed)
		shut_all(sp, reset);
}

/* Start exactly the watchers the pipes call for. */
static void
update(struct splice *sp)
{
	int d, on;

	for (d = 0; d < 2; d++) {
		on = !sp->eof[d] && !sp->full[d] && !sp->starved[d];
		if (on && !ev_is_active(&sp->rd[d]))
			ev_io_start(sp->loop, &sp->rd[d]);
		else if (!on && ev_is_active(&sp->rd[d]))
			ev_io_stop(sp->loop, &sp->rd[d]);
		/* wr[!d] drains pipe[d] into fd[!d]. */
		on = sp->inpipe[d] > 0;
		if (on && !ev_is_active(&sp->wr[!d]))
			ev_io_start(sp->loop, &sp->wr[!d]);
		else if (!on && ev_is_active(&sp->wr[!d]))
			ev_io_stop(sp->loop, &sp->wr[!d]);
	}
}

/*
 * Drain pipe[d] into fd[!d]; pass an EOF on once the pipe is empty.
 * Return 0, or -1 once ${sp} ended.
 */
static int
drain(struct splice *sp, int d)
{
	ssize_t n;

	while (sp->inpipe[d] > 0) {
		n = splice(sp->pipe[d][0], NULL, sp->fd[!d], NULL, sp->inpipe[d],
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n <= 0) {
			end(sp, "reset", 1);
			return (-1);
		}
		sp->inpipe[d] -= (size_t)n;
		sp->bytes[d] += (uint64_t)n;
		sp->full[d] = 0;
		if (d == 0 && !sp->started) {
			sp->started = 1;
			ev_timer_stop(sp->loop, &sp->timer);
		}
	}
	pipe_give(sp, d); /* empty now */
	if (sp->eof[d] && !sp->shut[d]) {
		(void)shutdown(sp->fd[!d], SHUT_WR);
		sp->shut[d] = 1;
		if (sp->shut[!d]) {
			end(sp, "eof", 0);
			return (-1);
		}
	}
	return (0);
}

/* fd[d] readable: move what it has into pipe[d], then on. */
static void
fill(struct splice *sp, int d)
{
	ssize_t n;

	if (pipe_take(sp, d) == -1) {
		update(sp); /* starved: stop reading until woken */
		return;
	}
	while ((n = splice(sp->fd[d], NULL, sp->pipe[d][1], NULL,
	    SPLICE_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN) {
		/*
		 * Nothing to read, or the pipe has no free slot (it counts
		 * pages, not bytes): stop reading until it drains.
		 */
		if (sp->inpipe[d] > 0) {
			sp->full[d] = 1;
			update(sp);
		} else
			pipe_give(sp, d);
		return;
	}
	if (n == -1) {
		end(sp, "reset", 1);
		return;
	}
	if (n == 0)
		sp->eof[d] = 1;
	else
		sp->inpipe[d] += (size_t)n;
	if (drain(sp, d) == -1)
		return;
	update(sp);
}

static void
rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct splice *sp = w->data;

	(void)loop;
	(void)revents;
	fill(sp, w == &sp->rd[0] ? 0 : 1);
}

static void
wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct splice *sp = w->data;
	int d = w == &sp->wr[0] ? 1 : 0; /* wr[x] drains pipe[!x] */

	(void)loop;
	(void)revents;
	if (drain(sp, d) == -1)
		return;
	update(sp);
}

/* The second socket took nothing in time (a dial that did not answer). */
static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct splice *sp = w->data;

	(void)loop;
	(void)revents;
	end(sp, "connect-timeout", 1);
}

/*
 * splice_new(reaper, fa, fb, pre, prelen, connect_timeout, done, arg):
 * Join ${fa} and ${fb} (both taken, even on failure) on the loop of
 * ${reaper} (borrowed; it frees the pair once it ended).  The ${prelen}
 * bytes at ${pre} (copied; at most a pipe's capacity, may be 0) go to
 * ${fb} first; if there are any, ${fb} may still be connecting and must
 * take its first byte within ${connect_timeout} seconds.  Return the
 * pair, or NULL (both sockets closed with a reset; errno says why).
 */
struct splice *
splice_new(struct reaper *reaper, int fa, int fb, const uint8_t *pre,
    size_t prelen, double connect_timeout, splice_done_fn *done, void *arg)
{
	struct splice *sp;
	int d, e;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		goto fail0;
	for (d = 0; d < 2; d++)
		sp->pipe[d][0] = sp->pipe[d][1] = -1;
	/* The preamble is in flight from the start: it needs its pipe. */
	if (prelen > 0 && pipe_take(sp, 0) == -1) {
		wait_unlink(sp);
		goto fail1;
	}
	if (prelen > 0 &&
	    write(sp->pipe[0][1], pre, prelen) != (ssize_t)prelen)
		goto fail2;
	sp->reaper = reaper;
	sp->loop = reaper->loop;
	sp->fd[0] = fa; /* sp owns both sockets now */
	sp->fd[1] = fb;
	sp->inpipe[0] = prelen;
	sp->done = done;
	sp->arg = arg;
	for (d = 0; d < 2; d++) {
		ev_io_init(&sp->rd[d], rd_cb, sp->fd[d], EV_READ);
		ev_io_init(&sp->wr[d], wr_cb, sp->fd[d], EV_WRITE);
		sp->rd[d].data = sp->wr[d].data = sp;
	}
	ev_timer_init(&sp->timer, timer_cb, connect_timeout, 0.);
	sp->timer.data = sp;
	if (prelen > 0)
		ev_timer_start(sp->loop, &sp->timer);
	else
		sp->started = 1;
	update(sp);
	return (sp);
fail2:
	pipe_close(sp->pipe[0]); /* it may hold part of the preamble */
	pool.busy--;
fail1:
	free(sp);
fail0:
	e = errno;
	sock_close_reset(fa);
	sock_close_reset(fb);
	errno = e;
	return (NULL);
}
