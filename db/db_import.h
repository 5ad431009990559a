/* Imports and exports of links in bulk: an import session on its own connection (COPY into a staging table,
 * one set-based merge per batch, one transaction each) and the export's keyset pages. */
#ifndef HOP_DB_IMPORT_H
#define HOP_DB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

struct db_import;

/* What became of one staged line. */
enum db_import_state {
    DB_IMPORT_NEW,       /* written under its slug */
    DB_IMPORT_RENAMED,   /* written under another slug (--on-conflict rename) */
    DB_IMPORT_PRESENT,   /* the owner has it already: imported before */
    DB_IMPORT_TAKEN,     /* its slug belongs to another link (not written) */
    DB_IMPORT_DUPLICATE, /* an earlier line of the batch has the slug */
    DB_IMPORT_RACED,     /* the slug was taken meanwhile by someone else */
};

enum { DB_IMPORT_JOBS_MAX = 8 };

/* Where an import session tells what became of its batches. */
struct db_import_sink {
    /* a line not written under its own slug (DB_IMPORT_NEW never comes: a line the sink does not hear of
     * was imported); each batch's lines in order, the batches in the order they end */
    void (*line)(void *ctx, long long line, enum db_import_state st, const char *slug);
    /* a batch has ended: written (committed; rolled back in a dry run) when rc is DB_OK, with `reported` of
     * its `lines` told to line(); with any other rc, nothing of it is written */
    void (*batch)(void *ctx, long long lines, long long reported, int rc);
    void *ctx;
};

/* Opens an import session for owner_name (made if new) on `jobs` connections (1 to DB_IMPORT_JOBS_MAX;
 * fewer when PostgreSQL refuses more), each merging one batch at a time, in a transaction of its own. mode
 * is "skip", "rename" or "fail"; with dry_run every batch is rolled back. NULL with the reason logged when
 * the database cannot be reached. */
struct db_import *db_import_open(const char *owner_name, int jobs, const char *mode, bool dry_run,
                                 const struct db_import_sink *sink);
void db_import_close(struct db_import *im);
/* Hands over one batch of `lines` lines: *copy holds len bytes of COPY text rows (see STMT_IMPORT_COPY's
 * columns; tags as a sorted array of distinct tags). The session keeps that buffer until the batch ends and
 * gives back in *copy and *cap one of its own, empty (NULL at first). When every connection is busy, it
 * first waits for one batch to end. DB_OK, or the failure of a batch that ended: the caller then stops
 * sending and calls db_import_finish. */
int db_import_send(struct db_import *im, char **copy, size_t *cap, size_t len, long long lines);
/* Waits for every batch still merging: DB_OK, or the first failure. */
int db_import_finish(struct db_import *im);

/* One exported link, as text (NULL: no value). */
enum db_export_col {
    DB_EXPORT_SLUG,
    DB_EXPORT_URL,
    DB_EXPORT_DOMAIN,
    DB_EXPORT_REDIRECT,
    DB_EXPORT_CREATED_AT,
    DB_EXPORT_EXPIRES_AT,
    DB_EXPORT_DISABLED,
    DB_EXPORT_VISITS,
    DB_EXPORT_IMPORTED_VISITS,
    DB_EXPORT_PASSWORD_HASH,
    DB_EXPORT_MAX_VISITS,
    DB_EXPORT_FORWARD_QUERY,
    DB_EXPORT_IOS_URL,
    DB_EXPORT_ANDROID_URL,
    DB_EXPORT_TAGS,
    DB_EXPORT_TITLE,
    DB_EXPORT_EXPIRED_URL,
    DB_EXPORT_NCOLS
};
extern const char *const db_export_names[DB_EXPORT_NCOLS];

/* Calls fn for each of owner_id's links with an id above *after (oldest first), at most limit, and moves
 * *after to the last. *n says how many; 0 at the end. */
int db_export_page(long long owner_id, long long *after, int limit,
                   void (*fn)(void *ctx, const char *const *cols), void *ctx, int *n);
/* The id of owner_name: DB_OK, or DB_NOT_FOUND. */
int db_owner_id(const char *owner_name, long long *id);

/* One transaction on the process's connection around many statements (POST /api/links/bulk): DB_OK or a
 * failure. db_tx_end commits when commit is true, else rolls back. */
int db_tx_begin(void);
int db_tx_end(bool commit);

#endif
