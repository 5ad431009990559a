/* GET /api/links/{slug}/stats and GET /api/stats: a series of humans and bots per hour or day of the viewer's
 * zone, zeros included, and the top values of each dimension; JSON, or the series as CSV. Every parameter is
 * checked whole here: a bad one is a 400 that names it, and nothing unchecked reaches PostgreSQL. */
#include "app.h"

#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "db_links.h"
#include "db_stats.h"
#include "handler.h"
#include "req.h"
#include "resp.h"
#include "timearg.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    HOURLY_MAX_DAYS = 31,
    DAILY_MAX_DAYS = 1096, /* three years */
    DEFAULT_DAYS = 30,
    TZ_MAX = 64,
};

/* The zones PostgreSQL knows, read once per worker: tz= is looked up here, never used to build a path. */
static char **zones;
static size_t nzones;

static int zone_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

/* 1: tz is a zone; 0: it is not; -1: the list could not be read. */
static int zone_known(const char *tz)
{
    if (!zones && db_tz_names(&zones, &nzones) != DB_OK)
        return -1;
    if (strlen(tz) > TZ_MAX)
        return 0;
    return bsearch(tz, zones, nzones, sizeof(*zones), zone_cmp) != NULL;
}

struct stats_query {
    struct stats_range rg;
    bool bots;
    bool csv;
};

/* from or to: a date or RFC 3339 time; the date or time string set in *date or *time. */
static int time_param(struct req *r, struct resp *w, const char *name, struct timearg *t, const char **date,
                      const char **time_s)
{
    const char *v;
    int found = req_query(r, name, &v);
    if (found == 0)
        return 0;
    if (found < 0 || timearg_parse(v, t) < 0) {
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "%s must be given once, as a date (YYYY-MM-DD) or an RFC 3339 time, from 1970 to 9999",
                 name);
        handler_param_error(w, name, detail);
        return -1;
    }
    *(t->is_date ? date : time_s) = v;
    return 1;
}

static int choice_param(struct req *r, struct resp *w, const char *name, const char *a, const char *b,
                        bool *is_b)
{
    const char *v;
    int found = req_query(r, name, &v);
    *is_b = false;
    if (found == 0)
        return 0;
    if (found > 0 && (strcmp(v, a) == 0 || strcmp(v, b) == 0)) {
        *is_b = strcmp(v, b) == 0;
        return 0;
    }
    char detail[120];
    snprintf(detail, sizeof(detail), "%s must be given once, as %s or %s", name, a, b);
    handler_param_error(w, name, detail);
    return -1;
}

static int tz_param(struct req *r, struct resp *w, const char **tz)
{
    int found = req_query(r, "tz", tz);
    if (found == 0) {
        *tz = "UTC";
        return 0;
    }
    int known = found > 0 ? zone_known(*tz) : 0;
    if (known < 0) {
        handler_unavailable(w);
        return -1;
    }
    if (!known) {
        handler_param_error(w, "tz", "tz must be given once, as an IANA time zone such as Europe/Paris");
        return -1;
    }
    return 0;
}

/* from before to, and the range within the granularity's limit. Dates are read as UTC days here: the zone
 * moves them by less than one, which the limits do not need to know. */
static int range_check(struct resp *w, const struct timearg *from, bool has_from, const struct timearg *to,
                       bool has_to, const struct stats_query *q)
{
    long long t = has_to ? to->epoch + (to->is_date ? 86400 : 0) : (long long)time(NULL);
    long long f = has_from ? from->epoch : t - DEFAULT_DAYS * 86400LL;
    if (f >= t) {
        handler_param_error(w, "from", "from must be before to");
        return -1;
    }
    long long max = q->rg.hourly ? HOURLY_MAX_DAYS : DAILY_MAX_DAYS;
    if (t - f > max * 86400) {
        char detail[160];
        snprintf(detail, sizeof(detail), "from and to may be at most %lld days apart at granularity=%s", max,
                 q->rg.hourly ? "hour" : "day");
        handler_param_error(w, "from", detail);
        return -1;
    }
    return 0;
}

static int parse_query(struct req *r, struct resp *w, struct stats_query *q)
{
    memset(q, 0, sizeof(*q));
    q->rg.hourly_days = config_get()->hourly_days;
    struct timearg from, to;
    int has_from = time_param(r, w, "from", &from, &q->rg.from_date, &q->rg.from_time);
    if (has_from < 0)
        return -1;
    int has_to = time_param(r, w, "to", &to, &q->rg.to_date, &q->rg.to_time);
    if (has_to < 0)
        return -1;
    const char *v;
    if (req_query(r, "days", &v) != 0) {
        if (has_from) {
            handler_param_error(w, "days",
                                "days and from cannot be given together: days is from, counted back");
            return -1;
        }
        if (handler_int_param(r, w, "days", 1, 366, DEFAULT_DAYS, &q->rg.days) < 0)
            return -1;
    }
    if (choice_param(r, w, "granularity", "day", "hour", &q->rg.hourly) < 0 ||
        choice_param(r, w, "bots", "false", "true", &q->bots) < 0 || tz_param(r, w, &q->rg.tz) < 0)
        return -1;
    if (q->rg.days) {
        long long today = (long long)time(NULL) / 86400 * 86400;
        from = (struct timearg){.is_date = true, .epoch = today - (q->rg.days - 1) * 86400LL};
        has_from = 1;
    }
    if (range_check(w, &from, has_from, &to, has_to, q) < 0)
        return -1;
    const char *accept = req_env(r, "HTTP_ACCEPT");
    q->csv = accept && strstr(accept, "text/csv");
    return 0;
}

/* YYYY-MM-DDTHH:MM:SS±HH:MM */
static const char *rfc3339(struct arena *a, const char *local, int offset)
{
    int m = abs(offset) / 60;
    return arena_printf(a, "%s%c%02d:%02d", local, offset < 0 ? '-' : '+', m / 60, m % 60);
}

/* An epoch as RFC 3339 in UTC. */
static const char *utc(struct arena *a, long long epoch)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_printf(a, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void answer_csv(struct req *r, struct resp *w, const struct stats_bucket *b, size_t n)
{
    struct buf out;
    buf_init(&out, r->arena, 64 + n * 48);
    buf_adds(&out, "start,humans,bots\r\n");
    for (size_t i = 0; i < n; i++)
        buf_addf(&out, "%s,%lld,%lld\r\n", rfc3339(r->arena, b[i].local, b[i].offset), b[i].humans,
                 b[i].bots);
    resp_header(w, "Cache-Control", "no-store");
    const char *body = buf_str(&out);
    resp_body(w, 200, "text/csv; charset=utf-8", body, strlen(body));
}

static struct json_object *count_item(const char *key, const char *value, long long visits)
{
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, key, json_object_new_string(value));
    json_object_object_add(e, "visits", json_object_new_int64(visits));
    return e;
}

/* The series, its totals, and the legacy days (humans per day of the zone, hours added up). */
static void add_series(struct json_object *o, struct arena *a, const struct stats_bucket *b, size_t n)
{
    struct json_object *series = json_object_new_array(), *days = json_object_new_array();
    long long humans = 0, bots = 0, day = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "start", json_object_new_string(rfc3339(a, b[i].local, b[i].offset)));
        json_object_object_add(e, "humans", json_object_new_int64(b[i].humans));
        json_object_object_add(e, "bots", json_object_new_int64(b[i].bots));
        json_object_array_add(series, e);
        humans += b[i].humans;
        bots += b[i].bots;
        day += b[i].humans;
        if (i + 1 == n || strncmp(b[i].local, b[i + 1].local, 10) != 0) {
            json_object_array_add(days, count_item("date", arena_printf(a, "%.10s", b[i].local), day));
            day = 0;
        }
    }
    json_object_object_add(o, "total", json_object_new_int64(humans));
    json_object_object_add(o, "bot_total", json_object_new_int64(bots));
    json_object_object_add(o, "series", series);
    json_object_object_add(o, "days", days);
}

static const char *const top_names[VISIT_NDIMS] = {
    [VISIT_DIM_REFERRER] = "referrers",    [VISIT_DIM_COUNTRY] = "countries",
    [VISIT_DIM_DEVICE] = "devices",        [VISIT_DIM_BROWSER] = "browsers",
    [VISIT_DIM_OS] = "operating_systems",  [VISIT_DIM_UTM_SOURCE] = "utm_source",
    [VISIT_DIM_UTM_MEDIUM] = "utm_medium", [VISIT_DIM_UTM_CAMPAIGN] = "utm_campaign",
};

/* top: one list per dimension, empty ones included; referrers: the legacy list of hosts. */
static void add_top(struct json_object *o, const struct stats_value *v, size_t n)
{
    struct json_object *top = json_object_new_object(), *lists[VISIT_NDIMS] = {0},
                       *legacy = json_object_new_array();
    for (int d = VISIT_DIM_REFERRER; d < VISIT_NDIMS; d++) {
        lists[d] = json_object_new_array();
        json_object_object_add(top, top_names[d], lists[d]);
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].dim < VISIT_DIM_REFERRER || v[i].dim >= VISIT_NDIMS)
            continue;
        json_object_array_add(lists[v[i].dim], count_item("value", v[i].value, v[i].visits));
        if (v[i].dim == VISIT_DIM_REFERRER)
            json_object_array_add(legacy, count_item("host", v[i].value, v[i].visits));
    }
    json_object_object_add(o, "top", top);
    json_object_object_add(o, "referrers", legacy);
}

static void add_links(struct json_object *o, const struct stats_link *l, size_t n)
{
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = count_item("slug", l[i].slug, l[i].visits);
        json_object_object_add(e, "domain", l[i].domain ? json_object_new_string(l[i].domain) : NULL);
        json_object_array_add(arr, e);
    }
    json_object_object_add(o, "links", arr);
}

/* One link's stats (link set) or the owner's (link NULL, id the owner). */
static void answer(struct req *r, struct resp *w, long long id, const struct link *link)
{
    const char *slug = link ? link->slug : NULL;
    struct stats_query q;
    if (parse_query(r, w, &q) < 0)
        return;
    bool owner = slug == NULL;
    struct stats_bucket *b;
    size_t nb;
    int rc = db_stats_series(r->arena, id, owner, &q.rg, &b, &nb);
    if (handler_db_failed(w, rc) < 0)
        return;
    if (q.csv) {
        answer_csv(r, w, b, nb);
        return;
    }
    long long lo = nb ? b[0].lo : 0, hi = nb ? b[nb - 1].hi : 0;
    struct stats_value *v;
    size_t nv;
    rc = db_stats_top(r->arena, id, owner, lo, hi, q.bots, q.rg.hourly_days, &v, &nv);
    if (handler_db_failed(w, rc) < 0)
        return;
    struct json_object *o = handler_own(r, json_object_new_object());
    if (slug)
        json_object_object_add(o, "slug", json_object_new_string(slug));
    if (link) /* an import's total has no dates: beside the series, never in it */
        json_object_object_add(o, "imported_visits", json_object_new_int64(link->imported_visits));
    json_object_object_add(o, "from", json_object_new_string(utc(r->arena, lo)));
    json_object_object_add(o, "to", json_object_new_string(utc(r->arena, hi)));
    json_object_object_add(o, "granularity", json_object_new_string(q.rg.hourly ? "hour" : "day"));
    json_object_object_add(o, "tz", json_object_new_string(q.rg.tz));
    json_object_object_add(o, "bots", json_object_new_boolean(q.bots));
    add_series(o, r->arena, b, nb);
    add_top(o, v, nv);
    if (owner) {
        struct stats_link *l;
        size_t nl;
        rc = db_stats_top_links(r->arena, id, lo, hi, q.bots, q.rg.hourly_days, &l, &nl);
        if (handler_db_failed(w, rc) < 0)
            return;
        add_links(o, l, nl);
    }
    handler_json(w, 200, o);
}

void stats_link(struct req *r, struct resp *w, const struct link *l)
{
    answer(r, w, l->id, l);
}

void stats_get(struct req *r, struct resp *w)
{
    answer(r, w, auth_owner(r), NULL);
}
