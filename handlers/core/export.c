/* hop's export format and `hop export`; see export.h. Every value is written as the database gives it:
 * times in RFC 3339 UTC, tags comma-separated, visits as the total with the imported part beside it. */
#include "export.h"

#include "db.h"
#include "db_import.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXPORT_PAGE = 1000 };

int export_format_named(const char *name, enum export_format *out)
{
    if (strcmp(name, "csv") == 0)
        *out = EXPORT_CSV;
    else if (strcmp(name, "json") == 0)
        *out = EXPORT_JSON;
    else
        return -1;
    return 0;
}

static void put(export_sink w, void *ctx, const char *s)
{
    w(ctx, s, strlen(s));
}

/* RFC 4180: every value quoted, quotes doubled; a value that is absent is an empty, unquoted field. */
static void csv_value(const char *s, export_sink w, void *ctx)
{
    if (!s)
        return;
    put(w, ctx, "\"");
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        w(ctx, s, (size_t)(q - s) + 1);
        put(w, ctx, "\"");
    }
    put(w, ctx, s);
    put(w, ctx, "\"");
}

void export_begin(enum export_format f, export_sink w, void *ctx)
{
    if (f == EXPORT_JSON) {
        put(w, ctx, "[");
        return;
    }
    for (int c = 0; c < DB_EXPORT_NCOLS; c++) {
        put(w, ctx, db_export_names[c]);
        put(w, ctx, c + 1 < DB_EXPORT_NCOLS ? "," : "\r\n");
    }
}

static struct json_object *json_value(int c, const char *v)
{
    if (!v)
        return c == DB_EXPORT_TAGS ? json_object_new_array() : NULL;
    switch (c) {
    case DB_EXPORT_REDIRECT:
    case DB_EXPORT_VISITS:
    case DB_EXPORT_IMPORTED_VISITS:
    case DB_EXPORT_MAX_VISITS:
        return json_object_new_int64(strtoll(v, NULL, 10));
    case DB_EXPORT_DISABLED:
    case DB_EXPORT_FORWARD_QUERY:
        return json_object_new_boolean(v[0] == 't');
    case DB_EXPORT_TAGS: {
        struct json_object *a = json_object_new_array();
        char *copy = strdup(v), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
            json_object_array_add(a, json_object_new_string(t));
        free(copy);
        return a;
    }
    default:
        return json_object_new_string(v);
    }
}

void export_row(enum export_format f, const char *const *cols, bool first, export_sink w, void *ctx)
{
    if (f == EXPORT_CSV) {
        for (int c = 0; c < DB_EXPORT_NCOLS; c++) {
            const char *v = cols[c];
            if (v && (c == DB_EXPORT_DISABLED || c == DB_EXPORT_FORWARD_QUERY))
                v = v[0] == 't' ? "true" : "false";
            csv_value(v, w, ctx);
            put(w, ctx, c + 1 < DB_EXPORT_NCOLS ? "," : "\r\n");
        }
        return;
    }
    struct json_object *o = json_object_new_object();
    for (int c = 0; c < DB_EXPORT_NCOLS; c++)
        json_object_object_add(o, db_export_names[c], json_value(c, cols[c]));
    put(w, ctx, first ? "\n" : ",\n");
    put(w, ctx, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

void export_end(enum export_format f, export_sink w, void *ctx)
{
    if (f == EXPORT_JSON)
        put(w, ctx, "\n]\n");
}

struct export_run {
    enum export_format f;
    export_sink w;
    void *ctx;
    bool first;
};

static void export_one(void *data, const char *const *cols)
{
    struct export_run *e = data;
    export_row(e->f, cols, e->first, e->w, e->ctx);
    e->first = false;
}

int export_owner(enum export_format f, long long owner_id, export_sink w, void *ctx)
{
    struct export_run e = {.f = f, .w = w, .ctx = ctx, .first = true};
    long long after = 0;
    int n, rc;
    export_begin(f, w, ctx);
    do {
        rc = db_export_page(owner_id, &after, EXPORT_PAGE, export_one, &e, &n);
    } while (rc == DB_OK && n == EXPORT_PAGE);
    if (rc == DB_OK)
        export_end(f, w, ctx);
    return rc;
}

static void to_stdout(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, ctx);
}

int export_command(int argc, char **argv)
{
    const char *owner = NULL, *format = "csv";
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--owner") == 0)
            owner = argv[i + 1];
        else if (strcmp(argv[i], "--format") == 0)
            format = argv[i + 1];
        else
            owner = NULL, i = argc;
    }
    enum export_format f;
    if (!owner || argc % 2 || export_format_named(format, &f) < 0) {
        fputs("usage: hop export --owner NAME [--format csv|json]\n", stderr);
        return 2;
    }
    long long id;
    int rc = db_owner_id(owner, &id);
    if (rc == DB_NOT_FOUND) {
        fprintf(stderr, "hop: export: no owner is named %s\n", owner);
        return 1;
    }
    if (rc == DB_OK)
        rc = export_owner(f, id, to_stdout, stdout);
    if (rc != DB_OK) {
        fprintf(stderr, "hop: export: %s\n",
                rc == DB_UNAVAILABLE ? "the database cannot be reached (check HOP_DB)"
                                     : "the database refused the export");
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
