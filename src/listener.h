/*
 * listener: a listening socket of the node and the admission of what it
 * accepts.  Accepts in bounded batches, applies the node's connection
 * limits (max_connections, max_handshakes with source eviction) and logs
 * "refuse" (rate limited) for what it turns away, then hands each
 * admitted socket to its owner's callback.  Out of descriptors, it pauses
 * instead of spinning.  Knows no role.
 */
#ifndef SALLYPORT_LISTENER_H
#define SALLYPORT_LISTENER_H

#include <ev.h>

#include "addr.h"
#include "env.h"

/*
 * accept_cb gets each admitted connection (the fd is non-blocking,
 * close-on-exec, and the callback's to keep).
 */
struct listener {
	struct env *env;
	int fd;
	const struct addr *addr; /* borrowed from the config */
	const char *role;        /* "inlet" or "node" */
	ev_io w;
	ev_timer pause; /* back-off while out of file descriptors */
	void (*accept_cb)(struct listener *l, int fd);
	void *arg; /* the owner's object */
};

/*
 * listener_open(l, e, a, role, name, accept_cb, arg, err, errlen):
 * Bind and listen on ${a} (borrowed; must outlive ${l}), log "listen" with
 * ${role} and ${name}, and start accepting into ${accept_cb}.  A unix
 * socket path is created with mode 0600 after removing a stale socket
 * (never any other kind of file).  Return 0, or -1 with a message in
 * ${err}.
 */
int listener_open(struct listener *l, struct env *e, const struct addr *a,
    const char *role, const char *name,
    void (*accept_cb)(struct listener *, int), void *arg, char *err,
    size_t errlen);

/*
 * listener_close(l):
 * Stop accepting and close the socket of ${l} (a unix socket file is
 * removed).  Closing twice does nothing.
 */
void listener_close(struct listener *l);

#endif
