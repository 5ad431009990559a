/* Typed link and visit queries; see db_links.h. */
#include "db_links.h"

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "db_internal.h"
#include "link_columns.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Tags come as one comma-separated string: tag characters never include a comma. */
static void tags_from_text(struct arena *a, const char *text, struct link *out)
{
    out->ntags = 0;
    out->tags = NULL;
    if (!*text)
        return;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    out->tags = arena_alloc(a, n * sizeof(*out->tags));
    char *copy = arena_strdup(a, text), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        out->tags[out->ntags++] = t;
}

static const char *opt_str(struct arena *a, const char *v)
{
    return v ? arena_strdup(a, v) : NULL;
}

/* The one decoder: a row of LINK_COLUMNS (link_columns.h) into out, strings copied into a. */
static void link_from_row(struct arena *a, PGresult *res, int row, struct link *out)
{
    const char *v[LINK_NCOLS];
    for (int c = 0; c < LINK_NCOLS; c++)
        v[c] = PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
    *out = (struct link){
        .id = atoll(v[LINK_COL_ID]),
        .slug = arena_strdup(a, v[LINK_COL_SLUG]),
        .url = arena_strdup(a, v[LINK_COL_URL]),
        .redirect = atoi(v[LINK_COL_REDIRECT]),
        .created_at = arena_strdup(a, v[LINK_COL_CREATED_AT]),
        .expires_at = opt_str(a, v[LINK_COL_EXPIRES_AT]),
        .expires_epoch = atoll(v[LINK_COL_EXPIRES_EPOCH]),
        .disabled = v[LINK_COL_DISABLED][0] == 't',
        .visits = atoll(v[LINK_COL_VISITS]),
        .bot_visits = atoll(v[LINK_COL_BOT_VISITS]),
        .imported_visits = atoll(v[LINK_COL_IMPORTED_VISITS]),
        .password_hash = opt_str(a, v[LINK_COL_PASSWORD_HASH]),
        .max_visits = atoll(v[LINK_COL_MAX_VISITS]),
        .visits_used = atoll(v[LINK_COL_VISITS_USED]),
        .forward_query = v[LINK_COL_FORWARD_QUERY][0] == 't',
        .ios_url = opt_str(a, v[LINK_COL_IOS_URL]),
        .android_url = opt_str(a, v[LINK_COL_ANDROID_URL]),
        .title = opt_str(a, v[LINK_COL_TITLE]),
        .expired_url = opt_str(a, v[LINK_COL_EXPIRED_URL]),
        .domain_id = atoll(v[LINK_COL_DOMAIN_ID]),
        .domain = opt_str(a, v[LINK_COL_DOMAIN]),
    };
    tags_from_text(a, v[LINK_COL_TAGS], out);
}

enum { NUM_TEXT = 24 }; /* room for any long long */

/* v as statement text, written into buf. */
static const char *num_text(char buf[NUM_TEXT], long long v)
{
    snprintf(buf, NUM_TEXT, "%lld", v);
    return buf;
}

/* Runs a statement that answers one row (DB_OK) or none (DB_NOT_FOUND); want_true also requires the row's
 * first value to be true. */
static int one_row(enum stmt_id id, const char *const *params, bool want_true)
{
    int rc;
    PGresult *res = db_run(id, params, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 && (!want_true || PQgetvalue(res, 0, 0)[0] == 't') ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
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

/* The parameters shared by link_insert and link_update, in their $n order (statements.c). */
enum { LINK_PARAMS = 21 };
struct link_param_text {
    struct arena *arena;
    char owner[NUM_TEXT], redirect[NUM_TEXT], max_visits[NUM_TEXT], domain[NUM_TEXT];
};

static const char *flag(bool b)
{
    return b ? "true" : "false";
}

/* tags as a PostgreSQL array literal; tag characters need no quoting */
static const char *tags_array(struct arena *a, const char *const *tags, size_t n)
{
    struct buf b;
    buf_init(&b, a, 64);
    buf_addc(&b, '{');
    for (size_t i = 0; i < n; i++)
        buf_addf(&b, "%s%s", i ? "," : "", tags[i]);
    buf_addc(&b, '}');
    return buf_str(&b);
}

static const char *tags_literal(struct arena *a, const struct link_fields *f)
{
    return tags_array(a, f->tags, f->ntags);
}

static void link_params(const char *slug, long long owner_id, const struct link_fields *f,
                        struct link_param_text *t, const char *params[LINK_PARAMS])
{
    num_text(t->owner, owner_id);
    num_text(t->redirect, f->redirect);
    num_text(t->max_visits, f->max_visits);
    num_text(t->domain, f->domain_id);
    const char *p[LINK_PARAMS] = {
        slug,
        owner_id ? t->owner : NULL,
        f->url,
        f->redirect ? t->redirect : NULL,
        flag(f->set_expires),
        f->expires_at,
        f->set_disabled ? flag(f->disabled) : NULL,
        flag(f->set_password),
        f->password_hash,
        flag(f->set_max_visits),
        f->max_visits ? t->max_visits : NULL,
        f->set_forward_query ? flag(f->forward_query) : NULL,
        flag(f->set_targets),
        f->ios_url,
        f->android_url,
        f->set_tags ? tags_literal(t->arena, f) : NULL,
        flag(f->set_title),
        f->title,
        flag(f->set_expired_url),
        f->expired_url,
        t->domain,
    };
    memcpy(params, p, sizeof(p));
}

int db_link_find(struct arena *a, long long domain_id, const char *slug, struct link *out)
{
    char domain[NUM_TEXT];
    const char *params[] = {slug, num_text(domain, domain_id)};
    return one_link(a, STMT_LINK_FIND, params, DB_NOT_FOUND, out);
}

int db_link_create(struct arena *a, long long owner_id, const struct link_fields *f, struct link *out)
{
    struct link_param_text t = {.arena = a};
    const char *params[LINK_PARAMS];
    link_params(f->slug, owner_id, f, &t, params);
    /* ON CONFLICT DO NOTHING returns no row: the slug is taken */
    return one_link(a, STMT_LINK_INSERT, params, DB_CONFLICT, out);
}

int db_link_get(struct arena *a, long long domain_id, const char *slug, long long owner_id, struct link *out)
{
    char owner[NUM_TEXT], domain[NUM_TEXT];
    const char *params[] = {slug, num_text(owner, owner_id), num_text(domain, domain_id)};
    return one_link(a, STMT_LINK_GET, params, DB_NOT_FOUND, out);
}

int db_link_reuse(struct arena *a, long long owner_id, long long domain_id, const char *url, const char *slug,
                  struct link *out)
{
    char owner[NUM_TEXT], domain[NUM_TEXT];
    const char *params[] = {num_text(owner, owner_id), url, slug, num_text(domain, domain_id)};
    return one_link(a, STMT_LINK_REUSE, params, DB_NOT_FOUND, out);
}

int db_link_list(struct arena *a, long long owner_id, const struct link_filter *f, long long before_id,
                 int limit, struct link **out, size_t *n)
{
    char owner[NUM_TEXT], before[NUM_TEXT], lim[NUM_TEXT];
    num_text(owner, owner_id);
    /* the first page is every id below the largest: one shape, so one plan, for every page */
    num_text(before, before_id > 0 ? before_id : LLONG_MAX);
    num_text(lim, limit);
    const char *tags = f ? tags_array(a, f->tags, f->ntags) : NULL;
    enum stmt_id id = STMT_LINK_LIST;
    const char *params[5] = {owner, before, lim};
    if (f && f->pattern) {
        id = f->short_q ? STMT_LINK_SEARCH_SHORT : STMT_LINK_SEARCH;
        params[2] = f->pattern;
        params[3] = tags;
        params[4] = lim;
    } else if (f && f->ntags) {
        id = STMT_LINK_LIST_TAGGED;
        params[2] = tags;
        params[3] = lim;
    }
    int rc;
    PGresult *res = db_run(id, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++)
        link_from_row(a, res, (int)i, &(*out)[i]);
    PQclear(res);
    return DB_OK;
}

int db_tags_count(struct arena *a, long long owner_id, struct tag_count **out, size_t *n)
{
    char owner[NUM_TEXT];
    const char *params[] = {num_text(owner, owner_id)};
    int rc;
    PGresult *res = db_run(STMT_TAGS_COUNT, params, &rc);
    if (!res)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(a, sizeof(**out) * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].tag = arena_strdup(a, PQgetvalue(res, (int)i, 0));
        (*out)[i].links = atoll(PQgetvalue(res, (int)i, 1));
    }
    PQclear(res);
    return DB_OK;
}

int db_link_update(struct arena *a, const char *slug, long long owner_id, const struct link_fields *f,
                   struct link *out)
{
    struct link_param_text t = {.arena = a};
    const char *params[LINK_PARAMS];
    link_params(slug, owner_id, f, &t, params);
    return one_link(a, STMT_LINK_UPDATE, params, DB_NOT_FOUND, out);
}

int db_link_delete(long long domain_id, const char *slug, long long owner_id)
{
    char owner[NUM_TEXT], domain[NUM_TEXT];
    const char *params[] = {slug, num_text(owner, owner_id), num_text(domain, domain_id)};
    return one_row(STMT_LINK_DELETE, params, false);
}

/* one_row on a statement whose one parameter is a link id. */
static int link_id_query(enum stmt_id id, long long link_id, bool want_true)
{
    char lid[NUM_TEXT];
    const char *params[] = {num_text(lid, link_id)};
    return one_row(id, params, want_true);
}

int db_link_claim(long long link_id)
{
    return link_id_query(STMT_LINK_CLAIM, link_id, false);
}

int db_link_has_visits_left(long long link_id)
{
    return link_id_query(STMT_LINK_CLAIMED, link_id, true);
}

int db_links_listen(void)
{
    return db_exec(STMT_LISTEN, NULL);
}

/* Writes a PostgreSQL array literal of numbers. */
static void array_ll(struct buf *b, const long long *v, size_t n)
{
    buf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%s%lld", i ? "," : "", v[i]);
    buf_addc(b, '}');
}

static void array_int(struct buf *b, const int *v, size_t n)
{
    buf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%s%d", i ? "," : "", v[i]);
    buf_addc(b, '}');
}

/* Appends c as it stands inside a quoted element of an array literal. */
static void elem_char(struct buf *b, char c)
{
    if (c == '"' || c == '\\')
        buf_addc(b, '\\');
    buf_addc(b, c);
}

/* A link-hour's rows, as visit_params orders them. */
struct link_hour_row {
    long long link_id;
    int hour;
    unsigned row;
};

static int by_link_hour(const void *pa, const void *pb)
{
    const struct link_hour_row *a = pa, *b = pb;
    if (a->link_id != b->link_id)
        return a->link_id < b->link_id ? -1 : 1;
    if (a->hour != b->hour)
        return a->hour < b->hour ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

/* The literals of one link-hour's element of the values' four arrays (dims, vals, hs, bs: an array literal
 * each, quoted as an element of the outer literal), for its rows ord[0..n) but the total's, whose counts go
 * to *humans and *bots. A value is escaped twice: within its own quotes, then as part of the element. */
static void link_hour_elems(const struct visit_rows *vb, const struct link_hour_row *ord, size_t n,
                            struct buf *lit[4], long long *humans, long long *bots)
{
    *humans = *bots = 0;
    for (int k = 0; k < 4; k++)
        buf_adds(lit[k], lit[k]->len > 1 ? ",\"{" : "\"{");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        unsigned r = ord[i].row;
        if (vb->dim[r] == 0) {
            *humans += vb->humans[r];
            *bots += vb->bots[r];
            continue;
        }
        const char *sep = first ? "" : ",";
        first = false;
        buf_addf(lit[0], "%s%d", sep, vb->dim[r]);
        buf_adds(lit[1], sep);
        elem_char(lit[1], '"');
        for (const char *h = vb->value[r]; *h; h++) {
            if (*h == '"' || *h == '\\')
                elem_char(lit[1], '\\');
            elem_char(lit[1], *h);
        }
        elem_char(lit[1], '"');
        buf_addf(lit[2], "%s%lld", sep, vb->humans[r]);
        buf_addf(lit[3], "%s%lld", sep, vb->bots[r]);
    }
    for (int k = 0; k < 4; k++)
        buf_adds(lit[k], "}\"");
}

/* The statement's parameters for a batch, in a's memory: params[10], one element per link and hour (the
 * rows of one come together, whatever their order in vb). */
static void visit_params(const struct visit_rows *vb, struct arena *a, char batch[24], const char *params[10])
{
    struct buf ids, hours, humans, bots, dims, values, hs, bs, forget;
    struct buf *all[] = {&ids, &hours, &humans, &bots, &dims, &values, &hs, &bs};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        buf_init(all[i], a, 4096);
        buf_addc(all[i], '{');
    }
    struct link_hour_row *ord = arena_alloc(a, (vb->n ? vb->n : 1) * sizeof(*ord));
    for (size_t i = 0; i < vb->n; i++)
        ord[i] = (struct link_hour_row){vb->link_id[i], vb->hour[i], (unsigned)i};
    qsort(ord, vb->n, sizeof(*ord), by_link_hour);
    struct buf *lit[4] = {&dims, &values, &hs, &bs};
    for (size_t i = 0, j; i < vb->n; i = j) {
        for (j = i + 1; j < vb->n && ord[j].link_id == ord[i].link_id && ord[j].hour == ord[i].hour; j++)
            ;
        long long h, b;
        link_hour_elems(vb, ord + i, j - i, lit, &h, &b);
        const char *sep = i ? "," : "";
        buf_addf(&ids, "%s%lld", sep, ord[i].link_id);
        buf_addf(&hours, "%s%d", sep, ord[i].hour);
        buf_addf(&humans, "%s%lld", sep, h);
        buf_addf(&bots, "%s%lld", sep, b);
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        buf_addc(all[i], '}');
    buf_init(&forget, a, 1024);
    array_ll(&forget, vb->forget, vb->nforget);
    snprintf(batch, 24, "%lld", vb->batch_id);
    const char *p[] = {buf_str(&ids),    buf_str(&hours), buf_str(&humans), buf_str(&bots), buf_str(&dims),
                       buf_str(&values), buf_str(&hs),    buf_str(&bs),     batch,          buf_str(&forget)};
    memcpy(params, p, sizeof(p));
}

/* The count of ids the statement inserted: 0 when the batch was there already. */
static int visits_rc(PGresult *res, int rc)
{
    if (res && strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = DB_CONFLICT;
    PQclear(res);
    return rc;
}

int db_visits_add(const struct visit_rows *vb)
{
    struct arena *a = arena_new(64 * 1024);
    char batch[24];
    const char *params[10];
    visit_params(vb, a, batch, params);
    int rc;
    PGresult *res = db_run(STMT_VISITS_ADD, params, &rc);
    arena_free(a);
    return visits_rc(res, rc);
}

int db_visits_send(const struct visit_rows *vb)
{
    struct arena *a = arena_new(64 * 1024);
    char batch[24];
    const char *params[10];
    visit_params(vb, a, batch, params);
    /* libpq copies the parameters into its buffer: they can go at once */
    int rc = db_send(STMT_VISITS_ADD, params);
    arena_free(a);
    return rc;
}

int db_visits_result(bool wait)
{
    int rc;
    PGresult *res = db_result(wait, &rc);
    return rc == DB_BUSY ? DB_BUSY : visits_rc(res, rc);
}

/* A bytea parameter in text form: \x and the bytes in hex. */
static void bytea_hex(struct buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_adds(b, "\\x");
    for (size_t i = 0; i < n; i++) {
        buf_addc(b, hex[p[i] >> 4]);
        buf_addc(b, hex[p[i] & 15]);
    }
}

/* STMT_VISITS_LOG's parameters, in a's memory. */
static void log_params(const struct visit_rows *vb, const unsigned char *enc, size_t enc_len, const int *off,
                       const int *len, int nparts, long long writer, struct arena *a, char batch[24],
                       char wid[24], const char *params[6])
{
    struct buf data, offs, lens, forget;
    buf_init(&data, a, 2 * enc_len + 8);
    buf_init(&offs, a, 256);
    buf_init(&lens, a, 256);
    buf_init(&forget, a, 1024);
    bytea_hex(&data, enc, enc_len);
    array_int(&offs, off, (size_t)nparts);
    array_int(&lens, len, (size_t)nparts);
    array_ll(&forget, vb->forget, vb->nforget);
    snprintf(batch, 24, "%lld", vb->batch_id);
    snprintf(wid, 24, "%lld", writer);
    const char *p[] = {batch, buf_str(&data), buf_str(&offs), buf_str(&lens), buf_str(&forget), wid};
    memcpy(params, p, sizeof(p));
}

/* STMT_VISITS_LOG sent (its answer from db_visits_result) or run: its db_rc, DB_CONFLICT when run and the
 * batch was there already. */
static int log_run(const struct visit_rows *b, const struct visit_log_enc *e, bool send)
{
    struct arena *a = arena_new(2 * e->size + 4096);
    char batch[24], wid[24];
    const char *params[6];
    log_params(b, e->data, e->size, e->off, e->len, e->nparts, e->writer, a, batch, wid, params);
    int rc;
    PGresult *res = NULL;
    if (send)
        rc = db_send(STMT_VISITS_LOG, params);
    else
        res = db_run(STMT_VISITS_LOG, params, &rc);
    arena_free(a);
    return send ? rc : visits_rc(res, rc);
}

int db_visits_log_send(const struct visit_rows *b, const struct visit_log_enc *e)
{
    return log_run(b, e, true);
}

int db_visits_log_add(const struct visit_rows *b, const struct visit_log_enc *e)
{
    return log_run(b, e, false);
}

int db_visits_writer(long long writer)
{
    char w[NUM_TEXT];
    const char *params[] = {num_text(w, writer)};
    return one_row(STMT_VISITS_WRITER, params, true);
}

/* STMT_VISITS_APPLY's answer: rc, and with DB_OK the statement's time in PostgreSQL in *pg_ms. */
static int apply_answer(PGresult *res, int rc, double *pg_ms)
{
    *pg_ms = 0;
    if (rc == DB_OK && PQntuples(res) == 1 && PQnfields(res) == 2)
        *pg_ms = (double)atoll(PQgetvalue(res, 0, 1)) / 1000.0;
    PQclear(res);
    return rc;
}

/* STMT_VISITS_APPLY runs with send (pg_ms NULL) or waits: its db_rc. */
static int apply_run(int part, const struct visit_rows *rows, const long long *ids, size_t nids,
                     double *pg_ms)
{
    struct arena *a = arena_new(64 * 1024);
    char batch[24], p[16];
    const char *params[10];
    visit_params(rows, a, batch, params);
    struct buf idl;
    buf_init(&idl, a, 1024);
    array_ll(&idl, ids, nids);
    snprintf(p, sizeof(p), "%d", part);
    params[8] = buf_str(&idl);
    params[9] = p;
    int rc;
    if (!pg_ms)
        rc = db_send(STMT_VISITS_APPLY, params);
    else {
        PGresult *res = db_run(STMT_VISITS_APPLY, params, &rc);
        rc = apply_answer(res, rc, pg_ms);
    }
    arena_free(a);
    return rc;
}

int db_visits_apply(int part, const struct visit_rows *rows, const long long *ids, size_t nids, double *pg_ms)
{
    return apply_run(part, rows, ids, nids, pg_ms);
}

int db_visits_apply_send(int part, const struct visit_rows *rows, const long long *ids, size_t nids)
{
    return apply_run(part, rows, ids, nids, NULL);
}

int db_visits_apply_result(bool wait, double *pg_ms)
{
    int rc;
    PGresult *res = db_result(wait, &rc);
    if (rc == DB_BUSY)
        return rc;
    return apply_answer(res, rc, pg_ms);
}

/* fn for every row of a result of (id, part, data) or, part given, (id, data). */
static int log_rows(PGresult *res, int part, db_log_row_fn fn, void *ctx)
{
    int cols = part < 0 ? 3 : 2;
    if (PQnfields(res) != cols) {
        PQclear(res);
        return DB_ERROR;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        size_t n = 0;
        unsigned char *d = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, cols - 1), &n);
        if (!d)
            continue;
        fn(ctx, atoll(PQgetvalue(res, i, 0)), part < 0 ? atoi(PQgetvalue(res, i, 1)) : part, d, n);
        PQfreemem(d);
    }
    PQclear(res);
    return DB_OK;
}

int db_visits_log_read(int part, const long long *ids, size_t nids, db_log_row_fn fn, void *ctx)
{
    struct arena *a = arena_new(4096);
    struct buf idl;
    buf_init(&idl, a, 1024);
    array_ll(&idl, ids, nids);
    char p[16];
    snprintf(p, sizeof(p), "%d", part);
    const char *params[] = {p, buf_str(&idl)};
    int rc;
    PGresult *res = db_run(STMT_VISITS_LOG_READ, params, &rc);
    arena_free(a);
    return res ? log_rows(res, part, fn, ctx) : rc;
}

int db_visits_orphans(long long age_ms, const long long *ids, size_t nids, int limit, db_log_row_fn fn,
                      void *ctx)
{
    struct arena *a = arena_new(4096);
    struct buf idl;
    buf_init(&idl, a, 1024);
    array_ll(&idl, ids, nids);
    char age[24], lim[16];
    snprintf(age, sizeof(age), "%lld", age_ms);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {age, buf_str(&idl), lim};
    int rc;
    PGresult *res = db_run(STMT_VISITS_ORPHANS, params, &rc);
    arena_free(a);
    return res ? log_rows(res, -1, fn, ctx) : rc;
}

int db_visits_spool_id(char out[37])
{
    int rc;
    PGresult *res = db_run(STMT_VISITS_SPOOL_ID, NULL, &rc);
    if (!res)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int db_visits_close(long long *was, long long *open_day)
{
    int rc;
    PGresult *res = db_run(STMT_VISITS_CLOSE, NULL, &rc);
    if (res) {
        *was = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *open_day = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return rc;
}

int db_visits_rollup(int days)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", days);
    const char *params[] = {n};
    int rc;
    PQclear(db_run(STMT_VISITS_ROLLUP, params, &rc));
    return rc;
}
