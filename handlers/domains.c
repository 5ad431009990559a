/* GET /api/domains: the short domains this service answers on, read-only (they are managed with
 * `hop domains`, on the server). */
#include "app.h"

#include "db.h"
#include "db_domains.h"
#include "domains.h"
#include "handler.h"
#include "req.h"
#include "resp.h"

#include <json-c/json.h>

void domains_get(struct req *r, struct resp *w)
{
    struct domain *d;
    size_t n;
    int rc = db_domains_list(r->arena, &d, &n);
    if (handler_db_failed(w, rc) < 0)
        return;
    const struct served_domain *def = NULL;
    domains_lookup(NULL, &def);
    struct json_object *o = handler_own(r, json_object_new_object()), *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "name", json_object_new_string(d[i].name));
        json_object_object_add(e, "default", json_object_new_boolean(def && def->id == d[i].id));
        json_object_object_add(e, "root_redirect",
                               d[i].root_redirect ? json_object_new_string(d[i].root_redirect) : NULL);
        json_object_object_add(e, "not_found_redirect",
                               d[i].not_found_redirect ? json_object_new_string(d[i].not_found_redirect)
                                                       : NULL);
        json_object_array_add(arr, e);
    }
    json_object_object_add(o, "domains", arr);
    handler_json(w, 200, o);
}

/* GET /_hop/tls?domain=NAME: Caddy's on-demand TLS asks this before it gets a certificate for NAME; 200 only
 * for a domain of hop's, answered from the worker's list (no query). Caddy's public site never forwards
 * /_* paths; the loopback site that Caddy's `ask` calls does. */
void domains_tls_ask(struct req *r, struct resp *w)
{
    const char *name = NULL;
    const struct served_domain *d = NULL;
    resp_header(w, "Cache-Control", "no-store");
    if (req_query(r, "domain", &name) <= 0) {
        handler_param_error(w, "domain", "domain must be given once");
        return;
    }
    enum domains_result found = domains_lookup(name, &d);
    if (found == DOMAINS_UNAVAILABLE) {
        handler_unavailable(w);
        return;
    }
    if (found != DOMAINS_FOUND) {
        resp_problem(w, 404, "this name is not one of this service's domains");
        return;
    }
    static const char ok[] = "{\"domain\":\"ok\"}";
    resp_body(w, 200, "application/json", ok, sizeof(ok) - 1);
}
