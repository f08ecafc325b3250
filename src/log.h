/*
 * log: levels, one event per line with key=value fields, to stderr or
 * syslog.  Never logs key bytes: callers pass identifiers only.
 */
#ifndef SALLYPORT_LOG_H
#define SALLYPORT_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * log_open(level, use_syslog):
 * Set the lowest level printed and the destination.
 */
void log_open(enum log_level level, int use_syslog);

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

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LVL_DEBUG))                                \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
