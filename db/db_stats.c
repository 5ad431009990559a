/* The stats API's queries; see db_stats.h. */
#include "db_stats.h"

#include "arena.h"
#include "db.h"
#include "db_internal.h"
#include "db_links.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_stats_series(struct arena *a, long long id, bool owner, const struct stats_range *rg,
                    struct stats_bucket **out, size_t *n)
{
    char sid[24], days[16], hdays[16];
    snprintf(sid, sizeof(sid), "%lld", id);
    snprintf(days, sizeof(days), "%d", rg->days);
    snprintf(hdays, sizeof(hdays), "%d", rg->hourly_days);
    const char *params[] = {sid,         rg->from_date,          rg->from_time, rg->to_date,
                            rg->to_time, rg->days ? days : NULL, rg->tz,        rg->hourly ? "t" : "f",
                            hdays};
    int rc;
    /* days of UTC are whole days of the day tables: a year is 365 rows, not 8,760 hours */
    bool utc_days = !rg->hourly && strcmp(rg->tz, "UTC") == 0;
    enum stmt_id id_stmt = utc_days ? (owner ? STMT_STATS_SERIES_OWNER_DAYS : STMT_STATS_SERIES_LINK_DAYS)
                                    : (owner ? STMT_STATS_SERIES_OWNER : STMT_STATS_SERIES_LINK);
    PGresult *res = db_run(id_stmt, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        int row = (int)i;
        (*out)[i] = (struct stats_bucket){
            .local = arena_strdup(a, PQgetvalue(res, row, 0)),
            .offset = atoi(PQgetvalue(res, row, 1)),
            .lo = atoll(PQgetvalue(res, row, 2)),
            .hi = atoll(PQgetvalue(res, row, 3)),
            .humans = atoll(PQgetvalue(res, row, 4)),
            .bots = atoll(PQgetvalue(res, row, 5)),
        };
    }
    PQclear(res);
    return DB_OK;
}

/* visit_dim_none as a text[] literal, every element quoted (the values are constants without quotes). */
static const char *none_values(struct arena *a)
{
    const char *lit = "{";
    for (int d = 0; d < VISIT_NDIMS; d++)
        lit = arena_printf(a, "%s%s\"%s\"", lit, d ? "," : "", visit_dim_none(d));
    return arena_printf(a, "%s}", lit);
}

int db_stats_top(struct arena *a, long long id, bool owner, long long lo, long long hi, bool bots,
                 int hourly_days, struct stats_value **out, size_t *n)
{
    char sid[24], slo[24], shi[24], hdays[16];
    snprintf(sid, sizeof(sid), "%lld", id);
    snprintf(slo, sizeof(slo), "%lld", lo);
    snprintf(shi, sizeof(shi), "%lld", hi);
    snprintf(hdays, sizeof(hdays), "%d", hourly_days);
    const char *params[] = {sid, slo, shi, bots ? "t" : "f", hdays, none_values(a)};
    int rc;
    PGresult *res = db_run(owner ? STMT_STATS_TOP_OWNER : STMT_STATS_TOP_LINK, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        int row = (int)i;
        (*out)[i] = (struct stats_value){.dim = atoi(PQgetvalue(res, row, 0)),
                                         .value = arena_strdup(a, PQgetvalue(res, row, 1)),
                                         .visits = atoll(PQgetvalue(res, row, 2))};
    }
    PQclear(res);
    return DB_OK;
}

int db_stats_top_links(struct arena *a, long long owner_id, long long lo, long long hi, bool bots,
                       int hourly_days, struct stats_link **out, size_t *n)
{
    char sid[24], slo[24], shi[24], hdays[16];
    snprintf(sid, sizeof(sid), "%lld", owner_id);
    snprintf(slo, sizeof(slo), "%lld", lo);
    snprintf(shi, sizeof(shi), "%lld", hi);
    snprintf(hdays, sizeof(hdays), "%d", hourly_days);
    const char *params[] = {sid, slo, shi, bots ? "t" : "f", hdays};
    int rc;
    PGresult *res = db_run(STMT_STATS_TOP_LINKS, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        int row = (int)i;
        (*out)[i] = (struct stats_link){
            .slug = arena_strdup(a, PQgetvalue(res, row, 0)),
            .domain = PQgetisnull(res, row, 1) ? NULL : arena_strdup(a, PQgetvalue(res, row, 1)),
            .visits = atoll(PQgetvalue(res, row, 2)),
        };
    }
    PQclear(res);
    return DB_OK;
}

int db_tz_names(char ***out, size_t *n)
{
    int rc;
    PGresult *res = db_run(STMT_TZ_NAMES, NULL, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = xmalloc(sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = xstrdup(PQgetvalue(res, (int)i, 0));
    PQclear(res);
    return DB_OK;
}
