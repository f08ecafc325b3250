/*
 * sock: see sock.h.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

/* linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h define
 * these (both 80); their headers clash with the libc ones. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

/* The address family of the socket ${fd}, or -1. */
static int
sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	return (ss.ss_family);
}

/*
 * sock_nodelay(fd):
 * Turn on TCP_NODELAY if ${fd} is a TCP socket; errors are ignored.
 *
 * Every write we make is a whole record (or a batch of them) that the
 * other side can act on at once; Nagle would hold back the tail of a
 * request until the previous segment is acknowledged, which costs a round
 * trip on every small request/response exchange.
 */
void
sock_nodelay(int fd)
{
	int one = 1;

	/* A unix socket refuses the option (EOPNOTSUPP): no need to ask
	 * its family first, which would cost a getsockname(2) per socket. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * sock_keepalive(fd, secs):
 * Turn on TCP keepalive probes on ${fd} after ${secs} seconds of silence
 * (then every ${secs}, 3 probes), if it is a TCP socket and ${secs} > 0.
 *
 * The channel socket of an idle tunnel may sit behind NAT or a firewall
 * that forgets quiet flows, and its peer may vanish without a FIN.  Kernel
 * keepalives cover both at no cost to the loop (no timer, no buffer per
 * connection); a dead peer then surfaces as a read error, i.e. an abort.
 */
void
sock_keepalive(int fd, double secs)
{
	int one = 1, idle, cnt = 3;

	if (secs <= 0)
		return;
	idle = secs < 1 ? 1 : secs > 86400 ? 86400 : (int)secs;
	/* A unix socket refuses the first TCP option (EOPNOTSUPP): that is
	 * the family test, without a getsockname(2) per socket. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/*
 * sock_dial(a):
 * A non-blocking, close-on-exec TCP (or unix) socket with a connect to
 * ${a} (resolved) started and TCP_NODELAY on; writable means connected
 * or failed (SO_ERROR).  Return the fd, or -1 with errno set.
 */
int
sock_dial(const struct addr *a)
{
	int fd, e;

	if ((fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) == -1 &&
	    errno != EINPROGRESS) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}
	sock_nodelay(fd);
	return (fd);
}

/*
 * sock_pending(fd):
 * How many bytes wait unread on the connected socket ${fd} (0 on error).
 */
size_t
sock_pending(int fd)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) == -1 || n < 0)
		return (0);
	return ((size_t)n);
}

/*
 * sock_unacked(fd):
 * Whether the connected TCP socket ${fd} has sent bytes (or a FIN) that
 * its peer has not acknowledged yet (TCP_INFO tcpi_unacked).  0 for a
 * unix socket or on error.
 */
int
sock_unacked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return (0);
	return (ti.tcpi_unacked != 0);
}

/*
 * sock_close_reset(fd):
 * Close ${fd} with a reset (SO_LINGER 0), so its peer learns at once that
 * the stream was aborted, never mistaking it for the end of the data.
 */
void
sock_close_reset(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * sock_source_key(fd):
 * The source of the connected socket ${fd} as a key: an IPv4 address, an
 * IPv6 /64 prefix (one host usually holds a whole /64), or 0 for a unix
 * socket or on error.
 */
/*
 * sock_peer(fd, ss, salen):
 * The address of the peer of ${fd} into ${ss}; 0, or -1 (${ss} zero).
 */
int
sock_peer(int fd, struct sockaddr_storage *ss, socklen_t *salen)
{

	memset(ss, 0, sizeof(*ss));
	*salen = sizeof(*ss);
	if (fd == -1 || getpeername(fd, (struct sockaddr *)ss, salen) == -1) {
		memset(ss, 0, sizeof(*ss));
		return (-1);
	}
	return (0);
}

uint64_t
sock_source_key(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct in6_addr *a6;
	const uint8_t *p;
	uint64_t k = 0;
	int i;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	if (ss.ss_family == AF_INET) {
		p = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		k = (uint64_t)1 << 32; /* never equal to a v6 prefix of 0 */
		for (i = 0; i < 4; i++)
			k |= (uint64_t)p[i] << (8 * (3 - i));
	} else if (ss.ss_family == AF_INET6) {
		a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		p = a6->s6_addr;
		for (i = 0; i < 8; i++)
			k = k << 8 | p[i];
		/* v4-mapped addresses count by their IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			k = (uint64_t)1 << 32;
			for (i = 12; i < 16; i++)
				k |= (uint64_t)p[i] << (8 * (15 - i));
		}
	}
	return (k);
}

/*
 * sock_listen(a, backlog, err, errlen):
 * A non-blocking, close-on-exec listening socket bound to ${a} (resolved)
 * with a queue of ${backlog}, or -1 with a message in ${err}.  A unix
 * socket path replaces a stale socket (never any other kind of file).
 *
 * The unix socket mode: whoever can connect to an inlet speaks with this
 * node's identity, so the socket starts as the daemon user's alone (bound
 * under umask 0177: never wider, not even for an instant); widen it on
 * purpose (a group-owned directory, or chmod after "ready").
 */
int
sock_listen(const struct addr *a, int backlog, char *err, size_t errlen)
{
	char buf[ADDR_TEXT_MAX + 16];
	struct stat st;
	mode_t mask;
	int fd, one = 1, r;

	if (a->salen == 0) {
		snprintf(err, errlen, "%s: address not resolved",
		    addr_format(a, buf, sizeof(buf)));
		goto fail0;
	}
	if ((fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail0;
	}
	if (a->is_unix) {
		/* Remove a stale socket of a previous run, nothing else. */
		if (lstat(a->host, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "%s: exists and is not a "
				    "socket", a->host);
				goto fail1;
			}
			(void)unlink(a->host);
		}
		mask = umask(0177);
		r = bind(fd, (const struct sockaddr *)&a->sa, a->salen);
		(void)umask(mask);
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (a->sa.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		r = bind(fd, (const struct sockaddr *)&a->sa, a->salen);
	}
	if (r == -1) {
		snprintf(err, errlen, "bind %s: %s",
		    addr_format(a, buf, sizeof(buf)), strerror(errno));
		goto fail1;
	}
	if (listen(fd, backlog) == -1) {
		snprintf(err, errlen, "listen %s: %s",
		    addr_format(a, buf, sizeof(buf)), strerror(errno));
		goto fail1;
	}
	return (fd);
fail1:
	close(fd);
fail0:
	return (-1);
}


/*
 * sock_dgram_send(path, buf, len):
 * Send the ${len} bytes at ${buf} as one datagram to the unix datagram
 * socket ${path} ("@name": the abstract namespace), from a fresh socket
 * closed at once.  Return 0, or -1 with errno set.
 */
int
sock_dgram_send(const char *path, const void *buf, size_t len)
{
	struct sockaddr_un sun;
	size_t plen = strlen(path);
	socklen_t salen;
	ssize_t n;
	int fd, saved;

	if (plen < 2 || plen >= sizeof(sun.sun_path) ||
	    (path[0] != '/' && path[0] != '@')) {
		errno = EINVAL;
		goto fail0;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: no NUL at the end */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail0;
	n = sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&sun, salen);
	if (n == -1 || (size_t)n != len)
		goto fail1;
	close(fd);
	return (0);
fail1:
	saved = errno;
	close(fd);
	errno = saved;
fail0:
	return (-1);
}

/*
 * sock_original_dst(fd, ss, len):
 * The destination the client of the accepted TCP socket ${fd} connected
 * to before netfilter redirected it (SO_ORIGINAL_DST, or
 * IP6T_SO_ORIGINAL_DST on IPv6) into ${ss} and ${len} (in: its size).
 * Return 0, or -1 with errno set (ENOENT: no conntrack entry).
 */
int
sock_original_dst(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	int fam = sock_family(fd);

	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET)
		return (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ss, len));
	if (fam == AF_INET6)
		return (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, ss,
		    len));
	errno = EAFNOSUPPORT;
	return (-1);
}

/*
 * sock_client_ends(fd, src, srclen, dst, dstlen):
 * The two ends of the accepted socket ${fd} as its client sees them: its
 * own address (getpeername) into ${src}, and the address it connected to
 * into ${dst}: the original destination when netfilter redirected it,
 * else the local address.  Lengths in/out as for getpeername.  Return 0,
 * or -1 (a unix socket has no such ends: EAFNOSUPPORT).
 */
int
sock_client_ends(int fd, struct sockaddr_storage *src, socklen_t *srclen,
    struct sockaddr_storage *dst, socklen_t *dstlen)
{
	socklen_t cap = *dstlen;

	if (getpeername(fd, (struct sockaddr *)src, srclen) == -1)
		return (-1);
	if (src->ss_family != AF_INET && src->ss_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	/* Without a redirect the conntrack entry's original destination is
	 * the local address; without conntrack there is none (ENOENT). */
	if (sock_original_dst(fd, dst, dstlen) == 0 &&
	    dst->ss_family == src->ss_family)
		return (0);
	*dstlen = cap;
	return (getsockname(fd, (struct sockaddr *)dst, dstlen));
}
