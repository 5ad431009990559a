/* The `hop keys` commands: API keys are made and revoked from the command line, never over HTTP. */
#include "keys_cli.h"

#include "apikey.h"
#include "db.h"
#include "db_keys.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static const char keys_usage[] = "usage: hop keys create NAME | hop keys list | hop keys revoke NAME\n"
                                 "NAME: 1 to 64 characters from A-Z a-z 0-9 . _ @ -\n";

static bool owner_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 64 &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

static int db_failure(int rc)
{
    fprintf(stderr, "hop: %s\n",
            rc == DB_UNAVAILABLE ? "the database cannot be reached (check HOP_DB)"
                                 : "the database refused the change");
    return 1;
}

static int keys_create(const char *name)
{
    char key[APIKEY_LEN + 1];
    unsigned char hash[32];
    apikey_new(key);
    apikey_hash(key, hash);
    int rc = db_key_add(name, hash);
    if (rc != DB_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        return db_failure(rc);
    }
    printf("created a key for owner %s; it is shown only this once:\n%s\n", name, key);
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

static void print_key(const char *owner, long long id, const char *created, const char *revoked)
{
    printf("%-24s %-8lld %-21s %s\n", owner, id, created, revoked ? revoked : "active");
}

static int keys_list(void)
{
    printf("%-24s %-8s %-21s %s\n", "OWNER", "KEY", "CREATED", "REVOKED");
    int rc = db_keys_list(print_key);
    return rc == DB_OK ? 0 : db_failure(rc);
}

static int keys_revoke(const char *name)
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

int keys_command(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return keys_list();
    if (argc == 2 && (strcmp(argv[0], "create") == 0 || strcmp(argv[0], "revoke") == 0)) {
        if (!owner_name_ok(argv[1])) {
            fprintf(stderr, "hop: \"%s\" is not a valid owner name\n%s", argv[1], keys_usage);
            return 2;
        }
        return argv[0][0] == 'c' ? keys_create(argv[1]) : keys_revoke(argv[1]);
    }
    fputs(keys_usage, stderr);
    return 2;
}
