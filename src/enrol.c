/*
 * enrol: see enrol.h.
 *
 * One exchange per address: connect, the initiator's handshake (pinned by
 * check: the authority node's credential), the question, then the answer's
 * pieces, each asked for with MORE until the document is whole.  A socket
 * is waited on with poll(2) against the deadline of the phase.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "addr.h"
#include "channel.h"
#include "enrol.h"
#include "file.h"
#include "frame.h"
#include "resolve.h"
#include "seterr.h"
#include "sock.h"

/* One exchange: the socket, the channel, what was read ahead. */
struct ex {
	int fd;
	struct channel *ch;
	uint8_t in[CHANNEL_MAX_RECORD];
	size_t have;
	double timeout;
};

/* The monotonic clock in seconds. */
static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Wait until ${fd} has ${events} or ${deadline}; 0, or -1 (timed out). */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	double left;
	int n;

	for (;;) {
		left = deadline - mono();
		if (left <= 0)
			return (-1);
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return (0);
		if (n == -1 && errno != EINTR)
			return (-1);
	}
}

/* Send all ${len} bytes of ${buf}; 0, or -1 with a message. */
static int
send_all(struct ex *x, const uint8_t *buf, size_t len, char *err,
    size_t errlen)
{
	double deadline = mono() + x->timeout;
	ssize_t n;

	while (len > 0) {
		if (wait_fd(x->fd, POLLOUT, deadline) == -1) {
			seterr(err, errlen, "send: timed out");
			return (-1);
		}
		n = send(x->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			seterr(err, errlen, "send: %s", strerror(errno));
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Read until a whole frame (at most ${max} bytes of body) is at the
 * start of x->in; its size in ${total}.  0, or -1 with a message.
 */
static int
read_frame(struct ex *x, size_t max, size_t *total, char *err,
    size_t errlen)
{
	double deadline = mono() + x->timeout;
	ssize_t n;
	int r;

	while ((r = frame_peek(x->in, x->have, max, total)) == 0) {
		if (wait_fd(x->fd, POLLIN, deadline) == -1) {
			seterr(err, errlen, "no answer (timed out)");
			return (-1);
		}
		n = read(x->fd, x->in + x->have, sizeof(x->in) - x->have);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			seterr(err, errlen, "%s", n == 0 ?
			    "closed by the peer" : strerror(errno));
			return (-1);
		}
		x->have += (size_t)n;
	}
	if (r == -1) {
		seterr(err, errlen, "bad frame");
		return (-1);
	}
	return (0);
}

/* Drop the first ${n} bytes of x->in. */
static void
consume(struct ex *x, size_t n)
{

	memmove(x->in, x->in + n, x->have - n);
	x->have -= n;
}

/*
 * The authority node's proof (channel_peer_check): a credential of its
 * own from the authority (${arg}: the target) holding authority=NAME,
 * checked as an outlet checks an attribute rule (acl_admit).
 */
int
enrol_authority_check(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *creds, size_t len)
{
	const struct enrol_target *t = arg;
	static struct config cfg; /* [authorities] NAME and the skew only */
	struct config_authority au[CONFIG_AUTHORITY_IDS];
	struct config_rule rule;
	size_t i;
	struct acl_ctx ax;
	struct acl_peer peer = {id, creds, len, NULL};
	struct acl_verdict v;
	char text[CONFIG_RULE_TEXT], err[128];

	memset(&cfg, 0, sizeof(cfg));
	memset(&au, 0, sizeof(au));
	cfg.node.credential_skew = CRED_SKEW_DEFAULT;
	snprintf(text, sizeof(text), "authority=%s@%s", t->name, t->name);
	if (config_rule_parse(&rule, text, err, sizeof(err)) == -1)
		return (0);
	for (i = 0; i < t->nids && i < CONFIG_AUTHORITY_IDS; i++) {
		snprintf(au[i].name, sizeof(au[i].name), "%s", t->name);
		memcpy(au[i].id, t->ids[i], CONFIG_ID_LEN);
		memcpy(rule.issuer[i], t->ids[i], CONFIG_ID_LEN);
	}
	cfg.authorities = au;
	cfg.nauthorities = i;
	rule.nissuers = i;
	memset(&ax, 0, sizeof(ax));
	ax.cfg = &cfg;
	ax.revoked = NULL;
	ax.cache = NULL;
	ax.now = (uint64_t)time(NULL);
	return (acl_admit(&ax, NULL, NULL, 0, &rule, 1, &peer, NULL, &v) ? 1 :
	    0);
}

/* Seal and send the message ${msg} (${len} bytes); 0, or -1. */
static int
send_msg(struct ex *x, const uint8_t *msg, size_t len, char *err,
    size_t errlen)
{
	uint8_t rec[AUTHMSG_MAX + CHANNEL_OVERHEAD];
	long n;
	int r;

	memcpy(rec + CHANNEL_HDR, msg, len);
	if ((n = channel_seal(x->ch, CHANNEL_DATA, rec, len)) < 0) {
		seterr(err, errlen, "%s", channel_strerror((int)n));
		return (-1);
	}
	r = send_all(x, rec, (size_t)n, err, errlen);
	wipe(rec, sizeof(rec));
	return (r);
}

/*
 * Read records until a message of the authority; it is parsed into ${m}
 * (its bytes stay in x->in until the next call).  0, or -1.
 */
static int
read_msg(struct ex *x, struct authmsg *m, size_t *used, char *err,
    size_t errlen)
{
	enum channel_type type;
	size_t total, len;
	int r;

	for (;;) {
		if (read_frame(x, CHANNEL_MAX_RECORD - FRAME_HDR, &total, err,
		    errlen) == -1)
			return (-1);
		if ((r = channel_open(x->ch, x->in, total, &type, &len)) != 0) {
			seterr(err, errlen, "%s", channel_strerror(r));
			return (-1);
		}
		if (type == CHANNEL_REFUSE) {
			seterr(err, errlen, "refused: %s", len > 0 ?
			    channel_refusal_name(x->in[CHANNEL_HDR]) :
			    "refused");
			return (-1);
		}
		if (type == CHANNEL_EOF) {
			seterr(err, errlen, "closed by the authority");
			return (-1);
		}
		if (type != CHANNEL_DATA) {
			consume(x, total); /* PING, CREDS, REKEY: no more */
			continue;
		}
		if (authmsg_parse(x->in + CHANNEL_HDR, len, m) == -1) {
			seterr(err, errlen, "malformed answer");
			return (-1);
		}
		*used = total;
		return (0);
	}
}

/* The handshake of ${x} as initiator for the target ${t}; 0, or -1. */
static int
handshake(struct ex *x, const struct enrol_target *t, char *err,
    size_t errlen)
{
	uint8_t out[CHANNEL_MAX_HANDSHAKE + CHANNEL_OVERHEAD + CRED_BLOCK_MAX];
	size_t outlen, total;
	int r;

	if ((r = channel_start(x->ch, out, sizeof(out), &outlen)) != 0 ||
	    send_all(x, out, outlen, err, errlen) == -1)
		goto fail;
	do {
		if (read_frame(x, CHANNEL_MAX_RECORD - FRAME_HDR, &total, err,
		    errlen) == -1)
			return (-1);
		r = channel_handshake(x->ch, x->in, total, (uint64_t)time(NULL),
		    out, sizeof(out), &outlen);
		consume(x, total);
		if (r < 0)
			goto fail;
		if (outlen > 0 && send_all(x, out, outlen, err, errlen) == -1)
			return (-1);
	} while (r == 0);
	return (0);
fail:
	if (r == -CHANNEL_EDENIED || r == -CHANNEL_EPEER)
		seterr(err, errlen, "not the authority %s (no credential "
		    "authority=%s from it)", t->name, t->name);
	else if (r != 0)
		seterr(err, errlen, "handshake: %s", channel_strerror(r));
	return (-1);
}

/*
 * Ask and read the answer into ${a} (a credential and the revocation
 * list, or a->reason).  0, or -1 with a message.
 */
static int
exchange(struct ex *x, enum authmsg_type type, const uint8_t *secret,
    struct enrol_answer *a, char *err, size_t errlen)
{
	struct enrol_doc d;
	struct authmsg m;
	uint8_t msg[AUTHMSG_MAX];
	size_t len, used;
	int r;

	memset(&d, 0, sizeof(d));
	enrol_ask_msg(type, secret, msg, &len);
	if (send_msg(x, msg, len, err, errlen) == -1)
		goto fail;
	do {
		if (read_msg(x, &m, &used, err, errlen) == -1)
			goto fail;
		r = enrol_doc_add(&d, &m, a, msg, &len);
		consume(x, used);
		if (r == -1) {
			seterr(err, errlen, "malformed answer");
			goto fail;
		}
		if (r == 0 && send_msg(x, msg, len, err, errlen) == -1)
			goto fail;
	} while (r == 0);
	return (0);
fail:
	enrol_doc_fini(&d);
	return (-1);
}

void
enrol_ask_msg(enum authmsg_type type, const uint8_t *secret,
    uint8_t msg[AUTHMSG_MAX], size_t *len)
{
	struct authmsg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	if (secret != NULL)
		memcpy(m.secret, secret, AUTHMSG_SECRET_LEN);
	(void)authmsg_encode(&m, msg, len);
	wipe(&m, sizeof(m));
}

int
enrol_doc_add(struct enrol_doc *d, const struct authmsg *m,
    struct enrol_answer *a, uint8_t msg[AUTHMSG_MAX], size_t *len)
{
	const uint8_t *cred, *rv;
	size_t clen, rvlen;
	struct authmsg more;

	if (m->type == AUTHMSG_REFUSE && d->doc == NULL) {
		snprintf(a->reason, sizeof(a->reason), "%s", m->reason);
		return (1);
	}
	if (m->type != AUTHMSG_PIECE_TYPE || m->offset != d->have ||
	    (d->doc != NULL && m->total != d->total))
		goto fail;
	if (d->doc == NULL) {
		d->total = m->total;
		if ((d->doc = malloc(m->total)) == NULL)
			goto fail;
	}
	memcpy(d->doc + d->have, m->data, m->len);
	d->have += m->len;
	if (d->have < d->total) {
		memset(&more, 0, sizeof(more));
		more.type = AUTHMSG_MORE;
		more.offset = (uint32_t)d->have;
		(void)authmsg_encode(&more, msg, len);
		return (0);
	}
	if (authmsg_doc_split(d->doc, d->total, &cred, &clen, &rv, &rvlen) ==
	    -1 || (a->revoked = malloc(rvlen + 1)) == NULL)
		goto fail;
	if (clen > 0)
		memcpy(a->cred, cred, clen);
	a->credlen = clen;
	memcpy(a->revoked, rv, rvlen);
	a->revoked[rvlen] = '\0';
	a->revoked_len = rvlen;
	enrol_doc_fini(d);
	return (1);
fail:
	enrol_doc_fini(d);
	return (-1);
}

void
enrol_doc_fini(struct enrol_doc *d)
{

	if (d->doc != NULL)
		wipe(d->doc, d->total);
	free(d->doc);
	memset(d, 0, sizeof(*d));
}

int
enrol_check_cred(const struct enrol_target *t, const uint8_t *id,
    struct enrol_answer *a, char *err, size_t errlen)
{
	const char *why = "bad signature";
	size_t i;

	if (cred_decode(&a->c, a->cred, a->credlen, &why) == -1 ||
	    cred_verify_sig(a->cred, a->credlen) == -1) {
		seterr(err, errlen, "credential: %s", why);
		return (-1);
	}
	for (i = 0; i < t->nids; i++)
		if (memcmp(a->c.issuer, t->ids[i], CRED_ID_LEN) == 0)
			break;
	if (i == t->nids || memcmp(a->c.subject, id, CRED_ID_LEN) != 0) {
		seterr(err, errlen, "credential: not from %s for this "
		    "identity", t->name);
		return (-1);
	}
	return (0);
}

/* One exchange with the address ${at}; 0, or -1 with a message. */
static int
ask_one(const struct enrol_target *t, const char *at,
    const struct channel_local *local, enum authmsg_type type,
    const uint8_t *secret, const struct identity *idn,
    struct enrol_answer *a, char *err, size_t errlen)
{
	uint8_t req[2 + CONFIG_NAME_MAX];
	struct addr ad;
	struct ex *x;
	socklen_t sl = sizeof(int);
	size_t rlen;
	int soerr = 0, rc = -1;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		seterr(err, errlen, "out of memory");
		return (-1);
	}
	x->fd = -1;
	x->timeout = t->timeout;
	if (addr_parse(at, &ad, err, errlen) == -1 ||
	    resolve_addr_now(&ad, err, errlen) == -1)
		goto out;
	if ((x->fd = sock_dial(&ad)) == -1) {
		seterr(err, errlen, "connect: %s", strerror(errno));
		goto out;
	}
	if (wait_fd(x->fd, POLLOUT, mono() + t->timeout) == -1) {
		seterr(err, errlen, "connect: timed out");
		goto out;
	}
	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
	    soerr != 0) {
		seterr(err, errlen, "connect: %s", strerror(soerr));
		goto out;
	}
	rlen = (size_t)snprintf((char *)req, sizeof(req), "%s%s",
	    AUTHMSG_PREFIX, t->name);
	if ((x->ch = channel_new(CHANNEL_INITIATOR, local, NULL)) == NULL ||
	    channel_set_request(x->ch, req, rlen) != 0) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	channel_expect_check(x->ch, enrol_authority_check, (void *)t);
	if (handshake(x, t, err, errlen) == -1 ||
	    exchange(x, type, secret, a, err, errlen) == -1)
		goto out;
	if (a->reason[0] == '\0' && type != AUTHMSG_REVOKED &&
	    enrol_check_cred(t, idn->id, a, err, errlen) == -1)
		goto out;
	snprintf(a->addr, sizeof(a->addr), "%s", at);
	rc = 0;
out:
	if (x->fd != -1)
		close(x->fd);
	channel_free(x->ch);
	wipe(x, sizeof(*x));
	free(x);
	return (rc);
}

int
enrol_ask(const struct enrol_target *t, const struct identity *idn,
    const uint8_t *creds, size_t clen, enum authmsg_type type,
    const uint8_t *secret, uint64_t now, struct enrol_answer *a, char *err,
    size_t errlen)
{
	struct channel_local *local;
	char one[512];
	size_t i;
	int rc = -1;

	a->reason[0] = '\0';
	a->addr[0] = '\0';
	a->credlen = 0;
	a->revoked = NULL;
	a->revoked_len = 0;
	seterr(err, errlen, "the token names no address");
	if ((local = calloc(1, sizeof(*local))) == NULL ||
	    channel_local_init(local, idn->priv, now, 3600) == -1 ||
	    channel_local_set_creds(local, creds, clen) == -1) {
		seterr(err, errlen, "channel credentials");
		goto out;
	}
	for (i = 0; i < t->naddrs && rc == -1; i++) {
		if (ask_one(t, t->addrs[i], local, type, secret, idn, a, one,
		    sizeof(one)) == 0)
			rc = 0;
		else
			seterr(err, errlen, "%s: %s", t->addrs[i], one);
	}
out:
	if (local != NULL) {
		channel_local_fini(local);
		free(local);
	}
	return (rc);
}

int
enrol_token_load(const char *arg, struct authtoken *t, char *err,
    size_t errlen)
{
	static const char magic[] = "sallyport-token-";
	uint8_t buf[AUTHTOKEN_LINE_MAX + 2];
	const char *why;
	size_t len;
	int r;

	if (strncmp(arg, magic, sizeof(magic) - 1) == 0) {
		len = strlen(arg);
		if (len > AUTHTOKEN_LINE_MAX) {
			seterr(err, errlen, "token: longer than %d bytes",
			    AUTHTOKEN_LINE_MAX);
			return (-1);
		}
		memcpy(buf, arg, len);
	} else if (file_read(arg, buf, sizeof(buf), &len, err, errlen) ==
	    -1)
		return (-1);
	r = authtoken_parse((const char *)buf, len, t, &why);
	wipe(buf, sizeof(buf));
	if (r == -1)
		seterr(err, errlen, "token: %s", why);
	return (r);
}

void
enrol_target_of(const struct authtoken *t, struct enrol_target *x,
    double timeout)
{

	x->name = t->name;
	x->ids = &t->authority;
	x->nids = 1;
	x->addrs = t->addrs;
	x->naddrs = t->naddrs;
	x->timeout = timeout;
}

enum enrol_outcome
enrol_join(const char *token, const struct identity *idn, const char *out,
    struct authtoken *t, struct enrol_answer *a, char *err, size_t errlen)
{
	struct enrol_target x;

	memset(a, 0, sizeof(*a));
	if (enrol_token_load(token, t, err, errlen) == -1)
		return (ENROL_FAILED);
	enrol_target_of(t, &x, ENROL_TIMEOUT);
	if (enrol_ask(&x, idn, NULL, 0, AUTHMSG_ENROL, t->secret,
	    (uint64_t)time(NULL), a, err, errlen) == -1)
		return (ENROL_UNREACHABLE);
	if (strcmp(a->reason, "busy") == 0) { /* the worker's queue: later */
		seterr(err, errlen, "%s: refused: busy", a->addr);
		return (ENROL_UNREACHABLE);
	}
	if (a->reason[0] != '\0')
		return (ENROL_REFUSED);
	if (cred_save(out, a->cred, a->credlen, err, errlen) == -1)
		return (ENROL_FAILED);
	return (ENROL_JOINED);
}

enum enrol_outcome
enrol_join_retry(const char *token, const struct identity *idn,
    const char *out, struct authtoken *t, struct enrol_answer *a,
    double bound, double max,
    void (*retrying)(void *arg, const struct authtoken *t, const char *why,
    double in), void *arg, char *err, size_t errlen)
{
	double end = mono() + bound, backoff = 1., in;
	enum enrol_outcome o;
	uint32_t r;

	while ((o = enrol_join(token, idn, out, t, a, err, errlen)) ==
	    ENROL_UNREACHABLE) {
		if (crypto_random(&r, sizeof(r)) == -1)
			r = UINT32_MAX;
		in = backoff * (0.5 + 0.5 * ((double)r / UINT32_MAX));
		if (bound >= 0. && mono() + in > end)
			break;
		if (retrying != NULL)
			retrying(arg, t, err, in);
		enrol_answer_fini(a);
		(void)usleep((useconds_t)(in * 1e6));
		backoff = backoff * 2 > max ? max : backoff * 2;
	}
	return (o);
}

void
enrol_join_free(struct authtoken *t, struct enrol_answer *a)
{

	if (a != NULL)
		enrol_answer_fini(a);
	free(a);
	if (t != NULL)
		wipe(t, sizeof(*t));
	free(t);
}

void
enrol_answer_fini(struct enrol_answer *a)
{

	free(a->revoked);
	a->revoked = NULL;
	a->revoked_len = 0;
	wipe(a->cred, sizeof(a->cred));
}
