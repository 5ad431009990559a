/* The statement registry: every SQL statement hop runs is declared once, in statements.c, and prepared
 * when a connection opens. Request data only ever travels as parameters. */
#ifndef HOP_STATEMENTS_H
#define HOP_STATEMENTS_H

enum stmt_group {
    STMT_APP,          /* prepared on every worker and master connection */
    STMT_APP_REPLAN,   /* the same, but planned for its parameters on every run (db.c): a statement whose best
                          plan depends on them (a search that matches 10 links or 100,000), where the
                          generic plan PostgreSQL switches to after 5 runs would be many times slower */
    STMT_MIGRATE_BOOT, /* prepared on the migration connection, before anything exists */
    STMT_MIGRATE,      /* prepared on the migration connection once schema_migrations exists */
    STMT_IMPORT,       /* prepared one by one on an import's own connection (db_import.c) */
    STMT_CONNECT,      /* run as they are (never prepared) around the prepares of a new connection (db.c) */
};

enum stmt_id {
    /* migrations */
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_MIG_LOCK,
    STMT_MIG_UNLOCK,
    STMT_MIG_TABLE,
    STMT_MIG_APPLIED,
    STMT_MIG_RECORD,
    STMT_MIG_LOCK_WAIT,
    /* the application */
    STMT_PING,
    STMT_LOCK_WAIT,
    STMT_LOCK_WAIT_DONE,
    STMT_LOCK_WAIT_BOUND,
    STMT_SESSION_SETUP,
    STMT_LISTEN,
    STMT_LISTEN_DOMAINS,
    STMT_DOMAINS_LIST,
    STMT_DOMAIN_ADD,
    STMT_DOMAIN_REMOVE,
    STMT_DOMAIN_NEW_DEFAULT,
    STMT_LINK_INSERT,
    STMT_LINK_FIND,
    STMT_LINK_GET,
    STMT_LINK_REUSE,
    STMT_LINK_CLAIM,
    STMT_LINK_CLAIMED,
    STMT_LINK_LIST,
    STMT_LINK_LIST_TAGGED,
    STMT_LINK_SEARCH,
    STMT_LINK_SEARCH_SHORT,
    STMT_TAGS_COUNT,
    STMT_LINK_UPDATE,
    STMT_LINK_DELETE,
    STMT_STATS_SERIES_LINK,
    STMT_STATS_SERIES_OWNER,
    STMT_STATS_SERIES_LINK_DAYS,
    STMT_STATS_SERIES_OWNER_DAYS,
    STMT_STATS_TOP_LINK,
    STMT_STATS_TOP_OWNER,
    STMT_STATS_TOP_LINKS,
    STMT_TZ_NAMES,
    STMT_VISITS_ADD,
    STMT_VISITS_LOG,
    STMT_VISITS_APPLY,
    STMT_VISITS_LOG_READ,
    STMT_VISITS_ORPHANS,
    STMT_VISITS_WRITER,
    STMT_VISITS_CLOSE,
    STMT_VISITS_ROLLUP,
    STMT_KEY_AUTH,
    STMT_OWNER_UPSERT,
    STMT_KEY_INSERT,
    STMT_KEYS_LIST,
    STMT_KEYS_REVOKE,
    /* import and export (db_import.c) */
    STMT_IMPORT_STAGING,
    STMT_IMPORT_SESSION,
    STMT_IMPORT_COPY,
    STMT_IMPORT_MERGE,
    STMT_IMPORT_KEEP,
    STMT_EXPORT_PAGE,
    STMT_OWNER_ID,
    STMT_TX_BEGIN,
    STMT_TX_COMMIT,
    STMT_TX_ROLLBACK,
    STMT_KEY_REVOKE_ID,
    STMT_KEYS_TOUCH,
    STMT_SESSION_CREATE,
    STMT_SESSION_AUTH,
    STMT_SESSION_DELETE,
    /* read-your-writes with a read replica (db.c) */
    STMT_READ_LSN_OWNER,
    STMT_READ_LSN_LINK,
    STMT_VISITS_SPOOL_ID,
    STMT_COUNT
};

/* Where a statement may run when a read replica is configured (HOP_DB_READ, db.c): on the primary (the
 * default, and all that is not a read of an owner's links or stats), or on the replica once it has the
 * latest change of the owner that $1 names, an owner id or a link id. */
enum stmt_read {
    STMT_PRIMARY = 0,
    STMT_READ_OWNER, /* $1 is an owner id */
    STMT_READ_LINK,  /* $1 is a link id: its owner's changes count */
};

struct stmt {
    const char *name;
    const char *sql;
    int nparams;
    enum stmt_group group;
    enum stmt_read read;
};

extern const struct stmt stmt_table[STMT_COUNT];

#endif
