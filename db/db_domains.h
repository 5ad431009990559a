/* Typed queries on the short domains hop serves. */
#ifndef HOP_DB_DOMAINS_H
#define HOP_DB_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

struct domain {
    long long id;
    const char *name; /* A-label, lower case */
    bool is_default;
    const char *root_redirect;      /* where GET / goes, or NULL */
    const char *not_found_redirect; /* where an unknown slug goes, or NULL */
    long long links;                /* links on it */
};

/* Every domain, by name; strings in a. */
int db_domains_list(struct arena *a, struct domain **out, size_t *n);
/* Adds a domain (the first becomes the default and adopts the links made while there was none: *adopted
 * says how many). DB_CONFLICT when it exists. */
int db_domain_add(const char *name, const char *root_redirect, const char *not_found_redirect,
                  bool *is_default, long long *adopted);
/* Removes a domain; with_links also deletes its links (*deleted says how many). DB_NOT_FOUND when there is
 * no such domain or links still use it without with_links. When the default goes, the oldest domain left
 * becomes the default (*new_default names it in a, or NULL). */
int db_domain_remove(struct arena *a, const char *name, bool with_links, long long *deleted,
                     const char **new_default);
/* Subscribes the connection to domain changes (after every reconnect). */
int db_domains_listen(void);

#endif
