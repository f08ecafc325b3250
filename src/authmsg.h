/*
 * authmsg: the messages of an authority channel (docs/protocol.md,
 * "Enrolment and renewal"): what a node asks an authority over a channel
 * whose request is "@A" + the authority's name, and what it is answered.
 * Each message is one DATA record of at most AUTHMSG_MAX bytes (a relay
 * session's message size: session.h), first byte its type:
 *
 *   node -> authority
 *     ENROL   'E' || secret(32)      join with a token's secret
 *     RENEW   'R'                    a new credential for the one shown
 *     REVOKED 'L'                    the authority's revocation list
 *     MORE    'M' || offset(4)       the next piece of the answer
 *   authority -> node
 *     PIECE   'P' || total(4) || offset(4) || bytes (1 to AUTHMSG_PIECE)
 *     REFUSE  'X' || reason          an audit word, [a-z-], 1 to 31 bytes
 *
 * An answer is one document, sent in pieces, one per ask (the first
 * right after ENROL, RENEW or REVOKED, the next after each MORE), so the
 * authority never holds more than one piece in a send buffer per node:
 *
 *   document = credlen(2) || credential(credlen; 0 for REVOKED)
 *              || the revocation list (cred_revoked_parse's text)
 *
 * Integers are big-endian.  Pure: bytes in, bytes out; fuzzed
 * (tests/fuzz/fuzz_authmsg.c).
 */
#ifndef SALLYPORT_AUTHMSG_H
#define SALLYPORT_AUTHMSG_H

#include <stddef.h>
#include <stdint.h>

#include "cred.h"

#define AUTHMSG_PREFIX "@A"    /* the request: "@A" + NAME */
#define AUTHMSG_MAX 256        /* bytes of a message, either way */
#define AUTHMSG_SECRET_LEN 32  /* a token's secret */
#define AUTHMSG_PIECE_HDR 9    /* 'P', total, offset */
#define AUTHMSG_PIECE (AUTHMSG_MAX - AUTHMSG_PIECE_HDR)
#define AUTHMSG_REASON_MAX 31  /* bytes of a refusal word */
#define AUTHMSG_DOC_MAX (1u << 20) /* an answer document */

enum authmsg_type {
	AUTHMSG_ENROL = 'E',
	AUTHMSG_RENEW = 'R',
	AUTHMSG_REVOKED = 'L',
	AUTHMSG_MORE = 'M',
	AUTHMSG_PIECE_TYPE = 'P',
	AUTHMSG_REFUSE = 'X'
};

/* One message, parsed (the fields its type has). */
struct authmsg {
	enum authmsg_type type;
	uint8_t secret[AUTHMSG_SECRET_LEN]; /* ENROL: wipe after use */
	uint32_t total, offset;             /* PIECE (total), MORE, PIECE */
	const uint8_t *data;                /* PIECE: borrowed from the
					       message */
	size_t len;
	char reason[AUTHMSG_REASON_MAX + 1]; /* REFUSE */
};

/*
 * authmsg_parse(buf, len, m):
 * Parse the message of exactly ${len} bytes at ${buf} into ${m}: a known
 * type, its exact size (a PIECE: offset + bytes within total, total at
 * most AUTHMSG_DOC_MAX), a REFUSE word of [a-z-].  Return 0, or -1.
 */
int authmsg_parse(const uint8_t *buf, size_t len, struct authmsg *m);

/*
 * authmsg_encode(m, out, len):
 * Encode ${m} (as authmsg_parse would accept it) into ${out}
 * (AUTHMSG_MAX bytes); its size in ${len}.  Return 0, or -1 for a field
 * out of bounds.
 */
int authmsg_encode(const struct authmsg *m, uint8_t out[AUTHMSG_MAX],
    size_t *len);

/*
 * authmsg_piece(doc, dlen, offset, out, len):
 * The PIECE of the document ${doc} (${dlen} bytes, 1 to AUTHMSG_DOC_MAX)
 * that starts at ${offset} into ${out}; its size in ${len}.  Return 0, or
 * -1 if ${offset} is not inside the document.
 */
int authmsg_piece(const uint8_t *doc, size_t dlen, uint32_t offset,
    uint8_t out[AUTHMSG_MAX], size_t *len);

/*
 * authmsg_doc_split(doc, dlen, cred, credlen, rv, rvlen):
 * The parts of a whole answer document: the credential (NULL and 0 if
 * none) and the revocation list text.  Return 0, or -1 if the credential
 * length is out of bounds (more than CRED_MAX_LEN or than the document).
 */
int authmsg_doc_split(const uint8_t *doc, size_t dlen, const uint8_t **cred,
    size_t *credlen, const uint8_t **rv, size_t *rvlen);

#endif
