/* `hop import`: reads a service's CSV export with libcsv, checks each line by hop's own rules, and sends
 * batches of good lines to the database (db_import.c), reporting every line it cannot take. */
#include "import.h"

#include "clock.h"
#include "config.h"
#include "db.h"
#include "db_domains.h"
#include "db_import.h"
#include "import_formats.h"
#include "arena.h"
#include "validate.h"

#include <csv.h>
#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "xalloc.h"

enum {
    IMPORT_BATCH_LINES = 50000,
    IMPORT_BATCH_BYTES = 32 * 1024 * 1024, /* a batch of long lines is sent early: memory stays bounded */
    IMPORT_FIELD_MAX = 1024 * 1024,        /* a longer field is an unclosed quote, not a link */
    IMPORT_MAX_COLUMNS = 64,
    IMPORT_TITLE_MAX = 200,
    IMPORT_TAGS_MAX = 10,
    IMPORT_TAG_MAX = 32,
    IMPORT_JSON_MAX = 64 * 1024 * 1024, /* one JSON value (a page of Kutt's API) held at a time */
};

static const char import_usage[] =
    "usage: hop import --from bitly|yourls|shlink|kutt|csv FILE --owner NAME [--domain "
    "D] [--on-conflict skip|rename|fail] "
    "[--dry-run] [--jobs N]\n";

struct import_opts {
    const struct import_format *fmt;
    const char *file, *owner, *domain, *mode;
    bool dry_run;
    int jobs; /* batches merged at once, each on a connection of its own */
};

struct import_counts {
    long long lines, imported, renamed, skipped, refused;
};

/* One record as libcsv hands it over: its fields, NUL-terminated, one after another in text. */
struct import_record {
    char *text;
    size_t len, cap;
    size_t off[IMPORT_MAX_COLUMNS];
    int n;
    bool too_many;
};

struct import_run {
    struct import_opts opts;
    /* the instance's domains: a line's domain column names one of them (or --domain sets one for all) */
    struct arena *domains_arena;
    struct domain *domains;
    size_t ndomains;
    long long forced_domain, default_domain; /* forced: -1 unless --domain; 0: none */
    struct db_import *db;
    struct import_record rec;
    int col_of[IMPORT_NFIELDS]; /* the column of each field, -1: absent */
    int fallback_col;           /* the slug's column when its own is empty (the format's slug_fallback) */
    bool have_header;
    long long line, rec_line; /* the physical line being read; the line the current record began on */
    char *copy;               /* the batch as COPY text */
    size_t copy_len, copy_cap;
    long long batch_lines;
    struct import_counts counts;
    int failed; /* a database failure stopped the import */
    /* progress */
    bool tty;
    long long started_ms, shown_ms, bytes, file_bytes;
};

/* What a number in the report counts: a CSV's physical lines, or the links of a JSON stream in order (its
 * pages are one line each). */
static const char *import_unit(const struct import_run *r)
{
    return r->opts.fmt->json ? "link" : "line";
}

/* ---- output --------------------------------------------------------------------------------------- */

static void import_refuse(struct import_run *r, long long line, const char *why, const char *detail)
{
    r->counts.refused++;
    printf("%s %lld: refused: %s%s%s\n", import_unit(r), line, why, detail ? ": " : "", detail ? detail : "");
}

static void import_progress(struct import_run *r, bool final)
{
    long long now = clock_ms();
    if (!final && now - r->shown_ms < (r->tty ? 200 : 5000))
        return;
    r->shown_ms = now;
    double secs = (double)(now - r->started_ms) / 1000.0;
    double rate = secs > 0 ? (double)r->line / secs : 0;
    double frac = r->file_bytes > 0 ? (double)r->bytes / (double)r->file_bytes : 1;
    double eta = frac > 0 && frac < 1 ? secs / frac - secs : 0;
    if (!r->tty) {
        fprintf(stderr, "import: %lld lines (%.0f%%), %.0f lines/s, ETA %.0f s\n", r->line, frac * 100, rate,
                eta);
        return;
    }
    char bar[31];
    int full = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < full ? '#' : '-';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3.0f%% %lld lines  %.0f lines/s  ETA %.0f s   %s", bar, frac * 100, r->line,
            rate, eta, final ? "\n" : "");
}

/* ---- the batch ---------------------------------------------------------------------------------------- */

static void copy_reserve(struct import_run *r, size_t n)
{
    if (r->copy_len + n <= r->copy_cap)
        return;
    size_t cap = r->copy_cap ? r->copy_cap : 65536;
    while (cap < r->copy_len + n)
        cap *= 2;
    r->copy = xrealloc(r->copy, cap);
    r->copy_cap = cap;
}

/* One value in COPY's text format: \N for none, and the four characters COPY reads as syntax escaped. */
static void copy_value(struct import_run *r, const char *s, bool last)
{
    if (!s) {
        copy_reserve(r, 3);
        memcpy(r->copy + r->copy_len, "\\N", 2);
        r->copy_len += 2;
    } else {
        size_t n = strlen(s);
        copy_reserve(r, 2 * n + 1);
        for (size_t i = 0; i < n; i++) {
            char esc = s[i] == '\\' ? '\\' : s[i] == '\t' ? 't' : s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 0;
            if (esc) {
                r->copy[r->copy_len++] = '\\';
                r->copy[r->copy_len++] = esc;
            } else {
                r->copy[r->copy_len++] = s[i];
            }
        }
    }
    copy_reserve(r, 1);
    r->copy[r->copy_len++] = last ? '\n' : '\t';
}

/* An insertion sort of at most IMPORT_TAGS_MAX tags (pointer and length each), bytewise. */
static void tags_sort(const char **tag, size_t *len, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0; j--) {
            int c = memcmp(tag[j - 1], tag[j], len[j] < len[j - 1] ? len[j] : len[j - 1]);
            if (c < 0 || (c == 0 && len[j - 1] <= len[j]))
                break;
            const char *t = tag[j];
            size_t l = len[j];
            tag[j] = tag[j - 1], len[j] = len[j - 1];
            tag[j - 1] = t, len[j - 1] = l;
        }
    }
}

/* Tags (hop's comma-separated form) as an array literal for COPY: sorted bytewise (collation "C") and
 * distinct, as links keep them, so that the merge stores the value as it is. Each tag is quoted: a tag
 * "null" must not become a NULL element. */
static void copy_tags(struct import_run *r, const char *s)
{
    const char *tag[IMPORT_TAGS_MAX];
    size_t len[IMPORT_TAGS_MAX], n = 0;
    for (const char *p = s; *p && n < IMPORT_TAGS_MAX; n++) { /* clean_tags left 1 to 10, none empty */
        tag[n] = p;
        len[n] = strcspn(p, ",");
        p += len[n] + (p[len[n]] == ',');
    }
    tags_sort(tag, len, n);
    copy_reserve(r, strlen(s) + 3 * n + 3);
    r->copy[r->copy_len++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && len[i] == len[i - 1] && memcmp(tag[i], tag[i - 1], len[i]) == 0)
            continue;
        if (r->copy[r->copy_len - 1] != '{')
            r->copy[r->copy_len++] = ',';
        r->copy[r->copy_len++] = '"';
        memcpy(r->copy + r->copy_len, tag[i], len[i]);
        r->copy_len += len[i];
        r->copy[r->copy_len++] = '"';
    }
    r->copy[r->copy_len++] = '}';
    r->copy[r->copy_len++] = '\t';
}

/* A line of the batch the database reports: one not written under its own slug. */
static void import_outcome(void *ctx, long long line, enum db_import_state st, const char *slug)
{
    struct import_run *r = ctx;
    const char *mode = r->opts.mode;
    switch (st) {
    case DB_IMPORT_NEW:
        r->counts.imported++;
        break;
    case DB_IMPORT_RENAMED:
        r->counts.renamed++;
        printf("%s %lld: renamed: the slug is taken; imported as %s\n", import_unit(r), line, slug);
        break;
    case DB_IMPORT_PRESENT:
        r->counts.skipped++;
        break;
    case DB_IMPORT_TAKEN:
        if (strcmp(mode, "fail") == 0) {
            import_refuse(r, line, "the slug is taken by another link", "--on-conflict fail");
        } else {
            r->counts.skipped++;
            printf("%s %lld: skipped: the slug is taken by another link\n", import_unit(r), line);
        }
        break;
    case DB_IMPORT_DUPLICATE:
        import_refuse(r, line, "an earlier line of the file has the same slug", NULL);
        break;
    case DB_IMPORT_RACED:
        import_refuse(r, line, "the slug was taken while the import ran", "run the import again");
        break;
    }
}

/* A batch has ended: the lines the database did not report are imported. The first failure stops the
 * import; batches already merging still end (whole, or not at all). */
static void import_batch_done(void *ctx, long long lines, long long reported, int rc)
{
    struct import_run *r = ctx;
    if (rc == DB_OK) {
        r->counts.imported += lines - reported;
        import_progress(r, false);
        return;
    }
    if (r->failed)
        return;
    fprintf(stderr,
            "hop: import: %s; the batches that ended before it are in, the others are not: run the same "
            "import again to finish\n",
            rc == DB_UNAVAILABLE ? "the database went away" : "the database refused a batch");
    r->failed = 1;
}

static int import_flush(struct import_run *r)
{
    if (r->batch_lines == 0 || r->failed)
        return r->failed ? -1 : 0;
    db_import_send(r->db, &r->copy, &r->copy_cap, r->copy_len, r->batch_lines);
    r->copy_len = 0;
    r->batch_lines = 0;
    return r->failed ? -1 : 0;
}

/* ---- one line ------------------------------------------------------------------------------------------ */

/* The field's value, or NULL when the column is absent or the value empty. */
static char *field(struct import_run *r, enum import_field f)
{
    int c = r->col_of[f];
    if (c < 0 || c >= r->rec.n)
        return NULL;
    char *s = r->rec.text + r->rec.off[c];
    return *s ? s : NULL;
}

static bool utf8_ok(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80             ? 0
                : (*s & 0xE0) == 0xC0 ? 1
                : (*s & 0xF0) == 0xE0 ? 2
                : (*s & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0 || (n == 1 && *s < 0xC2))
            return false;
        s++;
        for (int i = 0; i < n; i++, s++)
            if ((*s & 0xC0) != 0x80)
                return false;
    }
    return true;
}

/* A title kept as one line: CSV lets titles span lines, hop's do not. Cut at IMPORT_TITLE_MAX characters. */
static const char *clean_title(char *s)
{
    if (!s)
        return NULL;
    if (!utf8_ok((unsigned char *)s))
        return "";
    size_t chars = 0, out = 0;
    for (const char *p = s; *p; p++) {
        bool ctl = (unsigned char)*p < 0x20 || *p == 0x7f;
        if (ctl && out > 0 && s[out - 1] == ' ')
            continue; /* a line break (CRLF too) becomes one space */
        if (((unsigned char)*p & 0xC0) != 0x80 && ++chars > IMPORT_TITLE_MAX)
            break;
        s[out++] = ctl ? ' ' : *p;
    }
    s[out] = '\0';
    return NULL;
}

/* Tags folded to hop's form (lower case, spaces as -) and joined with commas, in place. */
static const char *clean_tags(char *s, char sep)
{
    if (!s)
        return NULL;
    size_t out = 0, len = 0;
    int ntags = 0;
    for (char *p = s;; p++) {
        bool end = *p == '\0' || *p == sep;
        if (!end) {
            char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p == ' ' ? '-' : *p;
            if (len == 0 && c == '-' && *p == ' ')
                continue; /* spaces after a separator */
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return "tags must be 1 to 32 characters from a-z 0-9 - _";
            s[out++] = c;
            len++;
            continue;
        }
        while (len > 0 && s[out - 1] == '-' && p[-1] == ' ') /* spaces before it */
            out--, len--;
        if (len > IMPORT_TAG_MAX)
            return "tags must be 1 to 32 characters from a-z 0-9 - _";
        if (len > 0 && ++ntags > IMPORT_TAGS_MAX)
            return "tags: a link has at most 10";
        bool last = *p == '\0'; /* the comma below may overwrite this very NUL */
        if (len > 0)
            s[out++] = ',';
        len = 0;
        if (last)
            break;
    }
    if (out > 0 && s[out - 1] == ',')
        out--;
    s[out] = '\0';
    return NULL;
}

static const char *check_count(const char *s, long long min)
{
    if (!s)
        return NULL;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end || s[0] == '-' || s[0] == '+' || v < min || v > 9007199254740991LL ? "is not a whole number"
                                                                                   : NULL;
}

static const char *check_bool(char *s)
{
    if (!s)
        return NULL;
    return strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ? NULL : "must be true or false";
}

/* what a hash hop wrote is made of (anything else could not even travel through COPY as UTF-8) */
static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return false;
    return true;
}

static const char *check_opt_url(const char *s)
{
    return s ? validate_url(s, strlen(s), config_get()->base_url) : NULL;
}

/* An epoch in text for COPY, or NULL with the reason. */
static const char *check_date(struct import_run *r, const char *s, char out[24], const char **value)
{
    *value = NULL;
    if (!s)
        return NULL;
    long long t;
    if (r->opts.fmt->date(s, &t) < 0)
        return "is not a date in this format";
    snprintf(out, 24, "%lld", t);
    *value = out;
    return NULL;
}

/* The domain a line goes to: --domain's for every line; else the one its domain column names (an export of
 * hop's), else the default domain. On an instance without domains there is one namespace: the column is
 * not read. */
static const char *line_domain(const struct import_run *r, const char *name, long long *id)
{
    *id = r->forced_domain >= 0 ? r->forced_domain : r->default_domain;
    if (r->forced_domain >= 0 || !name || r->ndomains == 0)
        return NULL;
    for (size_t i = 0; i < r->ndomains; i++) {
        if (strcmp(r->domains[i].name, name) == 0) {
            *id = r->domains[i].id;
            return NULL;
        }
    }
    return "no such domain here (add it with hop domains add, or give --domain)";
}

/* The staged values of the current record in IMPORT_* order, or the reason it cannot be imported. */
static const char *import_check(struct import_run *r, const char *v[IMPORT_NFIELDS], char dates[2][24],
                                char domain_id[24], const char **which)
{
    for (int f = 0; f < IMPORT_NFIELDS; f++)
        v[f] = field(r, f);
    char *slug = field(r, IMPORT_SLUG);
    if (!slug && r->fallback_col >= 0 && r->fallback_col < r->rec.n &&
        r->rec.text[r->rec.off[r->fallback_col]])
        slug = r->rec.text + r->rec.off[r->fallback_col];
    if (slug)
        r->opts.fmt->slug(slug);
    v[IMPORT_SLUG] = slug && *slug ? slug : NULL;
    const char *why;
    *which = "slug";
    if (!v[IMPORT_SLUG])
        return "slug is missing";
    if ((why = validate_slug(slug, strlen(slug))))
        return why;
    *which = "url";
    if (!v[IMPORT_URL])
        return "url is missing";
    if ((why = validate_url(v[IMPORT_URL], strlen(v[IMPORT_URL]), config_get()->base_url)))
        return why;
    static const struct {
        enum import_field f;
        const char *name;
    } urls[] = {{IMPORT_IOS_URL, "ios_url"},
                {IMPORT_ANDROID_URL, "android_url"},
                {IMPORT_EXPIRED_URL, "expired_url"}};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        *which = urls[i].name;
        if ((why = check_opt_url(v[urls[i].f])))
            return why;
    }
    *which = "title";
    if ((why = clean_title(field(r, IMPORT_TITLE))))
        return *why ? why : "title is not UTF-8 text";
    *which = "tags";
    if ((why = clean_tags(field(r, IMPORT_TAGS), r->opts.fmt->tag_sep)))
        return why;
    v[IMPORT_TAGS] = field(r, IMPORT_TAGS);
    *which = "created_at";
    if ((why = check_date(r, v[IMPORT_CREATED], dates[0], &v[IMPORT_CREATED])))
        return why;
    *which = "expires_at";
    if ((why = check_date(r, v[IMPORT_EXPIRES], dates[1], &v[IMPORT_EXPIRES])))
        return why;
    *which = "visits";
    if ((why = check_count(v[IMPORT_VISITS], 0)))
        return why;
    *which = "max_visits";
    if ((why = check_count(v[IMPORT_MAX_VISITS], 1)))
        return why;
    *which = "redirect";
    const char *rd = v[IMPORT_REDIRECT];
    if (rd && strcmp(rd, "301") && strcmp(rd, "302") && strcmp(rd, "307") && strcmp(rd, "308"))
        return "must be 301, 302, 307 or 308";
    *which = "disabled";
    if ((why = check_bool(field(r, IMPORT_DISABLED))))
        return why;
    *which = "forward_query";
    if ((why = check_bool(field(r, IMPORT_FORWARD_QUERY))))
        return why;
    *which = "password_hash";
    const char *ph = v[IMPORT_PASSWORD_HASH];
    if (ph && (strncmp(ph, "$argon2", 7) != 0 || strlen(ph) > 255 || !printable_ascii(ph)))
        return "is not a hash hop wrote";
    *which = "domain";
    long long domain;
    if ((why = line_domain(r, v[IMPORT_DOMAIN], &domain)))
        return why;
    snprintf(domain_id, 24, "%lld", domain);
    v[IMPORT_DOMAIN] = domain_id;
    return NULL;
}

static void import_line(struct import_run *r)
{
    const char *v[IMPORT_NFIELDS];
    char dates[2][24], domain_id[24];
    const char *which = NULL;
    if (r->rec.too_many) {
        import_refuse(r, r->rec_line, "the line has more than 64 fields", NULL);
        return;
    }
    const char *why = import_check(r, v, dates, domain_id, &which);
    if (why) {
        /* the validators' sentences mostly name their field already */
        if (strncmp(why, which, strlen(which)) == 0)
            import_refuse(r, r->rec_line, why, NULL);
        else
            import_refuse(r, r->rec_line, which, why);
        return;
    }
    char line[24];
    snprintf(line, sizeof(line), "%lld", r->rec_line);
    copy_value(r, line, false);
    for (int f = 0; f < IMPORT_NFIELDS; f++) {
        if (f == IMPORT_TAGS && v[f])
            copy_tags(r, v[f]);
        else
            copy_value(r, v[f], f == IMPORT_NFIELDS - 1);
    }
    r->batch_lines++;
    if (r->batch_lines >= IMPORT_BATCH_LINES || r->copy_len >= IMPORT_BATCH_BYTES)
        import_flush(r);
}

/* Whether name is one of alts ("a|b|c"; NULL: none). */
static bool names_match(const char *alts, const char *name)
{
    size_t n = strlen(name);
    for (const char *a = alts; a && *a; a += strcspn(a, "|") + (a[strcspn(a, "|")] == '|')) {
        if (strcspn(a, "|") == n && strncmp(a, name, n) == 0)
            return true;
    }
    return false;
}

/* The header: which column holds which field. The first name of a UTF-8 file may carry a BOM. */
static int import_header(struct import_run *r)
{
    for (int f = 0; f < IMPORT_NFIELDS; f++)
        r->col_of[f] = -1;
    r->fallback_col = -1;
    for (int c = 0; c < r->rec.n; c++) {
        char *name = r->rec.text + r->rec.off[c];
        if (c == 0 && strncmp(name, "\xEF\xBB\xBF", 3) == 0)
            name += 3;
        for (char *p = name; *p; p++)
            *p = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        for (int f = 0; f < IMPORT_NFIELDS; f++) {
            if (r->col_of[f] < 0 && names_match(r->opts.fmt->columns[f], name))
                r->col_of[f] = c;
        }
        if (r->fallback_col < 0 && names_match(r->opts.fmt->slug_fallback, name))
            r->fallback_col = c;
    }
    if (r->col_of[IMPORT_SLUG] < 0 && r->fallback_col >= 0) {
        r->col_of[IMPORT_SLUG] = r->fallback_col;
        r->fallback_col = -1;
    }
    static const enum import_field needed[] = {IMPORT_SLUG, IMPORT_URL};
    for (size_t i = 0; i < 2; i++) {
        if (r->col_of[needed[i]] < 0) {
            fprintf(stderr, "hop: import: the first line of %s has no %s column (a %s export names it %s)\n",
                    r->opts.file, needed[i] == IMPORT_SLUG ? "slug" : "url", r->opts.fmt->name,
                    r->opts.fmt->columns[needed[i]]);
            return -1;
        }
    }
    return 0;
}

/* ---- libcsv ------------------------------------------------------------------------------------------ */

static void on_field(void *s, size_t len, void *data)
{
    struct import_run *r = data;
    struct import_record *rec = &r->rec;
    if (rec->n >= IMPORT_MAX_COLUMNS) {
        rec->too_many = true;
        return;
    }
    if (rec->len + len + 1 > rec->cap) {
        rec->cap = (rec->len + len + 1) * 2;
        rec->text = xrealloc(rec->text, rec->cap);
    }
    rec->off[rec->n++] = rec->len;
    if (len)
        memcpy(rec->text + rec->len, s, len);
    /* an embedded NUL would cut the value short silently: make it a character every check refuses */
    for (size_t i = 0; i < len; i++)
        if (rec->text[rec->len + i] == '\0')
            rec->text[rec->len + i] = '\x01';
    rec->len += len;
    rec->text[rec->len++] = '\0';
}

static void on_record(int term, void *data)
{
    (void)term;
    struct import_run *r = data;
    if (!r->have_header) {
        r->have_header = true;
        if (import_header(r) < 0)
            r->failed = 2;
    } else if (!r->failed) {
        r->counts.lines++;
        import_line(r);
    }
    r->rec.n = 0;
    r->rec.len = 0;
    r->rec.too_many = false;
    r->rec_line = 0;
}

/* libcsv grows its field buffer with this: past IMPORT_FIELD_MAX it gets NULL, and csv_parse stops. */
static void *bounded_realloc(void *p, size_t n)
{
    return n > IMPORT_FIELD_MAX ? NULL : realloc(p, n);
}

static bool blank(const char *s, size_t n)
{
    return (n == 1 && s[0] == '\n') || (n == 2 && s[0] == '\r' && s[1] == '\n');
}

/* Feeds the file to libcsv one physical line at a time, so that a record knows the line it began on. */
static int import_read(struct import_run *r, FILE *in)
{
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL);
    csv_set_realloc_func(&p, bounded_realloc);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (!r->failed && (n = getline(&buf, &cap, in)) > 0) {
        r->line++;
        r->bytes += n;
        if (r->rec_line == 0 && !blank(buf, (size_t)n))
            r->rec_line = r->line;
        if (csv_parse(&p, buf, (size_t)n, on_field, on_record, r) != (size_t)n) {
            fprintf(stderr, "hop: import: line %lld: %s; the import stops here\n",
                    r->rec_line ? r->rec_line : r->line,
                    csv_error(&p) == CSV_ENOMEM ? "a field runs past 1 MiB (an unclosed quote?)"
                                                : csv_strerror(csv_error(&p)));
            rc = -1;
            break;
        }
        if (r->tty)
            import_progress(r, false);
    }
    if (rc == 0 && !r->failed)
        csv_fini(&p, on_field, on_record, r);
    free(buf);
    csv_free(&p);
    return rc;
}

/* ---- JSON: Kutt's API answers ------------------------------------------------------------------------- */

/* One of Kutt's links as a record: the values of the format's keys, in its column order, then the checks
 * every line gets. Numbered in the file's order. */
static void import_json_link(struct import_run *r, struct json_object *link)
{
    long long n = ++r->line;
    r->counts.lines++;
    if (!json_object_is_type(link, json_type_object)) {
        import_refuse(r, n, "not a Kutt link (a JSON object)", NULL);
        return;
    }
    struct json_object *v = NULL;
    if (json_object_object_get_ex(link, "password", &v) && json_object_get_boolean(v)) {
        /* Kutt's API says only that there is one: importing the link bare would open what it guarded */
        import_refuse(r, n, "the link has a password in Kutt, whose API does not give it out",
                      "not imported unprotected");
        return;
    }
    r->rec.n = 0;
    r->rec.len = 0;
    r->rec_line = n;
    for (int f = 0; f < IMPORT_NFIELDS; f++) {
        r->col_of[f] = -1;
        const char *key = r->opts.fmt->columns[f];
        if (!key)
            continue;
        v = NULL;
        json_object_object_get_ex(link, key, &v);
        char num[32];
        const char *text = "";
        size_t len = 0;
        switch (json_object_get_type(v)) {
        case json_type_null:
            break;
        case json_type_string:
            text = json_object_get_string(v);
            len = (size_t)json_object_get_string_len(v);
            break;
        case json_type_int:
            snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
            text = num;
            len = strlen(num);
            break;
        case json_type_boolean:
            text = json_object_get_boolean(v) ? "true" : "false";
            len = strlen(text);
            break;
        default: /* a fraction, object or array: its JSON, which the field's check refuses */
            text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
            len = strlen(text);
            break;
        }
        r->col_of[f] = r->rec.n;
        on_field((void *)text, len, r);
    }
    import_line(r);
}

/* A value of the stream: an API answer ({"data": [...]}), a list of links, or one link. */
static int import_json_value(struct import_run *r, struct json_object *v)
{
    struct json_object *data = NULL;
    if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "data", &data) &&
        json_object_is_type(data, json_type_array))
        v = data;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v) && !r->failed; i++)
            import_json_link(r, json_object_array_get_idx(v, i));
        return 0;
    }
    if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "address", NULL)) {
        import_json_link(r, v);
        return 0;
    }
    fprintf(stderr,
            "hop: import: after link %lld: a JSON value that is not a Kutt API answer ({\"data\": [...]}), a "
            "list of links or a link; the import stops here\n",
            r->line);
    return -1;
}

/* Reads a stream of JSON values (pages of Kutt's API appended one after another, as a loop of curl writes
 * them) one value at a time, so that memory holds one page whatever the file's size. */
static int import_read_json(struct import_run *r, FILE *in)
{
    struct json_tokener *tok = json_tokener_new();
    static char buf[65536];
    size_t n, pending = 0; /* bytes of the value being read */
    int rc = 0;
    bool start = true;
    while (rc == 0 && !r->failed && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        r->bytes += (long long)n;
        size_t off = 0;
        if (start && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            off = 3; /* a UTF-8 BOM */
        start = false;
        while (rc == 0 && !r->failed && off < n) {
            if (pending == 0) {
                while (off < n && isspace((unsigned char)buf[off]))
                    off++;
                if (off == n)
                    break;
            }
            struct json_object *v = json_tokener_parse_ex(tok, buf + off, (int)(n - off));
            enum json_tokener_error err = json_tokener_get_error(tok);
            if (err == json_tokener_continue) {
                pending += n - off;
                if (pending > IMPORT_JSON_MAX) {
                    fprintf(stderr,
                            "hop: import: after link %lld: a JSON value runs past 64 MiB; the import "
                            "stops here\n",
                            r->line);
                    rc = -1;
                }
                break;
            }
            if (err != json_tokener_success) {
                fprintf(stderr, "hop: import: after link %lld: not JSON (%s); the import stops here\n",
                        r->line, json_tokener_error_desc(err));
                rc = -1;
                break;
            }
            off += json_tokener_get_parse_end(tok);
            pending = 0;
            r->have_header = true;
            rc = import_json_value(r, v);
            json_object_put(v);
            json_tokener_reset(tok);
        }
        if (r->tty)
            import_progress(r, false);
    }
    if (rc == 0 && !r->failed && pending > 0) {
        fprintf(stderr, "hop: import: after link %lld: the file ends inside a JSON value\n", r->line);
        rc = -1;
    }
    json_tokener_free(tok);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------------------- */

static int parse_opts(int argc, char **argv, struct import_opts *o)
{
    *o = (struct import_opts){.mode = "skip", .jobs = 2};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
            continue;
        }
        const char **slot = strcmp(a, "--from") == 0          ? NULL
                            : strcmp(a, "--owner") == 0       ? &o->owner
                            : strcmp(a, "--domain") == 0      ? &o->domain
                            : strcmp(a, "--on-conflict") == 0 ? &o->mode
                                                              : NULL;
        if (strcmp(a, "--from") == 0 && val) {
            if (!(o->fmt = import_format_named(val))) {
                fprintf(stderr, "hop: import: --from %s: the formats are %s\n", val, import_format_names);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--jobs") == 0 && val) {
            char *end = NULL;
            long n = strtol(val, &end, 10);
            if (*val < '0' || *val > '9' || *end || n < 1 || n > DB_IMPORT_JOBS_MAX) {
                fprintf(stderr, "hop: import: --jobs is a whole number from 1 to %d\n", DB_IMPORT_JOBS_MAX);
                return -1;
            }
            o->jobs = (int)n;
            i++;
        } else if (slot && val) {
            *slot = val;
            i++;
        } else if (a[0] != '-' && !o->file) {
            o->file = a;
        } else {
            fprintf(stderr, "hop: import: unexpected %s\n", a);
            return -1;
        }
    }
    if (!o->fmt || !o->file || !o->owner) {
        fprintf(stderr, "hop: import: --from, FILE and --owner are needed\n");
        return -1;
    }
    if (strcmp(o->mode, "skip") && strcmp(o->mode, "rename") && strcmp(o->mode, "fail")) {
        fprintf(stderr, "hop: import: --on-conflict is skip, rename or fail\n");
        return -1;
    }
    return 0;
}

/* Reads the instance's domains: the default one and --domain's. -1 when the database cannot be reached or
 * --domain names none of them. */
static int import_domains(struct import_run *r)
{
    r->domains_arena = arena_new(4096);
    if (db_domains_list(r->domains_arena, &r->domains, &r->ndomains) != DB_OK)
        return -1;
    r->forced_domain = r->opts.domain ? -2 : -1;
    for (size_t i = 0; i < r->ndomains; i++) {
        if (r->domains[i].is_default)
            r->default_domain = r->domains[i].id;
        if (r->opts.domain && strcmp(r->domains[i].name, r->opts.domain) == 0)
            r->forced_domain = r->domains[i].id;
    }
    return r->forced_domain == -2 ? -1 : 0;
}

static void import_summary(const struct import_run *r)
{
    printf("%s%lld %ss: %lld imported, %lld skipped, %lld renamed, %lld refused\n",
           r->opts.dry_run ? "dry run (nothing written): " : "", r->counts.lines, import_unit(r),
           r->counts.imported, r->counts.skipped, r->counts.renamed, r->counts.refused);
}

int import_command(int argc, char **argv)
{
    struct import_run r = {0};
    if (parse_opts(argc, argv, &r.opts) < 0) {
        fputs(import_usage, stderr);
        return 2;
    }
    FILE *in = fopen(r.opts.file, "rb");
    if (!in) {
        fprintf(stderr, "hop: import: cannot open %s\n", r.opts.file);
        return 2;
    }
    const struct db_import_sink sink = {.line = import_outcome, .batch = import_batch_done, .ctx = &r};
    if (import_domains(&r) < 0 ||
        !(r.db = db_import_open(r.opts.owner, r.opts.jobs, r.opts.mode, r.opts.dry_run, &sink))) {
        fprintf(stderr, "hop: import: %s\n",
                r.forced_domain == -2 ? "no such domain (see hop domains list)"
                                      : "the database cannot be reached (check HOP_DB)");
        arena_free(r.domains_arena);
        fclose(in);
        return 1;
    }
    struct stat st;
    r.file_bytes = fstat(fileno(in), &st) == 0 ? (long long)st.st_size : 0;
    r.tty = isatty(STDERR_FILENO);
    r.started_ms = r.shown_ms = clock_ms();
    int rc = r.opts.fmt->json ? import_read_json(&r, in) : import_read(&r, in);
    if (!r.have_header && !r.failed && rc == 0) {
        fprintf(stderr, "hop: import: %s is empty: %s\n", r.opts.file,
                r.opts.fmt->json ? "it holds no JSON value" : "the first line must name the columns");
        r.failed = 2;
    }
    if (r.failed != 2)
        import_flush(&r);
    db_import_finish(r.db);
    fclose(in);
    db_import_close(r.db);
    arena_free(r.domains_arena);
    free(r.copy);
    free(r.rec.text);
    if (r.failed == 2)
        return 2;
    import_progress(&r, true);
    import_summary(&r);
    return rc < 0 || r.failed ? 1 : 0;
}
