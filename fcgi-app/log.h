/* Logging: one logfmt line per event on stderr (journald and the tests read it), level checked before
 * formatting, values escaped so that no request can forge a line. */
#ifndef HOP_LOG_H
#define HOP_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR, LOG_LEVEL_FATAL };

/* Reads the level from its name ("debug", "info", "warn", "error"); returns -1 for an unknown name. */
int log_set_level(const char *name);
int log_enabled(enum log_level lvl);
/* Whether stderr is the journal (JOURNAL_STREAM names stderr's device and inode, as systemd sets it): then
 * every line starts with its syslog priority (<3> for an error...), which journald reads and strips, so
 * `journalctl -p err` finds errors. A terminal, a file or a pipe keeps plain logfmt. Call it at start. */
void log_detect_journal(void);
/* Access lines: every (1), none (0), or one in every (N) per worker; a 5xx is always logged. */
void log_set_access_every(int every);
/* Remembers the process id for the pid= field: call it at start and in every child after fork (it saves a
 * system call on every log line). */
void log_set_pid(void);
/* msg is a constant event name; fmt adds key=value fields (values escaped by the caller with log_quote). */
void log_at(enum log_level lvl, const char *func, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(msg, ...) log_at(LOG_LEVEL_DEBUG, __func__, msg, __VA_ARGS__)
#define log_info(msg, ...)  log_at(LOG_LEVEL_INFO, __func__, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_at(LOG_LEVEL_WARN, __func__, msg, __VA_ARGS__)
#define log_error(msg, ...) log_at(LOG_LEVEL_ERROR, __func__, msg, __VA_ARGS__)

/* Writes s as a double-quoted logfmt value into out (always NUL-terminated): quotes and backslashes are
 * escaped, control and non-ASCII bytes become \xNN, and input past what fits is cut with "...".
 * Returns the length written. */
size_t log_quote(char *out, size_t cap, const char *s, size_t len);

/* Between log_hold and log_release, lines are kept and written together (a write when 4 KiB are full, and at
 * log_release): a worker answering queued requests back to back writes their access lines at once. A warning
 * or an error is written at once, after the lines held before it. */
void log_hold(void);
void log_release(void);

/* The access-log line: method, path, status, duration in microseconds, request id. */
void log_access(const char *method, const char *path, size_t path_len, int status, long us, const char *rid);

#endif
