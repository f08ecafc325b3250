/*
 * check_sandbox: the run-time seccomp allow-list and the Landlock rules,
 * each installed in a child process (never in the test runner): what the
 * node needs still works; execve, ptrace and opening a file for writing
 * kill with SIGSYS; Landlock lets through only the files and directories
 * it was given; the resolver (resolve.c, c-ares) looks names up under the
 * filter, and getrandom(2), which newer c-ares calls, is allowed.
 */
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "fixture.h"
#include "resolve.h"
#include "sandbox.h"

/* Child exit codes (below 64; a signal is reported apart). */
#define C_OK 0
#define C_SETUP 10    /* the sandbox could not be installed */
#define C_NOLL 11     /* no Landlock in this kernel */
#define C_RETURNED 12 /* a forbidden call returned instead of killing */
#define C_WRONG 13    /* an allowed call failed, or a denied one worked */

static char dir[64];          /* a private directory for each test */
static char okfile[128];      /* a file Landlock lets the child read */
static char otherfile[128];   /* one it does not */

static void
setup(void)
{
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/check_sandbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(okfile, sizeof(okfile), "%s/ok.ini", dir);
	snprintf(otherfile, sizeof(otherfile), "%s/other", dir);
	ck_assert_int_ne(fd = open(okfile, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	ck_assert_int_ne(fd = open(otherfile, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
}

static void
teardown(void)
{
	char p[160];

	(void)unlink(okfile);
	(void)unlink(otherfile);
	snprintf(p, sizeof(p), "%s/s.sock", dir);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/new", dir);
	(void)unlink(p);
	(void)rmdir(p);
	(void)rmdir(dir);
}

/* In the child: no_new_privs and the seccomp filter, or exit C_SETUP. */
static void
child_seccomp(void)
{
	char err[256];

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    sandbox_seccomp_load(err, sizeof(err)) == -1)
		_exit(C_SETUP);
}

/* In the child: no_new_privs and Landlock (okfile; dir), or exit. */
static void
child_landlock(void)
{
	const char *files[1] = {okfile}, *dirs[1] = {dir};
	char err[256];
	int abi;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(C_SETUP);
	if ((abi = sandbox_landlock_load(files, 1, dirs, 1, err,
	    sizeof(err))) == -1)
		_exit(C_SETUP);
	if (abi == 0)
		_exit(C_NOLL);
}

/* Wait for ${pid}; its wait status. */
static int
reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return (st);
}

/* Assert that the child ${pid} was killed by SIGSYS. */
static void
assert_sigsys(pid_t pid)
{
	int st = reap(pid);

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "expected SIGSYS, got %s %d", WIFSIGNALED(st) ? "signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* Assert that the child ${pid} exited C_OK (C_NOLL: no Landlock, skip). */
static void
assert_ok(pid_t pid)
{
	int st = reap(pid);

	ck_assert_msg(WIFEXITED(st), "child killed by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (WEXITSTATUS(st) == C_NOLL) {
		fprintf(stderr, "check_sandbox: no Landlock here, skipped\n");
		return;
	}
	ck_assert_int_eq(WEXITSTATUS(st), C_OK);
}

/* What the node does once ready still works under the filter. */
START_TEST(test_allowed)
{
	uint8_t b[16];
	int p[2];
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_seccomp();
		if (pipe2(p, O_CLOEXEC) == -1 || write(p[1], "x", 1) != 1 ||
		    read(p[0], b, 1) != 1 || close(p[0]) == -1 ||
		    close(p[1]) == -1)
			_exit(C_WRONG);
		/* Reading (a reload) is allowed by seccomp. */
		if ((p[0] = open(okfile, O_RDONLY | O_CLOEXEC)) == -1)
			_exit(C_WRONG);
		close(p[0]);
		_exit(C_OK);
	}
	assert_ok(pid);
}
END_TEST

/*
 * The resolver under the filter, as a node uses it after start-up (a
 * reload's new local name, a dialed name): a name from /etc/hosts gets
 * its loopback address; a name that only DNS could answer fails or
 * answers, but does not kill (socket, connect, send, recvfrom, fcntl on
 * the resolver's socket); getrandom(2) works (c-ares 1.20 and later call
 * it after start-up to refill their query-id randomness).
 */
START_TEST(test_resolver)
{
	struct ev_loop *loop;
	struct resolve *r;
	struct addr a, dns;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.sa;
	uint8_t b[16];
	char err[512];
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		/* Made before the filter, as node_run makes them. */
		if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL ||
		    (r = resolve_new(loop, NULL, NULL, err, sizeof(err))) ==
		    NULL)
			_exit(C_SETUP);
		child_seccomp();
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b) ||
		    getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b))
			_exit(C_WRONG);
		if (addr_parse("localhost:9", &a, err, sizeof(err)) == -1 ||
		    resolve_addr_wait(r, &a, err, sizeof(err)) == -1)
			_exit(C_WRONG);
		if (!(a.sa.ss_family == AF_INET &&
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127 &&
		    ntohs(sin->sin_port) == 9) && !(a.sa.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) &&
		    ntohs(sin6->sin6_port) == 9))
			_exit(C_WRONG);
		/* RFC 6761: never answered; whatever comes back, no kill. */
		if (addr_parse("sallyport-check.invalid:9", &dns, err,
		    sizeof(err)) == -1)
			_exit(C_WRONG);
		(void)resolve_addr_wait(r, &dns, err, sizeof(err));
		resolve_free(r);
		ev_loop_destroy(loop);
		_exit(C_OK);
	}
	assert_ok(pid);
}
END_TEST

START_TEST(test_execve_kills)
{
	char *const argv[] = {"true", NULL};
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_seccomp();
		execve("/bin/true", argv, argv + 1);
		_exit(C_RETURNED);
	}
	assert_sigsys(pid);
}
END_TEST

START_TEST(test_ptrace_kills)
{
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_seccomp();
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		_exit(C_RETURNED);
	}
	assert_sigsys(pid);
}
END_TEST

/* Opening for writing, creating or truncating: killed by seccomp. */
START_TEST(test_open_write_kills)
{
	static const int flags[] = {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT,
	    O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND};
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_seccomp();
		(void)open(otherfile, flags[_i] | O_CLOEXEC, 0600);
		_exit(C_RETURNED);
	}
	assert_sigsys(pid);
}
END_TEST

/* Landlock: read the listed file, sockets in the listed directory. */
START_TEST(test_landlock_allows)
{
	struct sockaddr_un sun;
	pid_t pid;
	int fd;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_landlock();
		if ((fd = open(okfile, O_RDONLY | O_CLOEXEC)) == -1)
			_exit(C_WRONG);
		close(fd);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s.sock", dir);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    unlink(sun.sun_path) == -1)
			_exit(C_WRONG);
		_exit(C_OK);
	}
	assert_ok(pid);
}
END_TEST

/* Landlock: nothing else, not even reading or writing next door. */
START_TEST(test_landlock_denies)
{
	char p[160];
	pid_t pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_landlock();
		snprintf(p, sizeof(p), "%s/new", dir);
		if (open(otherfile, O_RDONLY | O_CLOEXEC) != -1 ||
		    errno != EACCES)
			_exit(C_WRONG);
		if (open(okfile, O_WRONLY | O_CLOEXEC) != -1 || errno != EACCES)
			_exit(C_WRONG);
		if (open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) != -1 ||
		    errno != EACCES)
			_exit(C_WRONG);
		if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) != -1 ||
		    errno != EACCES)
			_exit(C_WRONG);
		if (mkdir(p, 0700) != -1 || errno != EACCES)
			_exit(C_WRONG);
		_exit(C_OK);
	}
	assert_ok(pid);
}
END_TEST

/* Both layers, as the node has them: a read elsewhere fails, no kill. */
START_TEST(test_both)
{
	pid_t pid;
	int fd;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		child_landlock();
		child_seccomp();
		if ((fd = open(okfile, O_RDONLY | O_CLOEXEC)) == -1)
			_exit(C_WRONG);
		close(fd);
		if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) != -1 ||
		    errno != EACCES)
			_exit(C_WRONG);
		_exit(C_OK);
	}
	assert_ok(pid);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc;

	tc = tcase_create("seccomp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_execve_kills);
	tcase_add_test(tc, test_ptrace_kills);
	tcase_add_loop_test(tc, test_open_write_kills, 0, 5);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolver");
	/* A DNS server that does not answer: RESOLVE_WAIT_MAX. */
	tcase_set_timeout(tc, 3 * RESOLVE_WAIT_MAX);
	tcase_add_test(tc, test_resolver);
	suite_add_tcase(s, tc);
	tc = tcase_create("landlock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_landlock_allows);
	tcase_add_test(tc, test_landlock_denies);
	tcase_add_test(tc, test_both);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

#ifdef __SANITIZE_ADDRESS__
	/* ASan's run time needs calls the filter kills (sandbox.c). */
	return (77);
#endif
	return (fixture_main(sandbox_suite()));
}
