/*
 * authwork: see authwork.h.
 *
 * One mutex guards the queue (todo), the finished list (done), the job
 * running and the count; the worker sleeps on one condition variable,
 * authwork_quiesce on another.  The finished list is handed to the loop
 * by an ev_async (async-signal-safe, a write to libev's eventfd).  The
 * calls a running worker makes after the filter: futex (the mutex and
 * the conditions), write (ev_async_send), and its jobs' own (SQLite's
 * file calls, clock_gettime, malloc's; docs/security.md).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "authwork.h"
#include "sandbox.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;  /* the worker: something in todo */
	pthread_cond_t idle;  /* authwork_quiesce: a job finished */
	struct authwork_job *todo, **todo_tail;
	struct authwork_job *done, **done_tail;
	struct authwork_job *running;
	unsigned pending; /* todo + running */
	struct ev_loop *loop;
	ev_async async;
	int started;
	/* sandbox_enter's request: the ruleset, then the worker's answer */
	int confine, confine_rs, confine_r;
} w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER, NULL, &w.todo, NULL, &w.done, NULL, 0,
	NULL, {0}, 0, 0, -1, 0};

static void *
worker(void *arg)
{
	struct authwork_job *j;
	int skip;

	pthread_mutex_lock(&w.mu);
	w.started = 1; /* the start sequence's system calls are over */
	pthread_cond_broadcast(&w.idle);
	for (;;) {
		while (w.todo == NULL && w.confine != 1)
			pthread_cond_wait(&w.work, &w.mu);
		if (w.confine == 1) { /* the loop's thread waits meanwhile */
			w.confine_r = sandbox_thread_enter(w.confine_rs);
			w.confine = 2;
			pthread_cond_broadcast(&w.idle);
			continue;
		}
		j = w.todo;
		if ((w.todo = j->next) == NULL)
			w.todo_tail = &w.todo;
		j->next = NULL;
		w.running = j;
		skip = j->cancelled; /* read under the lock */
		pthread_mutex_unlock(&w.mu);
		if (!skip)
			j->run(j);
		pthread_mutex_lock(&w.mu);
		w.running = NULL;
		w.pending--;
		*w.done_tail = j;
		w.done_tail = &j->next;
		pthread_cond_broadcast(&w.idle);
		ev_async_send(w.loop, &w.async);
	}
	return (arg);
}

/* On the loop: the finished jobs' done callbacks, in order. */
static void
async_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct authwork_job *j, *next;

	(void)loop;
	(void)a;
	(void)revents;
	pthread_mutex_lock(&w.mu);
	j = w.done;
	w.done = NULL;
	w.done_tail = &w.done;
	pthread_mutex_unlock(&w.mu);
	for (; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j);
	}
}

/*
 * sandbox_enter's call (sandbox_thread_set): the worker confines itself
 * (capabilities, no_new_privs, Landlock) while the loop's thread waits.
 */
static int
confine(int rs)
{
	int r;

	pthread_mutex_lock(&w.mu);
	w.confine_rs = rs;
	w.confine = 1;
	pthread_cond_signal(&w.work);
	while (w.confine != 2)
		pthread_cond_wait(&w.idle, &w.mu);
	r = w.confine_r;
	pthread_mutex_unlock(&w.mu);
	return (r);
}

int
authwork_start(struct ev_loop *loop, char *err, size_t errlen)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (w.loop != NULL)
		return (0);
	w.loop = loop;
	ev_async_init(&w.async, async_cb);
	ev_async_start(loop, &w.async);
	ev_unref(loop); /* the loop may end with the worker idle */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, worker, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		ev_ref(loop);
		ev_async_stop(loop, &w.async);
		w.loop = NULL;
		snprintf(err, errlen, "cannot start the authority's worker "
		    "thread: %s", strerror(r));
		return (-1);
	}
	/* The thread's own start (set_robust_list, rseq, sigprocmask) must
	 * be over before a filter is loaded. */
	pthread_mutex_lock(&w.mu);
	while (!w.started)
		pthread_cond_wait(&w.idle, &w.mu);
	pthread_mutex_unlock(&w.mu);
	sandbox_thread_set(confine);
	return (0);
}

int
authwork_started(void)
{

	return (w.loop != NULL);
}

int
authwork_submit(struct authwork_job *j)
{
	int r = -1;

	if (w.loop == NULL)
		return (-1);
	pthread_mutex_lock(&w.mu);
	if (w.pending < AUTHWORK_QUEUE) {
		j->next = NULL;
		j->cancelled = 0;
		*w.todo_tail = j;
		w.todo_tail = &j->next;
		w.pending++;
		pthread_cond_signal(&w.work);
		r = 0;
	}
	pthread_mutex_unlock(&w.mu);
	return (r);
}

void
authwork_cancel(struct authwork_job *j)
{

	pthread_mutex_lock(&w.mu);
	j->cancelled = 1; /* the worker reads it under the lock */
	pthread_mutex_unlock(&w.mu);
}

void
authwork_quiesce(const void *owner)
{
	struct authwork_job *j;
	int busy;

	if (w.loop == NULL)
		return;
	pthread_mutex_lock(&w.mu);
	for (j = w.todo; j != NULL; j = j->next)
		if (j->owner == owner)
			j->cancelled = 1;
	for (;;) {
		busy = w.running != NULL && w.running->owner == owner;
		if (!busy)
			break;
		pthread_cond_wait(&w.idle, &w.mu);
	}
	pthread_mutex_unlock(&w.mu);
}

unsigned
authwork_pending(void)
{
	unsigned n;

	pthread_mutex_lock(&w.mu);
	n = w.pending;
	pthread_mutex_unlock(&w.mu);
	return (n);
}
