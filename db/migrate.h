/* Migrations: the numbered .sql files of db/migrations, embedded in the binary, applied in order, each in
 * its own transaction, under an advisory lock, and recorded in schema_migrations. */
#ifndef HOP_MIGRATE_H
#define HOP_MIGRATE_H

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct db_migration db_migrations[];
extern const int db_nmigrations;

/* Applies what is missing; returns the number applied, or -1 (logged). A migration that changes a table
 * waits for the table's lock, and every other session's statement on the table waits behind it: so each
 * attempt waits at most 2 s for a lock, and is tried again (rolled back, a second later) for up to lock_ms
 * in all; 0: as long as the locks take. */
int db_migrate(long long lock_ms);

#endif
