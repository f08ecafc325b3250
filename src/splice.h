/*
 * splice: the relay's pair engine.  Joins two connected sockets and moves
 * bytes both ways with splice(2) through a pipe per direction (socket ->
 * pipe -> socket), never through user space.  A direction holds a pipe
 * only while bytes are in flight: it takes one from a pool when its
 * socket has data and gives it back once the pipe is empty (a pipe that
 * still holds bytes stays with its pair), so an idle pair holds just its
 * two sockets.  EOF in one direction becomes shutdown(SHUT_WR) on the
 * other socket once its pipe is empty; the pair ends when both
 * directions ended ("eof"), or at once on any error ("reset", both
 * sockets closed with a reset).  Memory per pair is bounded: its struct,
 * at most two pipes while bytes are in flight and the kernel's pipe pages
 * (at most 64 KiB per direction), whatever the peers do.  Knows nothing
 * of relays, sessions or logs.
 */
#ifndef SALLYPORT_SPLICE_H
#define SALLYPORT_SPLICE_H

#include <stddef.h>
#include <stdint.h>

#include "reap.h"

struct splice;

#define SPLICE_POOL_MAX 1024    /* idle pipes that can be kept */
#define SPLICE_POOL_DEFAULT 256 /* idle pipes kept unless told */

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

/*
 * splice_pool_limit(n):
 * Keep at most ${n} idle pipes (capped at SPLICE_POOL_MAX; default
 * SPLICE_POOL_DEFAULT); idle pipes beyond it are closed now.
 */
void splice_pool_limit(size_t n);

/*
 * splice_pool_counts(idle, busy):
 * Store the number of idle pipes kept in ${idle} and of pipes held by
 * pairs (bytes in flight) in ${busy}.
 */
void splice_pool_counts(size_t *idle, size_t *busy);

#endif
