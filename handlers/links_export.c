/* GET /api/links/export?format=csv|json: every link of the key's owner in hop's export format, streamed a
 * page of 1,000 links at a time (export.c), so that a million links never sit in a worker's memory. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "export.h"
#include "handler.h"
#include "log.h"
#include "req.h"
#include "resp.h"

struct links_export {
    long long owner;
    enum export_format format;
};

static void links_export_stream(void *ctx, const struct resp_sink *out)
{
    const struct links_export *e = ctx;
    /* the status is sent already: a failure now can only end the body early (JSON then does not parse) */
    int rc = export_owner(e->format, e->owner, out->write, out->ctx);
    if (rc != DB_OK)
        log_warn("export cut short", "owner=%lld rc=%d", e->owner, rc);
}

void links_export(struct req *r, struct resp *w)
{
    const char *name = NULL;
    struct links_export *e = arena_alloc(r->arena, sizeof(*e));
    if (req_query(r, "format", &name) < 0 || export_format_named(name ? name : "csv", &e->format) < 0) {
        handler_param_error(w, "format", "format must be csv or json, given once");
        return;
    }
    /* a database that is down is still a 503 with Retry-After, before the 200 goes out */
    if (handler_db_failed(w, db_ping()) < 0)
        return;
    e->owner = auth_owner(r);
    resp_header(w, "Cache-Control", "no-store");
    resp_header(w, "Content-Disposition",
                e->format == EXPORT_CSV ? "attachment; filename=\"links.csv\""
                                        : "attachment; filename=\"links.json\"");
    resp_stream(w, 200, e->format == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/json",
                links_export_stream, e);
}
