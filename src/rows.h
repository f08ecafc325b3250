/*
 * rows: the rows of a node's table of parts (part.h), one per running
 * part: the front, the outlet, the relay, the authority, the enrolled
 * node's renewal, the inlets, interception and the admin endpoint, each
 * adapting its module's own functions (front.h, outlet.h, ...) to the
 * part interface, plus the node's trust (trust.h).
 * A new role is a new row here (its ops) and one line in rows_node.
 * Never keeps a global: a row's state is its struct part's.
 */
#ifndef SALLYPORT_ROWS_H
#define SALLYPORT_ROWS_H

#include "part.h"

/* The rows of a node, in table order (start, prepare, commit). */
#define ROWS_NODE 9
extern const struct part_ops *const rows_node[ROWS_NODE];

/* The row of the [node] listen socket; it sets host->front. */
extern const struct part_ops rows_front;
/* The [outlet NAME] sections (one outlet role). */
extern const struct part_ops rows_outlet;
/* The [relay NAME] sections (one relay role, or none). */
extern const struct part_ops rows_relay;
/* [authority NAME]: the online authority (authority.h). */
extern const struct part_ops rows_authority;
/* [node] enroll: the credential's renewal (member.h). */
extern const struct part_ops rows_member;
/* The [inlet NAME] sections: the inlets of the generation in force. */
extern const struct part_ops rows_inlets;
/* [node] intercept: redirected connections, handed to their inlet. */
extern const struct part_ops rows_intercept;
/* [node] admin: the admin endpoint. */
extern const struct part_ops rows_admin;

#endif
