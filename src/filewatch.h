/*
 * filewatch: reload = watch.  Every reload_interval seconds, where the
 * configuration file and the files it names (key, revocation list,
 * credentials) are now (stat(2): device, inode, size, mtime) is compared
 * with where they were at the last load; a difference asks for a reload.
 * Never reads a file's contents.
 */
#ifndef SALLYPORT_FILEWATCH_H
#define SALLYPORT_FILEWATCH_H

#include <stdint.h>

#include <ev.h>

#include "config.h"
#include "env.h"

/* Where a file was. */
struct filewatch_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns;
};

/* The file, the key file, the revoked file, the credential files. */
#define FILEWATCH_STAMPS (3 + CRED_MAX_BLOCK)

struct filewatch {
	const struct env *env; /* loop, the file in force, stopping */
	ev_timer timer;
	struct filewatch_stamp stamp[FILEWATCH_STAMPS];
	void (*changed)(void *);
	void *arg;
};

/*
 * filewatch_init(fw, e, changed, arg):
 * Watch the files of ${e}'s configuration (borrowed) on its loop:
 * ${changed}(${arg}) when one changed.  Not started (filewatch_set).
 */
void filewatch_init(struct filewatch *fw, const struct env *e,
    void (*changed)(void *), void *arg);

/*
 * filewatch_remember(fw):
 * Remember where the files of the configuration in force are now (after
 * a load, or a failed one: look again at the next change).
 */
void filewatch_remember(struct filewatch *fw);

/*
 * filewatch_set(fw):
 * Start, restart or stop watching as the configuration in force says
 * (stopped while the node shuts down).
 */
void filewatch_set(struct filewatch *fw);

/*
 * filewatch_stop(fw):
 * Stop watching.
 */
void filewatch_stop(struct filewatch *fw);

#endif
