/*
 * check_part: the runtime's table of parts (part.c) with fake rows.  A
 * reload whose third of four rows fails to prepare leaves every row as it
 * was (its socket, the configuration it serves, its counts) and closes
 * what the first two prepared; a good reload commits in table order and
 * revokes in reverse; start, stop, live, expire and free go over every
 * row; a new kind of part is one more entry of the table.  The same
 * with the real rows of the front and the admin endpoint on a fake
 * environment (a loop, no roles): their new sockets are closed, the old
 * ones still accept, until a good reload switches them over.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "env.h"
#include "fixture.h"
#include "part.h"
#include "rows.h"

/* What the rows did, in order: "p0 p1 a0 ..." (prepare, abort, ...). */
static char journal[512];

static void
note(char what, size_t idx)
{
	size_t len = strlen(journal);

	ck_assert_uint_lt(len + 4, sizeof(journal));
	journal[len] = what;
	journal[len + 1] = (char)('0' + idx);
	journal[len + 2] = ' ';
	journal[len + 3] = '\0';
}

/* A fake row: a "listening socket" (one end of a pipe) and a file. */
struct fake {
	struct part p;
	size_t idx;             /* its place in the table */
	int fd, next_fd;        /* in force, prepared */
	const struct config *cfg; /* the file it serves */
	unsigned commits, live;
};

static int fail_prepare = -1; /* the row whose prepare fails */
static int fail_start = -1;   /* the row whose start fails */
static size_t nstarted;

/* A new descriptor (the read end of a pipe; the write end is closed). */
static int
new_fd(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[1]);
	return (p[0]);
}

static int
is_open(int fd)
{

	return (fcntl(fd, F_GETFD) != -1);
}

static int
fake_start(struct part *p)
{
	struct fake *f = (struct fake *)p;

	f->idx = nstarted++;
	f->fd = new_fd();
	f->next_fd = -1;
	f->cfg = NULL;
	f->live = (unsigned)f->idx;
	note('s', f->idx);
	return ((int)f->idx == fail_start ? -1 : 0);
}

static int
fake_prepare(struct part *p, struct part_reload *r)
{
	struct fake *f = (struct fake *)p;

	note('p', f->idx);
	if ((int)f->idx == fail_prepare) {
		snprintf(r->err, r->errlen, "row %zu cannot bind", f->idx);
		return (-1);
	}
	f->next_fd = new_fd();
	return (0);
}

static void
fake_abort(struct part *p, struct part_reload *r)
{
	struct fake *f = (struct fake *)p;

	(void)r;
	note('a', f->idx);
	close(f->next_fd);
	f->next_fd = -1;
}

static void
fake_commit(struct part *p, struct part_reload *r)
{
	struct fake *f = (struct fake *)p;

	note('c', f->idx);
	close(f->fd);
	f->fd = f->next_fd;
	f->next_fd = -1;
	f->cfg = r->cfg;
	f->commits++;
}

static void
fake_revoke(struct part *p, struct part_reload *r)
{
	struct fake *f = (struct fake *)p;

	note('r', f->idx);
	r->revoked += (unsigned)f->idx;
}

static unsigned
fake_expire(struct part *p)
{

	note('e', ((struct fake *)p)->idx);
	return (1);
}

static void
fake_stop(struct part *p)
{

	note('t', ((struct fake *)p)->idx);
}

static unsigned
fake_live(const struct part *p)
{

	return (((const struct fake *)p)->live);
}

static void
fake_free(struct part *p)
{
	struct fake *f = (struct fake *)p;

	note('f', f->idx);
	close(f->fd);
}

static const struct part_ops fake_ops = {
	.name = "fake",
	.size = sizeof(struct fake),
	.start = fake_start,
	.prepare = fake_prepare,
	.abort = fake_abort,
	.commit = fake_commit,
	.revoke = fake_revoke,
	.expire = fake_expire,
	.stop = fake_stop,
	.live = fake_live,
	.free = fake_free,
};

static const struct part_ops *const table4[4] = {
	&fake_ops, &fake_ops, &fake_ops, &fake_ops,
};

static struct part_host host;
static struct config cfg_old, cfg_new;
static struct part *ps[5];
static char err[256];

/* Four rows started, the journal empty. */
static void
setup(void)
{

	memset(&host, 0, sizeof(host));
	journal[0] = '\0';
	nstarted = 0;
	fail_prepare = fail_start = -1;
	ck_assert_int_eq(parts_start(ps, table4, 4, &host), 0);
	ck_assert_str_eq(journal, "s0 s1 s2 s3 ");
	journal[0] = '\0';
}

static void
teardown(void)
{

	parts_free(ps, 5);
}

/* A reload of ${cfg_new} over ${cfg_old}. */
static void
reload_init(struct part_reload *r)
{

	memset(r, 0, sizeof(*r));
	r->old = &cfg_old;
	r->cfg = &cfg_new;
	r->err = err;
	r->errlen = sizeof(err);
}

/*
 * The third of four rows fails to prepare: the two before it abort, in
 * reverse order, closing what they prepared; no row commits; every row
 * keeps its socket (open), its file and its counts.
 */
START_TEST(test_abort_halfway)
{
	struct part_reload r;
	struct fake *f[4];
	int fd[4], next[2];
	size_t i;

	for (i = 0; i < 4; i++) {
		f[i] = (struct fake *)ps[i];
		f[i]->cfg = &cfg_old;
		fd[i] = f[i]->fd;
	}
	reload_init(&r);
	fail_prepare = 2;
	/* The prepared descriptors are the next two free numbers. */
	next[0] = new_fd();
	next[1] = new_fd();
	close(next[0]);
	close(next[1]);
	ck_assert_int_eq(parts_prepare(ps, 4, &r), -1);
	ck_assert_str_eq(journal, "p0 p1 p2 a1 a0 ");
	ck_assert_str_eq(err, "row 2 cannot bind");
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(f[i]->fd, fd[i]);
		ck_assert(is_open(fd[i]));
		ck_assert_int_eq(f[i]->next_fd, -1);
		ck_assert_ptr_eq(f[i]->cfg, &cfg_old);
		ck_assert_uint_eq(f[i]->commits, 0);
	}
	ck_assert(!is_open(next[0]));
	ck_assert(!is_open(next[1]));
	ck_assert_uint_eq(r.revoked, 0);

	/* The next reload, with nothing failing, goes through. */
	fail_prepare = -1;
	journal[0] = '\0';
	ck_assert_int_eq(parts_prepare(ps, 4, &r), 0);
	parts_commit(ps, 4, &r);
	for (i = 0; i < 4; i++) {
		ck_assert_ptr_eq(f[i]->cfg, &cfg_new);
		ck_assert_uint_eq(f[i]->commits, 1);
		ck_assert(!is_open(fd[i]) || fd[i] == f[i]->fd);
	}
}
END_TEST

/* The first row failing aborts nothing: nothing was prepared. */
START_TEST(test_abort_first)
{
	struct part_reload r;

	reload_init(&r);
	fail_prepare = 0;
	ck_assert_int_eq(parts_prepare(ps, 4, &r), -1);
	ck_assert_str_eq(journal, "p0 ");
}
END_TEST

/*
 * A good reload: prepare and commit in table order, then revoke in
 * reverse (the first row, the node's trust, hands out renewed credentials
 * after every role ended what the new file refuses); the counts add up.
 */
START_TEST(test_commit_order)
{
	struct part_reload r;
	size_t i;

	reload_init(&r);
	ck_assert_int_eq(parts_prepare(ps, 4, &r), 0);
	parts_commit(ps, 4, &r);
	ck_assert_str_eq(journal, "p0 p1 p2 p3 c0 c1 c2 c3 r3 r2 r1 r0 ");
	ck_assert_uint_eq(r.revoked, 0 + 1 + 2 + 3);
	for (i = 0; i < 4; i++) {
		ck_assert_ptr_eq(((struct fake *)ps[i])->cfg, &cfg_new);
		ck_assert(is_open(((struct fake *)ps[i])->fd));
	}
}
END_TEST

/* Expire, stop and live go over every row; free in reverse order. */
START_TEST(test_run_ops)
{

	ck_assert_uint_eq(parts_expire(ps, 4), 4);
	parts_stop(ps, 4);
	ck_assert_uint_eq(parts_live(ps, 4), 0 + 1 + 2 + 3);
	parts_free(ps, 4);
	ck_assert_str_eq(journal, "e0 e1 e2 e3 t0 t1 t2 t3 f3 f2 f1 f0 ");
	ck_assert_ptr_null(ps[0]);
}
END_TEST

/* A start that fails stops the start-up; parts_free frees what was made. */
START_TEST(test_start_fails)
{
	struct part *qs[4];

	parts_free(ps, 4);
	journal[0] = '\0';
	nstarted = 0;
	fail_start = 1;
	ck_assert_int_eq(parts_start(qs, table4, 4, &host), -1);
	ck_assert_ptr_null(qs[2]);
	ck_assert_ptr_null(qs[3]);
	parts_free(qs, 4);
	ck_assert_str_eq(journal, "s0 s1 f1 f0 ");
}
END_TEST

/* A new kind of part, with only the operations it needs. */
struct other {
	struct part p;
	int started, committed;
	unsigned long big[64]; /* a row's struct is its own size */
};

static int
other_start(struct part *p)
{
	struct other *o = (struct other *)p;

	o->started = 1;
	o->big[63] = 63;
	note('S', 4);
	return (0);
}

static void
other_commit(struct part *p, struct part_reload *r)
{

	(void)r;
	((struct other *)p)->committed = 1;
	note('C', 4);
}

static const struct part_ops other_ops = {
	.name = "authority",
	.size = sizeof(struct other),
	.start = other_start,
	.commit = other_commit,
};

/*
 * One more row in the table is all a new kind of part takes: it starts
 * with the others, commits after them, and the loop calls none of the
 * operations it leaves out.
 */
START_TEST(test_new_row)
{
	static const struct part_ops *const table5[5] = {
		&fake_ops, &fake_ops, &fake_ops, &fake_ops, &other_ops,
	};
	struct part_reload r;
	struct other *o;

	parts_free(ps, 4);
	journal[0] = '\0';
	nstarted = 0;
	ck_assert_int_eq(parts_start(ps, table5, 5, &host), 0);
	o = (struct other *)ps[4];
	ck_assert_ptr_eq(o->p.ops, &other_ops);
	ck_assert_ptr_eq(o->p.host, &host);
	ck_assert_int_eq(o->started, 1);
	ck_assert_uint_eq(o->big[63], 63);
	reload_init(&r);
	ck_assert_int_eq(parts_prepare(ps, 5, &r), 0);
	parts_commit(ps, 5, &r);
	ck_assert_int_eq(o->committed, 1);
	ck_assert_uint_eq(parts_expire(ps, 5), 4);
	parts_stop(ps, 5);
	ck_assert_uint_eq(parts_live(ps, 5), 6);
	ck_assert_str_eq(journal, "s0 s1 s2 s3 S4 p0 p1 p2 p3 c0 c1 c2 c3 C4 "
	    "r3 r2 r1 r0 e0 e1 e2 e3 t0 t1 t2 t3 ");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Real rows (front, admin) on a fake environment.                     */

/* The test's directory: $TMPDIR (or /tmp)/check_part.XXXXXX; short, so
 * that the socket paths fit a sockaddr_un. */
static char dir[64];

/* Make the test's directory. */
static void
mk_dir(void)
{
	const char *t = getenv("TMPDIR");

	if (t == NULL || *t == '\0' || strlen(t) > 32)
		t = "/tmp";
	snprintf(dir, sizeof(dir), "%s/check_part.XXXXXX", t);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* ${a} = unix socket ${name} in the test's directory. */
static void
unix_addr(struct addr *a, const char *name)
{
	char s[sizeof(dir) + 64], e[128];

	snprintf(s, sizeof(s), "unix:%s/%s", dir, name);
	ck_assert_int_eq(addr_parse(s, a, e, sizeof(e)), 0);
}

/* Something accepts on the unix socket ${name}. */
static int
accepts(const char *name)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, name);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return (rc == 0);
}

/* Remove the test's directory and the socket files left in it. */
static void
rm_dir(void)
{
	static const char *const names[] = {"old-front.sock",
	    "old-admin.sock", "new-front.sock", "new-admin.sock"};
	char path[sizeof(dir) + 64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/* A file with [node] listen and admin at the unix sockets ${tag}-*. */
static void
node_file(struct config *c, const char *tag)
{
	char name[64];

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s.ini", tag);
	c->node.has_listen = 1;
	snprintf(name, sizeof(name), "%s-front.sock", tag);
	unix_addr(&c->node.listen, name);
	c->node.has_admin = 1;
	snprintf(name, sizeof(name), "%s-admin.sock", tag);
	unix_addr(&c->node.admin, name);
}

/*
 * The front, the admin endpoint, then two fake rows, the first of which
 * (the third row) fails to prepare: the front's and the admin's new
 * sockets are closed, the old ones still accept, the environment still
 * holds the old file; the next reload switches both over.
 */
START_TEST(test_real_rows_abort)
{
	static const struct part_ops *const table[4] = {
		&rows_front, &rows_admin, &fake_ops, &fake_ops,
	};
	struct part *rs[4];
	struct env e;
	struct part_host h;
	struct part_reload r;
	void *front, *admin;

	mk_dir();
	memset(&e, 0, sizeof(e));
	memset(&h, 0, sizeof(h));
	e.loop = ev_default_loop(0);
	conn_ctx_init(&e.ctx, e.loop);
	node_file(&cfg_old, "old");
	node_file(&cfg_new, "new");
	e.cfg = &cfg_old;
	h.env = &e;
	nstarted = 0;
	ck_assert_int_eq(parts_start(rs, table, 4, &h), 0);
	ck_assert_ptr_eq(h.front, rs[0]->self);
	front = rs[0]->self;
	admin = rs[1]->self;
	ck_assert(accepts("old-front.sock"));
	ck_assert(accepts("old-admin.sock"));

	reload_init(&r);
	fail_prepare = 0; /* the first fake row: the third row */
	journal[0] = '\0';
	ck_assert_int_eq(parts_prepare(rs, 4, &r), -1);
	ck_assert_str_eq(journal, "p0 ");
	ck_assert(accepts("old-front.sock"));
	ck_assert(accepts("old-admin.sock"));
	ck_assert(!accepts("new-front.sock"));
	ck_assert(!accepts("new-admin.sock"));
	ck_assert_ptr_eq(e.cfg, &cfg_old);
	ck_assert_ptr_eq(rs[0]->self, front);
	ck_assert_ptr_eq(rs[1]->self, admin);
	ck_assert_uint_eq(e.ctx.nconns, 0);

	/* Nothing fails: the front and the admin endpoint move over. */
	fail_prepare = -1;
	ck_assert_int_eq(parts_prepare(rs, 4, &r), 0);
	e.cfg = &cfg_new; /* as the node does before the commits */
	parts_commit(rs, 4, &r);
	ck_assert(accepts("new-front.sock"));
	ck_assert(accepts("new-admin.sock"));
	ck_assert(!accepts("old-front.sock"));
	ck_assert(!accepts("old-admin.sock"));
	ck_assert_ptr_eq(rs[0]->self, front); /* rebuilt in place */
	parts_free(rs, 4);
	conn_ctx_fini(&e.ctx);
	rm_dir();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("part");
	TCase *tc = tcase_create("reload");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_abort_halfway);
	tcase_add_test(tc, test_abort_first);
	tcase_add_test(tc, test_commit_order);
	tcase_add_test(tc, test_run_ops);
	tcase_add_test(tc, test_start_fails);
	tcase_add_test(tc, test_new_row);
	suite_add_tcase(s, tc);
	tc = tcase_create("real");
	tcase_add_test(tc, test_real_rows_abort);
	suite_add_tcase(s, tc);
	return (fixture_main(s));
}
