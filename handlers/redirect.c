/* GET/HEAD /{slug}: the route real traffic hits. A cache hit costs no database round trip and no
 * allocation outside the request arena; the visit goes to shared memory, not to PostgreSQL. */
#include "app.h"

#include "cache.h"
#include "config.h"
#include "db_links.h"
#include "handler.h"
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

void redirect_get(struct req *r, struct resp *w)
{
    const char *slug = req_route(r, "slug");
    size_t len = strlen(slug);
    resp_header(w, "Cache-Control", "private, max-age=0");
    const struct link *l = NULL;
    enum cache_result found = CACHE_NOT_FOUND;
    if (validate_slug_chars(slug, len) && validate_slug_unreserved(slug, len))
        found = cache_lookup(slug, &l);
    if (found == CACHE_NOT_FOUND) {
        resp_problem(w, 404, "no link has this slug");
        return;
    }
    if (found == CACHE_UNAVAILABLE) {
        handler_unavailable(w);
        return;
    }
    if (l->disabled) {
        resp_problem(w, 410, "this link has been disabled by its owner");
        return;
    }
    if (l->expires_epoch && l->expires_epoch <= (long long)time(NULL)) {
        resp_problem(w, 410, "this link has expired");
        return;
    }
    if (!config_get()->no_visits) {
        char host[VISITS_HOST_MAX + 1];
        size_t hlen = referrer_host(req_env(r, "HTTP_REFERER"), host, sizeof(host));
        visits_add(l->id, host, hlen);
    }
    resp_redirect(w, l->redirect, l->url);
}
