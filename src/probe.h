/*
 * probe: `sallyport probe TARGET`, a health check that needs no curl in
 * the image (Docker HEALTHCHECK, Kubernetes exec probes).  TARGET is an
 * address (HOST:PORT, [V6]:PORT, unix:/PATH: a connect that succeeds is
 * healthy) or an admin URL, http://HOST:PORT/PATH or
 * http://unix:/SOCKET:/PATH (nginx's spelling), answered 200 or not.
 * Blocking, for the command line only, PROBE_TIMEOUT seconds in all.
 */
#ifndef SALLYPORT_PROBE_H
#define SALLYPORT_PROBE_H

#include <stddef.h>

#define PROBE_TIMEOUT 2. /* seconds, resolve excluded */

/*
 * probe_run(target, msg, len):
 * Probe ${target}.  Return 0 if healthy, -1 if not, with a one-line
 * reason (or the status line) in ${msg}.
 */
int probe_run(const char *target, char *msg, size_t len);

#endif
