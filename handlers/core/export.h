/* hop's own export format, CSV or JSON, written row by row to any sink (a file, a FastCGI stream), and the
 * `hop export` command. The CSV is what `hop import --from csv` reads. */
#ifndef HOP_EXPORT_H
#define HOP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

enum export_format { EXPORT_CSV, EXPORT_JSON };

/* Where the text goes. */
typedef void (*export_sink)(void *ctx, const char *s, size_t n);

/* The format named name ("csv" or "json"): 0, or -1. */
int export_format_named(const char *name, enum export_format *out);
/* Before the first row: CSV's header line, or JSON's opening bracket. */
void export_begin(enum export_format f, export_sink w, void *ctx);
/* One link (db_export_col order, NULL: none); first says whether it is the first. */
void export_row(enum export_format f, const char *const *cols, bool first, export_sink w, void *ctx);
/* After the last row. */
void export_end(enum export_format f, export_sink w, void *ctx);
/* Runs fn over every link of owner_id in keyset pages, so that no more than a page is held at once. */
int export_owner(enum export_format f, long long owner_id, export_sink w, void *ctx);

/* argv after "export"; returns the process's exit status. */
int export_command(int argc, char **argv);

#endif
