/*
 * file: the one way to read a bounded file and to write one whole.  Reads
 * open the file actually checked (fstat on the descriptor, symbolic links
 * followed, O_NONBLOCK so a FIFO planted at the path never blocks: it is
 * refused), accept regular files only and read one byte more than allowed
 * to see a larger file.  Writes either create a new file (never replacing
 * one) or replace a file at once (a temporary file then rename(2), so a
 * watcher never reads half of it); both fsync before they report success.
 * Messages are "PATH: message", errno tells the cause.  Never logs, never
 * keeps a descriptor past a call.
 */
#ifndef SALLYPORT_FILE_H
#define SALLYPORT_FILE_H

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

/*
 * file_open(path, st, err, errlen):
 * Open ${path} for reading and store its status in ${st}.  Return the
 * descriptor (the caller closes it), or -1 with errno set and in ${err}
 * "PATH: cannot open: E", "PATH: E" (fstat) or "PATH: not a regular
 * file" (errno EINVAL).
 */
int file_open(const char *path, struct stat *st, char *err, size_t errlen);

/*
 * file_read_fd(fd, path, buf, max, len, err, errlen):
 * Read the file open at ${fd} (named ${path} in messages) to its end into
 * ${buf}, which has room for ${max} + 1 bytes; the size in ${len}.
 * Return 0, or -1 with errno set and in ${err} "PATH: read: E" or, for a
 * file over ${max} bytes, "PATH: too large (over MAX bytes)" (errno
 * EFBIG).  ${buf} may hold part of the file either way.
 */
int file_read_fd(int fd, const char *path, uint8_t *buf, size_t max,
    size_t *len, char *err, size_t errlen);

/*
 * file_read(path, buf, max, len, err, errlen):
 * file_open() then file_read_fd(), and close.
 */
int file_read(const char *path, uint8_t *buf, size_t max, size_t *len,
    char *err, size_t errlen);

/*
 * file_create(path, buf, len, mode, err, errlen):
 * Write ${buf} (${len} bytes) to a new file ${path} created with ${mode}
 * (O_EXCL: an existing file or symbolic link is never overwritten).
 * Return 0, or -1 with errno set (EEXIST if ${path} exists) and in ${err}
 * "PATH: cannot create: E", "PATH: write: E" or "PATH: close: E"; a
 * partly written file is removed.
 */
int file_create(const char *path, const uint8_t *buf, size_t len,
    mode_t mode, char *err, size_t errlen);

/*
 * file_replace(path, buf, len, mode, err, errlen):
 * Write ${buf} (${len} bytes) to ${path}, replacing it at once: to
 * "PATH.tmp" (mode ${mode}, not through a symbolic link), then rename(2).
 * Return 0, or -1 with in ${err} "PATH: too long", "PATH.tmp: E" or
 * "PATH: E" (rename); the temporary file is removed.
 */
int file_replace(const char *path, const uint8_t *buf, size_t len,
    mode_t mode, char *err, size_t errlen);

#endif
