/*
 * splice: the relay's pair engine.  Joins two connected sockets and moves
 * bytes both ways with splice(2) through one pipe per direction (socket
 * -> pipe -> socket), never through user space.  EOF in one direction
 * becomes shutdown(SHUT_WR) on the other socket once its pipe is empty;
 * the pair ends when both directions ended ("eof"), or at once on any
 * error ("reset", both sockets closed with a reset).  Memory per pair is
 * bounded: its struct, four pipe descriptors and the kernel's pipe pages
 * (at most 64 KiB per direction), whatever the peers do.  Knows nothing
 * of relays, sessions or logs.
 */
#ifndef SALLYPORT_SPLICE_H
#define SALLYPORT_SPLICE_H

#include <stddef.h>
#include <stdint.h>

#include "reap.h"

struct splice;

/*
 * Called once when the pair ends by itself, after both sockets are
 * closed: ${reason} is "eof", "reset" or "connect-timeout"; ${bytes}[0]
 * counts bytes moved from the first socket to the second (the preamble
 * included), ${bytes}[1] the other way.  The splice is gone afterwards.
 */
typedef void splice_done_fn(void *arg, const char *reason,
    const uint64_t bytes[2]);

/*
 * splice_new(reaper, fa, fb, pre, prelen, connect_timeout, done, arg):
 * Join ${fa} and ${fb} (both taken, even on failure) on the loop of
 * ${reaper} (borrowed; it frees the pair once it ended).  The ${prelen}
 * bytes at ${pre} (copied; at most a pipe's capacity, may be 0) go to
 * ${fb} first; if there are any, ${fb} may still be connecting and must
 * take its first byte within ${connect_timeout} seconds.  Return the
 * pair, or NULL (both sockets closed with a reset; errno says why).
 */
struct splice *splice_new(struct reaper *reaper, int fa, int fb,
    const uint8_t *pre, size_t prelen, double connect_timeout,
    splice_done_fn *done, void *arg);

/*
 * splice_close(sp, reset, bytes):
 * End ${sp} now from outside (${done} is not called): close both sockets
 * (${reset}: with a reset) and store the byte counts in ${bytes}.
 */
void splice_close(struct splice *sp, int reset, uint64_t bytes[2]);

#endif
