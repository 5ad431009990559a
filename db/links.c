/* Typed link and visit queries; see links.h. */
#include "links.h"

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Copies a row in LINK_COLUMNS order (statements.c) into out. */
static void link_from_row(struct arena *a, PGresult *res, int row, struct link *out)
{
    out->id = atoll(PQgetvalue(res, row, 0));
    out->slug = arena_strdup(a, PQgetvalue(res, row, 1));
    out->url = arena_strdup(a, PQgetvalue(res, row, 2));
    out->redirect = atoi(PQgetvalue(res, row, 3));
    out->created_at = arena_strdup(a, PQgetvalue(res, row, 4));
    out->expires_at = PQgetisnull(res, row, 5) ? NULL : arena_strdup(a, PQgetvalue(res, row, 5));
    out->expires_epoch = atoll(PQgetvalue(res, row, 6));
    out->disabled = PQgetvalue(res, row, 7)[0] == 't';
    out->visits = atoll(PQgetvalue(res, row, 8));
}

/* Runs a statement that returns at most one link: DB_OK with out filled, or missing when there is no row. */
static int one_link(struct arena *a, enum stmt_id id, const char *const *params, int missing,
                    struct link *out)
{
    int rc;
    PGresult *res = db_run(id, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : missing;
    if (rc == DB_OK)
        link_from_row(a, res, 0, out);
    PQclear(res);
    return rc;
}

int db_link_find(struct arena *a, const char *slug, struct link *out)
{
    int rc;
    const char *params[] = {slug};
    PGresult *res = db_run(STMT_LINK_FIND, params, &rc);
    if (!res)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    memset(out, 0, sizeof(*out));
    out->id = atoll(PQgetvalue(res, 0, 0));
    out->slug = arena_strdup(a, slug);
    out->url = arena_strdup(a, PQgetvalue(res, 0, 1));
    out->redirect = atoi(PQgetvalue(res, 0, 2));
    out->expires_epoch = atoll(PQgetvalue(res, 0, 3));
    out->disabled = PQgetvalue(res, 0, 4)[0] == 't';
    PQclear(res);
    return DB_OK;
}

int db_link_create(struct arena *a, long long owner_id, const char *slug, const char *url, int redirect,
                   const char *expires_at, struct link *out)
{
    char owner[24], status[8];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    snprintf(status, sizeof(status), "%d", redirect);
    const char *params[] = {slug, owner_id ? owner : NULL, url, status, expires_at};
    /* ON CONFLICT DO NOTHING returns no row: the slug is taken */
    return one_link(a, STMT_LINK_INSERT, params, DB_CONFLICT, out);
}

int db_link_get(struct arena *a, const char *slug, long long owner_id, struct link *out)
{
    char owner[24];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    const char *params[] = {slug, owner};
    return one_link(a, STMT_LINK_GET, params, DB_NOT_FOUND, out);
}

int db_link_list(struct arena *a, long long owner_id, long long before_id, int limit, struct link **out,
                 size_t *n)
{
    char owner[24], before[24], lim[16];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    snprintf(before, sizeof(before), "%lld", before_id);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {owner, before_id > 0 ? before : NULL, lim};
    int rc;
    PGresult *res = db_run(STMT_LINK_LIST, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++)
        link_from_row(a, res, (int)i, &(*out)[i]);
    PQclear(res);
    return DB_OK;
}

int db_link_update(struct arena *a, const char *slug, long long owner_id, const struct link_change *c,
                   struct link *out)
{
    char owner[24], status[8];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    snprintf(status, sizeof(status), "%d", c->redirect);
    const char *params[] = {
        slug,
        owner,
        c->url,
        c->redirect ? status : NULL,
        c->set_expires ? "true" : "false",
        c->expires_at,
        c->set_disabled ? (c->disabled ? "true" : "false") : NULL,
    };
    return one_link(a, STMT_LINK_UPDATE, params, DB_NOT_FOUND, out);
}

int db_link_delete(const char *slug, long long owner_id)
{
    char owner[24];
    snprintf(owner, sizeof(owner), "%lld", owner_id);
    const char *params[] = {slug, owner};
    int rc;
    PGresult *res = db_run(STMT_LINK_DELETE, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int db_link_stats(struct arena *a, long long link_id, int days, struct link_stats *out)
{
    char id[24], ndays[16];
    snprintf(id, sizeof(id), "%lld", link_id);
    snprintf(ndays, sizeof(ndays), "%d", days);
    const char *params[] = {id, ndays};
    int rc;
    PGresult *res = db_run(STMT_STATS_DAYS, params, &rc);
    if (!res)
        return rc;
    memset(out, 0, sizeof(*out));
    out->ndays = (size_t)PQntuples(res);
    out->days = arena_alloc(a, sizeof(*out->days) * (out->ndays ? out->ndays : 1));
    for (size_t i = 0; i < out->ndays; i++) {
        out->days[i].date = arena_strdup(a, PQgetvalue(res, (int)i, 0));
        out->days[i].visits = atoll(PQgetvalue(res, (int)i, 1));
        out->total += out->days[i].visits;
    }
    PQclear(res);
    res = db_run(STMT_STATS_REFERRERS, params, &rc);
    if (!res)
        return rc;
    out->nreferrers = (size_t)PQntuples(res);
    out->referrers = arena_alloc(a, sizeof(*out->referrers) * (out->nreferrers ? out->nreferrers : 1));
    for (size_t i = 0; i < out->nreferrers; i++) {
        out->referrers[i].host = arena_strdup(a, PQgetvalue(res, (int)i, 0));
        out->referrers[i].visits = atoll(PQgetvalue(res, (int)i, 1));
    }
    PQclear(res);
    return DB_OK;
}

int db_links_listen(void)
{
    int rc;
    PQclear(db_run(STMT_LISTEN, NULL, &rc));
    return rc;
}

/* Writes a PostgreSQL array literal; hosts are quoted with their quotes and backslashes escaped. */
static void array_ll(struct buf *b, const long long *v, size_t n)
{
    buf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%s%lld", i ? "," : "", v[i]);
    buf_addc(b, '}');
}

int db_visits_add(const struct visit_batch *vb)
{
    struct arena *a = arena_new(16 * 1024);
    struct buf ids, days, hosts, counts;
    buf_init(&ids, a, 1024);
    buf_init(&days, a, 1024);
    buf_init(&hosts, a, 1024);
    buf_init(&counts, a, 1024);
    array_ll(&ids, vb->link_id, vb->n);
    array_ll(&counts, vb->count, vb->n);
    buf_addc(&days, '{');
    buf_addc(&hosts, '{');
    for (size_t i = 0; i < vb->n; i++) {
        /* a day number as a date: 1970-01-01 plus n days, formatted by gmtime */
        time_t t = (time_t)vb->day[i] * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        buf_addf(&days, "%s%04d-%02d-%02d", i ? "," : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        buf_adds(&hosts, i ? ",\"" : "\"");
        for (const char *h = vb->host[i]; *h; h++) {
            if (*h == '"' || *h == '\\')
                buf_addc(&hosts, '\\');
            buf_addc(&hosts, *h);
        }
        buf_addc(&hosts, '"');
    }
    buf_addc(&days, '}');
    buf_addc(&hosts, '}');
    const char *params[] = {buf_str(&ids), buf_str(&days), buf_str(&hosts), buf_str(&counts)};
    int rc;
    PQclear(db_run(STMT_VISITS_ADD, params, &rc));
    arena_free(a);
    return rc;
}
