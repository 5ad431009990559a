/* GET /healthz: 200 when the database answers, else 503 with Retry-After. */
#include "app.h"

#include "db.h"
#include "resp.h"

#include <string.h>

void health_get(struct req *r, struct resp *w)
{
    (void)r;
    resp_header(w, "Cache-Control", "no-store");
    if (db_ping() == DB_OK) {
        static const char ok[] = "{\"status\":\"ok\"}";
        resp_body(w, 200, "application/json", ok, strlen(ok));
        return;
    }
    static const char down[] = "{\"status\":\"unavailable\"}";
    resp_header(w, "Retry-After", "1");
    resp_body(w, 503, "application/json", down, strlen(down));
}
