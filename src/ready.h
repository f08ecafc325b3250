/*
 * ready: the node's readiness checklist.  Whatever the node needs before
 * it is ready (a relay registration, a relay session) adds an item with
 * its own predicate; the admin endpoint's /readyz asks every item.  A
 * plain intrusive list: items are embedded by value in their owners, no
 * allocation, no sockets, no libev.
 */
#ifndef SALLYPORT_READY_H
#define SALLYPORT_READY_H

#include <stddef.h>

struct ready_item {
	const char *role; /* "outlet", "inlet", "relay" (borrowed) */
	const char *name; /* its section name (borrowed) */
	const char *what; /* what is missing while not ready ("no relay session") */
	int (*is_ready)(const void *arg);
	const void *arg;
	struct ready_item *next, **pprev;
};

/*
 * ready_add(head, it, role, name, what, is_ready, arg):
 * Fill ${it} (embedded in its owner; every pointer borrowed for its life)
 * and link it on the list *${head}.
 */
void ready_add(struct ready_item **head, struct ready_item *it,
    const char *role, const char *name, const char *what,
    int (*is_ready)(const void *), const void *arg);

/*
 * ready_remove(it):
 * Unlink ${it}; one never added or already removed is ignored.
 */
void ready_remove(struct ready_item *it);

/*
 * ready_missing(head, buf, len):
 * Write one line "ROLE NAME: WHAT\n" per item of the list ${head} that is
 * not ready into ${buf} (${len} bytes, NUL-terminated, cut short if
 * need be).  Return how many items are not ready.
 */
size_t ready_missing(const struct ready_item *head, char *buf, size_t len);

#endif
