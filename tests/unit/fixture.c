/*
 * fixture: see fixture.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "log.h"

int
fixture_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/* CK_ENV: CK_VERBOSITY chooses; normal when unset. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

int
fixture_listen(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(l = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 16), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (l);
}

void
fixture_tcp_pair(int fds[2])
{
	struct sockaddr_in sin;
	unsigned port;
	int l;

	l = fixture_listen(&port);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_ne(fds[0] = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(fds[0], (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	ck_assert_int_ne(fds[1] = accept(l, NULL, NULL), -1);
	close(l);
	ck_assert_int_ne(fcntl(fds[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_int_ne(fcntl(fds[1], F_SETFL, O_NONBLOCK), -1);
}

void
fixture_spin(struct ev_loop *loop)
{

	ev_run(loop, EVRUN_NOWAIT);
	usleep(200);
}

int
fixture_run_until(struct ev_loop *loop, int (*cond)(void *), void *arg,
    double secs)
{
	ev_tstamp end;

	ev_now_update(loop);
	end = ev_now(loop) + secs;
	while (!cond(arg) && ev_now(loop) < end) {
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
		ev_now_update(loop);
	}
	return (cond(arg));
}

void
fixture_read(struct ev_loop *loop, int fd, const void *buf, size_t n)
{
	uint8_t got[256];
	ssize_t r = -1;
	int i;

	ck_assert_uint_lt(n, sizeof(got));
	for (i = 0; i < 20000 && r != (ssize_t)n; i++) {
		fixture_spin(loop);
		r = read(fd, got, sizeof(got));
		ck_assert(r == (ssize_t)n || (r == -1 && errno == EAGAIN));
	}
	ck_assert_int_eq(r, (ssize_t)n);
	ck_assert_mem_eq(got, buf, n);
}

void
fixture_local(struct channel_local *l, struct identity *idn, uint64_t now,
    uint64_t lifetime)
{
	struct identity tmp;

	if (idn == NULL)
		idn = &tmp;
	ck_assert_int_eq(identity_generate(idn), 0);
	ck_assert_int_eq(channel_local_init(l, idn->priv, now, lifetime), 0);
	if (idn == &tmp)
		identity_fini(&tmp);
}

size_t
fixture_cred(uint8_t *block, size_t cap, const struct identity *issuer,
    const uint8_t *subject, const char *attr, uint64_t now)
{
	uint8_t one[CRED_MAX_LEN];
	const char *eq = strchr(attr, '=');
	struct cred c;
	size_t len, blen = 0;

	ck_assert_ptr_nonnull(eq);
	memset(&c, 0, sizeof(c));
	memcpy(c.subject, subject, CRED_ID_LEN);
	c.serial = 1;
	c.not_before = now - 60;
	c.not_after = now + 3600;
	ck_assert_uint_lt((size_t)(eq - attr), sizeof(c.attrs[0].key));
	memcpy(c.attrs[0].key, attr, (size_t)(eq - attr));
	ck_assert_uint_lt(strlen(eq + 1), sizeof(c.attrs[0].value));
	strcpy(c.attrs[0].value, eq + 1);
	c.nattrs = 1;
	ck_assert_int_eq(cred_sign(&c, issuer->priv, one, sizeof(one), &len),
	    0);
	ck_assert_int_eq(cred_block_add(block, cap, &blen, one, len), 0);
	return (blen);
}

static FILE *captured;

void
fixture_log_capture(void)
{

	ck_assert_ptr_nonnull(captured = tmpfile());
	ck_assert_int_ne(dup2(fileno(captured), STDERR_FILENO), -1);
	setvbuf(stderr, NULL, _IOLBF, 0);
	log_open(LOG_LVL_INFO, 0);
}

int
fixture_log_has(const char *needle, const char *and)
{
	char *buf, *line, *next;
	struct stat st;
	ssize_t n;
	int found = 0;

	ck_assert_ptr_nonnull(captured);
	fflush(stderr);
	ck_assert_int_eq(fstat(fileno(captured), &st), 0);
	ck_assert_ptr_nonnull(buf = malloc((size_t)st.st_size + 1));
	/* pread: fd 2 shares the offset, the log goes on at its end. */
	n = pread(fileno(captured), buf, (size_t)st.st_size, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	for (line = buf; !found && line != NULL && *line != '\0';
	    line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		found = strstr(line, needle) != NULL &&
		    (and == NULL || strstr(line, and) != NULL);
	}
	free(buf);
	return (found);
}
