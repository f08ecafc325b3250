/*
 * authmsg: see authmsg.h.
 */
#include <string.h>

#include "authmsg.h"

static uint32_t
get32(const uint8_t *p)
{

	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put32(uint8_t *p, uint32_t v)
{

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Whether the ${len} bytes at ${s} are a refusal word. */
static int
is_word(const uint8_t *s, size_t len)
{
	size_t i;

	if (len < 1 || len > AUTHMSG_REASON_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return (0);
	return (1);
}

/* Whether a PIECE of ${len} bytes at ${offset} fits a ${total} document. */
static int
piece_fits(uint32_t total, uint32_t offset, size_t len)
{

	return (total >= 1 && total <= AUTHMSG_DOC_MAX && len >= 1 &&
	    len <= AUTHMSG_PIECE && offset < total && len <= total - offset);
}

int
authmsg_parse(const uint8_t *buf, size_t len, struct authmsg *m)
{

	memset(m, 0, sizeof(*m));
	if (len < 1 || len > AUTHMSG_MAX)
		return (-1);
	m->type = (enum authmsg_type)buf[0];
	switch (buf[0]) {
	case AUTHMSG_ENROL:
		if (len != 1 + AUTHMSG_SECRET_LEN)
			return (-1);
		memcpy(m->secret, buf + 1, AUTHMSG_SECRET_LEN);
		return (0);
	case AUTHMSG_RENEW:
	case AUTHMSG_REVOKED:
		return (len == 1 ? 0 : -1);
	case AUTHMSG_MORE:
		if (len != 5)
			return (-1);
		m->offset = get32(buf + 1);
		return (m->offset < AUTHMSG_DOC_MAX ? 0 : -1);
	case AUTHMSG_PIECE_TYPE:
		if (len < AUTHMSG_PIECE_HDR)
			return (-1);
		m->total = get32(buf + 1);
		m->offset = get32(buf + 5);
		m->data = buf + AUTHMSG_PIECE_HDR;
		m->len = len - AUTHMSG_PIECE_HDR;
		return (piece_fits(m->total, m->offset, m->len) ? 0 : -1);
	case AUTHMSG_REFUSE:
		if (!is_word(buf + 1, len - 1))
			return (-1);
		memcpy(m->reason, buf + 1, len - 1);
		m->reason[len - 1] = '\0';
		return (0);
	default:
		return (-1);
	}
}

int
authmsg_encode(const struct authmsg *m, uint8_t out[AUTHMSG_MAX],
    size_t *len)
{
	size_t n;

	out[0] = (uint8_t)m->type;
	switch (m->type) {
	case AUTHMSG_ENROL:
		memcpy(out + 1, m->secret, AUTHMSG_SECRET_LEN);
		*len = 1 + AUTHMSG_SECRET_LEN;
		return (0);
	case AUTHMSG_RENEW:
	case AUTHMSG_REVOKED:
		*len = 1;
		return (0);
	case AUTHMSG_MORE:
		if (m->offset >= AUTHMSG_DOC_MAX)
			return (-1);
		put32(out + 1, m->offset);
		*len = 5;
		return (0);
	case AUTHMSG_PIECE_TYPE:
		if (!piece_fits(m->total, m->offset, m->len))
			return (-1);
		put32(out + 1, m->total);
		put32(out + 5, m->offset);
		memcpy(out + AUTHMSG_PIECE_HDR, m->data, m->len);
		*len = AUTHMSG_PIECE_HDR + m->len;
		return (0);
	case AUTHMSG_REFUSE:
		n = strlen(m->reason);
		if (!is_word((const uint8_t *)m->reason, n))
			return (-1);
		memcpy(out + 1, m->reason, n);
		*len = 1 + n;
		return (0);
	default:
		return (-1);
	}
}

int
authmsg_piece(const uint8_t *doc, size_t dlen, uint32_t offset,
    uint8_t out[AUTHMSG_MAX], size_t *len)
{
	struct authmsg m;

	if (dlen < 1 || dlen > AUTHMSG_DOC_MAX || offset >= dlen)
		return (-1);
	memset(&m, 0, sizeof(m));
	m.type = AUTHMSG_PIECE_TYPE;
	m.total = (uint32_t)dlen;
	m.offset = offset;
	m.data = doc + offset;
	m.len = dlen - offset < AUTHMSG_PIECE ? dlen - offset : AUTHMSG_PIECE;
	return (authmsg_encode(&m, out, len));
}

int
authmsg_doc_split(const uint8_t *doc, size_t dlen, const uint8_t **cred,
    size_t *credlen, const uint8_t **rv, size_t *rvlen)
{
	size_t n;

	if (dlen < 2)
		return (-1);
	n = (size_t)doc[0] << 8 | doc[1];
	if (n > CRED_MAX_LEN || n > dlen - 2)
		return (-1);
	*cred = n > 0 ? doc + 2 : NULL;
	*credlen = n;
	*rv = doc + 2 + n;
	*rvlen = dlen - 2 - n;
	return (0);
}
