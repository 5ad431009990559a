/* The `hop keys` commands: API keys are made and revoked from the command line, never over HTTP. */
#include "keys_cli.h"

#include "apikey.h"
#include "db.h"
#include "db_keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char keys_usage[] =
    "usage: hop keys create NAME [--scope read|create|full]\n"
    "       hop keys list\n"
    "       hop keys revoke NAME | hop keys revoke --key ID\n"
    "NAME: 1 to 64 characters from A-Z a-z 0-9 . _ @ - (not first); ID: a number keys list shows\n"
    "scope: read (GET), create (GET and POST /api/links), full (everything; the default)\n";

/* A name never starts with '-': "--key" without its number is a usage error, not an owner. */
static bool owner_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 64 && name[0] != '-' &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

static int db_failure(int rc)
{
    fprintf(stderr, "hop: %s\n",
            rc == DB_UNAVAILABLE ? "the database cannot be reached (check HOP_DB)"
                                 : "the database refused the change");
    return 1;
}

static int bad_usage(const char *why, const char *what)
{
    fprintf(stderr, "hop: %s%s\n%s", why, what, keys_usage);
    return 2;
}

static int keys_create(const char *name, enum key_scope scope)
{
    char key[APIKEY_LEN + 1];
    unsigned char hash[32];
    apikey_new(key);
    apikey_hash(key, hash);
    long long id = 0;
    int rc = db_key_add(name, hash, scope, &id);
    if (rc != DB_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        return db_failure(rc);
    }
    printf("created key %lld (scope %s) for owner %s; it is shown only this once:\n%s\n", id,
           key_scope_name(scope), name, key);
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

static void print_key(const struct key_row *k)
{
    printf("%-24s %-8lld %-7s %-21s %-21s %s\n", k->owner, k->id, k->scope, k->created,
           k->last_used ? k->last_used : "never", k->revoked ? k->revoked : "active");
}

static int keys_list(void)
{
    printf("%-24s %-8s %-7s %-21s %-21s %s\n", "OWNER", "KEY", "SCOPE", "CREATED", "LAST_USED", "REVOKED");
    int rc = db_keys_list(print_key);
    return rc == DB_OK ? 0 : db_failure(rc);
}

static int keys_revoke_owner(const char *name)
{
    int count = 0;
    int rc = db_keys_revoke(name, &count);
    if (rc != DB_OK)
        return db_failure(rc);
    if (count == 0) {
        fprintf(stderr, "hop: owner %s has no active key\n", name);
        return 1;
    }
    printf("revoked %d key%s of owner %s\n", count, count == 1 ? "" : "s", name);
    return 0;
}

static int keys_revoke_id(const char *text)
{
    char *end;
    errno = 0;
    long long id = strtoll(text, &end, 10);
    if (errno || *end || end == text || id < 1)
        return bad_usage("not a key number: ", text);
    char owner[128];
    int rc = db_key_revoke_id(id, owner, sizeof(owner));
    if (rc == DB_NOT_FOUND) {
        fprintf(stderr, "hop: no active key has the number %lld (see hop keys list)\n", id);
        return 1;
    }
    if (rc != DB_OK)
        return db_failure(rc);
    printf("revoked key %lld of owner %s\n", id, owner);
    return 0;
}

/* create NAME [--scope S] */
static int create_command(int argc, char **argv)
{
    enum key_scope scope = KEY_SCOPE_FULL;
    if (argc == 4 && strcmp(argv[2], "--scope") == 0) {
        if (key_scope_parse(argv[3], &scope) < 0)
            return bad_usage("the scope must be read, create or full, not ", argv[3]);
    } else if (argc != 2) {
        return bad_usage("keys create takes a NAME and an optional --scope", "");
    }
    if (!owner_name_ok(argv[1]))
        return bad_usage("not a valid owner name: ", argv[1]);
    return keys_create(argv[1], scope);
}

int keys_command(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return keys_list();
    if (argc >= 2 && strcmp(argv[0], "create") == 0)
        return create_command(argc, argv);
    if (argc == 3 && strcmp(argv[0], "revoke") == 0 && strcmp(argv[1], "--key") == 0)
        return keys_revoke_id(argv[2]);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0) {
        if (!owner_name_ok(argv[1]))
            return bad_usage("not a valid owner name: ", argv[1]);
        return keys_revoke_owner(argv[1]);
    }
    fputs(keys_usage, stderr);
    return 2;
}
