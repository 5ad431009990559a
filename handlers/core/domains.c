/* The worker's list of domains; see domains.h. The list is short (one entry per brand), so a linear scan
 * is as fast as anything cleverer. */
#include "domains.h"

#include "arena.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "db_domains.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { MAX_AGE_MS = 60 * 1000 };

static struct arena *held;         /* the list's strings */
static struct served_domain *list; /* NULL until read once */
static size_t count;
static long long read_ms;
static bool stale = true;

void domains_invalidate(void)
{
    stale = true;
}

/* The list as bytes in the host's link table, so that a worker started while PostgreSQL is away still
 * knows the domains (the last list any worker read): per domain its id, default flag and three strings, each
 * NUL-terminated, a NULL one as a lone 0x01 byte (no name or address holds that byte). */
enum { SHARED_MAX = 64 * 1024 };
static const char shared_name[] = "domains";

static size_t put_text(char *out, size_t at, const char *s)
{
    const char *v = s ? s : "\x01";
    size_t n = strlen(v) + 1;
    if (at + n > SHARED_MAX)
        return SHARED_MAX + 1;
    memcpy(out + at, v, n);
    return at + n;
}

static void share(const struct domain *d, size_t n)
{
    static char buf[SHARED_MAX];
    size_t at = 0;
    for (size_t i = 0; i < n && at + 9 <= SHARED_MAX; i++) {
        memcpy(buf + at, &d[i].id, 8);
        buf[at + 8] = d[i].is_default;
        at = put_text(buf, at + 9, d[i].name);
        at = put_text(buf, at, d[i].root_redirect);
        at = put_text(buf, at, d[i].not_found_redirect);
    }
    if (at <= SHARED_MAX)
        cache_blob_put(shared_name, buf, at);
}

/* The string at *at (moved past it), NULL for the NULL mark; past len, *at goes past len too. */
static const char *take_text(struct arena *a, const char *buf, size_t len, size_t *at)
{
    if (*at >= len) {
        *at = len + 1;
        return NULL;
    }
    const char *s = buf + *at;
    size_t n = strnlen(s, len - *at);
    *at += n + 1;
    return strcmp(s, "\x01") == 0 ? NULL : arena_strndup(a, s, n);
}

/* The shared copy into d (in a): false when there is none. */
static bool shared_copy(struct arena *a, struct domain **d, size_t *n)
{
    char *buf = arena_alloc(a, SHARED_MAX);
    size_t len;
    if (!cache_blob_get(shared_name, buf, SHARED_MAX, &len) || (len && buf[len - 1] != '\0'))
        return false;
    size_t cap = len / 12 + 1;
    *d = arena_zalloc(a, cap * sizeof(**d));
    *n = 0;
    for (size_t at = 0; at + 9 < len && *n < cap; (*n)++) {
        struct domain *x = &(*d)[*n];
        memcpy(&x->id, buf + at, 8);
        x->is_default = buf[at + 8];
        at += 9;
        x->name = take_text(a, buf, len, &at);
        x->root_redirect = take_text(a, buf, len, &at);
        x->not_found_redirect = take_text(a, buf, len, &at);
        if (!x->name || at > len)
            return false;
    }
    return true;
}

/* Reads the list again; on failure the previous one (if any) stays in use, and a worker that has none takes
 * the host's shared copy. */
static void reload(void)
{
    struct arena *a = arena_new(4096);
    struct domain *d;
    size_t n;
    int rc = db_domains_list(a, &d, &n);
    if (rc == DB_OK)
        share(d, n);
    if (rc != DB_OK && (list || !shared_copy(a, &d, &n))) {
        arena_free(a);
        return;
    }
    struct served_domain *fresh = arena_alloc(a, (n ? n : 1) * sizeof(*fresh));
    for (size_t i = 0; i < n; i++) {
        fresh[i] = (struct served_domain){.id = d[i].id,
                                          .name = d[i].name,
                                          .root_redirect = d[i].root_redirect,
                                          .not_found_redirect = d[i].not_found_redirect,
                                          .is_default = d[i].is_default};
    }
    if (held)
        arena_free(held);
    held = a;
    list = fresh;
    count = n;
    read_ms = clock_coarse_ms();
    stale = false;
}

/* The list, read again when it must be: NULL when it could never be read. */
static const struct served_domain *current(void)
{
    if (stale || !list || clock_coarse_ms() - read_ms > MAX_AGE_MS)
        reload();
    return list;
}

static const struct served_domain *named(const char *name, size_t len)
{
    for (size_t i = 0; i < count; i++) {
        if (strlen(list[i].name) == len && strncasecmp(list[i].name, name, len) == 0)
            return &list[i];
    }
    return NULL;
}

static enum domains_result result(const struct served_domain *d, const struct served_domain **out)
{
    *out = d;
    return d ? DOMAINS_FOUND : DOMAINS_UNKNOWN;
}

enum domains_result domains_for_host(const char *host, const struct served_domain **out)
{
    *out = NULL;
    if (!current())
        return DOMAINS_UNAVAILABLE;
    if (count == 0)
        return DOMAINS_NONE;
    if (!host || host[0] == '[')
        return DOMAINS_UNKNOWN;
    size_t len = strcspn(host, ":");
    if (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 0 || len > DOMAIN_NAME_MAX)
        return DOMAINS_UNKNOWN;
    return result(named(host, len), out);
}

/* HOP_BASE_URL's host, when it is one of the domains. */
static const struct served_domain *base_domain(void)
{
    const char *base = config_get()->base_url;
    const char *host = base ? strstr(base, "://") : NULL;
    if (!host)
        return NULL;
    host += 3;
    return named(host, strcspn(host, ":/"));
}

const struct served_domain *domains_all(size_t *n)
{
    *n = current() ? count : 0;
    return *n ? list : NULL;
}

enum domains_result domains_lookup(const char *name, const struct served_domain **out)
{
    *out = NULL;
    if (!current())
        return DOMAINS_UNAVAILABLE;
    if (name)
        return count ? result(named(name, strlen(name)), out) : DOMAINS_UNKNOWN;
    if (count == 0)
        return DOMAINS_NONE;
    const struct served_domain *d = base_domain();
    for (size_t i = 0; !d && i < count; i++) {
        if (list[i].is_default)
            d = &list[i];
    }
    /* a list with no default cannot last (removing it names another); until then, the first */
    return result(d ? d : &list[0], out);
}

/* A URL parser (WHATWG's, every browser's) reads a host whose last label is a decimal or 0x-hex number as
 * an IPv4 address: "1.2.3.4", but also "a.0x7f" and "10.1". */
static bool last_label_numeric(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *label = dot ? dot + 1 : name;
    if (strncmp(label, "0x", 2) == 0)
        return strspn(label + 2, "0123456789abcdef") == strlen(label + 2);
    return strspn(label, "0123456789") == strlen(label);
}

const char *domains_check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > DOMAIN_NAME_MAX)
        return "a domain name must be 1 to 253 characters";
    if (name[n - 1] == '.')
        return "a domain name must not end with a dot";
    if (name[0] == '[')
        return "a domain name must not be an IP address";
    if (strchr(name, ':'))
        return "a domain name must not carry a port";
    for (size_t i = 0; i < n; i++) {
        if (name[i] >= 'A' && name[i] <= 'Z')
            return "a domain name must be in lower case";
    }
    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
        return "a domain name may only hold a-z 0-9 . - (international names in their xn-- A-label form)";
    if (last_label_numeric(name))
        return "a domain name must not be an IP address (its last label must not be a number)";
    /* the URL rules decide the rest (labels, IP literals): the same checks as a link's host */
    char url[DOMAIN_NAME_MAX + 16];
    snprintf(url, sizeof(url), "https://%s/", name);
    if (validate_url(url, strlen(url), NULL))
        return "a domain name must be a host name of labels of letters, digits and hyphens";
    return NULL;
}
