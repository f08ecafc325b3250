/*
 * session: a node's kept-open secure channel with a relay, after the
 * handshake (docs/relay.md).  It carries a few small messages (the
 * ticket) as DATA records and keeps itself alive with PING/PONG: each end
 * sends a PING every ${keepalive} seconds and declares the session dead
 * when nothing arrived for two intervals (checked four times per
 * interval), so a dead peer or a cut link is noticed within two to three
 * intervals of its last sign of life.  It ends ("expired") when its
 * channel must (channel_deadline: the earlier of the two attestations it
 * was authenticated with), and replaces a sending key used for
 * CHANNEL_REKEY_TIME with a REKEY record.  Used by both ends (relay.c,
 * dialout.c); never makes access decisions and never logs.
 *
 * Memory is fixed: one receive and one send buffer, each with room for
 * the largest CREDS record (about 2 KiB).
 */
#ifndef SALLYPORT_SESSION_H
#define SALLYPORT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "channel.h"
#include "reap.h"

#define SESSION_MAX_DATA 256 /* largest message, either way */

struct session;

struct session_ops {
	/* A message (one DATA record) of ${len} bytes arrived. */
	void (*message)(struct session *s, const uint8_t *data, size_t len);
	/*
	 * The session ended (${reason}: "closed", "expired",
	 * "keepalive-timeout",
	 * "EDECRYPT", ...); its socket is closed.  The callee may call
	 * session_free(); nothing else may be called on ${s}.
	 */
	void (*dead)(struct session *s, const char *reason);
	/*
	 * The peer refused the session with a REFUSE record (enum
	 * channel_refusal ${code}); ops->dead follows with "refused".  May
	 * be NULL.
	 */
	void (*refused)(struct session *s, unsigned code);
	/*
	 * The peer sent renewed credentials (a CREDS record; the channel's
	 * channel_peer_creds returns them now): decide again.  Return 0 to
	 * keep ${s}, -1 to end it (ops->dead follows with "denied"; the
	 * callee logged why).  May be NULL.
	 */
	int (*renewed)(struct session *s);
};

/*
 * session_new(reaper, fd, ch, keepalive, ops, arg, rest, restlen):
 * Run a session, on the loop of ${reaper} (borrowed: it frees the session
 * after session_free), on the connected socket ${fd} with the established channel
 * ${ch} (both taken, even on failure), PING every ${keepalive} seconds (0:
 * never, and no dead-peer detection).  ${rest} holds ${restlen} bytes that
 * arrived behind the handshake (copied).  ${ops} is borrowed; ${arg} is
 * the owner's.  NULL on ENOMEM or if ${rest} is too long.
 */
struct session *session_new(struct reaper *reaper, int fd,
    struct channel *ch,
    double keepalive, const struct session_ops *ops, void *arg,
    const uint8_t *rest, size_t restlen);

/*
 * session_arg(s):
 * The owner's ${arg} given to session_new.
 */
void *session_arg(const struct session *s);

/*
 * session_peer_id(s):
 * The peer's verified identifier (CHANNEL_ID_LEN bytes).
 */
const uint8_t *session_peer_id(const struct session *s);

/*
 * session_send(s, data, len):
 * Send the message ${data} of ${len} (<= SESSION_MAX_DATA) bytes.  Return
 * 0, or -1 if the send buffer is full (the message is dropped) or the
 * channel failed (the session is then ended: ops->dead runs later from
 * the loop).
 */
int session_send(struct session *s, const uint8_t *data, size_t len);

/*
 * session_send_creds(s, block, len):
 * Send our renewed credential block (${len}, 1 to CRED_BLOCK_MAX, well
 * formed bytes at ${block}) in a CREDS record.  Return 0, or -1 as
 * session_send.
 */
int session_send_creds(struct session *s, const uint8_t *block, size_t len);

/*
 * session_peer_creds(s, len):
 * The peer's credential block (handshake, or the last CREDS record), its
 * size in *${len}; NULL (and 0) if none.
 */
const uint8_t *session_peer_creds(const struct session *s, size_t *len);

/*
 * session_free(s):
 * Close and free ${s}; NULL does nothing.  Safe from inside its callbacks
 * (the memory is released when they return).  ops->dead is not called.
 */
void session_free(struct session *s);

#endif
