/*
 * authwork: the authority's worker thread, so that a store transaction
 * and the signing of a credential (milliseconds each: SQLite's fsyncs,
 * ECDSA) never stall the node's event loop (docs/credentials.md, "The
 * authority's loop").
 *
 * One thread per node, made by authwork_start before the sandbox is
 * entered (the seccomp filter has no clone, and is loaded for every
 * thread of the process: docs/security.md); it lives as long as the
 * process (it never exits: exit(2) of one thread is not allowed either).
 * Capabilities, no_new_privs and Landlock are per thread: sandbox_enter
 * has the worker confine itself too (sandbox_thread_set).
 * Jobs queue in FIFO order, at most AUTHWORK_QUEUE waiting or running:
 * the caller refuses what does not fit ("busy") and the node retries.
 *
 * Ownership (like conn.h's): a job submitted belongs to authwork until
 * its done callback is called on the loop (from an ev_async), once, after
 * its run callback returned on the worker (or without run, if it was
 * cancelled before it started).  Between the two the loop touches none
 * of its fields but through authwork_cancel; the worker touches nothing
 * but the job and what its owner promised to keep (authwork_quiesce).
 * The done callback owns the job again and frees it.
 */
#ifndef SALLYPORT_AUTHWORK_H
#define SALLYPORT_AUTHWORK_H

#include <ev.h>

#define AUTHWORK_QUEUE 64 /* jobs waiting or running, at most */

struct authwork_job {
	void (*run)(struct authwork_job *);  /* on the worker thread */
	void (*done)(struct authwork_job *); /* on the loop, afterwards */
	const void *owner;  /* what authwork_quiesce waits for */
	/* authwork's own */
	struct authwork_job *next;
	int cancelled; /* run is skipped */
};

/*
 * authwork_start(loop, err, errlen):
 * Make the worker thread (once: again does nothing) delivering results on
 * ${loop}.  Only before the sandbox (sandbox_enter).  0, or -1 with a
 * message in ${err}.
 */
int authwork_start(struct ev_loop *loop, char *err, size_t errlen);

/*
 * authwork_started():
 * Whether the worker runs.
 */
int authwork_started(void);

/*
 * authwork_submit(j):
 * Queue ${j} (its run, done and owner set).  0, or -1 (not started, or
 * AUTHWORK_QUEUE jobs already pending: ${j} stays the caller's).
 */
int authwork_submit(struct authwork_job *j);

/*
 * authwork_cancel(j):
 * ${j}'s run is not called unless it already started; its done callback
 * still is.  Loop only.
 */
void authwork_cancel(struct authwork_job *j);

/*
 * authwork_quiesce(owner):
 * Block until no job of ${owner} waits or runs on the worker (waiting
 * ones are cancelled): what the jobs' run callbacks used may then go.
 * Their done callbacks are still called later.  Loop only.
 */
void authwork_quiesce(const void *owner);

/*
 * authwork_pending():
 * Jobs waiting or running.
 */
unsigned authwork_pending(void);

#endif
