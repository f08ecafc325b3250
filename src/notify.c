/*
 * notify: see notify.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "sock.h"

static ev_timer watchdog;
static int warned;

/*
 * notify_send(msg):
 * Send ${msg} (newline-separated KEY=VALUE assignments) as is.  Return
 * 0, 1 if there is no $NOTIFY_SOCKET, -1 on error (logged once).
 */
int
notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");

	if (path == NULL || path[0] == '\0')
		return (1);
	if (sock_dgram_send(path, msg, strlen(msg)) == -1) {
		if (!warned)
			log_warn("event=notify-failed error=\"%s\"",
			    strerror(errno));
		warned = 1;
		return (-1);
	}
	log_debug("event=notify state=%.*s", (int)strcspn(msg, "\n"), msg);
	return (0);
}

/* The watchdog interval is due: tell systemd the loop still turns. */
static void
notify_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)w;
	(void)revents;
	(void)notify_send("WATCHDOG=1");
}

/*
 * notify_start(loop):
 * Read the environment; start the watchdog timer on ${loop} if asked.
 */
void
notify_start(struct ev_loop *loop)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	ev_init(&watchdog, notify_watchdog_cb);
	if (usec == NULL || getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno != 0 || end == usec || *end != '\0' || us == 0) {
		log_warn("event=notify-failed error=\"bad WATCHDOG_USEC\"");
		return;
	}
	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	ev_timer_set(&watchdog, (double)us / 2e6, (double)us / 2e6);
	ev_timer_start(loop, &watchdog);
	(void)notify_send("WATCHDOG=1");
}

/*
 * notify_stop(loop):
 * Stop the watchdog timer on ${loop}.
 */
void
notify_stop(struct ev_loop *loop)
{

	ev_timer_stop(loop, &watchdog);
}

/*
 * notify_ready():
 * "READY=1" with a STATUS line: every listener is bound (start-up or the
 * end of a reload).
 */
void
notify_ready(void)
{

	(void)notify_send("READY=1\nSTATUS=serving");
}

/*
 * notify_reloading():
 * "RELOADING=1" with MONOTONIC_USEC (Type=notify-reload wants it): a
 * reload starts; notify_ready() ends it.
 */
void
notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading\n"
	    "MONOTONIC_USEC=%llu", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	(void)notify_send(msg);
}

/*
 * notify_stopping():
 * "STOPPING=1": SIGTERM/SIGINT, the shutdown grace begins.
 */
void
notify_stopping(void)
{

	(void)notify_send("STOPPING=1\nSTATUS=stopping");
}
