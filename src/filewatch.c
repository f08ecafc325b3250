/*
 * filewatch: see filewatch.h.
 */
#include <sys/stat.h>

#include <string.h>

#include "filewatch.h"

/* Where ${path} is now (stat(2), following links). */
static void
file_stamp(const char *path, struct filewatch_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == -1)
		return;
	st->dev = (uint64_t)sb.st_dev;
	st->ino = (uint64_t)sb.st_ino;
	st->size = (uint64_t)sb.st_size;
	st->mtime_s = (int64_t)sb.st_mtim.tv_sec;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_nsec;
}

/*
 * Where the files of the configuration ${cfg} are now, into ${st}: the
 * file, the key file, the revoked file, the credential files.
 */
static void
stamp_all(const struct config *cfg,
    struct filewatch_stamp st[FILEWATCH_STAMPS])
{
	size_t i;

	memset(st, 0, FILEWATCH_STAMPS * sizeof(*st));
	file_stamp(cfg->path, &st[0]);
	file_stamp(cfg->node.identity, &st[1]);
	if (cfg->node.revoked[0] != '\0')
		file_stamp(cfg->node.revoked, &st[2]);
	for (i = 0; i < cfg->node.ncredentials; i++)
		file_stamp(cfg->node.credential[i], &st[3 + i]);
}

/* Reload when the file or a file it names changed. */
static void
filewatch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct filewatch *fw = w->data;
	struct filewatch_stamp now[FILEWATCH_STAMPS];

	(void)loop;
	(void)revents;
	stamp_all(fw->env->cfg, now);
	if (memcmp(now, fw->stamp, sizeof(now)) != 0)
		fw->changed(fw->arg);
}

/*
 * filewatch_init(fw, e, changed, arg):
 * Watch the files of ${e}'s configuration (borrowed) on its loop:
 * ${changed}(${arg}) when one changed.  Not started (filewatch_set).
 */
void
filewatch_init(struct filewatch *fw, const struct env *e,
    void (*changed)(void *), void *arg)
{

	memset(fw, 0, sizeof(*fw));
	fw->env = e;
	fw->changed = changed;
	fw->arg = arg;
	ev_init(&fw->timer, filewatch_cb);
	fw->timer.data = fw;
}

/*
 * filewatch_remember(fw):
 * Remember where the files of the configuration in force are now (after
 * a load, or a failed one: look again at the next change).
 */
void
filewatch_remember(struct filewatch *fw)
{

	stamp_all(fw->env->cfg, fw->stamp);
}

/*
 * filewatch_set(fw):
 * Start, restart or stop watching as the configuration in force says
 * (stopped while the node shuts down).
 */
void
filewatch_set(struct filewatch *fw)
{
	const struct config_node *cn = &fw->env->cfg->node;

	filewatch_stop(fw);
	if (!cn->reload_watch || fw->env->stopping)
		return;
	ev_timer_set(&fw->timer, cn->reload_interval, cn->reload_interval);
	ev_timer_start(fw->env->loop, &fw->timer);
}

/*
 * filewatch_stop(fw):
 * Stop watching.
 */
void
filewatch_stop(struct filewatch *fw)
{

	ev_timer_stop(fw->env->loop, &fw->timer);
}
