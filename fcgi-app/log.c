/* Logging to stderr in logfmt; see log.h. */
#include "log.h"

#include "decimal.h"
#include "hex.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level min_level = LOG_LEVEL_INFO;
static int log_pid;
static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};
/* syslog priorities (sd-daemon.h's SD_DEBUG ... SD_CRIT) of the levels above */
static const int level_priority[] = {7, 6, 4, 3, 2};
static int to_journal;
static int access_every = 1;
static unsigned long access_seen;
enum { LOG_LINE_MAX = 2048 };
_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a whole line must fit in the held lines");
/* Lines held between log_hold and log_release, written together: at most PIPE_BUF bytes a write, so that
 * lines of several workers never interleave on a pipe. */
static char held[PIPE_BUF];
static size_t held_len;
static bool holding;

static void flush_held(void)
{
    if (held_len) {
        ssize_t w = write(STDERR_FILENO, held, held_len);
        (void)w;
    }
    held_len = 0;
}

void log_hold(void)
{
    holding = true;
}

void log_release(void)
{
    flush_held();
    holding = false;
}

/* One line out (a line is at most LOG_LINE_MAX bytes), or into the held lines; a warning or worse is never
 * held back. Not holding, nothing is held: log_release wrote it. */
static void emit(enum log_level lvl, const char *line, size_t n)
{
    if (!holding) {
        /* one write per line so that lines from several workers never interleave */
        ssize_t w = write(STDERR_FILENO, line, n);
        (void)w;
        return;
    }
    if (held_len + n > sizeof(held))
        flush_held();
    memcpy(held + held_len, line, n);
    held_len += n;
    if (lvl >= LOG_LEVEL_WARN)
        flush_held();
}

void log_detect_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                 (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_access_every(int every)
{
    access_every = every < 0 ? 1 : every;
}

int log_set_level(const char *name)
{
    for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_ERROR; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            min_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_pid(void)
{
    log_pid = (int)getpid();
}

int log_enabled(enum log_level lvl)
{
    return lvl >= min_level;
}

size_t log_quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    if (cap < 8) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5]; /* room for hex_encode's NUL after \xNN */
        size_t n = 0;
        if (c == '"' || c == '\\') {
            tmp[n++] = '\\';
            tmp[n++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            tmp[n++] = '\\';
            tmp[n++] = 'x';
            hex_encode(&c, 1, tmp + n);
            n += 2;
        } else {
            tmp[n++] = (char)c;
        }
        /* keep room for "...", the closing quote and the NUL */
        if (o + n + 5 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* A line being built, cut at LOG_LINE_MAX - 1 bytes so that its newline always fits. Built piece by piece
 * rather than by snprintf: the access line is written on every request, and a format's parse was a tenth
 * of a redirect's instructions. */
struct line {
    char s[LOG_LINE_MAX];
    size_t n;
};

static size_t line_room(const struct line *l)
{
    return sizeof(l->s) - 1 - l->n;
}

static void line_add(struct line *l, const char *s, size_t n)
{
    if (n > line_room(l))
        n = line_room(l);
    memcpy(l->s + l->n, s, n);
    l->n += n;
}

static void line_adds(struct line *l, const char *s)
{
    line_add(l, s, strlen(s));
}

static void line_addi(struct line *l, long long v)
{
    if (v < 0)
        line_add(l, "-", 1);
    char digits[DECIMAL_MAX];
    size_t n = decimal_u64(digits, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
    line_add(l, digits, n);
}

/* " name=" and value quoted (log_quote), the quoted value at most cap bytes */
static void line_quoted(struct line *l, const char *name, const char *value, size_t len, size_t cap)
{
    line_adds(l, name);
    size_t room = line_room(l) + 1; /* log_quote's NUL may take the newline's place: it is overwritten */
    l->n += log_quote(l->s + l->n, room < cap ? room : cap, value, len);
}

/* "level=L pid=P msg=M", after journald's priority prefix when stderr is the journal */
static void line_head(struct line *l, enum log_level lvl, const char *msg)
{
    l->n = 0;
    if (to_journal) {
        line_add(l, "<", 1);
        line_addi(l, level_priority[lvl]);
        line_add(l, ">", 1);
    }
    line_add(l, "level=", 6);
    line_adds(l, level_names[lvl]);
    line_add(l, " pid=", 5);
    line_addi(l, log_pid ? log_pid : (int)getpid());
    line_add(l, " msg=", 5);
    const char *q = strchr(msg, ' ') ? "\"" : "";
    line_adds(l, q);
    line_adds(l, msg);
    line_adds(l, q);
}

static void line_end(struct line *l, enum log_level lvl)
{
    l->s[l->n++] = '\n';
    emit(lvl, l->s, l->n);
}

void log_at(enum log_level lvl, const char *func, const char *msg, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    int saved = errno;
    struct line l;
    line_head(&l, lvl, msg);
    if (lvl >= LOG_LEVEL_ERROR) {
        line_add(&l, " func=", 6);
        line_adds(&l, func);
    }
    if (fmt && *fmt && line_room(&l) > 1) {
        l.s[l.n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(l.s + l.n, line_room(&l) + 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            l.n += (size_t)m < line_room(&l) ? (size_t)m : line_room(&l);
        else
            l.n--; /* no fields after all: drop the separator */
    }
    line_end(&l, lvl);
    errno = saved;
}

void log_access(const char *method, const char *path, size_t path_len, int status, long us, const char *rid)
{
    if (LOG_LEVEL_INFO < min_level || (access_every == 0 && status < 500))
        return;
    /* sampling keeps journald's rate limit for the lines that matter: errors are never sampled away */
    if (access_every > 1 && status < 500 && ++access_seen % (unsigned long)access_every != 0)
        return;
    struct line l;
    line_head(&l, LOG_LEVEL_INFO, "access");
    line_quoted(&l, " method=", method, strlen(method), 64);
    line_quoted(&l, " path=", path, path_len, 600);
    line_add(&l, " status=", 8);
    line_addi(&l, status);
    line_add(&l, " us=", 4);
    line_addi(&l, us);
    line_add(&l, " rid=", 5);
    line_adds(&l, rid);
    line_end(&l, LOG_LEVEL_INFO);
}
