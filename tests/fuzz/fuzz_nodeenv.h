/*
 * fuzz_nodeenv: one node in the fuzzer's process, for the targets that
 * drive the node's event-driven life through its sockets (fuzz_node.c:
 * fuzz_node, the node port; fuzz_admin, the admin endpoint).  The node is the
 * daemon's parts (rows.h: the front, the outlet, the relay, the admin
 * endpoint) on the fake environment of the unit tests (fakeenv.h),
 * listening on unix sockets in a directory of its own, with fixed keys
 * (fuzz_channel.h: the node is fz_lr; fz_li is allowed, fz_ls is a
 * stranger, with a credential from a fixed authority or without):
 *
 *   [node]   listen, admin, max_handshakes = 3, handshake_timeout = 5
 *   [authorities] corp = the fixed authority
 *   [outlet db]   allow = fz_li      (its target is not there)
 *   [outlet web]  allow = role=app@corp
 *   [relay r]     register = fz_li, allow = fz_li
 *   [peers]       friend = fz_li, stranger = a fifth fixed identity
 *   [authority corp]  the fixed authority's key, a SQLite store in the
 *                 node's directory (made once per process) with three
 *                 tokens granting role=app: one of many uses, one of one
 *                 use, one expired; its jobs run on the real worker
 *                 thread (authwork.h), waited for after each operation
 *
 * Time is the harness's: while a target runs, the clock the loop reads
 * (clock_gettime, CLOCK_MONOTONIC and CLOCK_REALTIME) is the real one
 * plus what the input advanced it by, so deadlines fire when the input
 * says and never because the machine was slow.
 *
 * An input is a script of operations, one byte each (its value modulo
 * FZN_OPS) followed by its arguments; a missing argument reads as 0:
 *
 *   FZN_CONNECT s       connect client slot s (mod FZN_SLOTS)
 *   FZN_WRITE s n D     write the n (1 to 256) bytes D on slot s
 *   FZN_CLOSE s         close slot s (s / FZN_SLOTS odd: with a reset)
 *   FZN_SHUT s          shut slot s down for writing (FIN)
 *   FZN_TIME t          advance the clock by t/4 seconds; then what
 *                       expired ends (the parts' expire, node.c's
 *                       timer)
 *   FZN_HELLO s w       connect slot s and send msg1 of a fixed
 *                       initiator: w % FZN_WHO who (fz_li; fz_ls
 *                       without a credential, with role=app, with
 *                       role=ops; a stranger [peers] names), w / FZN_WHO
 *                       % FZN_REQUESTS which request (fzn_requests);
 *                       w / (FZN_WHO * FZN_REQUESTS) odd: over loopback
 *                       TCP as FZN_TCP connects
 *   FZN_REPLY s         read what the node sent on slot s; if it is msg2
 *                       of the initiator there, send its msg3 (s /
 *                       FZN_SLOTS odd: held back, to go in one write
 *                       with the next FZN_ASK's record on that slot)
 *   FZN_DRAIN s         read and discard what the node sent on slot s
 *   FZN_TCP s           connect slot s over loopback TCP, the node's end
 *                       handed to the front (front_adopt) as if accepted
 *   FZN_ASK s k         on the channel FZN_REPLY made on slot s (one
 *                       that asked FZN_AUTHORITY: "@Acorp"), send the
 *                       authority message k % FZN_ASKS (enum
 *                       fzn_ask) as a DATA record: ENROL with the
 *                       secret k / FZN_ASKS % 4 (many uses, one use,
 *                       expired, no such token), RENEW, REVOKED, MORE
 *                       of piece k / FZN_ASKS, or a message of no type;
 *                       k >= FZN_ASK_HANG_UP: of k - FZN_ASK_HANG_UP,
 *                       then slot s closes before the node reads it
 *
 * After each operation the loop runs until nothing is pending, and the
 * authority's worker until no job is left (its results delivered).  At the
 * end every slot closes and the clock moves past every deadline: the
 * node must be back to no connection (else abort).
 */
#ifndef SALLYPORT_FUZZ_NODEENV_H
#define SALLYPORT_FUZZ_NODEENV_H

#include <stddef.h>
#include <stdint.h>

#define FZN_SLOTS 40 /* more than the admin endpoint's ADMIN_CLIENTS */

enum fzn_op {
	FZN_CONNECT,
	FZN_WRITE,
	FZN_CLOSE,
	FZN_SHUT,
	FZN_TIME,
	FZN_HELLO,
	FZN_REPLY,
	FZN_DRAIN,
	FZN_TCP,
	FZN_ASK,
	FZN_OPS
};

/* FZN_ASK's messages (k % FZN_ASKS). */
enum fzn_ask {
	FZN_ASK_ENROL,
	FZN_ASK_RENEW,
	FZN_ASK_REVOKED,
	FZN_ASK_MORE,
	FZN_ASK_JUNK,
	FZN_ASKS
};
#define FZN_ASK_HANG_UP 128 /* k at or above: close right after */

/* The secrets FZN_ASK_ENROL sends: each fills the 32 bytes (the store's
 * tokens: many uses, one use, expired; the last names no token). */
#define FZN_SECRET_MANY 0xA1
#define FZN_SECRET_ONCE 0xB2
#define FZN_SECRET_EXPIRED 0xC3
#define FZN_SECRET_NONE 0xD4

/* The initiators FZN_HELLO can be. */
#define FZN_WHO 5

/* The requests FZN_HELLO asks for, by index. */
#define FZN_REQUESTS 10
#define FZN_AUTHORITY 9 /* fzn_requests[]: "@Acorp", the authority */
extern const char *const fzn_requests[FZN_REQUESTS];

/* Which socket a script's slots connect to. */
enum fzn_port { FZN_NODE, FZN_ADMIN };

/*
 * fzn_setup(void):
 * Start the node (once); abort on failure.
 */
void fzn_setup(void);

/*
 * fzn_run(data, size, port):
 * Run the script ${data} (${size} bytes) against the node's ${port}.
 */
void fzn_run(const uint8_t *data, size_t size, enum fzn_port port);

#endif
