/*
 * log: see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static enum log_level min_level = LOG_LVL_INFO;
static int to_syslog;

static const char *const names[] = {"error", "warn", "info", "debug"};

void
log_open(enum log_level level, int use_syslog)
{

	min_level = level;
	to_syslog = use_syslog;
	if (to_syslog)
		openlog("sallyport", LOG_PID | LOG_NDELAY, LOG_DAEMON);
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

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char line[1024];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to_syslog)
		syslog(prio[level], "level=%s %s", names[level], line);
	else
		fprintf(stderr, "sallyport: level=%s %s\n", names[level], line);
}
