/*
 * log: see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

static enum log_level min_level = LOG_LVL_INFO;
static int to_syslog;
static int journal; /* stderr is the journal: "<N>" priority prefixes */

/*
 * Return 1 if stderr is the stream systemd named in $JOURNAL_STREAM
 * ("DEV:INODE"), as sd-daemon(3) says to check before using prefixes.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st) == -1)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

static const char *const names[] = {"error", "warn", "info", "debug"};

void
log_open(enum log_level level, int use_syslog)
{

	min_level = level;
	to_syslog = use_syslog;
	journal = stderr_is_journal();
	if (to_syslog)
		openlog("sallyport", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{

	min_level = level;
}

int
log_level_parse(const char *s, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

int
log_enabled(enum log_level level)
{

	return (level <= min_level);
}

/* Print one line of ${level} from ${fmt} and ${ap}, then ${tail}. */
static void
vlog(enum log_level level, const char *tail, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char line[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (to_syslog)
		syslog(prio[level], "level=%s %s%s", names[level], line, tail);
	else if (journal)
		fprintf(stderr, "<%d>sallyport: level=%s %s%s\n", prio[level],
		    names[level], line, tail);
	else
		fprintf(stderr, "sallyport: level=%s %s%s\n", names[level], line,
		    tail);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void
log_limit_init(struct log_limit *l, unsigned per_sec)
{
	struct log_limit tmp = LOG_LIMIT_INIT(per_sec);

	*l = tmp;
}

int
log_limited(struct log_limit *l, double now, enum log_level level,
    const char *fmt, ...)
{
	char tail[40] = "";
	va_list ap;

	if (now - l->start >= 1.) {
		l->start = now;
		l->lines = 0;
	}
	if (l->lines >= l->per_sec) {
		l->suppressed++;
		return (0);
	}
	l->lines++;
	if (l->suppressed > 0)
		snprintf(tail, sizeof(tail), " suppressed=%llu",
		    (unsigned long long)l->suppressed);
	l->suppressed = 0;
	va_start(ap, fmt);
	vlog(level, tail, fmt, ap);
	va_end(ap);
	return (1);
}

void
log_limit_flush(struct log_limit *l, enum log_level level, const char *kind)
{

	if (l->suppressed == 0)
		return;
	log_msg(level, "event=suppressed kind=%s suppressed=%llu", kind,
	    (unsigned long long)l->suppressed);
	l->suppressed = 0;
}
