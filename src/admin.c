/*
 * admin: see admin.h.
 */
#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ready.h"
#include "sock.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* After the answer: unread request bytes discarded, at most this many. */
#define ADMIN_DRAIN_MAX 65536

struct aclient {
	struct admin *a;
	int fd;          /* -1: the slot is free */
	ev_io r, w;
	ev_timer t;      /* ADMIN_HEAD_TIMEOUT, then ADMIN_TIMEOUT, from accept */
	ev_tstamp t0;    /* when accepted */
	char in[HTTP_HEAD_MAX];
	size_t inlen;
	char *out;       /* the whole answer, or NULL */
	size_t outlen, outpos;
	size_t drained;  /* bytes read and dropped after the answer */
	int answered;    /* the answer is out: drain, then close */
	int has_head;    /* a whole head (or a bad one) is in */
};

struct admin {
	struct env *env;
	struct addr addr; /* a copy, resolved here */
	int fd;
	ev_io w;
	ev_timer room;    /* every slot taken, none yet old enough to evict */
	unsigned nclients;
	struct aclient c[ADMIN_CLIENTS];
};

/* Close the client ${c}, free its slot, accept again if we were full. */
static void
client_close(struct aclient *c)
{
	struct admin *a = c->a;

	ev_io_stop(a->env->loop, &c->r);
	ev_io_stop(a->env->loop, &c->w);
	ev_timer_stop(a->env->loop, &c->t);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	a->nclients--;
	ev_timer_stop(a->env->loop, &a->room);
	if (a->fd != -1 && !ev_is_active(&a->w))
		ev_io_start(a->env->loop, &a->w);
}

/*
 * The head of ${c} is in (or refused): from now on its deadline is
 * ADMIN_TIMEOUT from accept, for the answer and the drain.
 */
static void
client_head_done(struct aclient *c)
{
	struct ev_loop *loop = c->a->env->loop;
	ev_tstamp left = c->t0 + ADMIN_TIMEOUT - ev_now(loop);

	c->has_head = 1;
	ev_timer_stop(loop, &c->t);
	ev_timer_set(&c->t, left > 0.001 ? left : 0.001, 0.);
	ev_timer_start(loop, &c->t);
}

/*
 * Write what is left of the answer.  Once all of it is out, shut our
 * side down and read until the client closes (bounded by the timer and
 * ADMIN_DRAIN_MAX), so that unread request bytes do not turn our close
 * into a reset that could destroy the answer in flight.
 */
static void
client_flush(struct aclient *c)
{
	struct ev_loop *loop = c->a->env->loop;
	ssize_t n;

	while (c->outpos < c->outlen) {
		n = send(c->fd, c->out + c->outpos, c->outlen - c->outpos,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(loop, &c->w);
			return;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->outpos += (size_t)n;
	}
	ev_io_stop(loop, &c->w);
	free(c->out);
	c->out = NULL;
	(void)shutdown(c->fd, SHUT_WR);
	c->answered = 1;
	ev_io_start(loop, &c->r);
}

/*
 * Answer ${status} with the text ${body} (${blen} bytes) of ${ctype},
 * then close.  Out of memory: close without an answer.
 */
static void
client_answer(struct aclient *c, int status, const char *ctype,
    const char *body, size_t blen)
{
	char head[256];
	int hl;

	hl = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n", status,
	    http_reason(status), ctype, blen);
	if (hl < 0 || (size_t)hl >= sizeof(head) ||
	    (c->out = malloc((size_t)hl + blen)) == NULL) {
		client_close(c);
		return;
	}
	memcpy(c->out, head, (size_t)hl);
	memcpy(c->out + hl, body, blen);
	c->outlen = (size_t)hl + blen;
	c->outpos = 0;
	ev_io_stop(c->a->env->loop, &c->r);
	client_flush(c);
}

/* Answer a plain-text ${status} with ${text}. */
static void
client_text(struct aclient *c, int status, const char *text)
{

	client_answer(c, status, "text/plain; charset=utf-8", text,
	    strlen(text));
}

/* /metrics: the node-wide values first, then the registry as text. */
static void
serve_metrics(struct aclient *c)
{
	struct env *e = c->a->env;
	uint64_t hits = 0, misses = 0;
	char *text;
	size_t need;

	metrics_reset(METRICS_BUILD_INFO);
	metrics_set(METRICS_BUILD_INFO, 1, PACKAGE_VERSION, crypto_aes_impl(),
	    NULL);
	if (e->cache != NULL)
		sigcache_stats(e->cache, &hits, &misses);
	metrics_set(METRICS_ATTEST_HITS, (double)hits, NULL, NULL, NULL);
	metrics_set(METRICS_ATTEST_MISSES, (double)misses, NULL, NULL, NULL);
	metrics_set(METRICS_SIG_VERIFIES, (double)crypto_p256_verifications(),
	    NULL, NULL, NULL);
	need = metrics_text(NULL, 0);
	if ((text = malloc(need + 1)) == NULL) {
		client_close(c);
		return;
	}
	need = metrics_text(text, need + 1);
	client_answer(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text, strlen(text));
	free(text);
}

/* /readyz: 200, or 503 and one line per missing piece. */
static void
serve_ready(struct aclient *c)
{
	struct env *e = c->a->env;
	char text[2048];

	if (e->stopping) {
		client_text(c, 503, "node: stopping\n");
		return;
	}
	if (ready_missing(e->ready, text, sizeof(text)) == 0)
		client_text(c, 200, "ready\n");
	else
		client_text(c, 503, text);
}

/* A whole request head is in: route it. */
static void
client_request(struct aclient *c, const struct http_req *req)
{

	if (strcmp(req->path, "/metrics") == 0)
		serve_metrics(c);
	else if (strcmp(req->path, "/healthz") == 0)
		client_text(c, 200, "ok\n");
	else if (strcmp(req->path, "/readyz") == 0)
		serve_ready(c);
	else
		client_text(c, 404, "not found: try /metrics, /healthz, "
		    "/readyz\n");
}

/* The client sent bytes: collect the head, or drop what follows it. */
static void
admin_client_r_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct aclient *c = w->data;
	struct http_req req;
	char sink[4096];
	ssize_t n;
	int rc;

	(void)revents;
	if (c->answered) {
		n = read(c->fd, sink, sizeof(sink));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->drained += (size_t)n) > ADMIN_DRAIN_MAX)
			client_close(c);
		return;
	}
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->inlen += (size_t)n;
	if ((rc = http_parse(c->in, c->inlen, &req)) == HTTP_MORE)
		return;
	client_head_done(c);
	if (rc == HTTP_DONE) {
		client_request(c, &req);
		return;
	}
	(void)log_limited(&c->a->env->anyone_log, ev_now(loop), LOG_LVL_WARN,
	    "event=admin-refused status=%d", rc);
	client_text(c, rc, http_reason(rc));
}

/* The socket can take more of the answer. */
static void
admin_client_w_cb(struct ev_loop *loop, ev_io *w, int revents)
{

	(void)loop;
	(void)revents;
	client_flush(w->data);
}

/* ADMIN_HEAD_TIMEOUT or ADMIN_TIMEOUT is over (slow client, or one that
 * never closes). */
static void
admin_client_t_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct aclient *c = w->data;

	(void)revents;
	if (!c->answered && c->out == NULL)
		(void)log_limited(&c->a->env->anyone_log, ev_now(loop),
		    LOG_LVL_WARN, "event=admin-refused reason=timeout");
	client_close(c);
}

/*
 * Every slot is taken and a connection waits: close the oldest client
 * that has had ADMIN_EVICT_AGE seconds and is not sending an answer (it
 * has no whole head yet, or its answer is out).  Return 0, or -1 if none
 * may go yet: then ${a}->room is set for when the oldest one may (a
 * client sending an answer frees its slot by itself).
 */
static int
make_room(struct admin *a)
{
	struct ev_loop *loop = a->env->loop;
	struct aclient *c, *old = NULL;
	size_t i;

	for (i = 0; i < ADMIN_CLIENTS; i++) {
		c = &a->c[i];
		if (c->fd != -1 && c->out == NULL && (!c->has_head ||
		    c->answered) && (old == NULL || c->t0 < old->t0))
			old = c;
	}
	if (old == NULL)
		return (-1);
	if (old->t0 + ADMIN_EVICT_AGE > ev_now(loop)) {
		ev_timer_stop(loop, &a->room);
		ev_timer_set(&a->room, old->t0 + ADMIN_EVICT_AGE -
		    ev_now(loop) + 0.001, 0.);
		ev_timer_start(loop, &a->room);
		return (-1);
	}
	if (!old->answered)
		(void)log_limited(&a->env->anyone_log, ev_now(loop),
		    LOG_LVL_WARN, "event=admin-refused reason=evicted");
	client_close(old);
	return (0);
}

/* A slot may be taken back now: look at the backlog again. */
static void
admin_room_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct admin *a = w->data;

	(void)revents;
	if (a->fd != -1 && !ev_is_active(&a->w))
		ev_io_start(loop, &a->w);
}

/*
 * Accept while there is a free slot; full: make room (make_room), else
 * wait in the backlog.
 */
static void
admin_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct admin *a = w->data;
	struct aclient *c;
	size_t i;
	int fd;

	(void)revents;
	/* Readable: a connection waits (a level-triggered watcher). */
	if (a->nclients == ADMIN_CLIENTS && make_room(a) == -1) {
		ev_io_stop(loop, w);
		return;
	}
	while (a->nclients < ADMIN_CLIENTS) {
		fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("event=accept-failed role=admin "
				    "error=\"%s\"", strerror(errno));
			return;
		}
		for (i = 0; a->c[i].fd != -1; i++)
			;
		c = &a->c[i];
		memset(c, 0, sizeof(*c));
		c->a = a;
		c->fd = fd; /* the slot owns fd now */
		c->t0 = ev_now(loop);
		a->nclients++;
		ev_io_init(&c->r, admin_client_r_cb, fd, EV_READ);
		ev_io_init(&c->w, admin_client_w_cb, fd, EV_WRITE);
		ev_timer_init(&c->t, admin_client_t_cb, ADMIN_HEAD_TIMEOUT, 0.);
		c->r.data = c->w.data = c->t.data = c;
		ev_io_start(loop, &c->r);
		ev_timer_start(loop, &c->t);
	}
	/* Full: the watcher stays on; the next connection makes room. */
}

/*
 * admin_new(e, a, err, errlen):
 * Bind ${a} (copied; a name must have its address: resolve_addr) and
 * serve on the loop of ${e} (borrowed).  NULL with a message in ${err} on failure.
 */
struct admin *
admin_new(struct env *e, const struct addr *a, char *err, size_t errlen)
{
	struct admin *ad;
	char buf[ADDR_TEXT_MAX + 16];
	size_t i;

	if ((ad = calloc(1, sizeof(*ad))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail0;
	}
	ad->env = e;
	ad->addr = *a;
	for (i = 0; i < ADMIN_CLIENTS; i++)
		ad->c[i].fd = -1;
	ev_init(&ad->room, admin_room_cb);
	ad->room.data = ad;
	/* A name (localhost) has its address already (node.c, resolve.c). */
	assert(ad->addr.salen > 0);
	if ((ad->fd = sock_listen(&ad->addr, ADMIN_BACKLOG, err, errlen)) ==
	    -1)
		goto fail1;
	ev_io_init(&ad->w, admin_accept_cb, ad->fd, EV_READ);
	ad->w.data = ad;
	ev_io_start(e->loop, &ad->w);
	log_info("event=listen role=admin name=admin addr=%s",
	    addr_format(a, buf, sizeof(buf)));
	return (ad);
fail1:
	free(ad);
fail0:
	return (NULL);
}

/*
 * admin_free(a):
 * Close the listener (a unix socket file is removed) and every client
 * connection; free ${a}.  NULL does nothing.
 */
void
admin_free(struct admin *a)
{
	size_t i;

	if (a == NULL)
		return;
	ev_io_stop(a->env->loop, &a->w);
	ev_timer_stop(a->env->loop, &a->room);
	close(a->fd);
	a->fd = -1;
	if (a->addr.is_unix)
		(void)unlink(a->addr.host);
	for (i = 0; i < ADMIN_CLIENTS; i++)
		if (a->c[i].fd != -1)
			client_close(&a->c[i]);
	free(a);
}
