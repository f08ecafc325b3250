/*
 * sandbox: see sandbox.h.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "sandbox.h"
#include "seterr.h"

/* Landlock ABI 3 right, newer than Debian 12's <linux/landlock.h>. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* At most this many unix listen sockets get a Landlock rule each. */
#define SANDBOX_DIRS_MAX 64

/*
 * The run-time allow-list: the system calls the node makes once "ready"
 * is logged, measured with strace over the whole integration suite and
 * confirmed by a SANDBOX_AUDIT build (SCMP_ACT_LOG: nothing logged);
 * docs/security.md says how to redo it.  Not here, on purpose: execve,
 * ptrace, fork/clone, kill, open for writing, setuid and friends, and
 * whatever getaddrinfo(3)'s NSS modules may do (netlink's recvmsg for
 * AI_ADDRCONFIG, poll, sendmmsg...): no name is looked up that way, every
 * lookup is resolve.c's (c-ares), at start-up and at a reload alike.
 * Anything else kills the process (SIGSYS).  37 entries, plus read-only
 * openat, ioctl(FIONREAD) and four fcntl commands (the resolver's
 * sockets) below: 40 system calls.
 */
struct allowed {
	int nr;
	const char *why; /* documentation only: the reason it is here */
};

static const struct allowed allowed[] = {
    /* The event loop (libev's epoll backend). */
    {SCMP_SYS(epoll_wait), "libev waits for events"},
    {SCMP_SYS(epoll_ctl), "libev adds, changes, removes watched fds"},
    /* Signals: libev's ev_signal (SIGTERM, SIGINT, SIGHUP). */
    {SCMP_SYS(rt_sigaction), "libev (re)installs signal handlers"},
    {SCMP_SYS(rt_sigreturn), "return from the libev signal handler"},
    /* Clocks: libev's timers; log time stamps. */
    {SCMP_SYS(clock_gettime), "ev_now/ev_time (usually the vDSO)"},
    /* Sockets: accepting, dialing (sock.c), shutting down. */
    {SCMP_SYS(accept4), "listener.c accepts clients and peers"},
    {SCMP_SYS(socket), "sock.c dials outlets, relays, targets; syslog"},
    {SCMP_SYS(connect), "sock.c dials (non-blocking); syslog reconnect"},
    {SCMP_SYS(getsockopt), "SO_ERROR after a non-blocking connect; "
	"SO_ORIGINAL_DST of an intercepted connection; TCP_INFO of a "
	"target connection holding a dial slot (sock.c)"},
    {SCMP_SYS(setsockopt), "TCP_NODELAY, keepalive on new sockets"},
    {SCMP_SYS(getsockname), "conn.c names local ends in logs; the "
	"inlet puts its client's ends in the request"},
    {SCMP_SYS(getpeername), "sock.c: peers named in logs and held against "
	"from =; the inlet puts its client's ends in the request"},
    {SCMP_SYS(shutdown), "half-close (EOF passed on)"},
    {SCMP_SYS(close), "every fd ends here"},
    /* Data: conn.c, the relay, channel records, the log. */
    {SCMP_SYS(read), "sockets, the pipes of splice; libev's wakeups"},
    {SCMP_SYS(write), "sockets; the stderr log; libev's wakeups"},
    {SCMP_SYS(readv), "conn.c reads into its ring buffers"},
    {SCMP_SYS(writev), "conn.c writes from its ring buffers"},
    {SCMP_SYS(recvfrom), "recv(2) is recvfrom on x86-64"},
    {SCMP_SYS(sendto), "send(2) is sendto; syslog datagrams"},
    {SCMP_SYS(sendmsg), "sock.c sends with MSG_NOSIGNAL"},
    {SCMP_SYS(splice), "the relay moves ciphertext in the kernel"},
    {SCMP_SYS(pipe2), "the relay's pipe for each direction"},
    /* Memory (malloc, BearSSL contexts). */
    {SCMP_SYS(brk), "malloc grows the heap"},
    {SCMP_SYS(mmap), "malloc for large blocks"},
    {SCMP_SYS(munmap), "free of large blocks"},
    {SCMP_SYS(mremap), "realloc of large blocks"},
    /* The end: unix sockets removed, exit status. */
    {SCMP_SYS(unlink), "listener.c removes its unix socket at exit"},
    /* Reload (node.c): new listeners, the files read again. */
    {SCMP_SYS(bind), "a reload binds the listeners it adds"},
    {SCMP_SYS(listen), "a reload's new listeners"},
    {SCMP_SYS(umask), "sock.c binds unix sockets under umask 0177"},
    {SCMP_SYS(fstat), "identity.c checks the key file's mode and owner"},
    {SCMP_SYS(newfstatat), "reload = watch stats the files (stat(2))"},
    {SCMP_SYS(geteuid), "identity.c: the key file must be ours"},
    {SCMP_SYS(fstatfs), "identity.c: a refused key on a read-only volume"},
    {SCMP_SYS(exit_group), "exit"},
    /*
     * Randomness after start-up.  Our DRBG is seeded before the filter,
     * but the resolver is not ours: c-ares draws its query ids from a
     * 256-byte cache it refills whenever it runs out (every 128 queries),
     * from /dev/urandom opened at initialisation in Debian 12's 1.18 (a
     * read), but with getrandom(2) (or arc4random_buf, which calls it) in
     * newer releases and in builds that find those, so a node that looks
     * names up long enough would call it in the filter.  It reads kernel
     * randomness and nothing else: harmless to allow, and a library
     * update then cannot kill the node.
     */
    {SCMP_SYS(getrandom), "c-ares refills its query-id randomness"},
};

static int disabled;
static int pgstore; /* an authority's store is PostgreSQL (write_dirs) */
static char status[128] = "sandbox=none";

/*
 * The directories the node writes files in after start-up, set by
 * sandbox_enter from the configuration (write_dirs): the authority's
 * store (SQLite's database, its -wal, -shm and -journal files) and the
 * enrolment credential's (cred_save: a temporary file, then a rename).
 * With none, no file is ever opened for writing (seccomp and Landlock).
 */
#define SANDBOX_WDIRS_MAX 2
static char wdirs[SANDBOX_WDIRS_MAX][CONFIG_PATH_MAX];
static size_t nwdirs;
static int writes_limited; /* the filter is in force: wdirs only */
static int (*thread_run)(int rs); /* sandbox_thread_set */

/*
 * The paths Landlock lets the process read (each with what is beneath
 * it), as landlock_prepare got them; in force once landlock_restrict
 * succeeded (sandbox_reads).
 */
#define SANDBOX_READS_MAX (2 + 3 + 2 + CRED_MAX_BLOCK)
static char reads[SANDBOX_READS_MAX][CONFIG_PATH_MAX];
static size_t nreads;
static int reads_limited;

void
sandbox_disable(void)
{

	disabled = 1;
}

const char *
sandbox_status(void)
{

	return (status);
}

/*
 * What a node that writes files (write_dirs: an authority's store, an
 * enrolled credential) calls besides the allow-list: SQLite's file
 * calls (its unix VFS, checked with strace on Debian 12's 3.40: reads
 * and writes at offsets, fdatasync of the files and the directory,
 * fchown of new files when root, ftruncate of -shm, getpid for its fork
 * check, access(2) of the -journal and -wal names, POSIX record locks,
 * unlink at close) and cred_save's (a new file, fsync, rename).  openat
 * may then create or write (O_RDWR, O_RDWR|O_CREAT,
 * O_WRONLY|O_CREAT|O_TRUNC); Landlock says where.  The authority's
 * worker thread's calls: worker_rules.  Return 0, or -1.
 */
static int
writer_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	static const int calls[] = {SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	    SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(ftruncate),
	    SCMP_SYS(fchown), SCMP_SYS(getpid), SCMP_SYS(access),
	    SCMP_SYS(faccessat), SCMP_SYS(lseek), SCMP_SYS(rename),
	    SCMP_SYS(renameat), SCMP_SYS(unlinkat)};
	static const int locks[] = {F_GETLK, F_SETLK, F_SETLKW};
	static const int opens[] = {O_RDWR, O_RDWR | O_CREAT,
	    O_WRONLY | O_CREAT | O_TRUNC};
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sizeof(calls) / sizeof(calls[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	for (i = 0; r == 0 && i < sizeof(locks) / sizeof(locks[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)locks[i]));
	for (i = 0; r == 0 && i < sizeof(opens) / sizeof(opens[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
		    O_APPEND, (scmp_datum_t)opens[i]));
	if (r != 0) {
		snprintf(err, errlen, "seccomp_rule_add (writer): %s",
		    strerror(-r));
		return (-1);
	}
	return (0);
}

/*
 * What the authority's worker thread (authwork.h, made before the filter,
 * which TSYNC loads for it too) calls besides the allow-list: futex (its
 * mutex and conditions), and malloc's in a second thread's arena, which
 * grows with mprotect (never PROT_EXEC: allowed only with that bit clear)
 * and gives memory back with madvise(MADV_DONTNEED).  With a PostgreSQL
 * store (authpg.c) libpq's too, on that thread (checked with strace on
 * Debian 12's libpq 15: a connection made and made again under the
 * filter, 113-authority-replicas-pg.sh): poll(2) for its socket, and
 * the rest of its connect is on the allow-list (socket, connect,
 * getsockopt, setsockopt, getsockname, sendto, recvfrom).  Return 0, or
 * -1.
 */
static int
worker_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	static const int pq[] = {SCMP_SYS(poll)};
	size_t i;
	int r;

	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 1,
		    SCMP_A2(SCMP_CMP_EQ, MADV_DONTNEED));
	for (i = 0; r == 0 && pgstore && i < sizeof(pq) / sizeof(pq[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, pq[i], 0);
	if (r != 0) {
		snprintf(err, errlen, "seccomp_rule_add (worker): %s",
		    strerror(-r));
		return (-1);
	}
	return (0);
}

/*
 * sandbox_seccomp_load(err, errlen):
 * Load the allow-list; see sandbox.h.
 */
int
sandbox_seccomp_load(char *err, size_t errlen)
{
	static const int fcntl_cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};
	scmp_filter_ctx ctx;
	size_t i;
	int r;

#ifdef SANDBOX_AUDIT
	/* Measuring build: log what the list lacks instead of killing. */
	if ((ctx = seccomp_init(SCMP_ACT_LOG)) == NULL) {
#else
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
#endif
		snprintf(err, errlen, "seccomp_init failed");
		goto fail0;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i].nr,
		    0)) != 0) {
			snprintf(err, errlen, "seccomp_rule_add %d: %s",
			    allowed[i].nr, strerror(-r));
			goto fail1;
		}
	}
	/*
	 * openat, read-only only: a reload (SIGHUP) rereads the config and
	 * key files; Landlock says which.  Any flag that writes, creates or
	 * truncates kills.
	 */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND, O_RDONLY))) != 0) {
		snprintf(err, errlen, "seccomp_rule_add openat: %s",
		    strerror(-r));
		goto fail1;
	}
	/*
	 * fcntl, four commands only: c-ares (resolve.c) makes each resolver
	 * socket (UDP, or TCP for long answers) non-blocking and
	 * close-on-exec with F_GETFL/F_SETFL and F_GETFD/F_SETFD.
	 */
	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++) {
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl),
		    1, SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i]))) !=
		    0) {
			snprintf(err, errlen, "seccomp_rule_add fcntl: %s",
			    strerror(-r));
			goto fail1;
		}
	}
	if ((nwdirs > 0 || pgstore) && worker_rules(ctx, err, errlen) == -1)
		goto fail1;
	if (nwdirs > 0 && writer_rules(ctx, err, errlen) == -1)
		goto fail1;
	/* ioctl, FIONREAD only: is a whole first message waiting (conn.c)? */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD))) != 0) {
		snprintf(err, errlen, "seccomp_rule_add ioctl: %s",
		    strerror(-r));
		goto fail1;
	}
	/* Every thread (the authority's worker), not only this one. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		snprintf(err, errlen, "seccomp_attr_set TSYNC: %s",
		    strerror(-r));
		goto fail1;
	}
	if ((r = seccomp_load(ctx)) != 0) {
		snprintf(err, errlen, "seccomp_load: %s", strerror(-r));
		goto fail1;
	}
	seccomp_release(ctx);
	return (0);
fail1:
	seccomp_release(ctx);
fail0:
	return (-1);
}

/* Add a path-beneath rule for ${path} with ${access}; 0 or -1 (${err}). */
static int
landlock_add(int rs, const char *path, __u64 access, char *err,
    size_t errlen)
{
	struct landlock_path_beneath_attr pb;
	int fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "landlock: %s: %s", path,
		    strerror(errno));
		goto fail0;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1) {
		snprintf(err, errlen, "landlock_add_rule %s: %s", path,
		    strerror(errno));
		goto fail1;
	}
	close(fd);
	return (0);
fail1:
	close(fd);
fail0:
	return (-1);
}

/* The directory of ${path} into ${buf} ("." for a bare name). */
static const char *
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
	return (buf);
}

/*
 * Make a Landlock ruleset for sandbox_landlock_load (see sandbox.h), not
 * yet in force: opening the paths may need the privileges about to be
 * dropped.  Store its fd in *${rs} (-1: no Landlock in this kernel) and
 * return the ABI (0: none), or -1 with a message in ${err}.
 */
static int
landlock_prepare(const char *const *files, size_t nfiles,
    const char *const *dirs, size_t ndirs, int *rs, char *err, size_t errlen)
{
	struct landlock_ruleset_attr ra;
	long abi;
	size_t i;

	*rs = -1;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return (0); /* ENOSYS, EOPNOTSUPP: not built or not enabled */
	memset(&ra, 0, sizeof(ra));
	/* Every file system right this ABI knows is handled (denied). */
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if ((*rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) == -1) {
		snprintf(err, errlen, "landlock_create_ruleset: %s",
		    strerror(errno));
		goto fail0;
	}
	for (i = 0, nreads = 0; i < nfiles; i++) {
		if (landlock_add(*rs, files[i], LANDLOCK_ACCESS_FS_READ_FILE,
		    err, errlen) == -1)
			goto fail1;
		if (nreads < SANDBOX_READS_MAX)
			snprintf(reads[nreads++], sizeof(reads[0]), "%s",
			    files[i]);
	}
	for (i = 0; i < ndirs; i++)
		if (landlock_add(*rs, dirs[i], LANDLOCK_ACCESS_FS_MAKE_SOCK |
		    LANDLOCK_ACCESS_FS_REMOVE_FILE, err, errlen) == -1)
			goto fail1;
	/* Where files are written (write_dirs): make, write, replace,
	 * truncate, remove regular files, open the directory to sync it. */
	for (i = 0; i < nwdirs; i++)
		if (landlock_add(*rs, wdirs[i], LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		    LANDLOCK_ACCESS_FS_REMOVE_FILE |
		    (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0), err,
		    errlen) == -1)
			goto fail1;
	return ((int)abi);
fail1:
	close(*rs);
	*rs = -1;
fail0:
	return (-1);
}

/* Put the ruleset ${rs} in force and close it.  0 or -1 (${err}). */
static int
landlock_restrict(int rs, char *err, size_t errlen)
{
	int rc = 0;

	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		snprintf(err, errlen, "landlock_restrict_self: %s",
		    strerror(errno));
		rc = -1;
	} else
		reads_limited = 1;
	close(rs);
	return (rc);
}

/*
 * sandbox_reads(path):
 * See sandbox.h.  Compared as written (no look-ups: the seccomp filter
 * may be in force), as the paths were given to Landlock.
 */
int
sandbox_reads(const char *path)
{
	char dir[CONFIG_PATH_MAX];
	size_t i, n;

	if (!reads_limited)
		return (1);
	(void)dir_of(path, dir, sizeof(dir));
	for (i = 0; i < nreads; i++) {
		n = strlen(reads[i]);
		if (strcmp(path, reads[i]) == 0 || strcmp(reads[i], "/") == 0 ||
		    (strncmp(dir, reads[i], n) == 0 && (dir[n] == '\0' ||
		    dir[n] == '/')))
			return (1);
	}
	return (0);
}

/*
 * sandbox_landlock_load(files, nfiles, dirs, ndirs, err, errlen):
 * See sandbox.h.
 */
int
sandbox_landlock_load(const char *const *files, size_t nfiles,
    const char *const *dirs, size_t ndirs, char *err, size_t errlen)
{
	int abi, rs;

	if ((abi = landlock_prepare(files, nfiles, dirs, ndirs, &rs, err,
	    errlen)) <= 0)
		return (abi);
	if (landlock_restrict(rs, err, errlen) == -1)
		return (-1);
	return (abi);
}

/* The directory part of the unix socket path ${a} into ${buf}. */
static void
unix_dir(const struct addr *a, char *buf, size_t len)
{
	const char *slash = strrchr(a->host, '/');
	size_t n = slash != NULL ? (size_t)(slash - a->host) : 0;

	snprintf(buf, len, "%.*s", n == 0 ? 1 : (int)n,
	    n == 0 ? "/" : a->host);
}

/*
 * Collect the files and directories Landlock lets through for ${cfg}:
 * the config and key files, the directory of each unix listen socket.
 * ${dirbuf} holds the directory names; ${dirs} points into it.  Return
 * the number of directories.
 */
static size_t
landlock_paths(const struct config *cfg, char dirbuf[][ADDR_TEXT_MAX],
    const char **dirs)
{
	size_t i, n = 0;

	if (cfg->node.has_listen && cfg->node.listen.is_unix)
		unix_dir(&cfg->node.listen, dirbuf[n++], ADDR_TEXT_MAX);
	for (i = 0; i < cfg->ninlets && n < SANDBOX_DIRS_MAX; i++)
		if (cfg->inlets[i].listen.is_unix)
			unix_dir(&cfg->inlets[i].listen, dirbuf[n++],
			    ADDR_TEXT_MAX);
	for (i = 0; i < n; i++)
		dirs[i] = dirbuf[i];
	return (n);
}

/* Give the unix socket ${path} to ${uid}:${gid}; a failure is logged. */
static void
chown_socket(const char *path, uid_t uid, gid_t gid)
{

	if (lchown(path, uid, gid) == -1)
		log_warn("event=sandbox warning=chown path=%s error=\"%s\"",
		    path, strerror(errno));
}

/*
 * Give the unix socket files of ${cfg} to ${uid}:${gid}: the socket
 * stays the daemon user's alone, and it can still remove them at exit
 * (when the directory lets it).
 */
static void
chown_sockets(const struct config *cfg, uid_t uid, gid_t gid)
{
	size_t i;

	if (cfg->node.has_listen && cfg->node.listen.is_unix)
		chown_socket(cfg->node.listen.host, uid, gid);
	for (i = 0; i < cfg->ninlets; i++)
		if (cfg->inlets[i].listen.is_unix)
			chown_socket(cfg->inlets[i].listen.host, uid, gid);
}

/* Whether ${st}'s mode grants ${uid}:${gid} the owner bits ${bits}. */
static int
mode_grants(const struct stat *st, uid_t uid, gid_t gid, mode_t bits)
{

	if (uid == 0)
		return (1);
	if (st->st_uid == uid)
		return ((st->st_mode & bits) != 0);
	if (st->st_gid == gid)
		return ((st->st_mode & (bits >> 3)) != 0);
	return ((st->st_mode & (bits >> 6)) != 0);
}

/*
 * Whether ${uid}:${gid} (its only group: switch_user sets no others) may
 * read the file ${path} and search every directory above it, by the
 * modes as they are now.  Return 1 if so; 0 if not, with the path it
 * stops at in ${stop} (${stoplen} bytes); -1 if a stat(2) failed.
 */
static int
readable_by(const char *path, uid_t uid, gid_t gid, char *stop,
    size_t stoplen)
{
	char buf[4096], *slash;
	struct stat st;
	mode_t bits = S_IRUSR;
	int last = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return (-1);
	for (;;) {
		if (stat(buf, &st) == -1)
			return (-1);
		if (!mode_grants(&st, uid, gid, bits)) {
			seterr(stop, stoplen, "%s", buf);
			return (0);
		}
		if (last)
			return (1);
		/* Then the directory above it, searched (x). */
		bits = S_IXUSR;
		if ((slash = strrchr(buf, '/')) == NULL) {
			snprintf(buf, sizeof(buf), ".");
			last = 1;
		} else if (slash == buf) {
			buf[1] = '\0';
			last = 1;
		} else
			*slash = '\0';
	}
}

/*
 * The preflight of sandbox_enter and `sallyport check`: resolve [node]
 * user and group of ${cfg} into ${uid} and ${gid} (before any filter:
 * NSS may open files and sockets) and refuse what sandbox_enter would:
 * root without user or allow_root, an unknown user or group, a user that
 * is root without allow_root; and, when root switches to the user, any
 * file a reload reads again (the configuration, the key, credentials,
 * the revocation list) that the user could not read.  Return 0, or -1
 * with the error word in *${word}, the log line's fields in ${fields} and
 * a "FILE:LINE: message; fix" in ${msg}.
 */
static int
preflight(const struct config *cfg, uid_t *uid, gid_t *gid,
    const char **word, char *fields, size_t flen, char *msg, size_t mlen)
{
	const char *files[1 + CONFIG_FILES_MAX];
	int lines[1 + CONFIG_FILES_MAX];
	char stop[4096], at[16];
	struct passwd *pw;
	struct group *gr;
	size_t n = 0, k;
	int root = getuid() == 0 || geteuid() == 0, r;

	*uid = getuid();
	*gid = getgid();
	if (root && cfg->node.user[0] == '\0' && !cfg->node.allow_root) {
		*word = "refusing-root";
		seterr(fields, flen, "path=%s hint=\"set [node] user = NAME "
		    "(or allow_root = yes)\"", cfg->path);
		seterr(msg, mlen, "%s: started as root without [node] user: "
		    "it would refuse to run; fix: set [node] user = NAME (or "
		    "allow_root = yes)", cfg->path);
		return (-1);
	}
	if (!root || cfg->node.user[0] == '\0')
		return (0);
	errno = 0;
	if ((pw = getpwnam(cfg->node.user)) == NULL) {
		*word = "unknown-user";
		seterr(fields, flen, "user=%s path=%s:%d", cfg->node.user,
		    cfg->path, cfg->node.user_line);
		seterr(msg, mlen, "%s:%d: unknown user \"%s\"", cfg->path,
		    cfg->node.user_line, cfg->node.user);
		return (-1);
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (cfg->node.group[0] != '\0') {
		if ((gr = getgrnam(cfg->node.group)) == NULL) {
			*word = "unknown-group";
			seterr(fields, flen, "group=%s path=%s:%d",
			    cfg->node.group, cfg->path, cfg->node.group_line);
			seterr(msg, mlen, "%s:%d: unknown group \"%s\"",
			    cfg->path, cfg->node.group_line, cfg->node.group);
			return (-1);
		}
		*gid = gr->gr_gid;
	}
	if (*uid == 0 && !cfg->node.allow_root) {
		*word = "refusing-root";
		seterr(fields, flen, "user=%s hint=\"a user other than root, "
		    "or allow_root = yes\"", cfg->node.user);
		seterr(msg, mlen, "%s:%d: user %s is root: it would refuse "
		    "to run; fix: a user other than root, or allow_root = yes",
		    cfg->path, cfg->node.user_line, cfg->node.user);
		return (-1);
	}
	/* What a reload reads again, as the user it will be by then. */
	files[0] = cfg->path;
	lines[0] = 0;
	n = 1 + config_files(cfg, files + 1, lines + 1);
	for (k = 0; k < n; k++) {
		if ((r = readable_by(files[k], *uid, *gid, stop,
		    sizeof(stop))) != 0)
			continue; /* readable, or missing: the load says so */
		*word = "unreadable";
		/* ":LINE", but for the configuration file itself. */
		snprintf(at, sizeof(at), ":%d", lines[k]);
		if (lines[k] == 0)
			at[0] = '\0';
		seterr(fields, flen, "user=%s file=%s at=%s path=%s%s",
		    cfg->node.user, files[k], stop, cfg->path, at);
		seterr(msg, mlen, "%s%s%s%s: user %s (uid %u gid %u) could "
		    "not read %s after the switch, so every reload would fail; "
		    "fix: make it readable by that user (a file: root-owned "
		    "with its group and mode 0640, or install -o %s -m 600 for "
		    "a key or credential; a directory: its x for the user or "
		    "group)", cfg->path, at, lines[k] > 0 ? ": " : "",
		    lines[k] > 0 ? files[k] : "",
		    cfg->node.user, (unsigned)*uid, (unsigned)*gid, stop,
		    cfg->node.user);
		return (-1);
	}
	return (0);
}

/*
 * sandbox_preflight(cfg, err, errlen):
 * See sandbox.h.
 */
int
sandbox_preflight(const struct config *cfg, char *err, size_t errlen)
{
	char fields[1024];
	const char *word;
	uid_t uid;
	gid_t gid;

	return (preflight(cfg, &uid, &gid, &word, fields, sizeof(fields), err,
	    errlen));
}

/* Switch to ${uid}:${gid} for good.  0 or -1 (logged). */
static int
switch_user(uid_t uid, gid_t gid)
{

	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_error("event=sandbox error=switch-user uid=%u gid=%u "
		    "errno=\"%s\"", (unsigned)uid, (unsigned)gid,
		    strerror(errno));
		return (-1);
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		log_error("event=sandbox error=root-regained");
		return (-1);
	}
	return (0);
}

/*
 * Drop every capability: the bounding set (if we may), then effective,
 * permitted and inheritable, then ambient.  Return the number of
 * effective capabilities left (0), or -1 (logged).
 */
static int
drop_caps(void)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
	int c, n = 0;

	/* EPERM without CAP_SETPCAP (not root); it goes last. */
	for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (c != CAP_SETPCAP)
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	(void)prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0);
	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	/* None to drop (a non-root start): capset may be filtered (systemd). */
	if (syscall(SYS_capget, &h, d) == 0 && (d[0].effective |
	    d[0].permitted | d[0].inheritable | d[1].effective |
	    d[1].permitted | d[1].inheritable) == 0)
		goto ambient;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == -1) {
		log_error("event=sandbox error=capset errno=\"%s\"",
		    strerror(errno));
		return (-1);
	}
ambient:
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) == -1) {
		log_error("event=sandbox error=capget errno=\"%s\"",
		    strerror(errno));
		return (-1);
	}
	for (c = 0; c < 32; c++)
		n += ((d[0].effective >> c) & 1) + ((d[1].effective >> c) & 1);
	if (n != 0) {
		log_error("event=sandbox error=capabilities-left caps=%d", n);
		return (-1);
	}
	return (n);
}

/* The configuration's directory, those of its files, the resolver's. */
#define SANDBOX_FILES (1 + CONFIG_FILES_MAX + 3)

/*
 * The paths Landlock lets ${cfg}'s node read, into ${files} (some of them
 * directory names made in ${filedir}); return how many.  The rules open
 * their paths while we may still read them.  Read access covers the
 * directories of the file and of the key file, not the files alone: a
 * reload must read the new file that a rename or a Kubernetes volume's
 * link swap put there (another inode).
 */
static size_t
readable_paths(const struct config *cfg, char filedir[][4096],
    const char *files[])
{
	static const char *const resolver_files[] = {"/etc/hosts",
	    "/etc/resolv.conf", "/etc/nsswitch.conf"};
	const char *named[CONFIG_FILES_MAX];
	int lines[CONFIG_FILES_MAX];
	size_t nfiles = 1, n, i;

	files[0] = dir_of(cfg->path, filedir[0], sizeof(filedir[0]));
	/* So do those of the key, the credential files and the revocation
	 * list, read again at each reload (renewed, link-swapped). */
	n = config_files(cfg, named, lines);
	for (i = 0; i < n; i++, nfiles++)
		files[nfiles] = dir_of(named[i], filedir[nfiles],
		    sizeof(filedir[0]));
	/*
	 * The resolver (resolve.c) reads /etc/hosts at every lookup it does
	 * not answer from its cache; resolv.conf and nsswitch.conf are
	 * read only at start-up today, and allowed for a later re-read.
	 * Those that exist, read-only (a netns hosts file is a bind mount:
	 * the rule holds its inode, rewritten in place).
	 */
	for (i = 0; i < sizeof(resolver_files) / sizeof(resolver_files[0]);
	    i++)
		if (access(resolver_files[i], R_OK) == 0)
			files[nfiles++] = resolver_files[i];
	return (nfiles);
}

/* The directories ${cfg}'s node writes in after start-up (wdirs). */
static void
write_dirs(const struct config *cfg)
{

	nwdirs = 0;
	pgstore = cfg->nauthority_roles > 0 &&
	    config_store_is_postgres(cfg->authority_roles[0].store);
	if (cfg->nauthority_roles > 0 && !pgstore)
		(void)dir_of(cfg->authority_roles[0].store, wdirs[nwdirs++],
		    sizeof(wdirs[0]));
	if (cfg->node.enroll[0] != '\0')
		(void)dir_of(cfg->node.enroll_cred, wdirs[nwdirs++],
		    sizeof(wdirs[0]));
}

/*
 * Give up privileges for good: switch to ${uid}:${gid} when started as
 * root with [node] user, drop every capability, stay non-dumpable, set
 * no_new_privs.  0 or -1 (logged).
 */
static int
drop_privileges(const struct config *cfg, int root, uid_t uid, gid_t gid)
{

	if (root && cfg->node.user[0] != '\0') {
		chown_sockets(cfg, uid, gid);
		if (switch_user(uid, gid) == -1)
			return (-1);
	} else if (!root && cfg->node.user[0] != '\0')
		log_info("event=sandbox user=%s note=not-root-nothing-to-switch",
		    cfg->node.user);
	if (drop_caps() == -1)
		return (-1);
	/* setresuid reset it to the default; keys are in memory. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_error("event=sandbox error=no-new-privs errno=\"%s\"",
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * sandbox_confined():
 * See sandbox.h.
 */
int
sandbox_confined(void)
{

	return (writes_limited);
}

/*
 * sandbox_thread_set(run):
 * See sandbox.h.
 */
void
sandbox_thread_set(int (*run)(int rs))
{

	thread_run = run;
}

/*
 * sandbox_thread_enter(rs):
 * See sandbox.h.  The user switch needs nothing here: glibc's setresuid
 * changes every thread's, and the kernel clears a thread's capabilities
 * when its uids leave 0.
 */
int
sandbox_thread_enter(int rs)
{

	if (drop_caps() == -1)
		return (-1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_error("event=sandbox error=no-new-privs thread=worker "
		    "errno=\"%s\"", strerror(errno));
		return (-1);
	}
	if (rs != -1 && syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		log_error("event=sandbox error=landlock thread=worker "
		    "detail=\"landlock_restrict_self: %s\"", strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Confine the process: the Landlock ruleset ${rs} (taken; -1 and ${abi}
 * 0 without Landlock), then the seccomp filter; say what holds in the
 * status.  0 or -1 (logged).
 */
static int
confine(int abi, int rs)
{
	char err[512];
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

	/* (getuid and getgid are not on the allow-list: read them first.) */
	if (abi == 0)
		log_warn("event=sandbox landlock=unavailable "
		    "note=\"Linux 5.13 or later with lsm=landlock\"");
	else if (landlock_restrict(rs, err, sizeof(err)) == -1) {
		log_error("event=sandbox error=landlock detail=\"%s\"", err);
		return (-1);
	}
	if (sandbox_seccomp_load(err, sizeof(err)) == -1) {
		log_error("event=sandbox error=seccomp detail=\"%s\"", err);
		return (-1);
	}
	writes_limited = 1;
	snprintf(status, sizeof(status), "sandbox=seccomp%s uid=%u gid=%u "
	    "caps=0", abi > 0 ? ",landlock" : "", uid, gid);
	return (0);
}

/*
 * sandbox_writes(path):
 * See sandbox.h.
 */
int
sandbox_writes(const char *path)
{
	char dir[CONFIG_PATH_MAX];
	size_t i;

	if (!writes_limited)
		return (1);
	if (config_store_is_postgres(path))
		return (pgstore);
	(void)dir_of(path, dir, sizeof(dir));
	for (i = 0; i < nwdirs; i++)
		if (strcmp(dir, wdirs[i]) == 0)
			return (1);
	return (0);
}

/*
 * sandbox_enter(cfg):
 * See sandbox.h.
 */
int
sandbox_enter(const struct config *cfg)
{
	char dirbuf[SANDBOX_DIRS_MAX][ADDR_TEXT_MAX], err[512];
	char fields[1024], msg[1024], filedir[SANDBOX_FILES][4096];
	const char *dirs[SANDBOX_DIRS_MAX], *files[SANDBOX_FILES], *word;
	size_t nfiles;
	uid_t uid;
	gid_t gid;
	int root = getuid() == 0 || geteuid() == 0, abi = 0, rs = -1;

	if (preflight(cfg, &uid, &gid, &word, fields, sizeof(fields), msg,
	    sizeof(msg)) == -1) {
		log_error("event=sandbox error=%s %s", word, fields);
		return (-1);
	}
#ifdef __SANITIZE_ADDRESS__
	/*
	 * An ASan build's leak check at exit stops the process's threads with
	 * ptrace(2), which a non-dumpable process without capabilities may
	 * not do, and reads /proc/self/maps, which Landlock would deny: such a
	 * build runs without the sandbox and says so.  Tests of the sandbox
	 * itself skip in those builds.
	 */
	(void)dirbuf;
	(void)filedir;
	(void)dirs;
	(void)files;
	(void)nfiles;
	(void)abi;
	(void)rs;
	(void)err;
	(void)root;
	log_warn("event=sandbox status=off reason=asan-build");
	snprintf(status, sizeof(status), "sandbox=off uid=%u gid=%u caps=-",
	    (unsigned)getuid(), (unsigned)getgid());
	return (0);
#endif
	nfiles = readable_paths(cfg, filedir, files);
	write_dirs(cfg);
	if (!disabled && (abi = landlock_prepare(files, nfiles, dirs,
	    landlock_paths(cfg, dirbuf, dirs), &rs, err, sizeof(err))) == -1) {
		log_error("event=sandbox error=landlock detail=\"%s\"", err);
		return (-1);
	}
	if (drop_privileges(cfg, root, uid, gid) == -1 ||
	    (thread_run != NULL && thread_run(abi > 0 ? rs : -1) == -1)) {
		if (rs != -1)
			close(rs);
		return (-1);
	}
	if (disabled) {
		log_warn("event=sandbox status=disabled hint=--no-sandbox");
		snprintf(status, sizeof(status), "sandbox=none uid=%u gid=%u "
		    "caps=0", (unsigned)getuid(), (unsigned)getgid());
		return (0);
	}
	return (confine(abi, rs)); /* takes rs */
}
