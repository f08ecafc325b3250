/*
 * intercept: the node's interception listener ([node] intercept) and the
 * choice of the inlet for each connection netfilter redirected to it,
 * by its original destination (SO_ORIGINAL_DST) against the inlets'
 * intercept addresses.  Deny by default: a destination no inlet declares
 * is refused and audited (reason=no-inlet, with dst=).  Also prints the
 * nftables ruleset that makes those redirects (intercept-rules).  Knows
 * no inlet: the chosen one is handed to the runtime's callback by index.
 */
#ifndef SALLYPORT_INTERCEPT_H
#define SALLYPORT_INTERCEPT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "env.h"

struct intercept;

/*
 * intercept_find(cfg, sa, len):
 * The index in cfg->inlets of the inlet that declares the original
 * destination ${sa} (${len} bytes, as the kernel gave them: IPv4 or
 * IPv6, address and port), or -1 if none does or ${sa} is malformed.
 */
long intercept_find(const struct config *cfg, const struct sockaddr *sa,
    socklen_t len);

/*
 * intercept_format(sa, len, buf, buflen):
 * ${sa} as "a.b.c.d:port" or "[v6]:port" into ${buf}, or "-".
 */
const char *intercept_format(const struct sockaddr *sa, socklen_t len,
    char *buf, size_t buflen);

/*
 * intercept_new(e, fds, serve, arg, err, errlen):
 * Accept on the interception addresses of e->cfg ([node] intercept): the
 * listening socket fds[i] (taken; -1: bind cfg->node.intercept[i] now).
 * Each redirected connection whose original destination an inlet of
 * e->cfg declares goes to ${serve}(${arg}, fd, index) (fd taken).  NULL
 * with a message in ${err} on failure (the fds closed).
 */
struct intercept *intercept_new(struct env *e, int fds[2],
    void (*serve)(void *, int, size_t), void *arg, char *err,
    size_t errlen);

/*
 * intercept_detach(x, a):
 * Reload: hand over the listening socket bound to ${a} (return it; ${x}
 * stops accepting on it), or -1 if ${x} (may be NULL) has none.
 */
int intercept_detach(struct intercept *x, const struct addr *a);

/*
 * intercept_free(x):
 * Stop accepting and free ${x}; NULL does nothing.
 */
void intercept_free(struct intercept *x);

/*
 * intercept_rules(cfg, uid, out):
 * Print to ${out} an nftables ruleset (input for "nft -f -") that, in the
 * output hook, redirects TCP connections to every intercept address of
 * ${cfg} to the interception listener of its family, except those of
 * the user ${uid} (the node's own).  Return 0, or -1 with a message on
 * stderr (no [node] intercept, a family without a listener, a name not
 * resolved).
 */
int intercept_rules(const struct config *cfg, unsigned long uid, FILE *out);

#endif
