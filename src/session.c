/*
 * session: see session.h.
 *
 * Reading: whole frames are opened in place in ${rx}; a frame announcing
 * more than a session message can hold ends the session (EFRAME).
 * Writing: records are sealed at the end of ${tx} and written at once;
 * what the socket does not take waits there (the write watcher runs only
 * then).  session_free() shuts everything at once and hands the struct
 * to the reaper (reap.c), so freeing from inside a callback is safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "session.h"

/* The largest record: a CREDS record with the largest block. */
#define SESSION_MAX_RECORD (CRED_BLOCK_MAX + CHANNEL_OVERHEAD)
/* Four messages and one CREDS record. */
#define SESSION_TX_CAP (4 * (SESSION_MAX_DATA + CHANNEL_OVERHEAD) + \
	SESSION_MAX_RECORD)
/* How often the channel's age is looked at (rekey by time, its end). */
#define SESSION_LIFE_TICK 30.
/* A peer that closes this close to the deadline (seconds) expired. */
#define SESSION_EXPIRY_SLACK 2

struct session {
	struct ev_loop *loop;
	int fd;
	struct channel *ch;
	const struct session_ops *ops;
	void *arg;
	ev_io r, w;
	ev_timer timer;     /* keepalive ticks, or an immediate failure */
	ev_timer life;      /* the channel's rekey by time and its end */
	double keepalive;   /* seconds, 0: off */
	ev_tstamp last_rx;  /* last record received */
	ev_tstamp last_ping; /* last PING sent */
	const char *failed; /* ended for this reason, dead not yet called */
	struct reaper *reaper; /* frees it, after session_free */
	struct reap_entry reap;
	unsigned freed;        /* session_free was called */
	size_t rx_have;
	size_t tx_have;
	uint8_t peer[CHANNEL_ID_LEN];
	uint8_t rx[SESSION_MAX_RECORD];
	uint8_t tx[SESSION_TX_CAP];
};

/* Close the socket and the channel; nothing more will happen. */
static void
shut(struct session *s)
{

	ev_io_stop(s->loop, &s->r);
	ev_io_stop(s->loop, &s->w);
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_stop(s->loop, &s->life);
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	channel_free(s->ch);
	s->ch = NULL;
}

/* End the session now and tell the owner (last thing the caller does). */
static void
die(struct session *s, const char *reason)
{

	if (s->fd == -1)
		return;
	shut(s);
	s->ops->dead(s, reason);
}

/* End the session from the loop, soon (from a non-callback path). */
static void
die_later(struct session *s, const char *reason)
{

	if (s->failed != NULL)
		return;
	s->failed = reason;
	ev_io_stop(s->loop, &s->r);
	ev_io_stop(s->loop, &s->w);
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_stop(s->loop, &s->life);
	ev_timer_set(&s->timer, 0., 0.);
	ev_timer_start(s->loop, &s->timer);
}

/* Free ${arg} (a session handed to the reaper). */
static void
release(void *arg)
{
	struct session *s = arg;

	wipe(s->rx, sizeof(s->rx));
	wipe(s->tx, sizeof(s->tx));
	free(s);
}

/* Write what waits in tx.  Return 0, or -1 on a socket error. */
static int
flush(struct session *s)
{
	ssize_t n;

	while (s->tx_have > 0) {
		n = send(s->fd, s->tx, s->tx_have, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return (-1);
		memmove(s->tx, s->tx + n, s->tx_have - (size_t)n);
		s->tx_have -= (size_t)n;
	}
	if (s->tx_have > 0)
		ev_io_start(s->loop, &s->w);
	else
		ev_io_stop(s->loop, &s->w);
	return (0);
}

/* Seal a record of ${type} with ${len} bytes of ${data} into tx, send. */
static int
send_record(struct session *s, enum channel_type type, const uint8_t *data,
    size_t len)
{
	uint8_t *rec;
	long n;

	if (s->fd == -1 || s->failed != NULL || len > SESSION_MAX_RECORD -
	    CHANNEL_OVERHEAD || SESSION_TX_CAP - s->tx_have < len +
	    CHANNEL_OVERHEAD)
		return (-1);
	rec = s->tx + s->tx_have;
	if (len > 0)
		memcpy(rec + CHANNEL_HDR, data, len);
	if (type == CHANNEL_REKEY)
		n = channel_seal_rekey(s->ch, rec, (uint64_t)ev_now(s->loop));
	else
		n = channel_seal(s->ch, type, rec, len);
	if (n < 0)
		return (-1);
	s->tx_have += (size_t)n;
	return (flush(s));
}

/* Socket readable: open each whole record, act on it. */
static void
session_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;
	enum channel_type type;
	size_t total, len;
	ssize_t n;
	int r;

	(void)revents;
	n = read(s->fd, s->rx + s->rx_have, sizeof(s->rx) - s->rx_have);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		/* Nothing new; what came behind the handshake is read. */
		if (s->rx_have == 0)
			goto out;
		n = 0;
	} else if (n <= 0) {
		/*
		 * The peer's timer for the same deadline may fire first (the
		 * clocks differ by a little): its close then is the expiry.
		 */
		if (channel_deadline(s->ch) <= (uint64_t)ev_now(loop) +
		    SESSION_EXPIRY_SLACK)
			die(s, "expired");
		else
			die(s, n == 0 ? "closed" : "read-error");
		goto out;
	}
	s->rx_have += (size_t)n;
	for (;;) {
		r = frame_peek(s->rx, s->rx_have,
		    SESSION_MAX_RECORD - FRAME_HDR, &total);
		if (r == 0)
			break;
		if (r < 0) {
			die(s, "EFRAME");
			goto out;
		}
		if ((r = channel_open(s->ch, s->rx, total, &type, &len)) < 0) {
			die(s, channel_error_name(r));
			goto out;
		}
		s->last_rx = ev_now(loop);
		if (type == CHANNEL_PING &&
		    send_record(s, CHANNEL_PONG, s->rx + CHANNEL_HDR, len) ==
		    -1) {
			die(s, "write-error");
			goto out;
		}
		if (type == CHANNEL_DATA && len > SESSION_MAX_DATA) {
			die(s, "EFRAME");
			goto out;
		}
		if (type == CHANNEL_CREDS && s->ops->renewed != NULL &&
		    s->ops->renewed(s) != 0) {
			if (s->fd != -1 && !s->freed)
				die(s, "denied");
			goto out;
		}
		if (type == CHANNEL_DATA) {
			s->ops->message(s, s->rx + CHANNEL_HDR, len);
			if (s->fd == -1 || s->freed)
				goto out;
		}
		if (type == CHANNEL_EOF) {
			die(s, "closed");
			goto out;
		}
		if (type == CHANNEL_REFUSE) {
			if (s->ops->refused != NULL)
				s->ops->refused(s, s->rx[CHANNEL_HDR]);
			if (s->fd != -1 && !s->freed)
				die(s, "refused");
			goto out;
		}
		memmove(s->rx, s->rx + total, s->rx_have - total);
		s->rx_have -= total;
		/* No stale plaintext (a ticket's K) behind the data. */
		wipe(s->rx + s->rx_have, total);
	}
out:
	return;
}

/* Socket writable: write what waits. */
static void
session_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;

	(void)loop;
	(void)revents;
	if (flush(s) == -1)
		die(s, "write-error");
}

/*
 * Keepalive tick, four per interval: nothing heard for two intervals
 * means the peer or the path is gone (noticed at most a quarter interval
 * late); a PING goes out once per interval.  Also delivers a deferred
 * failure.
 */
static void
session_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;

	(void)revents;
	if (s->failed != NULL)
		die(s, s->failed);
	else if (ev_now(loop) - s->last_rx > 2 * s->keepalive)
		die(s, "keepalive-timeout");
	else if (ev_now(loop) - s->last_ping >= s->keepalive * 0.99) {
		s->last_ping = ev_now(loop);
		if (send_record(s, CHANNEL_PING, NULL, 0) == -1)
			die(s, "write-error");
	}
}

/* Arm the life timer: at the channel's end, or a tick from now. */
static void
life_arm(struct session *s)
{
	double left;

	left = (double)channel_deadline(s->ch) - ev_now(s->loop);
	if (left > SESSION_LIFE_TICK)
		left = SESSION_LIFE_TICK;
	if (left < 0.)
		left = 0.;
	ev_timer_set(&s->life, left, 0.);
	ev_timer_start(s->loop, &s->life);
}

/*
 * Life tick: the session ends with its channel, at the earlier of the two
 * attestations it was authenticated with (or CHANNEL_MAX_AGE): then the
 * node makes a new one, under the attestation it holds by then.  A
 * sending key used for CHANNEL_REKEY_TIME is replaced (a REKEY record).
 */
static void
session_life_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	uint64_t now = (uint64_t)ev_now(loop);

	(void)revents;
	if (s->fd == -1 || s->failed != NULL)
		return;
	if (channel_check_time(s->ch, now) != 0) {
		die(s, "expired");
		return;
	}
	if (channel_rekey_due(s->ch, now) &&
	    send_record(s, CHANNEL_REKEY, NULL, 0) == -1) {
		die(s, "write-error");
		return;
	}
	life_arm(s);
}

/*
 * session_new(reaper, fd, ch, keepalive, ops, arg, rest, restlen):
 * Run a session, on the loop of ${reaper} (borrowed: it frees the session
 * after session_free), on the connected socket ${fd} with the established channel
 * ${ch} (both taken, even on failure), PING every ${keepalive} seconds (0:
 * never, and no dead-peer detection).  ${rest} holds ${restlen} bytes that
 * arrived behind the handshake (copied).  ${ops} is borrowed; ${arg} is
 * the owner's.  NULL on ENOMEM or if ${rest} is too long.
 */
struct session *
session_new(struct reaper *reaper, int fd, struct channel *ch,
    double keepalive, const struct session_ops *ops, void *arg,
    const uint8_t *rest, size_t restlen)
{
	struct ev_loop *loop = reaper->loop;
	struct session *s;

	if (restlen > SESSION_MAX_RECORD || (s = calloc(1, sizeof(*s))) ==
	    NULL) {
		close(fd);
		channel_free(ch);
		return (NULL);
	}
	s->reaper = reaper;
	s->loop = loop;
	s->fd = fd; /* s owns fd and ch now */
	s->ch = ch;
	memcpy(s->peer, channel_peer_id(ch), CHANNEL_ID_LEN);
	s->ops = ops;
	s->arg = arg;
	s->keepalive = keepalive;
	s->last_rx = s->last_ping = ev_now(loop);
	if (restlen > 0)
		memcpy(s->rx, rest, restlen);
	s->rx_have = restlen;
	ev_io_init(&s->r, session_read_cb, fd, EV_READ);
	ev_io_init(&s->w, session_write_cb, fd, EV_WRITE);
	ev_init(&s->timer, session_timer_cb);
	ev_init(&s->life, session_life_cb);
	s->r.data = s->w.data = s->timer.data = s->life.data = s;
	ev_io_start(loop, &s->r);
	if (keepalive > 0) {
		ev_timer_set(&s->timer, keepalive / 4, keepalive / 4);
		ev_timer_start(loop, &s->timer);
	}
	life_arm(s);
	/* Records that came behind the handshake are read with the next. */
	if (restlen > 0)
		ev_feed_event(loop, &s->r, EV_READ);
	return (s);
}

/*
 * session_arg(s):
 * The owner's ${arg} given to session_new.
 */
void *
session_arg(const struct session *s)
{

	return (s->arg);
}

/*
 * session_peer_id(s):
 * The peer's verified identifier (CHANNEL_ID_LEN bytes).
 */
const uint8_t *
session_peer_id(const struct session *s)
{

	return (s->peer);
}

/*
 * session_send(s, data, len):
 * Send the message ${data} of ${len} (<= SESSION_MAX_DATA) bytes.  Return
 * 0, or -1 if the send buffer is full (the message is dropped) or the
 * channel failed (the session is then ended: ops->dead runs later from
 * the loop).
 */
int
session_send(struct session *s, const uint8_t *data, size_t len)
{

	if (s->fd == -1 || s->failed != NULL || len > SESSION_MAX_DATA ||
	    SESSION_TX_CAP - s->tx_have < len + CHANNEL_OVERHEAD)
		return (-1); /* full: the message is not sent, nothing more */
	if (send_record(s, CHANNEL_DATA, data, len) == -1) {
		die_later(s, "write-error");
		return (-1);
	}
	return (0);
}

/*
 * session_send_creds(s, block, len):
 * Send our renewed credential block (${len}, 1 to CRED_BLOCK_MAX, well
 * formed bytes at ${block}) in a CREDS record.  Return 0, or -1 as
 * session_send.
 */
int
session_send_creds(struct session *s, const uint8_t *block, size_t len)
{

	if (s->fd == -1 || s->failed != NULL ||
	    SESSION_TX_CAP - s->tx_have < len + CHANNEL_OVERHEAD)
		return (-1); /* full: not sent; the old block counts */
	if (send_record(s, CHANNEL_CREDS, block, len) == -1) {
		die_later(s, "write-error");
		return (-1);
	}
	return (0);
}

/*
 * session_peer_creds(s, len):
 * The peer's credential block (handshake, or the last CREDS record), its
 * size in *${len}; NULL (and 0) if none.
 */
const uint8_t *
session_peer_creds(const struct session *s, size_t *len)
{

	if (s->ch == NULL) {
		*len = 0;
		return (NULL);
	}
	return (channel_peer_creds(s->ch, len));
}

/*
 * session_free(s):
 * Close and free ${s}; NULL does nothing.  Safe from inside its callbacks
 * (the memory is released when they return).  ops->dead is not called.
 */
void
session_free(struct session *s)
{

	if (s == NULL || s->freed)
		return;
	shut(s);
	s->freed = 1;
	reaper_defer(s->reaper, &s->reap, release, s);
}
