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

/* Applies what is missing; returns the number applied, or -1 (logged). */
int db_migrate(void);

#endif
