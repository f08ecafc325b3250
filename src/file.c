/*
 * file: bounded reads and whole writes of files.  See file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "seterr.h"

/* close(2) and unlink(2) on a failure path: errno stays the cause's. */
static void
close_quiet(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

static void
unlink_quiet(const char *path)
{
	int e = errno;

	unlink(path);
	errno = e;
}

/*
 * file_open(path, st, err, errlen):
 * Open ${path} for reading and store its status in ${st}.  Return the
 * descriptor (the caller closes it), or -1 with errno set and in ${err}
 * "PATH: cannot open: E", "PATH: E" (fstat) or "PATH: not a regular
 * file" (errno EINVAL).
 */
int
file_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd;

	/*
	 * Symbolic links are followed on purpose: Kubernetes mounts secrets
	 * as links into a ..data directory.  What is checked is the file
	 * actually opened (fstat on the descriptor), so there is no race
	 * between the check and the read.  O_NONBLOCK keeps a FIFO planted
	 * at ${path} from blocking us; it is refused below.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		seterr(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		goto fail0;
	}
	if (fstat(fd, st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail1;
	}
	if (!S_ISREG(st->st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		errno = EINVAL;
		goto fail1;
	}
	return (fd);
fail1:
	close_quiet(fd);
fail0:
	return (-1);
}

/*
 * file_read_fd(fd, path, buf, max, len, err, errlen):
 * Read the file open at ${fd} (named ${path} in messages) to its end into
 * ${buf}, which has room for ${max} + 1 bytes; the size in ${len}.
 * Return 0, or -1 with errno set and in ${err} "PATH: read: E" or, for a
 * file over ${max} bytes, "PATH: too large (over MAX bytes)" (errno
 * EFBIG).  ${buf} may hold part of the file either way.
 */
int
file_read_fd(int fd, const char *path, uint8_t *buf, size_t max,
    size_t *len, char *err, size_t errlen)
{
	size_t have = 0;
	ssize_t n;

	/* Read at most one byte more than allowed, to detect a big file. */
	while (have < max + 1) {
		if ((n = read(fd, buf + have, max + 1 - have)) == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			return (-1);
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > max) {
		seterr(err, errlen, "%s: too large (over %zu bytes)", path,
		    max);
		errno = EFBIG;
		return (-1);
	}
	*len = have;
	return (0);
}

/*
 * file_read(path, buf, max, len, err, errlen):
 * file_open() then file_read_fd(), and close.
 */
int
file_read(const char *path, uint8_t *buf, size_t max, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if ((fd = file_open(path, &st, err, errlen)) == -1)
		return (-1);
	rc = file_read_fd(fd, path, buf, max, len, err, errlen);
	close_quiet(fd);
	return (rc);
}

/*
 * Write all of ${buf} (${len} bytes) to ${fd}, fsync and close it (also
 * on failure).  Return 0, or -1 with errno set and the step that failed
 * ("write", which includes fsync, or "close") in *${step}.
 */
static int
write_close(int fd, const uint8_t *buf, size_t len, const char **step)
{
	ssize_t n;

	*step = "write";
	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	*step = "close";
	return (close(fd));
fail:
	close_quiet(fd);
	return (-1);
}

/*
 * file_create(path, buf, len, mode, err, errlen):
 * Write ${buf} (${len} bytes) to a new file ${path} created with ${mode}
 * (O_EXCL: an existing file or symbolic link is never overwritten).
 * Return 0, or -1 with errno set (EEXIST if ${path} exists) and in ${err}
 * "PATH: cannot create: E", "PATH: write: E" or "PATH: close: E"; a
 * partly written file is removed.
 */
int
file_create(const char *path, const uint8_t *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	const char *step;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		 mode)) == -1) {
		seterr(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		goto fail0;
	}
	if (write_close(fd, buf, len, &step) == -1) {
		seterr(err, errlen, "%s: %s: %s", path, step, strerror(errno));
		goto fail1;
	}
	return (0);
fail1:
	unlink_quiet(path);
fail0:
	return (-1);
}

/*
 * file_replace(path, buf, len, mode, err, errlen):
 * Write ${buf} (${len} bytes) to ${path}, replacing it at once: to
 * "PATH.tmp" (mode ${mode}, not through a symbolic link), then rename(2).
 * Return 0, or -1 with in ${err} "PATH: too long", "PATH.tmp: E" or
 * "PATH: E" (rename); the temporary file is removed.
 */
int
file_replace(const char *path, const uint8_t *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char tmp[4096 + 16];
	const char *step;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		seterr(err, errlen, "%s: too long", path);
		goto fail0;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail0;
	}
	if (write_close(fd, buf, len, &step) == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail1;
	}
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail1;
	}
	return (0);
fail1:
	unlink_quiet(tmp);
fail0:
	return (-1);
}
