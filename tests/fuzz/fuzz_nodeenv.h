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
 *                       % FZN_REQUESTS which request (fzn_requests)
 *   FZN_REPLY s         read what the node sent on slot s; if it is msg2
 *                       of the initiator there, send its msg3
 *   FZN_DRAIN s         read and discard what the node sent on slot s
 *   FZN_TCP s           connect slot s over loopback TCP, the node's end
 *                       handed to the front (front_adopt) as if accepted
 *
 * After each operation the loop runs until nothing is pending.  At the
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
	FZN_OPS
};

/* The initiators FZN_HELLO can be. */
#define FZN_WHO 5

/* The requests FZN_HELLO asks for, by index. */
#define FZN_REQUESTS 9
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
