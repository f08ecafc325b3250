/*
 * reap: see reap.h.
 */
#include <stddef.h>

#include "reap.h"

/* Free everything queued (objects freed may queue more: loop). */
static void
reap_all(struct reaper *r)
{
	struct reap_entry *e;

	while ((e = r->head) != NULL) {
		r->head = e->next;
		e->free_fn(e->obj); /* e is gone with its object */
	}
}

static void
reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct reaper *r = w->data;

	(void)revents;
	reap_all(r);
	ev_prepare_stop(loop, w);
	if (r->after != NULL)
		r->after(r->after_arg);
}

/*
 * reaper_init(r, loop):
 * Initialize ${r} for ${loop}, with nothing queued.
 */
void
reaper_init(struct reaper *r, struct ev_loop *loop)
{

	r->loop = loop;
	r->head = NULL;
	r->after = NULL;
	r->after_arg = NULL;
	ev_prepare_init(&r->w, reaper_cb);
	r->w.data = r;
}

/*
 * reaper_defer(r, e, free_fn, obj):
 * Queue ${obj} (which embeds ${e}) to be freed by ${free_fn}(${obj})
 * before the loop next blocks.  The caller has stopped everything of
 * ${obj} already and never touches it again.
 */
void
reaper_defer(struct reaper *r, struct reap_entry *e,
    void (*free_fn)(void *), void *obj)
{

	e->free_fn = free_fn;
	e->obj = obj;
	e->next = r->head;
	r->head = e;
	ev_prepare_start(r->loop, &r->w);
}

/*
 * reaper_fini(r):
 * Free everything queued now and stop the watcher.
 */
void
reaper_fini(struct reaper *r)
{

	ev_prepare_stop(r->loop, &r->w);
	reap_all(r);
}
