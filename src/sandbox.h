/*
 * sandbox: least privilege for `sallyport run`, enforced by the kernel,
 * entered once after start-up (keys read, listeners bound) and never
 * left.  In order: switch from root to [node] user/group (refusing to
 * stay root unless allow_root = yes), drop every capability (bounding,
 * effective, permitted, inheritable, ambient), PR_SET_NO_NEW_PRIVS, a
 * Landlock ruleset (read: the config and key files; make/remove sockets:
 * the directories of unix listen sockets; nothing else) and a seccomp-bpf
 * allow-list that kills the process (SIGSYS) on any other system call.
 * docs/security.md explains each step and how to debug a violation.
 * Owns no memory after return; knows no role.
 */
#ifndef SALLYPORT_SANDBOX_H
#define SALLYPORT_SANDBOX_H

#include <stddef.h>

#include "config.h"

/*
 * sandbox_disable():
 * --no-sandbox: the next sandbox_enter loads neither the seccomp filter
 * nor Landlock (the user switch, the root refusal, NO_NEW_PRIVS and the
 * capability drop still happen: they are privilege, not debugging aids).
 */
void sandbox_disable(void);

/*
 * sandbox_preflight(cfg, err, errlen):
 * What sandbox_enter() would refuse for ${cfg} (started as root without
 * [node] user or allow_root, an unknown user or group, a user that is
 * root), and, when root will switch to [node] user, a file that a reload
 * reads again (the configuration, the key, credentials, the revocation
 * list) that the user could not read or reach: checked before anything is
 * served, and by `sallyport check`.  Return 0, or -1 with
 * "FILE:LINE: message; fix" in ${err}.
 */
int sandbox_preflight(const struct config *cfg, char *err, size_t errlen);

/*
 * sandbox_enter(cfg):
 * Drop privileges and confine the process as ${cfg} (borrowed) says; see
 * the top of this file.  Return 0, or -1 (logged) when the process must
 * not go on: what sandbox_preflight() refuses (logged event=sandbox
 * error=WORD with its fields), a failed switch, capabilities left, or a filter
 * that could not be loaded.  A kernel without Landlock is logged, not an
 * error.
 */
int sandbox_enter(const struct config *cfg);

/*
 * sandbox_confined():
 * Whether the seccomp filter is in force (no thread can be made).
 */
int sandbox_confined(void);

/*
 * sandbox_thread_set(run):
 * A thread made before sandbox_enter (the authority's worker, authwork.h)
 * keeps its own capabilities, no_new_privs and Landlock domain: those are
 * per thread (the seccomp filter is loaded for every thread).  Before it
 * confines itself, sandbox_enter calls ${run}(rs), which has that thread
 * call sandbox_thread_enter(rs) and returns what it returned.
 */
void sandbox_thread_set(int (*run)(int rs));

/*
 * sandbox_thread_enter(rs):
 * On that thread: drop every capability, set no_new_privs, put the
 * Landlock ruleset ${rs} in force (-1: none; not closed).  0, or -1
 * (logged).
 */
int sandbox_thread_enter(int rs);

/*
 * sandbox_status():
 * What sandbox_enter put in force, as fields for the "ready" line:
 * "sandbox=seccomp,landlock uid=N gid=N caps=N" ("sandbox=none" when
 * disabled).  Static storage; "sandbox=none" before sandbox_enter.
 */
const char *sandbox_status(void);

/*
 * sandbox_reads(path):
 * Whether the sandbox lets this process read the file ${path}: 1 unless
 * Landlock is in force and ${path} is beneath none of the paths its
 * rules were made with at start (the directories of the config, key,
 * credential and revoked files named then, and the resolver's files).
 * Those rules cannot grow: a reload that names a file elsewhere must be
 * refused with this reason, and the node restarted.
 */
int sandbox_reads(const char *path);

/*
 * sandbox_writes(path):
 * Whether the sandbox lets this process write the file ${path} (make,
 * replace, truncate it): 1 unless the sandbox is in force and ${path}'s
 * directory is not one it was entered with (an [authority NAME]'s store,
 * the [node] enroll credential's).  Those rules cannot grow: a reload
 * that adds or moves such a file must be refused, and the node
 * restarted (the filter would kill it at the first write).  A
 * PostgreSQL store's URI (config_store_is_postgres): whether the sandbox
 * was entered with one (its worker thread may poll its socket).
 */
int sandbox_writes(const char *path);

/*
 * sandbox_seccomp_load(err, errlen):
 * Load the run-time allow-list into this process (the very filter
 * sandbox_enter loads; exported for tests/unit/check_sandbox.c).  Needs
 * NO_NEW_PRIVS (or CAP_SYS_ADMIN).  Return 0, or -1 with a message in
 * ${err}.
 */
int sandbox_seccomp_load(char *err, size_t errlen);

/*
 * sandbox_landlock_load(files, nfiles, dirs, ndirs, err, errlen):
 * Restrict this process's file system access to reading the ${nfiles}
 * regular files ${files} and making or removing sockets in the ${ndirs}
 * directories ${dirs} (all borrowed).  Needs NO_NEW_PRIVS.  Return the
 * Landlock ABI now in force, 0 when the kernel has no Landlock (nothing
 * done), or -1 with a message in ${err}.
 */
int sandbox_landlock_load(const char *const *files, size_t nfiles,
    const char *const *dirs, size_t ndirs, char *err, size_t errlen);

#endif
