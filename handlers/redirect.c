/* GET/HEAD/POST /{slug}: the route real traffic hits. A cache hit on a plain link costs no database round
 * trip and no allocation outside the request arena; the visit goes to shared memory, not to PostgreSQL.
 * A link with a visit limit asks PostgreSQL for each visit, the one way to be exact across hosts. */
#include "app.h"

#include "arena.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "db_links.h"
#include "domains.h"
#include "guard.h"
#include "handler.h"
#include "page.h"
#include "password.h"
#include "req.h"
#include "resp.h"
#include "validate.h"
#include "visitor.h"
#include "visits.h"

#include <string.h>
#include <time.h>

enum { TARGET_MAX = 8192, FORM_BODY_MAX = 4096 };

/* The User-Agent's platform picks the app-store target; everything else follows url. */
static const char *target_for(const struct req *r, const struct link *l)
{
    const char *ua = req_env(r, "HTTP_USER_AGENT");
    if (!ua)
        return l->url;
    if (l->ios_url && (strstr(ua, "iPhone") || strstr(ua, "iPad") || strstr(ua, "iPod")))
        return l->ios_url;
    if (l->android_url && strstr(ua, "Android"))
        return l->android_url;
    return l->url;
}

/* target with the visitor's query appended after its own parameters and before its fragment, nothing
 * decoded or re-encoded; NULL when the result would pass TARGET_MAX. */
static const char *with_query(struct req *r, const char *target)
{
    const char *q = r->query;
    if (!q || !*q)
        return target;
    size_t frag = strcspn(target, "#");
    size_t len = frag + 1 + strlen(q) + strlen(target + frag);
    if (len > TARGET_MAX)
        return NULL;
    const char *sep = memchr(target, '?', frag) ? (frag > 0 && target[frag - 1] == '?' ? "" : "&") : "?";
    return arena_printf(r->arena, "%.*s%s%s%s", (int)frag, target, sep, q, target + frag);
}

/* Answers other than the HTML pages (which say no-store themselves) may be kept by no shared cache: a link
 * can change at any time. Set per answer, never twice, since a client reads the first Cache-Control. */
static void private_answer(struct resp *w)
{
    resp_header(w, "Cache-Control", "private, max-age=0");
}

/* A link that answers no more: where its owner sends people instead (302, no visit), or a 410. */
static void gone(struct req *r, struct resp *w, const struct link *l, const char *sentence)
{
    if (l->expired_url) {
        private_answer(w);
        resp_header(w, "X-Robots-Tag", "noindex");
        resp_redirect(w, 302, l->expired_url);
        return;
    }
    page_or_problem(r, w, 410, sentence);
}

/* Why the link answers no more, or NULL while it is live (the visit limit is PostgreSQL's to say). */
static const char *why_gone(const struct link *l)
{
    if (l->disabled)
        return "this link has been disabled by its owner";
    if (l->expires_epoch && l->expires_epoch <= clock_wall_s())
        return "this link has expired";
    return NULL;
}

/* The redirect itself, once the visitor may follow the link: the visit limit, the target, the count. */
static void follow(struct req *r, struct resp *w, const struct link *l, int status)
{
    /* max_visits counts humans only: a bot (HEAD included: a preview, a checker) never uses a visit up */
    bool head = strcmp(r->method, "HEAD") == 0;
    bool counting = !config_get()->no_visits;
    struct visit v = {0};
    if (counting || l->max_visits)
        visitor_describe(r, head, &v);
    if (l->max_visits) {
        int rc = v.bot ? db_link_has_visits_left(l->id) : db_link_claim(l->id);
        /* while PostgreSQL is away, a link it last said was used up stays so; any other limited link waits
         * (503): a visit cannot be claimed without the one count every host shares */
        if (rc == DB_NOT_FOUND || (rc != DB_OK && cache_used_up())) {
            if (rc == DB_NOT_FOUND)
                cache_note_used_up();
            gone(r, w, l, "this link has been visited as many times as its owner allowed");
            return;
        }
        if (rc != DB_OK) {
            private_answer(w);
            handler_unavailable(w);
            return;
        }
    }
    const char *target = target_for(r, l);
    if (l->forward_query && !(target = with_query(r, target))) {
        page_or_problem(r, w, 414, "the link's address with this query would be longer than 8 KiB");
        return;
    }
    if (counting)
        visits_add(l->id, &v);
    private_answer(w);
    resp_header(w, "X-Robots-Tag", "noindex");
    resp_redirect(w, status, target);
    cache_count_redirect();
}

/* The domain the request's Host names (NULL with DOMAINS_NONE), or NULL answered: an unknown Host is a
 * 404 that costs no query. */
static bool host_domain(struct req *r, struct resp *w, const struct served_domain **d)
{
    switch (domains_for_host(req_env(r, "HTTP_HOST"), d)) {
    case DOMAINS_FOUND:
    case DOMAINS_NONE:
        return true;
    case DOMAINS_UNAVAILABLE:
        private_answer(w);
        handler_unavailable(w);
        return false;
    case DOMAINS_UNKNOWN:
        break;
    }
    page_or_problem(r, w, 404, "this address is not one of this service's domains");
    return false;
}

/* The link named by the route on the request's domain, answered 404/503 when there is none to serve (NULL
 * then). */
static const struct link *route_link(struct req *r, struct resp *w)
{
    const char *slug = req_route(r, "slug");
    size_t len = strlen(slug);
    const struct served_domain *d;
    if (!host_domain(r, w, &d))
        return NULL;
    const struct link *l = NULL;
    enum cache_result found = CACHE_NOT_FOUND;
    if (validate_slug_chars(slug, len) && validate_slug_unreserved(slug, len))
        found = cache_lookup(d ? d->id : 0, slug, &l);
    if (found == CACHE_UNAVAILABLE) {
        private_answer(w);
        handler_unavailable(w);
        return NULL;
    }
    if (found == CACHE_FOUND)
        return l;
    if (d && d->not_found_redirect) {
        private_answer(w);
        resp_header(w, "X-Robots-Tag", "noindex");
        resp_redirect(w, 302, d->not_found_redirect);
    } else {
        page_or_problem(r, w, 404, "no link has this slug");
    }
    return NULL;
}

void root_get(struct req *r, struct resp *w)
{
    const struct served_domain *d;
    if (!host_domain(r, w, &d))
        return;
    if (d && d->root_redirect) {
        private_answer(w);
        resp_header(w, "X-Robots-Tag", "noindex");
        resp_redirect(w, 302, d->root_redirect);
        return;
    }
    page_or_problem(r, w, 404, "there is nothing at this path");
}

/* The route's link while it still answers, else NULL with its 404/410/503 (or its expired_url) answered. */
static const struct link *live_link(struct req *r, struct resp *w)
{
    const struct link *l = route_link(r, w);
    if (!l)
        return NULL;
    const char *why = why_gone(l);
    if (why) {
        gone(r, w, l, why);
        return NULL;
    }
    return l;
}

void redirect_get(struct req *r, struct resp *w)
{
    const struct link *l = live_link(r, w);
    if (!l)
        return;
    if (l->password_hash) {
        page_password_form(r, w, 200, l->slug, NULL);
        return;
    }
    follow(r, w, l, l->redirect);
}

/* The form's password field, decoded; NULL when the body has none or it cannot be a password. */
static const char *form_password(struct req *r)
{
    const char *p = r->body;
    const char *end = r->body + r->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
        if (n > 9 && memcmp(p, "password=", 9) == 0) {
            char *out = arena_alloc(r->arena, n - 9 + 1);
            ssize_t len = req_decode(p + 9, n - 9, out, true);
            return len < 0 ? NULL : out;
        }
        p += n + 1;
    }
    return NULL;
}

/* POST /{slug}: the password form's answer. A right password follows the link with 303 (a form post must
 * not be repeated to the target, which 307/308 would do); a wrong one shows the form again with 401. */
void redirect_post(struct req *r, struct resp *w)
{
    const struct link *l = live_link(r, w);
    if (!l)
        return;
    if (!l->password_hash) {
        private_answer(w);
        resp_header(w, "Allow", "GET, HEAD");
        resp_problem(w, 405, "this link has no password: follow it with GET");
        return;
    }
    const char *client = req_env(r, "REMOTE_ADDR");
    int retry = 0;
    if (!guard_allows(l->id, client, &retry)) {
        resp_header(w, "Retry-After", arena_printf(r->arena, "%d", retry));
        page_or_problem(r, w, 429,
                        "too many wrong passwords for this link from your address; try again later");
        return;
    }
    const char *detail = NULL;
    int status = req_read_body(r, &detail);
    if (!status && r->body_len > FORM_BODY_MAX) {
        status = 413;
        detail = "the form's body must be at most 4096 bytes";
    }
    if (!status && !req_content_type_is(r, "application/x-www-form-urlencoded")) {
        status = 415;
        detail = "the form must be sent as application/x-www-form-urlencoded";
    }
    if (status) {
        page_or_problem(r, w, status, detail);
        return;
    }
    const char *password = form_password(r);
    if (password && !guard_check_begin(client)) {
        /* this address has a check under way: a second would hold another worker for nothing */
        resp_header(w, "Retry-After", "1");
        page_or_problem(r, w, 429, "a password from your address is being checked; try again in a moment");
        return;
    }
    bool right = password && password_matches(l->password_hash, password, strlen(password));
    if (password)
        guard_check_end(client);
    if (!right) {
        guard_failed(l->id, client);
        /* HTTP requires a challenge with every 401; a scheme no browser knows opens no login dialog */
        resp_header(w, "WWW-Authenticate", "Form realm=\"short link\"");
        if (page_wanted(r)) {
            page_password_form(r, w, 401, l->slug, "That password is not right. Please try again.");
            return;
        }
        private_answer(w);
        resp_problem(w, 401, "the password is not right");
        return;
    }
    follow(r, w, l, 303);
}

void robots_get(struct req *r, struct resp *w)
{
    (void)r;
    static const char text[] =
        "# Short links are not pages: do not index them.\nUser-agent: *\nDisallow: /\n";
    resp_header(w, "Cache-Control", "public, max-age=86400");
    resp_body(w, 200, "text/plain; charset=utf-8", text, sizeof(text) - 1);
}
