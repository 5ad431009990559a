/* GET/HEAD /{slug}: the route real traffic hits. A cache hit costs no database round trip and no
 * allocation outside the request arena; the visit goes to shared memory, not to PostgreSQL. */
#include "app.h"

#include "cache.h"
#include "clock.h"
#include "db.h"
#include "hooks.h"
#include "links.h"
#include "req.h"
#include "resp.h"
#include "validate.h"
#include "visits.h"

#include <string.h>
#include <time.h>
#include <uriparser/Uri.h>

/* The Referer's host in lower case without its port; empty when there is none or it does not parse. */
static size_t referrer_host(const char *ref, char *out, size_t cap)
{
    if (!ref || !*ref)
        return 0;
    UriUriA uri;
    const char *err = NULL;
    size_t n = 0;
    if (uriParseSingleUriA(&uri, ref, &err) != URI_SUCCESS)
        return 0;
    if (uri.hostText.first && uri.hostText.afterLast > uri.hostText.first) {
        size_t len = (size_t)(uri.hostText.afterLast - uri.hostText.first);
        for (; n < len && n + 1 < cap; n++) {
            char c = uri.hostText.first[n];
            out[n] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
    }
    uriFreeUriMembersA(&uri);
    out[n] = '\0';
    return n;
}

static void gone(struct resp *w, const char *detail)
{
    resp_problem(w, 410, detail);
}

void redirect_get(struct req *r, struct resp *w)
{
    const char *slug = req_route(r, "slug");
    size_t len = strlen(slug);
    resp_header(w, "Cache-Control", "private, max-age=0");
    if (!validate_slug_chars(slug, len) || validate_slug_reserved(slug, len)) {
        resp_problem(w, 404, "no link has this slug");
        return;
    }
    hooks_sync();
    const struct cached_link *e = cache_find(slug);
    long long now = clock_coarse_ms();
    if (!e || now - e->fetched_ms > CACHE_FRESH_MS) {
        struct link l;
        int rc = db_link_find(r->arena, slug, &l);
        if (rc == DB_OK) {
            cache_store(l.id, slug, l.url, l.redirect, l.expires_epoch, l.disabled);
            e = cache_find(slug);
        } else if (rc == DB_NOT_FOUND) {
            cache_forget(slug);
            resp_problem(w, 404, "no link has this slug");
            return;
        } else if (!e || now - e->fetched_ms > CACHE_STALE_MS) {
            /* a link we saw lately keeps working while the database is away; others cannot */
            resp_header(w, "Retry-After", "1");
            resp_problem(w, 503, "the database cannot be reached; try again shortly");
            return;
        }
    }
    if (!e) {
        resp_problem(w, 500, "the link could not be cached");
        return;
    }
    if (e->disabled) {
        gone(w, "this link has been disabled by its owner");
        return;
    }
    if (e->expires_epoch && e->expires_epoch <= (long long)time(NULL)) {
        gone(w, "this link has expired");
        return;
    }
    if (!app_cfg.no_visits) {
        char host[VISITS_HOST_MAX + 1];
        size_t hlen = referrer_host(req_env(r, "HTTP_REFERER"), host, sizeof(host));
        visits_add(e->id, host, hlen);
    }
    resp_redirect(w, e->redirect, e->url);
}
