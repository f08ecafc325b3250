/*
 * reap: the one deferred-free model for every event-loop object.  An
 * object that ends (in its own callback or in another's) is stopped at
 * once by its owner (watchers stopped, sockets closed, unlinked from every
 * list) and handed to the reaper, which frees it from an ev_prepare
 * watcher, before the loop next blocks: no callback that might still hold
 * a pointer to it is running then.  So no object is ever freed under a
 * running callback, and nobody counts "busy" callbacks.
 */
#ifndef SALLYPORT_REAP_H
#define SALLYPORT_REAP_H

#include <ev.h>

/* Embedded by value in each object that may be reaped. */
struct reap_entry {
	struct reap_entry *next;
	void (*free_fn)(void *obj);
	void *obj;
};

struct reaper {
	struct ev_loop *loop;
	ev_prepare w;
	struct reap_entry *head;
	/* After a round of frees (may be NULL): e.g. "is anything left?" */
	void (*after)(void *arg);
	void *after_arg;
};

/*
 * reaper_init(r, loop):
 * Initialize ${r} for ${loop}, with nothing queued.
 */
void reaper_init(struct reaper *r, struct ev_loop *loop);

/*
 * reaper_defer(r, e, free_fn, obj):
 * Queue ${obj} (which embeds ${e}) to be freed by ${free_fn}(${obj})
 * before the loop next blocks.  The caller has stopped everything of
 * ${obj} already and never touches it again.
 */
void reaper_defer(struct reaper *r, struct reap_entry *e,
    void (*free_fn)(void *), void *obj);

/*
 * reaper_fini(r):
 * Free everything queued now and stop the watcher.
 */
void reaper_fini(struct reaper *r);

#endif
