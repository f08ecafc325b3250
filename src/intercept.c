/*
 * intercept: see intercept.h.
 *
 * nftables' redirect in the output hook sends a locally made connection
 * to the loopback address of its family (127.0.0.1 or ::1) at the given
 * port, and conntrack keeps the address it was meant for: the listener
 * reads it back with sock_original_dst() and looks it up.  A connection
 * made straight to the listener (no redirect) has no original
 * destination of its own (it is the listener's address): refused too.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "sock.h"

struct intercept {
	struct env *env;
	struct listener l[2];
	void (*serve)(void *, int, size_t);
	void *arg;
};

/* Return 1 if the resolved ${a} is the IP address and port of ${sa}. */
static int
same_endpoint(const struct addr *a, const struct sockaddr *sa)
{
	const struct sockaddr_in *x4, *y4;
	const struct sockaddr_in6 *x6, *y6;

	if (a->salen == 0 || a->sa.ss_family != sa->sa_family)
		return (0);
	if (sa->sa_family == AF_INET) {
		x4 = (const struct sockaddr_in *)(const void *)&a->sa;
		y4 = (const struct sockaddr_in *)(const void *)sa;
		return (x4->sin_port == y4->sin_port &&
		    x4->sin_addr.s_addr == y4->sin_addr.s_addr);
	}
	x6 = (const struct sockaddr_in6 *)(const void *)&a->sa;
	y6 = (const struct sockaddr_in6 *)(const void *)sa;
	return (x6->sin6_port == y6->sin6_port &&
	    memcmp(&x6->sin6_addr, &y6->sin6_addr, 16) == 0);
}

/*
 * intercept_find(cfg, sa, len):
 * The index in cfg->inlets of the inlet that declares the original
 * destination ${sa} (${len} bytes, as the kernel gave them: IPv4 or
 * IPv6, address and port), or -1 if none does or ${sa} is malformed.
 */
long
intercept_find(const struct config *cfg, const struct sockaddr *sa,
    socklen_t len)
{
	size_t i, k;

	if (len < (socklen_t)sizeof(sa->sa_family))
		return (-1);
	if (!(sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in)) &&
	    !(sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6)))
		return (-1);
	for (i = 0; i < cfg->ninlets; i++)
		for (k = 0; k < cfg->inlets[i].nintercept; k++)
			if (same_endpoint(&cfg->inlets[i].intercept[k], sa))
				return ((long)i);
	return (-1);
}

/*
 * intercept_format(sa, len, buf, buflen):
 * ${sa} as "a.b.c.d:port" or "[v6]:port" into ${buf}, or "-".
 */
const char *
intercept_format(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t buflen)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in) &&
	    inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host)) != NULL)
		snprintf(buf, buflen, "%s:%u", host, ntohs(s4->sin_port));
	else if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6) &&
	    inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host)) != NULL)
		snprintf(buf, buflen, "[%s]:%u", host, ntohs(s6->sin6_port));
	else
		snprintf(buf, buflen, "-");
	return (buf);
}

/* A redirected connection ${fd} (taken): to its inlet, or refused. */
static void
intercept_accept(struct listener *l, int fd)
{
	struct intercept *x = l->arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char dst[INET6_ADDRSTRLEN + 16], note[INET6_ADDRSTRLEN + 32];
	long i = -1;

	if (sock_original_dst(fd, &ss, &len) == 0) {
		i = intercept_find(x->env->cfg, (struct sockaddr *)&ss, len);
		(void)intercept_format((struct sockaddr *)&ss, len, dst,
		    sizeof(dst));
	} else
		snprintf(dst, sizeof(dst), "-");
	if (i >= 0) {
		x->serve(x->arg, fd, (size_t)i); /* serve owns fd now */
		return;
	}
	/* Deny by default; any local process can cause this: limited. */
	snprintf(note, sizeof(note), " dst=%s", dst);
	env_audit_note(x->env, &x->env->anyone_log, 0, "no-inlet", NULL, "-",
	    "inlet", note);
	sock_close_reset(fd);
}

/*
 * intercept_new(e, fds, serve, arg, err, errlen):
 * Accept on the interception addresses of e->cfg ([node] intercept): the
 * listening socket fds[i] (taken; -1: bind cfg->node.intercept[i] now).
 * Each redirected connection whose original destination an inlet of
 * e->cfg declares goes to ${serve}(${arg}, fd, index) (fd taken).  NULL
 * with a message in ${err} on failure (the fds closed).
 */
struct intercept *
intercept_new(struct env *e, int fds[2], void (*serve)(void *, int, size_t),
    void *arg, char *err, size_t errlen)
{
	const struct config_node *node = &e->cfg->node;
	struct intercept *x;
	size_t i;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail0;
	}
	x->env = e;
	x->serve = serve;
	x->arg = arg;
	x->l[0].fd = x->l[1].fd = -1;
	for (i = 0; i < node->nintercept; i++) {
		if (fds[i] == -1 && (fds[i] = listener_bind(&node->intercept[i],
		    err, errlen)) == -1)
			goto fail1;
		listener_attach(&x->l[i], e, fds[i], &node->intercept[i],
		    "inlet", "intercept", intercept_accept, x);
		fds[i] = -1; /* x->l[i] owns it now */
	}
	return (x);
fail1:
	intercept_free(x);
fail0:
	for (i = 0; i < 2; i++)
		if (fds[i] != -1) {
			close(fds[i]);
			fds[i] = -1;
		}
	return (NULL);
}

/*
 * intercept_detach(x, a):
 * Reload: hand over the listening socket bound to ${a} (return it; ${x}
 * stops accepting on it), or -1 if ${x} (may be NULL) has none.
 */
int
intercept_detach(struct intercept *x, const struct addr *a)
{
	size_t i;

	for (i = 0; x != NULL && i < 2; i++)
		if (x->l[i].fd != -1 && addr_same(x->l[i].addr, a))
			return (listener_detach(&x->l[i]));
	return (-1);
}

/*
 * intercept_free(x):
 * Stop accepting and free ${x}; NULL does nothing.
 */
void
intercept_free(struct intercept *x)
{

	if (x == NULL)
		return;
	listener_close(&x->l[0]);
	listener_close(&x->l[1]);
	free(x);
}

/* Print the resolved ${a} as nft wants it ("1.2.3.4", "::1") and its
 * port; return -1 if it is not resolved. */
static int
rule_addr(const struct addr *a, char *host, size_t hostlen, unsigned *port)
{
	const struct sockaddr_in *s4 = (const void *)&a->sa;
	const struct sockaddr_in6 *s6 = (const void *)&a->sa;

	if (a->salen == 0)
		return (-1);
	if (a->sa.ss_family == AF_INET) {
		*port = ntohs(s4->sin_port);
		return (inet_ntop(AF_INET, &s4->sin_addr, host,
		    (socklen_t)hostlen) == NULL ? -1 : 0);
	}
	*port = ntohs(s6->sin6_port);
	return (inet_ntop(AF_INET6, &s6->sin6_addr, host,
	    (socklen_t)hostlen) == NULL ? -1 : 0);
}

/*
 * intercept_rules(cfg, uid, out):
 * Print to ${out} an nftables ruleset (input for "nft -f -") that, in the
 * output hook, redirects TCP connections to every intercept address of
 * ${cfg} to the interception listener of its family, except those of
 * the user ${uid} (the node's own).  Return 0, or -1 with a message on
 * stderr (no [node] intercept, a family without a listener, a name not
 * resolved).
 */
int
intercept_rules(const struct config *cfg, unsigned long uid, FILE *out)
{
	const struct config_node *node = &cfg->node;
	const struct addr *a;
	char host[INET6_ADDRSTRLEN];
	unsigned port, lport[2] = {0, 0}; /* IPv4, IPv6 listener ports */
	size_t i, k, j;

	if (node->nintercept == 0) {
		fprintf(stderr, "%s: no intercept = in [node]\n", cfg->path);
		return (-1);
	}
	for (j = 0; j < node->nintercept; j++)
		(void)rule_addr(&node->intercept[j], host, sizeof(host),
		    &lport[node->intercept[j].sa.ss_family == AF_INET6]);
	fprintf(out, "# sallyport intercept-rules %s\n"
	    "# Redirects the declared destinations of locally made TCP "
	    "connections\n# to the interception listener; the node's own "
	    "(uid %lu) are left alone.\n"
	    "table inet sallyport\ndelete table inet sallyport\n"
	    "table inet sallyport {\n"
	    "\tchain output {\n"
	    "\t\ttype nat hook output priority -100; policy accept;\n"
	    "\t\tmeta skuid %lu return\n", cfg->path, uid, uid);
	for (i = 0; i < cfg->ninlets; i++) {
		for (k = 0; k < cfg->inlets[i].nintercept; k++) {
			a = &cfg->inlets[i].intercept[k];
			if (rule_addr(a, host, sizeof(host), &port) == -1) {
				fprintf(stderr, "%s: [inlet %s] intercept %s "
				    "is not resolved\n", cfg->path,
				    cfg->inlets[i].name, a->host);
				return (-1);
			}
			j = a->sa.ss_family == AF_INET6;
			if (lport[j] == 0) {
				fprintf(stderr, "%s: [inlet %s] intercept %s: "
				    "no %s interception listener in [node] "
				    "intercept\n", cfg->path,
				    cfg->inlets[i].name, a->host,
				    j ? "IPv6" : "IPv4");
				return (-1);
			}
			fprintf(out, "\t\t%s daddr %s tcp dport %u redirect "
			    "to :%u comment \"inlet %s\"\n", j ? "ip6" : "ip",
			    host, port, lport[j], cfg->inlets[i].name);
		}
	}
	fprintf(out, "\t}\n}\n");
	return (0);
}
