/*
 * fuzz_node, fuzz_admin: a node in the process (fuzz_nodeenv.h), the
 * input a script of clients, their bytes, hang-ups, handshakes of fixed
 * initiators and the passing of time.
 *
 * fuzz_node (this file as is): the script runs against the node port:
 * the front, the connection context, the peer filter (identifiers and
 * credentials), the relay's preamble lookup, the outlet and the
 * node's authority (strangers enrolling, renewing, asking the
 * revocation list, garbage and hang-ups in the conversation; its store
 * and worker thread as in the daemon), with their audit, log and
 * metrics lines.  fuzz_admin (built from this file with
 * -DFUZZ_NODE_PORT=FZN_ADMIN): against the admin endpoint: the admin
 * client's life, heads good, bad, cut and slow, /metrics (every
 * collector of the node), /readyz and /healthz.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_nodeenv.h"

#ifndef FUZZ_NODE_PORT
#define FUZZ_NODE_PORT FZN_NODE
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	fzn_run(data, size, FUZZ_NODE_PORT);
	return (0);
}
