/* The master's spool of visit batches on disk: what it could not write to PostgreSQL and could not keep in
 * memory (its bound reached, or a graceful stop while the database is away). One file per batch, written
 * atomically (a temporary name, fsync, rename, fsync of the directory), so a crash leaves either the whole
 * file or none; a file is removed only after its batch committed. The records are opaque here: visits.c's
 * sums, checked against their size and a version when read back. */
#ifndef HOP_VISITS_SPOOL_H
#define HOP_VISITS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

/* Remembers the directory, the bound in bytes and the record size; creates the directory if it can, removes
 * temporary files a crash left and counts the files there. 0, or -1 when the directory is unusable now
 * (logged; writes try again). */
int vspool_open(const char *dir, long long max_bytes, size_t rec_size);
/* Writes one batch of n records holding visits visits, for the database db_id ("" unknown): 0, or -1 when
 * the spool is full or cannot be written (logged with the reason). */
int vspool_write(long long id, const char *db_id, const void *recs, size_t n, long long visits);
/* Files that may be replayed into this database (those of another database are left alone). */
long long vspool_replayable(void);

/* What apply is given for each file: 0 when the batch committed (the file is then removed), -1 to stop. */
typedef int (*vspool_apply_fn)(long long id, const void *recs, size_t n, long long visits);
/* Replays up to max_files files of database db_id (or of an unknown one), oldest first: apply for each, and
 * removed(id) once its file is gone (the batch can never be sent again). Returns the files replayed. A file
 * that cannot be read back is renamed *.bad, logged, and its visits reported through dropped. */
int vspool_replay(const char *db_id, int max_files, vspool_apply_fn apply, void (*removed)(long long id),
                  void (*dropped)(long long visits));
/* The metrics: files, bytes and visits in the spool now. */
void vspool_gauges(long long *files, long long *bytes, long long *visits);

#endif
