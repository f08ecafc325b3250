/*
 * notify: the systemd notification protocol (sd_notify(3)), written out
 * instead of linking libsystemd: one datagram "KEY=VALUE\n..." to the
 * unix socket named by $NOTIFY_SOCKET (a path, or "@name" in the
 * abstract namespace).  Without $NOTIFY_SOCKET every call does nothing.
 * Also the watchdog: with $WATCHDOG_USEC set (and $WATCHDOG_PID unset or
 * ours) a timer on the loop sends WATCHDOG=1 at half the interval, so a
 * stuck loop gets the service restarted.  Failures are logged once and
 * never stop the node.
 */
#ifndef SALLYPORT_NOTIFY_H
#define SALLYPORT_NOTIFY_H

#include <ev.h>

/*
 * notify_start(loop):
 * Read the environment; start the watchdog timer on ${loop} if asked.
 */
void notify_start(struct ev_loop *loop);

/*
 * notify_stop(loop):
 * Stop the watchdog timer on ${loop}.
 */
void notify_stop(struct ev_loop *loop);

/*
 * notify_ready():
 * "READY=1" with a STATUS line: every listener is bound (start-up or the
 * end of a reload).
 */
void notify_ready(void);

/*
 * notify_reloading():
 * "RELOADING=1" with MONOTONIC_USEC (Type=notify-reload wants it): a
 * reload starts; notify_ready() ends it.
 */
void notify_reloading(void);

/*
 * notify_stopping():
 * "STOPPING=1": SIGTERM/SIGINT, the shutdown grace begins.
 */
void notify_stopping(void);

/*
 * notify_send(msg):
 * Send ${msg} (newline-separated KEY=VALUE assignments) as is.  Return
 * 0, 1 if there is no $NOTIFY_SOCKET, -1 on error (logged once).
 */
int notify_send(const char *msg);

#endif
