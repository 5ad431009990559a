/* The short domains hop serves, as every worker keeps them: read from PostgreSQL when first needed, again
 * after every change (NOTIFY hop_domains, applied by cache_sync) or reconnect, and at least once a minute,
 * so that a request's Host is matched without a query. While no domain exists, hop answers on any Host in
 * one namespace (domain id 0), as a single-domain install always has. */
#ifndef HOP_DOMAINS_H
#define HOP_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>

struct served_domain {
    long long id;
    const char *name;
    const char *root_redirect;      /* or NULL */
    const char *not_found_redirect; /* or NULL */
    bool is_default;
};

enum domains_result {
    DOMAINS_FOUND,       /* *out is the domain */
    DOMAINS_NONE,        /* hop has no domains: everything is in namespace 0, *out is NULL */
    DOMAINS_UNKNOWN,     /* hop has domains and this is none of them */
    DOMAINS_UNAVAILABLE, /* the list could never be read */
};

enum { DOMAIN_NAME_MAX = 253 };

/* The domain a Host header names (any case, port and one trailing dot ignored). */
enum domains_result domains_for_host(const char *host, const struct served_domain **out);
/* The domain named name (exactly, lower case), or the default one when name is NULL: HOP_BASE_URL's host
 * when it is a domain, else the one flagged default (the first added). */
enum domains_result domains_lookup(const char *name, const struct served_domain **out);
/* Every domain (read again when it must be), *n of them; NULL with *n 0 when there are none or the list
 * could never be read. Valid until the next domains_ call. */
const struct served_domain *domains_all(size_t *n);
/* The list must be read again before its next use. */
void domains_invalidate(void);
/* NULL when name is a usable domain name (an A-label host name, lower case, no port, no IP literal, no
 * trailing dot, a last label that is no number: browsers read "a.0x7f" as an IPv4 address), else a static
 * sentence saying why not. */
const char *domains_check_name(const char *name);

#endif
