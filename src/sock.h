/*
 * sock: the one place that makes and tunes sockets.  Listening sockets,
 * non-blocking dials, reset-closes, TCP options and the source key of an
 * accepted connection; every other module calls these instead of
 * socket(2), connect(2) or setsockopt(2).  No libev, no policy, no logs.
 */
#ifndef SALLYPORT_SOCK_H
#define SALLYPORT_SOCK_H

#include <stddef.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/*
 * sock_listen(a, backlog, err, errlen):
 * A non-blocking, close-on-exec listening socket bound to ${a} (resolved)
 * with a queue of ${backlog}, or -1 with a message in ${err}.  A unix
 * socket path replaces a stale socket (never any other kind of file) and
 * is created with mode 0600.
 */
int sock_listen(const struct addr *a, int backlog, char *err, size_t errlen);

/*
 * sock_dial(a):
 * A non-blocking, close-on-exec TCP (or unix) socket with a connect to
 * ${a} (resolved) started and TCP_NODELAY on; writable means connected
 * or failed (SO_ERROR).  Return the fd, or -1 with errno set.
 */
int sock_dial(const struct addr *a);

/*
 * sock_pending(fd):
 * How many bytes wait unread on the connected socket ${fd} (0 on error).
 */
size_t sock_pending(int fd);

/*
 * sock_unacked(fd):
 * Whether the connected TCP socket ${fd} has sent bytes (or a FIN) that
 * its peer has not acknowledged yet (TCP_INFO tcpi_unacked).  0 for a
 * unix socket or on error.
 */
int sock_unacked(int fd);

/*
 * sock_close_reset(fd):
 * Close ${fd} with a reset (SO_LINGER 0), so its peer learns at once that
 * the stream was aborted, never mistaking it for the end of the data.
 */
void sock_close_reset(int fd);

/*
 * sock_nodelay(fd):
 * Turn on TCP_NODELAY if ${fd} is a TCP socket; errors are ignored.
 */
void sock_nodelay(int fd);

/*
 * sock_keepalive(fd, secs):
 * Turn on TCP keepalive probes on ${fd} after ${secs} seconds of silence
 * (then every ${secs}, 3 probes), if it is a TCP socket and ${secs} > 0.
 */
void sock_keepalive(int fd, double secs);

/*
 * sock_source_key(fd):
 * The source of the connected socket ${fd} as a key: an IPv4 address, an
 * IPv6 /64 prefix (one host usually holds a whole /64), or 0 for a unix
 * socket or on error.
 */
uint64_t sock_source_key(int fd);

/*
 * sock_peer(fd, ss, salen):
 * The address of the peer of the socket ${fd} into ${ss} and its length
 * into *${salen}.  Return 0, or -1 (then ${ss} is zero: AF_UNSPEC).
 */
int sock_peer(int fd, struct sockaddr_storage *ss, socklen_t *salen);

/*
 * sock_dgram_send(path, buf, len):
 * Send the ${len} bytes at ${buf} as one datagram to the unix datagram
 * socket ${path} ("@name": the abstract namespace), from a fresh socket
 * closed at once.  Return 0, or -1 with errno set.
 */
int sock_dgram_send(const char *path, const void *buf, size_t len);

/*
 * sock_original_dst(fd, ss, len):
 * The destination the client of the accepted TCP socket ${fd} connected
 * to before netfilter redirected it (SO_ORIGINAL_DST, or
 * IP6T_SO_ORIGINAL_DST on IPv6) into ${ss} and ${len} (in: its size).
 * Return 0, or -1 with errno set (ENOENT: no conntrack entry).
 */
int sock_original_dst(int fd, struct sockaddr_storage *ss, socklen_t *len);

/*
 * sock_client_ends(fd, src, srclen, dst, dstlen):
 * The two ends of the accepted socket ${fd} as its client sees them: its
 * own address (getpeername) into ${src}, and the address it connected to
 * into ${dst}: the original destination when netfilter redirected it,
 * else the local address.  Lengths in/out as for getpeername.  Return 0,
 * or -1 (a unix socket has no such ends: EAFNOSUPPORT).
 */
int sock_client_ends(int fd, struct sockaddr_storage *src, socklen_t *srclen,
    struct sockaddr_storage *dst, socklen_t *dstlen);

#endif
