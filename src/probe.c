/*
 * probe: see probe.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "probe.h"
#include "resolve.h"
#include "sock.h"

/* Seconds left until ${deadline} (CLOCK_MONOTONIC), as poll milliseconds. */
static int
ms_left(double deadline)
{
	struct timespec ts;
	double now;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return (now >= deadline ? 0 : (int)((deadline - now) * 1000.) + 1);
}

/* Wait for ${events} on ${fd} until ${deadline}; 0 or -1 (timed out). */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {fd, events, 0};
	int r, ms;

	do {
		if ((ms = ms_left(deadline)) == 0)
			return (-1);
		r = poll(&p, 1, ms);
	} while (r == -1 && errno == EINTR);
	return (r == 1 ? 0 : -1);
}

/*
 * Split ${target} into the address text ${at} and the HTTP path ${path}
 * (empty: a plain connect).  Return 0 or -1.
 */
static int
split(const char *target, char *at, size_t alen, char *path, size_t plen)
{
	const char *rest, *slash;

	path[0] = '\0';
	if (strncmp(target, "http://", 7) != 0) {
		if (strlen(target) >= alen)
			return (-1);
		strcpy(at, target);
		return (0);
	}
	rest = target + 7;
	if (strncmp(rest, "unix:", 5) == 0)
		slash = strstr(rest, ":/") != NULL ?
		    strstr(rest + 5, ":/") : NULL; /* unix:/SOCK:/PATH */
	else
		slash = strchr(rest, '/');
	if (slash == NULL) {
		snprintf(path, plen, "/readyz");
		slash = rest + strlen(rest);
	} else if (snprintf(path, plen, "%s", slash + (*slash == ':')) >=
	    (int)plen)
		return (-1);
	if ((size_t)(slash - rest) >= alen)
		return (-1);
	memcpy(at, rest, (size_t)(slash - rest));
	at[slash - rest] = '\0';
	return (0);
}

/*
 * probe_run(target, msg, len):
 * Probe ${target}.  Return 0 if healthy, -1 if not, with a one-line
 * reason (or the status line) in ${msg}.
 */
int
probe_run(const char *target, char *msg, size_t len)
{
	char at[ADDR_TEXT_MAX + 16], path[512], req[600], resp[256], err[256];
	struct addr a;
	struct timespec ts;
	double deadline;
	size_t have = 0, sent = 0, rl;
	socklen_t sl = sizeof(int);
	ssize_t n;
	int fd, soerr = 0;

	if (split(target, at, sizeof(at), path, sizeof(path)) == -1) {
		snprintf(msg, len, "target too long");
		goto fail0;
	}
	if (addr_parse(at, &a, err, sizeof(err)) == -1 ||
	    resolve_addr_now(&a, err, sizeof(err)) == -1) {
		snprintf(msg, len, "%s", err);
		goto fail0;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + PROBE_TIMEOUT;
	if ((fd = sock_dial(&a)) == -1) {
		snprintf(msg, len, "connect: %s", strerror(errno));
		goto fail0;
	}
	if (wait_fd(fd, POLLOUT, deadline) == -1) {
		snprintf(msg, len, "connect: timed out");
		goto fail1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
	    soerr != 0) {
		snprintf(msg, len, "connect: %s", strerror(soerr));
		goto fail1;
	}
	if (path[0] == '\0') {
		snprintf(msg, len, "connected");
		close(fd);
		return (0);
	}

	/* One GET; the first line of the answer decides. */
	rl = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: "
	    "sallyport\r\nConnection: close\r\n\r\n", path);
	while (sent < rl) {
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			goto timeout;
		n = send(fd, req + sent, rl - sent, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(msg, len, "send: %s", strerror(errno));
			goto fail1;
		}
		sent += (size_t)n;
	}
	while (have < sizeof(resp) - 1 && memchr(resp, '\n', have) == NULL) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			goto timeout;
		n = read(fd, resp + have, sizeof(resp) - 1 - have);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	resp[have] = '\0';
	resp[strcspn(resp, "\r\n")] = '\0';
	snprintf(msg, len, "%s", have > 0 ? resp : "no answer");
	close(fd);
	if (strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12 ||
	    strncmp(resp + 8, " 200", 4) != 0)
		return (-1);
	return (0);
timeout:
	snprintf(msg, len, "timed out");
fail1:
	close(fd);
fail0:
	return (-1);
}
