/*
 * rows: see rows.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "authority.h"
#include "authstore.h"
#include "authwork.h"
#include "front.h"
#include "gen.h"
#include "inlet.h"
#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "member.h"
#include "outlet.h"
#include "relay.h"
#include "sandbox.h"
#include "rows.h"
#include "trust.h"

/* Start-up messages. */
#define ROWS_ERR 2048

/*
 * Bind ${a} into ${fd} unless ${kept}; on failure write "${what}: error"
 * into the reload's message.  Return 0 or -1.
 */
static int
bind_new(struct part_reload *r, int kept, const struct addr *a, int *fd,
    const char *what)
{
	char msg[1024];

	*fd = -1;
	if (kept)
		return (0);
	if ((*fd = listener_bind(a, msg, sizeof(msg))) == -1) {
		snprintf(r->err, r->errlen, "%s: %s", what, msg);
		return (-1);
	}
	return (0);
}

/* Close ${fd} if open and set it to -1. */
static void
close_fd(int *fd)
{

	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* ------------------------------------------------------------------ */
/* The front: the [node] listen socket.                                */

struct front_row {
	struct part p;
	int fd; /* a new listen socket, prepared */
};

static int
front_row_start(struct part *p)
{
	char err[ROWS_ERR];

	if ((p->self = front_new(p->host->env, err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=node name=node "
		    "error=\"%s\"", err);
		return (-1);
	}
	p->host->front = p->self;
	return (0);
}

static int
front_row_prepare(struct part *p, struct part_reload *r)
{
	struct front_row *fr = (struct front_row *)p;
	const struct config_node *o = &r->old->node, *c = &r->cfg->node;
	char what[CONFIG_PATH_MAX + 16];

	snprintf(what, sizeof(what), "%s: listen", r->cfg->path);
	return (bind_new(r, !c->has_listen || (o->has_listen &&
	    addr_same(&o->listen, &c->listen)), &c->listen, &fr->fd, what));
}

static void
front_row_abort(struct part *p, struct part_reload *r)
{

	(void)r;
	close_fd(&((struct front_row *)p)->fd);
}

/* The new socket, or the one kept (closes the old one if replaced). */
static void
front_row_commit(struct part *p, struct part_reload *r)
{
	struct front_row *fr = (struct front_row *)p;

	if (fr->fd == -1 && r->cfg->node.has_listen)
		fr->fd = front_detach(p->self);
	front_listen(p->self, fr->fd);
	fr->fd = -1;
}

/* Channels waiting for their request whose peer is no longer known. */
static void
front_row_revoke(struct part *p, struct part_reload *r)
{

	r->revoked += front_revoke_warm(p->self);
}

static void
front_row_stop(struct part *p)
{

	front_stop(p->self);
}

static void
front_row_free(struct part *p)
{

	front_free(p->self);
	p->host->front = NULL;
}

const struct part_ops rows_front = {
	.name = "front",
	.size = sizeof(struct front_row),
	.start = front_row_start,
	.prepare = front_row_prepare,
	.abort = front_row_abort,
	.commit = front_row_commit,
	.revoke = front_row_revoke,
	.stop = front_row_stop,
	.free = front_row_free,
};

/* ------------------------------------------------------------------ */
/* The outlet role: built again at each reload from its predecessor.   */

static int
outlet_row_start(struct part *p)
{
	char err[ROWS_ERR];

	if ((p->self = outlet_new(p->host->env, p->host->front, NULL, err,
	    sizeof(err))) == NULL) {
		log_error("event=start role=outlet error=\"%s\"", err);
		return (-1);
	}
	return (0);
}

/* A new outlet takes over from the old one; on failure the old stays. */
static void
outlet_row_commit(struct part *p, struct part_reload *r)
{
	struct outlet *o;
	char msg[1024];

	if ((o = outlet_new(p->host->env, p->host->front, p->self, msg,
	    sizeof(msg))) == NULL)
		log_error("event=reload role=outlet error=\"%s\"", msg);
	else {
		outlet_free(p->self);
		p->self = o;
	}
	if (r->rotated)
		outlet_restart(p->self);
}

static void
outlet_row_revoke(struct part *p, struct part_reload *r)
{

	r->revoked += outlet_revoke_all(p->host->env);
}

static unsigned
outlet_row_expire(struct part *p)
{

	return (outlet_expire_all(p->host->env));
}

static void
outlet_row_stop(struct part *p)
{

	outlet_stop(p->self);
}

static void
outlet_row_free(struct part *p)
{

	outlet_free(p->self);
}

const struct part_ops rows_outlet = {
	.name = "outlet",
	.size = sizeof(struct part),
	.start = outlet_row_start,
	.commit = outlet_row_commit,
	.revoke = outlet_row_revoke,
	.expire = outlet_row_expire,
	.stop = outlet_row_stop,
	.free = outlet_row_free,
};

/* ------------------------------------------------------------------ */
/* The relay role: made at the first [relay], then reconfigured.       */

static int
relay_row_start(struct part *p)
{
	struct env *e = p->host->env;
	char err[ROWS_ERR];

	if (e->cfg->nrelays == 0) {
		/* Its kind of request is known (audit lines) before a relay
		 * role serves it. */
		(void)front_register(p->host->front, &relay_kind, NULL, NULL);
		return (0);
	}
	if ((p->self = relay_new(e, p->host->front, err, sizeof(err))) ==
	    NULL) {
		log_error("event=start role=relay error=\"%s\"", err);
		return (-1);
	}
	return (0);
}

static void
relay_row_commit(struct part *p, struct part_reload *r)
{
	struct env *e = p->host->env;
	char msg[1024];

	if (p->self == NULL && r->cfg->nrelays > 0)
		p->self = relay_new(e, p->host->front, msg, sizeof(msg));
	else if (p->self != NULL && relay_reconfigure(p->self, &r->revoked,
	    msg, sizeof(msg)) == -1)
		log_error("event=reload role=relay error=\"%s\"", msg);
	if (r->rotated)
		relay_restart(p->self);
}

static unsigned
relay_row_expire(struct part *p)
{

	return (relay_expire(p->self));
}

static void
relay_row_stop(struct part *p)
{

	relay_stop(p->self);
}

static unsigned
relay_row_live(const struct part *p)
{

	return (relay_live(p->self));
}

static void
relay_row_free(struct part *p)
{

	relay_free(p->self);
}

const struct part_ops rows_relay = {
	.name = "relay",
	.size = sizeof(struct part),
	.start = relay_row_start,
	.commit = relay_row_commit,
	.expire = relay_row_expire,
	.stop = relay_row_stop,
	.live = relay_row_live,
	.free = relay_row_free,
};

/* ------------------------------------------------------------------ */
/* The authority: [authority NAME], on the node port as "@A" + NAME.   */

struct authority_row {
	struct part p;
	struct authority *next; /* prepared: a new or changed section */
	int changed;            /* the section changed (or went away) */
};

/*
 * The [authority NAME] section of ${cfg} as the role takes it into
 * ${c} (borrowing from ${cfg}): 1, or 0 if there is none.  A node is one
 * authority: the first section.
 */
static int
authority_conf_of(const struct config *cfg, struct authority_conf *c)
{
	const struct config_authority_role *ar = cfg->authority_roles;

	if (cfg->nauthority_roles == 0)
		return (0);
	c->name = ar->name;
	c->key = ar->key;
	c->store = ar->store;
	c->ttl = ar->credential_ttl;
	c->rate = ar->enrol_rate;
	c->burst = ar->enrol_burst;
	return (1);
}

/* Whether the sections of ${a} and ${b} (either may be absent) differ. */
static int
authority_conf_differs(const struct config *a, const struct config *b)
{
	struct authority_conf x, y;
	int hx = authority_conf_of(a, &x), hy = authority_conf_of(b, &y);

	if (hx != hy)
		return (1);
	return (hx && (strcmp(x.name, y.name) != 0 ||
	    strcmp(x.key, y.key) != 0 || strcmp(x.store, y.store) != 0 ||
	    x.ttl != y.ttl || x.rate != y.rate || x.burst != y.burst));
}

static int
authority_row_start(struct part *p)
{
	struct env *e = p->host->env;
	struct authority_conf c;
	char err[ROWS_ERR];

	if (!authority_conf_of(e->cfg, &c)) {
		/* Its kind is known (audit lines), unserved. */
		(void)front_register(p->host->front, &authority_kind, NULL,
		    NULL);
		return (0);
	}
	if ((p->self = authority_new(e, &c, err, sizeof(err))) == NULL) {
		log_error("event=start role=authority error=\"%s\"", err);
		return (-1);
	}
	authority_serve(p->self, p->host->front);
	return (0);
}

static int
authority_row_prepare(struct part *p, struct part_reload *r)
{
	struct authority_row *ar = (struct authority_row *)p;
	struct authority_conf c;
	char msg[1024], where[256];

	ar->next = NULL;
	ar->changed = authority_conf_differs(r->old, r->cfg);
	if (!ar->changed || !authority_conf_of(r->cfg, &c))
		return (0);
	if (!sandbox_writes(c.store)) {
		snprintf(r->err, r->errlen, "[authority %s] store %s: not in "
		    "a directory the sandbox lets this node write, or a "
		    "database it was not started with (set at start); restart "
		    "the node", c.name, authstore_redact(c.store, where,
		    sizeof(where)));
		return (-1);
	}
	if (!authwork_started() && sandbox_confined()) {
		snprintf(r->err, r->errlen, "[authority %s]: added by a "
		    "reload, but its worker thread is made at start (before "
		    "the sandbox); restart the node", c.name);
		return (-1);
	}
	if ((ar->next = authority_new(p->host->env, &c, msg, sizeof(msg))) ==
	    NULL) {
		snprintf(r->err, r->errlen, "%s", msg);
		return (-1);
	}
	return (0);
}

static void
authority_row_abort(struct part *p, struct part_reload *r)
{
	struct authority_row *ar = (struct authority_row *)p;

	(void)r;
	authority_free(ar->next);
	ar->next = NULL;
}

static void
authority_row_commit(struct part *p, struct part_reload *r)
{
	struct authority_row *ar = (struct authority_row *)p;

	if (ar->changed) {
		authority_free(p->self); /* its channels end */
		p->self = ar->next;
		ar->next = NULL;
		if (p->self != NULL)
			authority_serve(p->self, p->host->front);
		else
			(void)front_register(p->host->front, &authority_kind,
			    NULL, NULL);
	} else if (r->rotated)
		authority_restart(p->self);
}

static unsigned
authority_row_expire(struct part *p)
{

	authority_expire(p->self);
	return (0);
}

static unsigned
authority_row_live(const struct part *p)
{

	return (authority_live(p->self));
}

static void
authority_row_free(struct part *p)
{
	struct authority_row *ar = (struct authority_row *)p;

	authority_free(ar->next);
	authority_free(p->self);
}

const struct part_ops rows_authority = {
	.name = "authority",
	.size = sizeof(struct authority_row),
	.start = authority_row_start,
	.prepare = authority_row_prepare,
	.abort = authority_row_abort,
	.commit = authority_row_commit,
	.expire = authority_row_expire,
	.live = authority_row_live,
	.free = authority_row_free,
};

/* ------------------------------------------------------------------ */
/* The node's membership: [node] enroll (renewal on the loop).         */

static int
member_row_start(struct part *p)
{
	struct env *e = p->host->env;

	if (e->cfg->node.enroll[0] != '\0' &&
	    (p->self = member_new(e)) == NULL) {
		log_error("event=start role=enroll error=nomem");
		return (-1);
	}
	return (0);
}

/* A reload that enrols: the sandbox must let the credential be written. */
static int
member_row_prepare(struct part *p, struct part_reload *r)
{

	(void)p;
	if (r->cfg->node.enroll[0] == '\0' ||
	    sandbox_writes(r->cfg->node.enroll_cred))
		return (0);
	snprintf(r->err, r->errlen, "%s:%d: enroll_credential %s: not in a "
	    "directory the sandbox lets this node write (set at start); "
	    "restart the node", r->cfg->path, r->cfg->node.enroll_cred_line,
	    r->cfg->node.enroll_cred);
	return (-1);
}

static void
member_row_commit(struct part *p, struct part_reload *r)
{

	if (r->cfg->node.enroll[0] == '\0') {
		member_free(p->self);
		p->self = NULL;
	} else if (p->self == NULL)
		p->self = member_new(p->host->env);
	else
		member_reconfigure(p->self);
}

static void
member_row_free(struct part *p)
{

	member_free(p->self);
}

const struct part_ops rows_member = {
	.name = "enroll",
	.size = sizeof(struct part),
	.start = member_row_start,
	.prepare = member_row_prepare,
	.commit = member_row_commit,
	.free = member_row_free,
};

/* ------------------------------------------------------------------ */
/* The inlets, held by the generation in force.                        */

struct inlets_row {
	struct part p;
	int *fds; /* per inlet of the new file: a new socket, or -1 */
};

/*
 * Make the inlets of ${g} (the current generation, whose configuration
 * the environment holds) from ${fds} (a listening socket per inlet, or -1
 * to bind now), taking over from the inlets of ${old} (may be NULL) by
 * name.  The old inlets taken over are freed; the others (removed) stop
 * and stay in ${old} to drain.  Return 0, or -1 with a message in ${err}.
 */
static int
make_inlets(struct env *e, struct gen *g, struct gen *old, int *fds,
    char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;
	struct inlet *prev;
	size_t i, j, k;

	if (cfg->ninlets > 0 &&
	    (g->inlets = calloc(cfg->ninlets, sizeof(*g->inlets))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < cfg->ninlets; i++) {
		prev = NULL;
		for (j = 0; old != NULL && j < old->ninlets; j++) {
			if (old->inlets[j] != NULL && strcmp(old->cfg->inlets[j].name,
			    cfg->inlets[i].name) == 0) {
				prev = old->inlets[j];
				old->inlets[j] = NULL;
				break;
			}
		}
		g->inlets[i] = inlet_new(e, &cfg->inlets[i], fds[i], prev,
		    err, errlen);
		fds[i] = -1; /* inlet_new took it */
		inlet_free(prev); /* everything of it moved over */
		if (g->inlets[i] == NULL) {
			log_error("event=listen-failed role=inlet name=%s "
			    "error=\"%s\"", cfg->inlets[i].name, err);
			return (-1);
		}
		g->ninlets++;
	}
	/* The removed inlets stop; their connections drain. */
	for (j = 0, k = 0; old != NULL && j < old->ninlets; j++) {
		if (old->inlets[j] == NULL)
			continue;
		inlet_stop(old->inlets[j]);
		old->inlets[k++] = old->inlets[j];
	}
	if (old != NULL)
		old->ninlets = k;
	return (0);
}

/* A socket per inlet of ${cfg}, each -1; NULL if out of memory. */
static int *
fds_new(const struct config *cfg)
{
	int *fds;
	size_t i;

	if ((fds = calloc(cfg->ninlets + 1, sizeof(*fds))) == NULL)
		return (NULL);
	for (i = 0; i < cfg->ninlets; i++)
		fds[i] = -1;
	return (fds);
}

static int
inlets_row_start(struct part *p)
{
	struct env *e = p->host->env;
	char err[ROWS_ERR];
	int *fds, rc;

	if ((fds = fds_new(e->cfg)) == NULL) {
		log_error("event=start error=nomem");
		return (-1);
	}
	rc = make_inlets(e, *p->host->cur, NULL, fds, err, sizeof(err));
	free(fds);
	return (rc);
}

static void
inlets_row_abort(struct part *p, struct part_reload *r)
{
	struct inlets_row *ir = (struct inlets_row *)p;
	size_t i;

	for (i = 0; ir->fds != NULL && i < r->cfg->ninlets; i++)
		close_fd(&ir->fds[i]);
	free(ir->fds);
	ir->fds = NULL;
}

/* Every inlet's new listening socket (an address no inlet had). */
static int
inlets_row_prepare(struct part *p, struct part_reload *r)
{
	struct inlets_row *ir = (struct inlets_row *)p;
	const struct config *cfg = r->cfg, *ocfg = r->old_gen->cfg;
	char what[CONFIG_PATH_MAX + CONFIG_NAME_MAX + 32];
	size_t i, j;

	if ((ir->fds = fds_new(cfg)) == NULL) {
		snprintf(r->err, r->errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < cfg->ninlets; i++) {
		if (!cfg->inlets[i].has_listen)
			continue; /* intercept only */
		for (j = 0; j < r->old_gen->ninlets; j++)
			if (ocfg->inlets[j].has_listen &&
			    addr_same(&ocfg->inlets[j].listen,
			    &cfg->inlets[i].listen))
				break;
		snprintf(what, sizeof(what), "%s:%d: inlet %s", cfg->path,
		    cfg->inlets[i].line, cfg->inlets[i].name);
		if (bind_new(r, j < r->old_gen->ninlets,
		    &cfg->inlets[i].listen, &ir->fds[i], what) == -1) {
			inlets_row_abort(p, r);
			return (-1);
		}
	}
	return (0);
}

/* Kept sockets move over; the inlets are made again by name. */
static void
inlets_row_commit(struct part *p, struct part_reload *r)
{
	struct inlets_row *ir = (struct inlets_row *)p;
	const struct config *cfg = r->cfg;
	struct gen *old = r->old_gen;
	char msg[1024];
	size_t i, j;

	for (i = 0; i < cfg->ninlets; i++) {
		if (ir->fds[i] != -1 || !cfg->inlets[i].has_listen)
			continue;
		for (j = 0; j < old->ninlets; j++)
			if (old->inlets[j] != NULL && addr_same(
			    &old->cfg->inlets[j].listen, &cfg->inlets[i].listen))
				ir->fds[i] = inlet_detach_listener(
				    old->inlets[j], &cfg->inlets[i]);
	}
	(void)make_inlets(p->host->env, r->gen, old, ir->fds, msg,
	    sizeof(msg));
	free(ir->fds);
	ir->fds = NULL;
	for (i = 0; r->rotated && i < r->gen->ninlets; i++)
		inlet_restart(r->gen->inlets[i]);
}

static void
inlets_row_revoke(struct part *p, struct part_reload *r)
{

	r->revoked += inlet_revoke_all(p->host->env);
}

static unsigned
inlets_row_expire(struct part *p)
{

	return (inlet_expire_all(p->host->env));
}

static void
inlets_row_stop(struct part *p)
{
	struct gen *g = *p->host->cur;
	size_t i;

	for (i = 0; i < g->ninlets; i++)
		inlet_stop(g->inlets[i]);
}

/* The inlets go (their connections stay, without callbacks). */
static void
inlets_row_free(struct part *p)
{
	struct gen *g = *p->host->cur;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->ninlets; i++)
		inlet_free(g->inlets[i]);
	g->ninlets = 0;
}

const struct part_ops rows_inlets = {
	.name = "inlets",
	.size = sizeof(struct inlets_row),
	.start = inlets_row_start,
	.prepare = inlets_row_prepare,
	.abort = inlets_row_abort,
	.commit = inlets_row_commit,
	.revoke = inlets_row_revoke,
	.expire = inlets_row_expire,
	.stop = inlets_row_stop,
	.free = inlets_row_free,
};

/* ------------------------------------------------------------------ */
/* Interception: [node] intercept, made again at each reload.          */

struct intercept_row {
	struct part p;
	int fds[2]; /* new sockets, prepared */
};

/*
 * A connection redirected to the interception listener for an intercept
 * address of the inlet ${idx} of the configuration in force: that inlet
 * carries ${fd} (taken).
 */
static void
intercepted(void *arg, int fd, size_t idx)
{
	struct part *p = arg;
	struct gen *g = *p->host->cur;

	if (idx >= g->ninlets || g->inlets[idx] == NULL) {
		close(fd); /* that inlet failed to start at the last reload */
		return;
	}
	inlet_serve(g->inlets[idx], fd);
}

static int
intercept_row_start(struct part *p)
{
	int fds[2] = {-1, -1};
	char err[ROWS_ERR];

	if (p->host->env->cfg->node.nintercept > 0 &&
	    (p->self = intercept_new(p->host->env, fds, intercepted, p, err,
	    sizeof(err))) == NULL) {
		log_error("event=listen-failed role=inlet name=intercept "
		    "error=\"%s\"", err);
		return (-1);
	}
	return (0);
}

static void
intercept_row_abort(struct part *p, struct part_reload *r)
{
	struct intercept_row *xr = (struct intercept_row *)p;

	(void)r;
	close_fd(&xr->fds[0]);
	close_fd(&xr->fds[1]);
}

static int
intercept_row_prepare(struct part *p, struct part_reload *r)
{
	struct intercept_row *xr = (struct intercept_row *)p;
	const struct config_node *o = &r->old->node, *c = &r->cfg->node;
	char what[CONFIG_PATH_MAX + 16];
	size_t i, j;

	xr->fds[0] = xr->fds[1] = -1;
	snprintf(what, sizeof(what), "%s: intercept", r->cfg->path);
	for (i = 0; i < c->nintercept; i++) {
		for (j = 0; j < o->nintercept; j++)
			if (addr_same(&o->intercept[j], &c->intercept[i]))
				break;
		if (bind_new(r, j < o->nintercept, &c->intercept[i],
		    &xr->fds[i], what) == -1) {
			intercept_row_abort(p, r);
			return (-1);
		}
	}
	return (0);
}

static void
intercept_row_commit(struct part *p, struct part_reload *r)
{
	struct intercept_row *xr = (struct intercept_row *)p;
	const struct config_node *c = &r->cfg->node;
	char msg[1024];
	size_t i;

	for (i = 0; i < c->nintercept; i++)
		if (xr->fds[i] == -1)
			xr->fds[i] = intercept_detach(p->self,
			    &c->intercept[i]);
	intercept_free(p->self); /* what it still holds is not wanted */
	p->self = NULL;
	if (c->nintercept > 0 && (p->self = intercept_new(p->host->env,
	    xr->fds, intercepted, p, msg, sizeof(msg))) == NULL)
		log_error("event=reload role=intercept error=\"%s\"", msg);
	xr->fds[0] = xr->fds[1] = -1; /* intercept_new took them */
}

static void
intercept_row_free(struct part *p)
{

	intercept_free(p->self);
	p->self = NULL;
}

const struct part_ops rows_intercept = {
	.name = "intercept",
	.size = sizeof(struct intercept_row),
	.start = intercept_row_start,
	.prepare = intercept_row_prepare,
	.abort = intercept_row_abort,
	.commit = intercept_row_commit,
	.stop = intercept_row_free,
	.free = intercept_row_free,
};

/* ------------------------------------------------------------------ */
/* The admin endpoint: made again when its address changes.            */

struct admin_row {
	struct part p;
	struct admin *next; /* prepared */
	int changed;
};

static int
admin_row_start(struct part *p)
{
	const struct config_node *cn = &p->host->env->cfg->node;
	char err[ROWS_ERR];

	if (cn->has_admin && (p->self = admin_new(p->host->env, &cn->admin,
	    err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=admin name=admin "
		    "error=\"%s\"", err);
		return (-1);
	}
	return (0);
}

static int
admin_row_prepare(struct part *p, struct part_reload *r)
{
	struct admin_row *ar = (struct admin_row *)p;
	const struct config_node *o = &r->old->node, *c = &r->cfg->node;
	char msg[1024];

	ar->next = NULL;
	ar->changed = c->has_admin != o->has_admin ||
	    (c->has_admin && !addr_same(&c->admin, &o->admin));
	if (ar->changed && c->has_admin && (ar->next = admin_new(
	    p->host->env, &c->admin, msg, sizeof(msg))) == NULL) {
		snprintf(r->err, r->errlen, "%s: admin: %s", r->cfg->path,
		    msg);
		return (-1);
	}
	return (0);
}

static void
admin_row_abort(struct part *p, struct part_reload *r)
{
	struct admin_row *ar = (struct admin_row *)p;

	(void)r;
	admin_free(ar->next);
	ar->next = NULL;
}

static void
admin_row_commit(struct part *p, struct part_reload *r)
{
	struct admin_row *ar = (struct admin_row *)p;

	(void)r;
	if (!ar->changed)
		return;
	admin_free(p->self);
	p->self = ar->next;
	ar->next = NULL;
}

static void
admin_row_free(struct part *p)
{

	admin_free(p->self);
}

const struct part_ops rows_admin = {
	.name = "admin",
	.size = sizeof(struct admin_row),
	.start = admin_row_start,
	.prepare = admin_row_prepare,
	.abort = admin_row_abort,
	.commit = admin_row_commit,
	.free = admin_row_free,
};

/*
 * rows_node:
 * The table of a node: trust first (its commit swaps the credentials the
 * others use, its revoke hands renewed ones out last), then the start-up
 * order of the roles, the admin endpoint last (every listener is bound).
 */
const struct part_ops *const rows_node[ROWS_NODE] = {
	&trust_part, &rows_front, &rows_outlet, &rows_relay, &rows_authority,
	&rows_member, &rows_inlets, &rows_intercept, &rows_admin,
};
