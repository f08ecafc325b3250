/*
 * fixture: what the Check suites share instead of writing it each for
 * itself (docs/testing.md): the runner, a loopback socket pair, a turn of
 * the loop, waiting on a condition, fresh channel credentials, a
 * credential block, and the captured log of a test.
 *
 * The fake environment (fixture_env_*, in fixture_env.c, linked only by
 * the suites that run a role) is a struct env made without the binary:
 * the default loop, a configuration parsed from a string, the connection
 * context, fresh credentials and the caches, as node.c makes them.
 */
#ifndef SALLYPORT_FIXTURE_H
#define SALLYPORT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <ev.h>

#include "channel.h"
#include "cred.h"
#include "env.h"
#include "front.h"
#include "identity.h"

/* A fixed "now" for the suites that decide on time without a clock. */
#define FIXTURE_NOW 1700000000ULL

/*
 * fixture_main(s):
 * Run every test of the suite ${s} (taken); return the exit status of
 * the test program (EXIT_SUCCESS when none failed).
 */
int fixture_main(Suite *s);

/*
 * fixture_tcp_pair(fds):
 * A connected loopback TCP pair in ${fds}, both ends non-blocking.
 */
void fixture_tcp_pair(int fds[2]);

/*
 * fixture_listen(port):
 * A listening loopback TCP socket (blocking) on a free port, stored in
 * ${port}; return it.
 */
int fixture_listen(unsigned *port);

/*
 * fixture_spin(loop):
 * Run ${loop} for a moment: one non-blocking iteration, then 200 us.
 */
void fixture_spin(struct ev_loop *loop);

/*
 * fixture_run_until(loop, cond, arg, secs):
 * Run ${loop} until ${cond}(${arg}) holds or ${secs} seconds passed;
 * return cond(arg).
 */
int fixture_run_until(struct ev_loop *loop, int (*cond)(void *), void *arg,
    double secs);

/*
 * fixture_read(loop, fd, buf, n):
 * Turn ${loop} (fixture_spin) until the ${n} bytes at ${buf} can be read
 * from the non-blocking ${fd} in one read; assert that they came, and
 * nothing but them.
 */
void fixture_read(struct ev_loop *loop, int fd, const void *buf, size_t n);

/*
 * fixture_local(l, idn, now, lifetime):
 * A fresh identity in ${idn} (may be NULL: not kept) and channel
 * credentials for it in ${l}, attested at ${now} for ${lifetime} seconds.
 */
void fixture_local(struct channel_local *l, struct identity *idn,
    uint64_t now, uint64_t lifetime);

/*
 * fixture_cred(block, cap, issuer, subject, attr, now):
 * A credential block (in ${block}, ${cap} bytes at least CRED_BLOCK_MAX)
 * holding one credential from ${issuer} for ${subject} with the one
 * attribute ${attr} ("KEY=VALUE"), valid from a minute before ${now} for
 * an hour.  Return its length.
 */
size_t fixture_cred(uint8_t *block, size_t cap, const struct identity *issuer,
    const uint8_t *subject, const char *attr, uint64_t now);

/*
 * fixture_log_capture():
 * From now on the log of this test (stderr, level info) goes to a file
 * fixture_log_has() reads.
 */
void fixture_log_capture(void);

/*
 * fixture_log_has(needle, and):
 * Return 1 if a captured log line holds ${needle} and, if ${and} is not
 * NULL, ${and} too; else 0.
 */
int fixture_log_has(const char *needle, const char *and);

/*
 * fixture_env_init(e, cfg, ini):
 * The fake environment ${e} of the node whose configuration ${cfg} (the
 * caller's, kept by ${e}) is parsed from the INI text ${ini}: the default
 * loop, the connection context with its limits, fresh credentials (the
 * identity is env's local[0]), the attestation and resume caches, the
 * key pair pool and the log limits.  Nothing is bound.
 */
void fixture_env_init(struct env *e, struct config *cfg, const char *ini);

/*
 * fixture_env_fini(e):
 * Drop every connection of ${e}, run the loop until they are freed, and
 * free what fixture_env_init made (and the configuration).
 */
void fixture_env_fini(struct env *e);

/*
 * A peer node dialing the node under test: its own credentials and
 * connection context, one initiator connection to the front, and the
 * test's end of the plain socket that connection carries.
 */
struct fixture_peer {
	struct conn_ctx ctx;
	struct channel_local local;
	struct identity idn;
	char id[IDENTITY_TEXT_SIZE]; /* its identifier, as text */
	struct conn *c;              /* NULL once dropped */
	int plain;                   /* the test's end, -1: none */
	int established;             /* the handshake completed */
	int refused;                 /* a REFUSE came: its code in ${code} */
	unsigned code;
};

/*
 * fixture_peer_init(p, e):
 * A peer of the node ${e} with a fresh identity (and no credentials:
 * channel_local_set_creds on p->local adds some).
 */
void fixture_peer_init(struct fixture_peer *p, struct env *e);

/*
 * fixture_peer_dial(p, f, req, len):
 * Connect the peer ${p} to the front ${f} (front_adopt of a loopback
 * socket, as if accepted at [node] listen) asking for the request ${req}
 * (${len} bytes); once established, the connection opens.
 */
void fixture_peer_dial(struct fixture_peer *p, struct front *f,
    const char *req, size_t len);

/*
 * fixture_peer_gone(p):
 * Whether the connection of ${p} is gone, refused or dropped (for
 * fixture_run_until).
 */
int fixture_peer_gone(void *p);

/*
 * fixture_peer_refused(p, f, req, code, reason):
 * fixture_peer_dial(), then assert that the node refused it: a REFUSE
 * of ${code} reached the peer and an audit line denied its identifier
 * with ${reason}.
 */
void fixture_peer_refused(struct fixture_peer *p, struct front *f,
    const char *req, unsigned code, const char *reason);

/*
 * fixture_peer_fini(p):
 * Drop the peer's connection and free what it holds.
 */
void fixture_peer_fini(struct fixture_peer *p);

#endif
