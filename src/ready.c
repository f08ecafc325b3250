/*
 * ready: see ready.h.
 */
#include <stdio.h>

#include "ready.h"

/*
 * ready_add(head, it, role, name, what, is_ready, arg):
 * Fill ${it} (embedded in its owner; every pointer borrowed for its life)
 * and link it on the list *${head}.
 */
void
ready_add(struct ready_item **head, struct ready_item *it, const char *role,
    const char *name, const char *what, int (*is_ready)(const void *),
    const void *arg)
{

	it->role = role;
	it->name = name;
	it->what = what;
	it->is_ready = is_ready;
	it->arg = arg;
	it->next = *head;
	if (*head != NULL)
		(*head)->pprev = &it->next;
	it->pprev = head;
	*head = it;
}

/*
 * ready_remove(it):
 * Unlink ${it}; one never added or already removed is ignored.
 */
void
ready_remove(struct ready_item *it)
{

	if (it->pprev == NULL)
		return;
	*it->pprev = it->next;
	if (it->next != NULL)
		it->next->pprev = it->pprev;
	it->next = NULL;
	it->pprev = NULL;
}

/*
 * ready_missing(head, buf, len):
 * Write one line "ROLE NAME: WHAT\n" per item of the list ${head} that is
 * not ready into ${buf} (${len} bytes, NUL-terminated, cut short if
 * need be).  Return how many items are not ready.
 */
size_t
ready_missing(const struct ready_item *head, char *buf, size_t len)
{
	size_t n = 0, used = 0;
	int w;

	if (len > 0)
		buf[0] = '\0';
	for (; head != NULL; head = head->next) {
		if (head->is_ready(head->arg))
			continue;
		n++;
		if (used >= len)
			continue;
		w = snprintf(buf + used, len - used, "%s %s: %s\n", head->role,
		    head->name, head->what);
		if (w > 0)
			used += (size_t)w;
	}
	return (n);
}
