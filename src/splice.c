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

struct splice {
	struct reaper *reaper;
	struct ev_loop *loop;
	int fd[2];         /* 0: the first socket, 1: the second */
	int pipe[2][2];    /* pipe[d] carries fd[d] -> fd[!d] */
	size_t inpipe[2];  /* bytes waiting in pipe[d] */
	unsigned eof[2];   /* fd[d] said EOF */
	unsigned full[2];  /* pipe[d] took nothing: wait for a drain */
	unsigned shut[2];  /* fd[!d] shut down for writing */
	unsigned started;  /* a byte reached fd[1] (connect deadline off) */
	unsigned closed;   /* ended: everything below is stopped */
	ev_io rd[2], wr[2];
	ev_timer timer;
	uint64_t bytes[2];
	splice_done_fn *done;
	void *arg;
	struct reap_entry reap;
};

/* Stop and close everything of ${sp} (${reset}: sockets with a reset) and
 * hand it to the reaper. */
static void
shut_all(struct splice *sp, int reset)
{
	int d;

	for (d = 0; d < 2; d++) {
		ev_io_stop(sp->loop, &sp->rd[d]);
		ev_io_stop(sp->loop, &sp->wr[d]);
		if (reset)
			sock_close_reset(sp->fd[d]);
		else
			close(sp->fd[d]);
		close(sp->pipe[d][0]);
		close(sp->pipe[d][1]);
	}
	ev_timer_stop(sp->loop, &sp->timer);
	sp->closed = 1;
	reaper_defer(sp->reaper, &sp->reap, free, sp);
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
		on = !sp->eof[d] && !sp->full[d];
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
		}
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
	if (pipe2(sp->pipe[0], O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail1;
	if (pipe2(sp->pipe[1], O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail2;
	if (prelen > 0 &&
	    write(sp->pipe[0][1], pre, prelen) != (ssize_t)prelen)
		goto fail3;
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
fail3:
	close(sp->pipe[1][0]);
	close(sp->pipe[1][1]);
fail2:
	close(sp->pipe[0][0]);
	close(sp->pipe[0][1]);
fail1:
	free(sp);
fail0:
	e = errno;
	sock_close_reset(fa);
	sock_close_reset(fb);
	errno = e;
	return (NULL);
}
