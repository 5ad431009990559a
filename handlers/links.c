/* The /api/links resource: create, list, get, patch, delete and stats, each for the key's owner only:
 * another owner's link answers exactly like one that does not exist. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "input.h"
#include "password.h"
#include "db_links.h"
#include "domains.h"
#include "handler.h"
#include "hex.h"
#include "qr.h"
#include "req.h"
#include "resp.h"
#include "search.h"
#include "validate.h"

#include <json-c/json.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLUG_TRIES = 8 };

static struct json_object *opt_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *link_json(struct req *r, const struct link *l)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "slug", json_object_new_string(l->slug));
    json_object_object_add(o, "url", json_object_new_string(l->url));
    json_object_object_add(o, "domain", opt_string(l->domain));
    const char *base = app_domain_base_url(r, l->domain);
    json_object_object_add(o, "short_url",
                           json_object_new_string(arena_printf(r->arena, "%s/%s", base, l->slug)));
    json_object_object_add(o, "redirect", json_object_new_int(l->redirect));
    json_object_object_add(o, "created_at", json_object_new_string(l->created_at));
    json_object_object_add(o, "expires_at", opt_string(l->expires_at));
    json_object_object_add(o, "disabled", json_object_new_boolean(l->disabled));
    json_object_object_add(o, "visits", json_object_new_int64(l->visits));
    json_object_object_add(o, "bot_visits", json_object_new_int64(l->bot_visits));
    json_object_object_add(o, "imported_visits", json_object_new_int64(l->imported_visits));
    json_object_object_add(o, "password_protected", json_object_new_boolean(l->password_hash != NULL));
    json_object_object_add(o, "max_visits", l->max_visits ? json_object_new_int64(l->max_visits) : NULL);
    long long left = l->max_visits - l->visits_used;
    json_object_object_add(o, "visits_left",
                           l->max_visits ? json_object_new_int64(left > 0 ? left : 0) : NULL);
    json_object_object_add(o, "forward_query", json_object_new_boolean(l->forward_query));
    struct json_object *targets = json_object_new_object();
    if (l->ios_url)
        json_object_object_add(targets, "ios", json_object_new_string(l->ios_url));
    if (l->android_url)
        json_object_object_add(targets, "android", json_object_new_string(l->android_url));
    json_object_object_add(o, "targets", targets);
    struct json_object *tags = json_object_new_array();
    for (size_t i = 0; i < l->ntags; i++)
        json_object_array_add(tags, json_object_new_string(l->tags[i]));
    json_object_object_add(o, "tags", tags);
    json_object_object_add(o, "title", opt_string(l->title));
    json_object_object_add(o, "expired_url", opt_string(l->expired_url));
    return handler_own(r, o);
}

/* The same answer for bulk.c's results. */
struct json_object *links_json(struct req *r, const struct link *l)
{
    return link_json(r, l);
}

/* The sentence for a domain name that is none of the service's, naming it when it is printable ASCII (every
 * domain name is; anything else could be invalid UTF-8), cut short if it is long. */
static const char *unknown_domain(struct req *r, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < 0x21 || name[i] > 0x7e)
            n = 0;
    }
    if (n == 0)
        return "domain is not one of this service's domains (GET /api/domains)";
    return arena_printf(r->arena,
                        "domain \"%.64s%s\" is not one of this service's domains (GET /api/domains)", name,
                        n > 64 ? "..." : "");
}

/* The domain named by ?domain= (absent: the default), as its id in *id (0: hop has none): 0, or -1 answered
 * (400 naming domain, 503). */
static int query_domain(struct req *r, struct resp *w, long long *id)
{
    const char *name = NULL;
    if (req_query(r, "domain", &name) < 0) {
        handler_param_error(w, "domain", "domain must be given once");
        return -1;
    }
    const struct served_domain *d;
    switch (domains_lookup(name, &d)) {
    case DOMAINS_FOUND:
        *id = d->id;
        return 0;
    case DOMAINS_NONE:
        *id = 0;
        return 0;
    case DOMAINS_UNAVAILABLE:
        handler_unavailable(w);
        return -1;
    case DOMAINS_UNKNOWN:
        break;
    }
    handler_param_error(w, "domain", unknown_domain(r, name));
    return -1;
}

/* The body's domain (or the default) as in->domain_id: 0, or -1 answered (422 naming domain, 503). */
static int body_domain(struct req *r, struct resp *w, struct link_fields *in)
{
    const struct served_domain *d;
    enum domains_result found = domains_lookup(in->domain, &d);
    if (found == DOMAINS_UNAVAILABLE) {
        handler_unavailable(w);
        return -1;
    }
    if (found == DOMAINS_UNKNOWN) {
        struct json_object *errors = handler_own(r, json_object_new_array());
        handler_field_error(errors, "domain", unknown_domain(r, in->domain));
        handler_invalid(w, errors);
        return -1;
    }
    in->domain_id = d ? d->id : 0;
    return 0;
}

/* The body as typed link fields: 0, or -1 with the 413/415/400/422 answered. */
static int link_body(struct req *r, struct resp *w, enum input_kind kind, struct link_fields *in)
{
    struct json_object *body = handler_json_body(r, w);
    if (!body)
        return -1;
    struct json_object *errors = handler_own(r, json_object_new_array());
    if (input_link(r->arena, body, kind, app_self_bases(r), in, errors) < 0) {
        handler_invalid(w, errors);
        return -1;
    }
    if (in->password) {
        /* hashed only once every field has passed: a bad body costs no hashing */
        char *hash = arena_alloc(r->arena, PASSWORD_HASH_MAX);
        if (password_hash(in->password, hash) < 0) {
            resp_header(w, "Retry-After", "1");
            resp_problem(w, 503, "the password could not be hashed now; try again shortly");
            return -1;
        }
        in->password_hash = hash;
    }
    return 0;
}

void links_create(struct req *r, struct resp *w)
{
    struct link_fields in;
    if (link_body(r, w, INPUT_CREATE, &in) < 0)
        return;
    if (body_domain(r, w, &in) < 0)
        return;
    struct link l;
    int rc = DB_CONFLICT;
    if (in.reuse) {
        rc = db_link_reuse(r->arena, auth_owner(r), in.domain_id, in.url, in.slug, &l);
        if (rc == DB_OK) {
            handler_json(w, 200, link_json(r, &l));
            return;
        }
        if (handler_db_failed(w, rc) < 0)
            return;
        rc = DB_CONFLICT;
    }
    bool generated = !in.slug;
    char slug[8];
    /* a generated slug that is taken is simply drawn again */
    for (int i = 0; i < (generated ? SLUG_TRIES : 1) && rc == DB_CONFLICT; i++) {
        if (generated) {
            input_random_slug(slug);
            in.slug = slug;
        }
        rc = db_link_create(r->arena, auth_owner(r), &in, &l);
    }
    if (handler_db_failed(w, rc) < 0)
        return;
    if (rc == DB_CONFLICT && generated) {
        resp_header(w, "Retry-After", "1");
        resp_problem(w, 503, "no free slug was found; try again");
        return;
    }
    if (rc == DB_CONFLICT) {
        resp_problem(w, 409, "this slug is already taken");
        return;
    }
    resp_header(w, "Location", arena_printf(r->arena, "/api/links/%s", l.slug));
    handler_json(w, 201, link_json(r, &l));
}

void links_list(struct req *r, struct resp *w)
{
    int limit;
    if (handler_int_param(r, w, "limit", 1, 200, 50, &limit) < 0)
        return;
    const char *c;
    long long before = 0;
    int found = req_query(r, "cursor", &c);
    if (found < 0 || (found > 0 && cursor_decode(c, &before) < 0)) {
        handler_param_error(w, "cursor", "cursor must be given once, exactly as a previous next_cursor");
        return;
    }
    struct link_filter f;
    if (search_filter(r, w, &f) < 0)
        return;
    struct link *links;
    size_t n;
    /* one more than asked tells whether there is a next page */
    int rc = db_link_list(r->arena, auth_owner(r), &f, before, limit + 1, &links, &n);
    if (handler_db_failed(w, rc) < 0)
        return;
    struct json_object *o = handler_own(r, json_object_new_object()), *arr = json_object_new_array();
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    for (size_t i = 0; i < shown; i++)
        json_object_array_add(arr, json_object_get(link_json(r, &links[i])));
    json_object_object_add(o, "links", arr);
    char next[CURSOR_MAX];
    if (n > (size_t)limit)
        cursor_encode(links[shown - 1].id, next);
    json_object_object_add(o, "next_cursor", n > (size_t)limit ? json_object_new_string(next) : NULL);
    handler_json(w, 200, o);
}

/* The owner's link named by the route, or an answered 404/5xx (returns -1). */
static int owned_link(struct req *r, struct resp *w, struct link *l)
{
    const char *slug = handler_route_slug(r, w);
    long long domain_id;
    if (!slug || query_domain(r, w, &domain_id) < 0)
        return -1;
    int rc = db_link_get(r->arena, domain_id, slug, auth_owner(r), l);
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return -1;
    }
    return handler_db_failed(w, rc) < 0 ? -1 : 0;
}

void links_get(struct req *r, struct resp *w)
{
    struct link l;
    if (owned_link(r, w, &l) < 0)
        return;
    handler_json(w, 200, link_json(r, &l));
}

void links_patch(struct req *r, struct resp *w)
{
    struct link l;
    struct link_fields in;
    if (owned_link(r, w, &l) < 0 || link_body(r, w, INPUT_PATCH, &in) < 0)
        return;
    in.domain_id = l.domain_id;
    int rc = db_link_update(r->arena, l.slug, auth_owner(r), &in, &l);
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return;
    }
    if (handler_db_failed(w, rc) < 0)
        return;
    handler_json(w, 200, link_json(r, &l));
}

void links_delete(struct req *r, struct resp *w)
{
    const char *slug = handler_route_slug(r, w);
    long long domain_id;
    if (!slug || query_domain(r, w, &domain_id) < 0)
        return;
    int rc = db_link_delete(domain_id, slug, auth_owner(r));
    if (rc == DB_NOT_FOUND) {
        resp_problem(w, 404, "you have no link with this slug");
        return;
    }
    if (handler_db_failed(w, rc) < 0)
        return;
    resp_body(w, 204, NULL, NULL, 0);
}

void links_stats(struct req *r, struct resp *w)
{
    struct link l;
    if (owned_link(r, w, &l) < 0)
        return;
    stats_link(r, w, &l);
}

/* ?format=svg|png (default svg); 0, or -1 with a 400 naming format answered. */
static int qr_format_param(struct req *r, struct resp *w, enum qr_format *f)
{
    const char *v;
    int found = req_query(r, "format", &v);
    *f = QR_SVG;
    if (found == 0 || (found == 1 && strcmp(v, "svg") == 0))
        return 0;
    if (found == 1 && strcmp(v, "png") == 0) {
        *f = QR_PNG;
        return 0;
    }
    handler_param_error(w, "format", "format must be given once, as svg or png");
    return -1;
}

void links_qr(struct req *r, struct resp *w)
{
    struct link l;
    enum qr_format format;
    int scale, margin;
    if (owned_link(r, w, &l) < 0 || qr_format_param(r, w, &format) < 0 ||
        handler_int_param(r, w, "size", QR_SCALE_MIN, QR_SCALE_MAX, QR_SCALE_DEF, &scale) < 0 ||
        handler_int_param(r, w, "margin", 0, QR_MARGIN_MAX, QR_MARGIN_DEF, &margin) < 0)
        return;
    const char *url = arena_printf(r->arena, "%s/%s", app_domain_base_url(r, l.domain), l.slug);
    const char *ext = format == QR_PNG ? "png" : "svg";
    /* The image depends only on these: the same ETag is the same picture, and a slug never changes its URL */
    unsigned char digest[32];
    const char *what = arena_printf(r->arena, "%s %d %d %s", ext, scale, margin, url);
    SHA256((const unsigned char *)what, strlen(what), digest);
    char hex[17];
    hex_encode(digest, 8, hex);
    const char *etag = arena_printf(r->arena, "\"qr-%s\"", hex);
    resp_header(w, "ETag", etag);
    /* private: it answers an authenticated request; an hour, then one revalidation that costs no drawing */
    resp_header(w, "Cache-Control", "private, max-age=3600");
    resp_header(w, "Content-Disposition",
                arena_printf(r->arena, "attachment; filename=\"%s.%s\"", l.slug, ext));
    const char *inm = req_env(r, "HTTP_IF_NONE_MATCH");
    if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
        resp_body(w, 304, NULL, NULL, 0);
        return;
    }
    const char *img;
    size_t len;
    if (qr_render(r->arena, url, format, scale, margin, &img, &len) < 0) {
        resp_problem(w, 500, "the QR code could not be drawn");
        return;
    }
    resp_body(w, 200, format == QR_PNG ? "image/png" : "image/svg+xml", img, len);
}
