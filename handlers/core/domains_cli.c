/* `hop domains add|list|remove`; see domains_cli.h. Adding a domain is all it takes for Caddy to serve it:
 * its on-demand TLS asks hop whether a name is a domain before it gets a certificate. */
#include "domains_cli.h"

#include "arena.h"
#include "config.h"
#include "db.h"
#include "db_domains.h"
#include "domains.h"
#include "validate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char domains_usage[] =
    "usage: hop domains add NAME [--root-redirect URL] [--not-found-redirect URL]\n"
    "       hop domains list\n"
    "       hop domains remove NAME [--with-links]\n"
    "NAME: a host name such as go.example.com, international names in their xn-- form\n";

static int db_failure(int rc)
{
    fprintf(stderr, "hop: %s\n",
            rc == DB_UNAVAILABLE ? "the database cannot be reached (check HOP_DB)"
                                 : "the database refused the change");
    return 1;
}

/* NAME folded to lower case (host names are case-blind) into out, or NULL with the reason printed. */
static const char *domain_name(const char *arg, char out[DOMAIN_NAME_MAX + 2])
{
    size_t n = strlen(arg);
    if (n > DOMAIN_NAME_MAX)
        n = DOMAIN_NAME_MAX + 1;
    for (size_t i = 0; i < n; i++)
        out[i] = arg[i] >= 'A' && arg[i] <= 'Z' ? (char)(arg[i] - 'A' + 'a') : arg[i];
    out[n] = '\0';
    const char *why = domains_check_name(out);
    if (why) {
        fprintf(stderr, "hop: \"%s\": %s\n", arg, why);
        return NULL;
    }
    return out;
}

/* A redirect option's URL, or NULL with the reason printed. */
static const char *redirect_url(const char *option, const char *url)
{
    const char *why = url ? validate_url(url, strlen(url), NULL) : "a URL must follow";
    if (why) {
        fprintf(stderr, "hop: %s: %s\n", option, why);
        return NULL;
    }
    return url;
}

/* The first domain adopts every link made so far, and from then on hop answers only on its domains: when
 * HOP_BASE_URL names the host those links were made on, that host must be the first. 0, or -1 said. */
static int first_check(const char *name)
{
    size_t n = 0;
    domains_all(&n);
    const char *base = config_get()->base_url;
    const char *host = base && n == 0 ? strstr(base, "://") : NULL;
    if (!host)
        return 0;
    host += 3;
    size_t len = strcspn(host, ":/");
    if (len == strlen(name) && strncasecmp(host, name, len) == 0)
        return 0;
    fprintf(stderr,
            "hop: add %.*s first (HOP_BASE_URL's host): the first domain becomes the default and keeps the "
            "existing links, and hop then answers only on its domains\n",
            (int)len, host);
    return -1;
}

static int add(int argc, char **argv)
{
    char buf[DOMAIN_NAME_MAX + 2];
    const char *name = argc >= 1 ? domain_name(argv[0], buf) : NULL;
    if (!name)
        return 2;
    const char *root = NULL, *not_found = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--root-redirect") == 0        ? &root
                            : strcmp(argv[i], "--not-found-redirect") == 0 ? &not_found
                                                                           : NULL;
        if (!slot || !(*slot = redirect_url(argv[i], i + 1 < argc ? argv[i + 1] : NULL))) {
            if (!slot)
                fprintf(stderr, "hop: domains add: unknown option %s\n%s", argv[i], domains_usage);
            return 2;
        }
        i++;
    }
    if (first_check(name) < 0)
        return 1;
    bool is_default = false;
    long long adopted = 0;
    int rc = db_domain_add(name, root, not_found, &is_default, &adopted);
    if (rc == DB_CONFLICT) {
        fprintf(stderr, "hop: %s is already a domain\n", name);
        return 1;
    }
    if (rc != DB_OK)
        return db_failure(rc);
    printf("added %s%s\n", name, is_default ? " (the default domain)" : "");
    if (adopted)
        printf("%lld existing link%s moved to %s\n", adopted, adopted == 1 ? "" : "s", name);
    if (is_default)
        printf("hop now answers only on its domains: any other Host is a 404\n");
    printf("point its DNS (A/AAAA) at this server; Caddy gets its certificate on the first visit\n");
    return 0;
}

static int list(void)
{
    struct arena *a = arena_new(4096);
    struct domain *d;
    size_t n;
    int rc = db_domains_list(a, &d, &n);
    if (rc != DB_OK) {
        arena_free(a);
        return db_failure(rc);
    }
    const struct served_domain *def = NULL;
    domains_lookup(NULL, &def);
    printf("%-32s %-8s %-8s %-30s %s\n", "DOMAIN", "DEFAULT", "LINKS", "ROOT REDIRECT", "NOT-FOUND REDIRECT");
    for (size_t i = 0; i < n; i++)
        printf("%-32s %-8s %-8lld %-30s %s\n", d[i].name, def && def->id == d[i].id ? "yes" : "", d[i].links,
               d[i].root_redirect ? d[i].root_redirect : "-",
               d[i].not_found_redirect ? d[i].not_found_redirect : "-");
    if (n == 0)
        printf("(none: hop answers on any host name, in one namespace)\n");
    arena_free(a);
    return 0;
}

static long long links_on(struct arena *a, const char *name, bool *exists)
{
    struct domain *d;
    size_t n;
    *exists = false;
    if (db_domains_list(a, &d, &n) != DB_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].name, name) == 0) {
            *exists = true;
            return d[i].links;
        }
    }
    return 0;
}

static int remove_domain(int argc, char **argv)
{
    char buf[DOMAIN_NAME_MAX + 2];
    bool with_links = argc == 2 && strcmp(argv[1], "--with-links") == 0;
    if (argc < 1 || argc > 2 || (argc == 2 && !with_links)) {
        fputs(domains_usage, stderr);
        return 2;
    }
    const char *name = domain_name(argv[0], buf);
    if (!name)
        return 2;
    struct arena *a = arena_new(4096);
    bool exists;
    long long used = links_on(a, name, &exists);
    long long deleted = 0;
    const char *new_default = NULL;
    int rc = exists && (with_links || used == 0)
                 ? db_domain_remove(a, name, with_links, &deleted, &new_default)
                 : DB_NOT_FOUND;
    int status = 0;
    if (!exists) {
        fprintf(stderr, "hop: %s is not a domain (see hop domains list)\n", name);
        status = 1;
    } else if (rc == DB_NOT_FOUND) {
        fprintf(stderr, "hop: %lld %s %s; remove them first, or add --with-links to delete them too\n", used,
                used == 1 ? "link uses" : "links use", name);
        status = 1;
    } else if (rc != DB_OK) {
        status = db_failure(rc);
    } else {
        printf("removed %s", name);
        if (with_links)
            printf(" and its %lld link%s", deleted, deleted == 1 ? "" : "s");
        printf("\n");
        if (new_default)
            printf("%s is now the default domain\n", new_default);
    }
    arena_free(a);
    return status;
}

int domains_command(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return add(argc - 1, argv + 1);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return list();
    if (argc >= 1 && strcmp(argv[0], "remove") == 0)
        return remove_domain(argc - 1, argv + 1);
    fputs(domains_usage, stderr);
    return 2;
}
