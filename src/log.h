/*
 * log: levels, one event per line with key=value fields, to stderr or
 * syslog.  Never logs key bytes: callers pass identifiers only.
 */
#ifndef SALLYPORT_LOG_H
#define SALLYPORT_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * A rate limit for lines that anyone can cause (refusals, drops, bad
 * tickets): at most ${per_sec} lines per second; the rest are counted and
 * the next line logged says how many were left out.  Embedded by value;
 * LOG_LIMIT_INIT(n) or log_limit_init() sets it up.
 */
struct log_limit {
	unsigned per_sec;    /* lines per second */
	double start;        /* start of the current second */
	unsigned lines;      /* lines logged in it */
	uint64_t suppressed; /* lines left out since the last one logged */
};
#define LOG_LIMIT_INIT(n) {(n), -1e300, 0, 0}

/*
 * log_limit_init(l, per_sec):
 * Set up ${l} for ${per_sec} lines per second.
 */
void log_limit_init(struct log_limit *l, unsigned per_sec);

/*
 * log_open(level, use_syslog):
 * Set the lowest level printed and the destination.
 */
void log_open(enum log_level level, int use_syslog);

/*
 * log_set_level(level):
 * Change the lowest level printed (a reload), keeping the destination.
 */
void log_set_level(enum log_level level);

/*
 * log_level_parse(s, level):
 * Parse "error", "warn", "info" or "debug".  Return 0 or -1.
 */
int log_level_parse(const char *s, enum log_level *level);

/*
 * log_enabled(level):
 * Return 1 if messages at ${level} are printed.
 */
int log_enabled(enum log_level level);

/*
 * log_msg(level, fmt, ...):
 * Print one line: "sallyport: level=L <fmt...>".  The message should be
 * key=value fields, e.g. "event=accept peer=I... service=db".
 */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * log_limited(l, now, level, fmt, ...):
 * As log_msg(), under the limit ${l} at the time ${now} (seconds): the
 * line is printed if the limit allows, with " suppressed=N" appended when
 * N lines of ${l} were left out since the last one printed; otherwise it
 * is counted.  Return 1 if printed, 0 if not.
 */
int log_limited(struct log_limit *l, double now, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * log_limit_flush(l, level, kind):
 * If lines of ${l} were left out and not yet reported, print
 * "event=suppressed kind=${kind} suppressed=N" and reset the count: a
 * timer calls it so that the tail of a burst is reported too.
 */
void log_limit_flush(struct log_limit *l, enum log_level level,
    const char *kind);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LVL_DEBUG))                                \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
