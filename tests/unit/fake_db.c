/* The in-memory database of the handler tests; see fake_db.h. It keeps PostgreSQL's answers where handlers
 * can tell: another owner's link is DB_NOT_FOUND, a taken slug DB_CONFLICT, lists are newest first. */
#include "fake_db.h"

#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "db_keys.h"
#include "db_domains.h"
#include "db_import.h"
#include "db_links.h"
#include "db_stats.h"
#include "xalloc.h"
#include "db_sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    MAX_LINKS = 256,
    MAX_KEYS = 16,
    MAX_NOTES = 16,
    MAX_SESSIONS = 16,
    VISIT_ROWS = 1 << 19, /* a row per dimension of each key: 30,000 keys make 270,000 */
    VISIT_INDEX = 1 << 20,
    VALUE_MAX = 63
};

struct stored {
    long long owner;
    struct link l;
};

/* a row of the hours as the view visit_counts shows them: (link, hour, dimension, value) and two counts */
struct visit_row {
    long long link_id;
    int hour;
    int dim;
    char value[VALUE_MAX + 1];
    long long humans, bots;
};

static struct arena *store; /* the strings of stored links and queued notifications */
static struct stored links[MAX_LINKS];
static int nlinks;
static long long next_id;
static unsigned char key_hash[MAX_KEYS][KEY_HASH_LEN];
static enum key_scope key_scope[MAX_KEYS];
static long long key_touched[MAX_KEYS]; /* the last use db_keys_touch wrote, 0 for none */
static int nkeys;
static bool key_revoked[MAX_KEYS];
/* a session: the hash of its id and the key (index + 1) it was made from; 0 once deleted */
static struct {
    unsigned char hash[SESSION_HASH_LEN];
    int key;
} sessions[MAX_SESSIONS];
static int nsessions;
static int fail_rc;
static unsigned long fail_after;
static int fail_visits;
static unsigned long queries, listens, batches, batch_rows;
static unsigned long generation = 1;
static const char *notes[MAX_NOTES][2];
static int nnotes;
static struct visit_row *visits; /* VISIT_ROWS, allocated at the first reset */
static int nvisits;
static int tx_links = -1; /* links stored when the open transaction began; -1: none open */
static long long tx_next_id;
static int visit_index[VISIT_INDEX]; /* row number + 1, 0 for none: batches of thousands of keys stay quick */

static void log_reset(void);

void fake_db_reset(void)
{
    if (store)
        arena_free(store);
    store = arena_new(4096);
    memset(links, 0, sizeof(links));
    if (!visits)
        visits = xmalloc(VISIT_ROWS * sizeof(*visits));
    memset(visit_index, 0, sizeof(visit_index));
    memset(key_touched, 0, sizeof(key_touched));
    nlinks = nkeys = nnotes = nvisits = 0;
    tx_links = -1;
    next_id = 0;
    fail_rc = DB_OK;
    fail_after = 0;
    fail_visits = 0;
    log_reset();
    queries = listens = batches = batch_rows = 0;
    generation++;
    memset(key_revoked, 0, sizeof(key_revoked));
    memset(sessions, 0, sizeof(sessions));
    nsessions = 0;
}

void fake_db_fail(int rc, unsigned long after)
{
    fail_rc = rc;
    fail_after = after;
}

void fake_db_fail_visits(int n)
{
    fail_visits = n;
}

unsigned long fake_db_queries(void)
{
    return queries;
}

/* Every query starts here: counted, and failed while the switch is set. */
static int query(void)
{
    queries++;
    if (fail_after > 0) {
        fail_after--;
        return DB_OK;
    }
    return fail_rc;
}

static const char *dup_opt(struct arena *a, const char *s)
{
    return s ? arena_strdup(a, s) : NULL;
}

/* l with every string copied into a, as a row decoded into the caller's arena would be. */
static void copy_link(struct arena *a, const struct link *l, struct link *out)
{
    *out = *l;
    out->slug = arena_strdup(a, l->slug);
    out->url = arena_strdup(a, l->url);
    out->created_at = arena_strdup(a, l->created_at);
    out->expires_at = dup_opt(a, l->expires_at);
    out->password_hash = dup_opt(a, l->password_hash);
    out->ios_url = dup_opt(a, l->ios_url);
    out->android_url = dup_opt(a, l->android_url);
    out->title = dup_opt(a, l->title);
    out->expired_url = dup_opt(a, l->expired_url);
    out->tags = l->ntags ? arena_alloc(a, l->ntags * sizeof(*out->tags)) : NULL;
    for (size_t i = 0; i < l->ntags; i++)
        out->tags[i] = arena_strdup(a, l->tags[i]);
}

/* What a row of LINK_COLUMNS holds for s: the stored link with its visits (humans, bots) added up. */
static void row(struct arena *a, const struct stored *s, struct link *out)
{
    copy_link(a, &s->l, out);
    out->visits = fake_db_humans(s->l.id, VISIT_DIM_TOTAL, "");
    out->bot_visits = fake_db_bots(s->l.id, VISIT_DIM_TOTAL, "");
}

/* slugs are unique per domain (0: none), as links_domain_slug says */
static struct stored *by_slug(long long domain_id, const char *slug)
{
    for (int i = 0; i < nlinks; i++) {
        if (links[i].l.slug && links[i].l.domain_id == domain_id && strcmp(links[i].l.slug, slug) == 0)
            return &links[i];
    }
    return NULL;
}

/* owner's link by slug: another owner's is as absent as none, as in WHERE slug = $1 AND owner_id = $2 */
static struct stored *owned(long long domain_id, const char *slug, long long owner)
{
    struct stored *s = by_slug(domain_id, slug);
    return s && s->owner == owner ? s : NULL;
}

static struct stored *by_id(long long id)
{
    for (int i = 0; i < nlinks; i++) {
        if (links[i].l.slug && links[i].l.id == id)
            return &links[i];
    }
    return NULL;
}

static long long epoch_of(const char *rfc3339)
{
    struct tm tm = {0};
    if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (long long)timegm(&tm);
}

static bool live(const struct link *l)
{
    if (l->disabled || (l->expires_epoch && l->expires_epoch <= (long long)time(NULL)))
        return false;
    return !l->max_visits || l->visits_used < l->max_visits;
}

long long fake_db_add_key_scoped(const char *token, enum key_scope scope)
{
    if (nkeys == MAX_KEYS)
        abort();
    apikey_hash(token, key_hash[nkeys]);
    key_scope[nkeys] = scope;
    return ++nkeys;
}

long long fake_db_add_key(const char *token)
{
    return fake_db_add_key_scoped(token, KEY_SCOPE_FULL);
}

long long fake_db_key_touched(long long key_id)
{
    return key_id >= 1 && key_id <= nkeys ? key_touched[key_id - 1] : 0;
}

struct link *fake_db_add_link(long long owner, const char *slug, const char *url)
{
    if (nlinks == MAX_LINKS)
        abort();
    struct stored *s = &links[nlinks++];
    s->owner = owner;
    s->l = (struct link){.id = ++next_id,
                         .slug = arena_strdup(store, slug),
                         .url = arena_strdup(store, url),
                         .redirect = 302,
                         .created_at = "2026-01-02T03:04:05Z"};
    return &s->l;
}

void fake_db_notify(const char *channel, const char *payload)
{
    if (nnotes == MAX_NOTES)
        abort();
    notes[nnotes][0] = arena_strdup(store, channel);
    notes[nnotes][1] = arena_strdup(store, payload);
    nnotes++;
}

void fake_db_reconnect(void)
{
    generation++;
}

unsigned long fake_db_listens(void)
{
    return listens;
}

/* ---- db.h ---- */

int db_connect(void)
{
    return query();
}

void db_disconnect(void)
{
}

int db_socket(void)
{
    return -1;
}

void db_consume(void (*fn)(const char *channel, const char *payload), bool read_socket)
{
    (void)read_socket;
    for (int i = 0; i < nnotes; i++)
        fn(notes[i][0], notes[i][1]);
    nnotes = 0;
}

void db_forget(void)
{
}

unsigned long db_generation(void)
{
    return generation;
}

int db_ping(void)
{
    return query();
}

/* ---- db_keys.h ---- */

/* Owner i + 1 has key i + 1: one key per owner. */
int db_key_find(const unsigned char hash[KEY_HASH_LEN], struct key_grant *grant)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nkeys; i++) {
        if (!key_revoked[i] && memcmp(key_hash[i], hash, KEY_HASH_LEN) == 0) {
            *grant = (struct key_grant){.owner_id = i + 1, .key_id = i + 1, .scope = key_scope[i]};
            return DB_OK;
        }
    }
    return DB_NOT_FOUND;
}

int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN], enum key_scope scope,
               long long *key_id)
{
    (void)owner;
    int rc = query();
    if (rc != DB_OK || nkeys == MAX_KEYS)
        return rc != DB_OK ? rc : DB_ERROR;
    memcpy(key_hash[nkeys], hash, KEY_HASH_LEN);
    key_scope[nkeys] = scope;
    *key_id = ++nkeys;
    return DB_OK;
}

int db_keys_list(void (*fn)(const struct key_row *row))
{
    int rc = query();
    for (int i = 0; rc == DB_OK && i < nkeys; i++) {
        struct key_row row = {.owner = "owner",
                              .scope = key_scope_name(key_scope[i]),
                              .created = "2026-01-02T03:04:05Z",
                              .id = i + 1};
        fn(&row);
    }
    return rc;
}

int db_keys_revoke(const char *owner, int *count)
{
    (void)owner;
    *count = 0;
    return query();
}

int db_key_revoke_id(long long id, char *owner, size_t cap)
{
    (void)id;
    (void)owner;
    (void)cap;
    int rc = query();
    return rc != DB_OK ? rc : DB_NOT_FOUND;
}

int db_keys_touch(const long long *ids, const long long *epochs, size_t n)
{
    int rc = query();
    for (size_t i = 0; rc == DB_OK && i < n; i++) {
        if (ids[i] >= 1 && ids[i] <= nkeys && epochs[i] > key_touched[ids[i] - 1])
            key_touched[ids[i] - 1] = epochs[i];
    }
    return rc;
}

void fake_db_revoke_key(long long owner)
{
    key_revoked[owner - 1] = true;
}

int fake_db_sessions(void)
{
    int n = 0;
    for (int i = 0; i < nsessions; i++)
        n += sessions[i].key != 0;
    return n;
}

/* ---- db_sessions.h ---- */

int db_session_create(struct arena *a, const unsigned char key_hash_in[KEY_HASH_LEN],
                      const unsigned char sid_hash[SESSION_HASH_LEN], int ttl, long long *owner_id,
                      const char **expires_at)
{
    (void)ttl;
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nkeys; i++) {
        if (key_revoked[i] || memcmp(key_hash[i], key_hash_in, KEY_HASH_LEN) != 0)
            continue;
        if (nsessions == MAX_SESSIONS)
            abort();
        memcpy(sessions[nsessions].hash, sid_hash, SESSION_HASH_LEN);
        sessions[nsessions++].key = i + 1;
        *owner_id = i + 1;
        *expires_at = arena_strdup(a, "2026-01-09T03:04:05Z");
        return DB_OK;
    }
    return DB_NOT_FOUND;
}

int db_session_find(struct arena *a, const unsigned char sid_hash[SESSION_HASH_LEN], struct key_grant *grant,
                    const char **expires_at)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nsessions; i++) {
        int k = sessions[i].key;
        if (k && !key_revoked[k - 1] && memcmp(sessions[i].hash, sid_hash, SESSION_HASH_LEN) == 0) {
            *grant = (struct key_grant){.owner_id = k, .key_id = k, .scope = key_scope[k - 1]};
            *expires_at = arena_strdup(a, "2026-01-09T03:04:05Z");
            return DB_OK;
        }
    }
    return DB_NOT_FOUND;
}

int db_session_delete(const unsigned char sid_hash[SESSION_HASH_LEN])
{
    int rc = query();
    for (int i = 0; rc == DB_OK && i < nsessions; i++)
        if (memcmp(sessions[i].hash, sid_hash, SESSION_HASH_LEN) == 0)
            sessions[i].key = 0;
    return rc;
}

/* ---- db_links.h ---- */

int db_link_find(struct arena *a, long long domain_id, const char *slug, struct link *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    const struct stored *s = by_slug(domain_id, slug);
    if (!s)
        return DB_NOT_FOUND;
    copy_link(a, &s->l, out);
    out->visits = 0;
    return DB_OK;
}

/* Applies what f sets to l (strings copied into the store). */
static void apply(struct link *l, const struct link_fields *f, bool create)
{
    if (f->url)
        l->url = arena_strdup(store, f->url);
    if (f->redirect)
        l->redirect = f->redirect;
    if (f->set_expires || create) {
        l->expires_at = dup_opt(store, f->expires_at);
        l->expires_epoch = epoch_of(f->expires_at);
    }
    if (f->set_disabled)
        l->disabled = f->disabled;
    if (f->set_password)
        l->password_hash = dup_opt(store, f->password_hash);
    if (f->set_max_visits)
        l->max_visits = f->max_visits;
    if (f->set_forward_query)
        l->forward_query = f->forward_query;
    if (f->set_targets) {
        l->ios_url = dup_opt(store, f->ios_url);
        l->android_url = dup_opt(store, f->android_url);
    }
    if (f->set_tags) {
        l->ntags = f->ntags;
        l->tags = f->ntags ? arena_alloc(store, f->ntags * sizeof(*l->tags)) : NULL;
        for (size_t i = 0; i < f->ntags; i++)
            l->tags[i] = arena_strdup(store, f->tags[i]);
    }
    if (f->set_title)
        l->title = dup_opt(store, f->title);
    if (f->set_expired_url)
        l->expired_url = dup_opt(store, f->expired_url);
}

int db_link_create(struct arena *a, long long owner_id, const struct link_fields *f, struct link *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    if (by_slug(f->domain_id, f->slug))
        return DB_CONFLICT;
    struct link *l = fake_db_add_link(owner_id, f->slug, f->url);
    l->domain_id = f->domain_id;
    apply(l, f, true);
    row(a, &links[nlinks - 1], out);
    return DB_OK;
}

int db_link_reuse(struct arena *a, long long owner_id, long long domain_id, const char *url, const char *slug,
                  struct link *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = nlinks - 1; i >= 0; i--) {
        const struct stored *s = &links[i];
        if (s->l.slug && s->owner == owner_id && s->l.domain_id == domain_id && strcmp(s->l.url, url) == 0 &&
            (!slug || strcmp(s->l.slug, slug) == 0) && live(&s->l)) {
            row(a, s, out);
            return DB_OK;
        }
    }
    return DB_NOT_FOUND;
}

int db_link_get(struct arena *a, long long domain_id, const char *slug, long long owner_id, struct link *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    const struct stored *s = owned(domain_id, slug, owner_id);
    if (!s)
        return DB_NOT_FOUND;
    row(a, s, out);
    return DB_OK;
}

/* Whether l carries every tag of f and, with a pattern ("%text%", wildcards escaped), contains its text. */
static bool passes(const struct link *l, const struct link_filter *f)
{
    if (!f)
        return true;
    for (size_t t = 0; t < f->ntags; t++) {
        bool has = false;
        for (size_t i = 0; i < l->ntags; i++)
            has = has || strcmp(l->tags[i], f->tags[t]) == 0;
        if (!has)
            return false;
    }
    if (!f->pattern)
        return true;
    char text[256];
    snprintf(text, sizeof(text), "%s", f->pattern + (f->pattern[0] == '%'));
    size_t n = strlen(text);
    if (n && text[n - 1] == '%')
        text[n - 1] = '\0';
    return strstr(l->slug, text) || strstr(l->url, text) || (l->title && strstr(l->title, text));
}

int db_link_list(struct arena *a, long long owner_id, const struct link_filter *f, long long before_id,
                 int limit, struct link **out, size_t *n)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    *out = arena_alloc(a, (size_t)limit * sizeof(**out));
    *n = 0;
    /* ids grow with each insert, so the store's order backwards is newest first */
    for (int i = nlinks - 1; i >= 0 && *n < (size_t)limit; i--) {
        const struct stored *s = &links[i];
        if (s->l.slug && s->owner == owner_id && (before_id == 0 || s->l.id < before_id) && passes(&s->l, f))
            row(a, s, &(*out)[(*n)++]);
    }
    return DB_OK;
}

int db_link_update(struct arena *a, const char *slug, long long owner_id, const struct link_fields *f,
                   struct link *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    struct stored *s = owned(f->domain_id, slug, owner_id);
    if (!s)
        return DB_NOT_FOUND;
    apply(&s->l, f, false);
    row(a, s, out);
    return DB_OK;
}

int db_link_delete(long long domain_id, const char *slug, long long owner_id)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    struct stored *s = owned(domain_id, slug, owner_id);
    if (!s)
        return DB_NOT_FOUND;
    s->l.slug = NULL; /* the row is gone; its place in the store stays */
    return DB_OK;
}

int db_link_claim(long long link_id)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    struct stored *s = by_id(link_id);
    if (!s || s->l.max_visits < 1 || s->l.visits_used >= s->l.max_visits)
        return DB_NOT_FOUND;
    s->l.visits_used++;
    return DB_OK;
}

int db_link_has_visits_left(long long link_id)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    const struct stored *s = by_id(link_id);
    return s && s->l.max_visits >= 1 && s->l.visits_used < s->l.max_visits ? DB_OK : DB_NOT_FOUND;
}

int db_links_listen(void)
{
    listens++;
    return query();
}

int db_tags_count(struct arena *a, long long owner_id, struct tag_count **out, size_t *n)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    *n = 0;
    *out = arena_alloc(a, MAX_LINKS * sizeof(**out));
    for (int i = 0; i < nlinks; i++) {
        if (!links[i].l.slug || links[i].owner != owner_id)
            continue;
        for (size_t t = 0; t < links[i].l.ntags; t++) {
            size_t k = 0;
            while (k < *n && strcmp((*out)[k].tag, links[i].l.tags[t]) != 0)
                k++;
            if (k == *n && *n < MAX_LINKS)
                (*out)[(*n)++] = (struct tag_count){arena_strdup(a, links[i].l.tags[t]), 0};
            if (k < *n)
                (*out)[k].links++;
        }
    }
    return DB_OK;
}

/* ---- db_domains.h: the fake serves no domain (one namespace, as an install without domains) ---- */

int db_domains_list(struct arena *a, struct domain **out, size_t *n)
{
    *out = arena_alloc(a, sizeof(**out));
    *n = 0;
    return query();
}

int db_domain_add(const char *name, const char *root_redirect, const char *not_found_redirect,
                  bool *is_default, long long *adopted)
{
    (void)name;
    (void)root_redirect;
    (void)not_found_redirect;
    *is_default = false;
    *adopted = 0;
    return DB_ERROR;
}

int db_domain_remove(struct arena *a, const char *name, bool with_links, long long *deleted,
                     const char **new_default)
{
    (void)a;
    (void)name;
    (void)with_links;
    *deleted = 0;
    *new_default = NULL;
    return DB_NOT_FOUND;
}

int db_domains_listen(void)
{
    return query();
}

/* ---- visits ---- */

static unsigned visit_hash(long long link_id, int hour, int dim, const char *value)
{
    unsigned long long h = ((unsigned long long)link_id * 1000003ULL + (unsigned)hour) * 31 + (unsigned)dim;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        h = h * 31 + *p;
    return (unsigned)(h % VISIT_INDEX);
}

/* The row of (link_id, hour, dim, value), made when new: a key of the view visit_counts. */
static struct visit_row *visit_row(long long link_id, int hour, int dim, const char *value)
{
    unsigned i = visit_hash(link_id, hour, dim, value);
    for (; visit_index[i]; i = (i + 1) % VISIT_INDEX) {
        struct visit_row *v = &visits[visit_index[i] - 1];
        if (v->link_id == link_id && v->hour == hour && v->dim == dim && strcmp(v->value, value) == 0)
            return v;
    }
    if (nvisits == VISIT_ROWS)
        abort();
    struct visit_row *v = &visits[nvisits++];
    *v = (struct visit_row){.link_id = link_id, .hour = hour, .dim = dim};
    snprintf(v->value, sizeof(v->value), "%s", value);
    visit_index[i] = nvisits;
    return v;
}

/* A batch as the statement adds it, once the connection answered. */
static int visits_apply(const struct visit_rows *b)
{
    if (fail_visits > 0) {
        fail_visits--;
        return DB_UNAVAILABLE;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct visit_row *v = visit_row(b->link_id[i], b->hour[i], b->dim[i], b->value[i]);
        v->humans += b->humans[i];
        v->bots += b->bots[i];
    }
    batches++;
    batch_rows += b->n;
    return DB_OK;
}

int db_visits_add(const struct visit_rows *b)
{
    int rc = query();
    return rc == DB_OK ? visits_apply(b) : rc;
}

/* The answer db_visits_send's batch got, given by db_visits_result: the fake database applies it at once. */
static int sent_rc;
static bool sent;

int db_visits_send(const struct visit_rows *b)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    sent_rc = visits_apply(b);
    sent = true;
    return DB_OK;
}

int db_visits_result(bool wait)
{
    (void)wait;
    if (!sent)
        return DB_ERROR;
    sent = false;
    return sent_rc;
}

/* ---- the log of the master's window (migration 0021) ---- */

enum { LOG_ROWS = 4096, LOG_SEEN = 4096 };
static struct {
    long long id;
    int part;
    unsigned char *data;
    size_t len;
    bool old; /* as written_at long ago: fake_db_log_age */
} log_rows[LOG_ROWS];
static int nlog;
static long long log_seen[LOG_SEEN]; /* batch ids the log took, as visit_batches keeps them */
static int nseen;
static int fail_applies, lost_applies, fail_reads;
static double apply_ms; /* what each statement that adds a part takes in PostgreSQL */

static void log_reset(void)
{
    for (int i = 0; i < nlog; i++)
        free(log_rows[i].data);
    nlog = nseen = 0;
    fail_applies = lost_applies = fail_reads = 0;
    apply_ms = 0;
}

void fake_db_apply_ms(double ms)
{
    apply_ms = ms;
}

void fake_db_fail_reads(int n)
{
    fail_reads = n;
}

void fake_db_fail_applies(int n, bool committed)
{
    if (committed)
        lost_applies = n;
    else
        fail_applies = n;
}

void fake_db_log_age(void)
{
    for (int i = 0; i < nlog; i++)
        log_rows[i].old = true;
}

int fake_db_log_rows(void)
{
    return nlog;
}

void fake_db_log_put(long long id, int part, const void *data, size_t len)
{
    if (nlog == LOG_ROWS)
        abort();
    log_rows[nlog].id = id;
    log_rows[nlog].part = part;
    log_rows[nlog].data = xmalloc(len ? len : 1);
    memcpy(log_rows[nlog].data, data, len);
    log_rows[nlog].len = len;
    log_rows[nlog].old = false;
    nlog++;
}

void fake_db_log_copy(long long id)
{
    for (int i = 0, n = nlog; i < n; i++)
        fake_db_log_put(id, log_rows[i].part, log_rows[i].data, log_rows[i].len);
}

static int log_add(const struct visit_rows *b, const unsigned char *enc, const int *off, const int *len,
                   int nparts)
{
    if (fail_visits > 0) {
        fail_visits--;
        return DB_UNAVAILABLE;
    }
    for (int i = 0; i < nseen; i++) {
        if (log_seen[i] == b->batch_id)
            return DB_CONFLICT;
    }
    if (nseen == LOG_SEEN)
        abort();
    log_seen[nseen++] = b->batch_id;
    for (int p = 0; p < nparts; p++) {
        if (len[p] == 0)
            continue;
        if (nlog == LOG_ROWS)
            abort();
        log_rows[nlog].id = b->batch_id;
        log_rows[nlog].part = p;
        log_rows[nlog].data = xmalloc((size_t)len[p]);
        memcpy(log_rows[nlog].data, enc + off[p], (size_t)len[p]);
        log_rows[nlog].len = (size_t)len[p];
        log_rows[nlog].old = false;
        nlog++;
    }
    batches++;
    return DB_OK;
}

int db_visits_log_add(const struct visit_rows *b, const struct visit_log_enc *e)
{
    int rc = query();
    return rc == DB_OK ? log_add(b, e->data, e->off, e->len, e->nparts) : rc;
}

int db_visits_writer(long long writer)
{
    (void)writer;
    return query();
}

int db_visits_log_send(const struct visit_rows *b, const struct visit_log_enc *e)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    sent_rc = log_add(b, e->data, e->off, e->len, e->nparts);
    sent = true;
    return DB_OK;
}

static int log_find(long long id, int part)
{
    for (int i = 0; i < nlog; i++) {
        if (log_rows[i].id == id && log_rows[i].part == part)
            return i;
    }
    return -1;
}

static void log_drop(int i)
{
    free(log_rows[i].data);
    log_rows[i] = log_rows[--nlog];
}

/* The statement that adds a part's sum, once the connection answered. */
static int apply_now(int part, const struct visit_rows *rows, const long long *ids, size_t nids)
{
    int rc;
    if (fail_applies > 0) {
        fail_applies--;
        return DB_UNAVAILABLE;
    }
    for (size_t k = 0; k < nids; k++) {
        if (log_find(ids[k], part) < 0)
            return DB_ERROR; /* visit_log_take: a row was added already; nothing is done */
    }
    for (size_t k = 0; k < nids; k++)
        log_drop(log_find(ids[k], part));
    rc = visits_apply(rows);
    batches--; /* an apply is no batch */
    if (rc == DB_OK && lost_applies > 0) {
        lost_applies--;
        return DB_UNAVAILABLE; /* committed, and the answer lost */
    }
    return rc;
}

int db_visits_apply(int part, const struct visit_rows *rows, const long long *ids, size_t nids, double *pg_ms)
{
    *pg_ms = apply_ms;
    int rc = query();
    return rc == DB_OK ? apply_now(part, rows, ids, nids) : rc;
}

int db_visits_apply_send(int part, const struct visit_rows *rows, const long long *ids, size_t nids)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    sent_rc = apply_now(part, rows, ids, nids);
    sent = true;
    return DB_OK;
}

int db_visits_apply_result(bool wait, double *pg_ms)
{
    *pg_ms = apply_ms;
    return db_visits_result(wait);
}

int db_visits_log_read(int part, const long long *ids, size_t nids, db_log_row_fn fn, void *ctx)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    if (fail_reads > 0) {
        fail_reads--;
        return DB_UNAVAILABLE;
    }
    for (int i = 0; i < nlog; i++) {
        for (size_t k = 0; k < nids; k++) {
            if (log_rows[i].part == part && log_rows[i].id == ids[k])
                fn(ctx, log_rows[i].id, part, log_rows[i].data, log_rows[i].len);
        }
    }
    return DB_OK;
}

int db_visits_orphans(long long age_ms, const long long *ids, size_t nids, int limit, db_log_row_fn fn,
                      void *ctx)
{
    (void)age_ms;
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nlog && limit > 0; i++) {
        bool own = false;
        for (size_t k = 0; k < nids && !own; k++)
            own = log_rows[i].id == ids[k];
        if (log_rows[i].old && !own) {
            fn(ctx, log_rows[i].id, log_rows[i].part, log_rows[i].data, log_rows[i].len);
            limit--;
        }
    }
    return DB_OK;
}

int db_visits_spool_id(char out[37])
{
    snprintf(out, 37, "00000000-0000-4000-8000-000000000000");
    return query();
}

int db_visits_close(long long *was, long long *open_day)
{
    *was = *open_day = (long long)(time(NULL) / 86400);
    return query();
}

int db_visits_rollup(int days)
{
    (void)days;
    return query();
}

/* Humans (want_bots false) or bots in link_id's rows of dim, for one value or, NULL, every one. */
static long long count(long long link_id, int dim, const char *value, bool want_bots)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++) {
        const struct visit_row *v = &visits[i];
        if (v->link_id == link_id && v->dim == dim && (!value || strcmp(v->value, value) == 0))
            n += want_bots ? v->bots : v->humans;
    }
    return n;
}

long long fake_db_humans(long long link_id, int dim, const char *value)
{
    return count(link_id, dim, value, false);
}

long long fake_db_bots(long long link_id, int dim, const char *value)
{
    return count(link_id, dim, value, true);
}

long long fake_db_visits(long long link_id, const char *host)
{
    int dim = host ? VISIT_DIM_REFERRER : VISIT_DIM_TOTAL;
    long long n = fake_db_humans(link_id, dim, host) + fake_db_bots(link_id, dim, host);
    if (!host || strcmp(host, visit_dim_none(dim)) != 0)
        return n;
    /* no referrer: as the stats read it, the total less every host's */
    long long total = fake_db_visits(link_id, NULL);
    return n + total - fake_db_humans(link_id, dim, NULL) - fake_db_bots(link_id, dim, NULL);
}

long long fake_db_visits_total(void)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++)
        n += visits[i].dim == VISIT_DIM_TOTAL ? visits[i].humans + visits[i].bots : 0;
    return n;
}

long long fake_db_dim_total(int dim)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++)
        n += visits[i].dim == dim ? visits[i].humans + visits[i].bots : 0;
    return n;
}

unsigned long fake_db_visit_rows(void)
{
    return batch_rows;
}

unsigned long fake_db_visit_batches(void)
{
    return batches;
}

/* ---- db_stats.h: UTC only, whole days or hours; enough for handlers to shape their answers ---- */

/* The start of the range as an epoch: from as a date or time, else days back, else 30 days back. */
static long long range_from(const struct stats_range *rg, long long to, long long step)
{
    struct tm tm = {0};
    if (rg->from_date && strptime(rg->from_date, "%Y-%m-%d", &tm))
        return (long long)timegm(&tm);
    if (rg->from_time)
        return epoch_of(rg->from_time) / step * step;
    long long today = (to - 1) / 86400 * 86400;
    return today - (rg->days ? rg->days - 1 : 29) * 86400LL;
}

static long long range_to(const struct stats_range *rg)
{
    struct tm tm = {0};
    if (rg->to_date && strptime(rg->to_date, "%Y-%m-%d", &tm))
        return (long long)timegm(&tm) + 86400;
    if (rg->to_time)
        return epoch_of(rg->to_time);
    return (long long)time(NULL);
}

/* Humans and bots of link_id, or of every link of owner_id, over [lo, hi), from the total rows. */
static void bucket_counts(long long id, bool owner, long long lo, long long hi, long long *h, long long *b)
{
    *h = *b = 0;
    for (int i = 0; i < nvisits; i++) {
        const struct visit_row *v = &visits[i];
        const struct stored *s = by_id(v->link_id);
        bool mine = owner ? s && s->owner == id : v->link_id == id;
        long long t = (long long)v->hour * 3600;
        if (mine && v->dim == VISIT_DIM_TOTAL && t >= lo && t < hi) {
            *h += v->humans;
            *b += v->bots;
        }
    }
}

int db_stats_series(struct arena *a, long long id, bool owner, const struct stats_range *rg,
                    struct stats_bucket **out, size_t *n)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    long long step = rg->hourly ? 3600 : 86400;
    long long to = range_to(rg), from = range_from(rg, to, step);
    *n = 0;
    *out = arena_alloc(a, sizeof(**out) * (size_t)((to - from) / step + 2));
    for (long long lo = from; lo < to; lo += step) {
        time_t t = (time_t)lo;
        struct tm tm;
        gmtime_r(&t, &tm);
        char local[32];
        strftime(local, sizeof(local), "%Y-%m-%dT%H:%M:%S", &tm);
        struct stats_bucket *b = &(*out)[(*n)++];
        *b = (struct stats_bucket){.local = arena_strdup(a, local), .lo = lo, .hi = lo + step};
        bucket_counts(id, owner, lo, lo + step, &b->humans, &b->bots);
    }
    return DB_OK;
}

/* k visits to the entry of (dim, value), made when new and there is room. */
static void top_add(struct arena *a, struct stats_value *out, size_t *n, int dim, const char *value,
                    long long k)
{
    if (k <= 0)
        return;
    size_t e = 0;
    while (e < *n && (out[e].dim != dim || strcmp(out[e].value, value) != 0))
        e++;
    if (e == *n && *n < 20 * VISIT_NDIMS)
        out[(*n)++] = (struct stats_value){dim, arena_strdup(a, value), 0};
    if (e < *n)
        out[e].visits += k;
}

int db_stats_top(struct arena *a, long long id, bool owner, long long lo, long long hi, bool bots,
                 int hourly_days, struct stats_value **out, size_t *n)
{
    (void)hourly_days; /* the fake keeps every hour */
    int rc = query();
    if (rc != DB_OK)
        return rc;
    /* one entry per (dimension, value), in the order first seen: tests use few values */
    *n = 0;
    *out = arena_alloc(a, sizeof(**out) * 20 * VISIT_NDIMS);
    long long sum[VISIT_NDIMS] = {0};
    for (int i = 0; i < nvisits; i++) {
        const struct visit_row *v = &visits[i];
        const struct stored *s = by_id(v->link_id);
        bool mine = owner ? s && s->owner == id : v->link_id == id;
        long long t = (long long)v->hour * 3600;
        if (!mine || t < lo || t >= hi)
            continue;
        long long k = v->humans + (bots ? v->bots : 0);
        sum[v->dim] += k;
        if (v->dim != VISIT_DIM_TOTAL)
            top_add(a, *out, n, v->dim, v->value, k);
    }
    /* as STMT_STATS_TOP_*: each dimension's none value counts the total less the dimension's other values */
    for (int d = VISIT_DIM_TOTAL + 1; d < VISIT_NDIMS; d++)
        top_add(a, *out, n, d, visit_dim_none(d), sum[VISIT_DIM_TOTAL] - sum[d]);
    return DB_OK;
}

int db_stats_top_links(struct arena *a, long long owner_id, long long lo, long long hi, bool bots,
                       int hourly_days, struct stats_link **out, size_t *n)
{
    (void)hourly_days;
    int rc = query();
    if (rc != DB_OK)
        return rc;
    *n = 0;
    *out = arena_alloc(a, sizeof(**out) * 20);
    for (int i = 0; i < nlinks && *n < 20; i++) {
        if (!links[i].l.slug || links[i].owner != owner_id)
            continue;
        long long h, b;
        bucket_counts(links[i].l.id, false, lo, hi, &h, &b);
        if (h + (bots ? b : 0) > 0)
            (*out)[(*n)++] = (struct stats_link){arena_strdup(a, links[i].l.slug), NULL, h + (bots ? b : 0)};
    }
    return DB_OK;
}

int db_tz_names(char ***out, size_t *n)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    static const char *const names[] = {"America/New_York", "Europe/Paris", "UTC"};
    *n = sizeof(names) / sizeof(names[0]);
    *out = xmalloc(sizeof(**out) * *n);
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = xstrdup(names[i]);
    return DB_OK;
}

/* ---- db_import.h: the parts handlers use (bulk create, export) ---- */

/* the same header names as db_import.c's: an export's first line */
const char *const db_export_names[DB_EXPORT_NCOLS] = {
    "slug",       "url",           "domain",  "redirect",        "created_at",
    "expires_at", "disabled",      "visits",  "imported_visits", "password_hash",
    "max_visits", "forward_query", "ios_url", "android_url",     "tags",
    "title",      "expired_url"};

/* Only creates happen inside a bulk transaction, so a rollback forgets the links stored since it began. */
int db_tx_begin(void)
{
    int rc = query();
    if (rc == DB_OK) {
        tx_links = nlinks;
        tx_next_id = next_id;
    }
    return rc;
}

int db_tx_end(bool commit)
{
    int rc = query();
    if (!commit && tx_links >= 0) {
        nlinks = tx_links;
        next_id = tx_next_id;
    }
    tx_links = -1;
    return rc;
}

/* Owners are named "owner<id>" here (db_keys_list calls every one "owner"). */
int db_owner_id(const char *owner_name, long long *id)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    long long n = 0;
    if (sscanf(owner_name, "owner%lld", &n) != 1 || n < 1 || n > nkeys)
        return DB_NOT_FOUND;
    *id = n;
    return DB_OK;
}

int db_export_page(long long owner_id, long long *after, int limit,
                   void (*fn)(void *ctx, const char *const *cols), void *ctx, int *n)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    *n = 0;
    for (int i = 0; i < nlinks && *n < limit; i++) {
        const struct link *l = &links[i].l;
        if (!l->slug || links[i].owner != owner_id || l->id <= *after)
            continue;
        char redirect[8], visits_s[24], max[24], tags[512] = "";
        snprintf(redirect, sizeof(redirect), "%d", l->redirect);
        snprintf(visits_s, sizeof(visits_s), "%lld", fake_db_humans(l->id, VISIT_DIM_TOTAL, ""));
        snprintf(max, sizeof(max), "%lld", l->max_visits);
        for (size_t t = 0; t < l->ntags; t++)
            snprintf(tags + strlen(tags), sizeof(tags) - strlen(tags), "%s%s", t ? "," : "", l->tags[t]);
        const char *cols[DB_EXPORT_NCOLS] = {
            [DB_EXPORT_SLUG] = l->slug,
            [DB_EXPORT_URL] = l->url,
            [DB_EXPORT_DOMAIN] = l->domain,
            [DB_EXPORT_REDIRECT] = redirect,
            [DB_EXPORT_CREATED_AT] = l->created_at,
            [DB_EXPORT_EXPIRES_AT] = l->expires_at,
            [DB_EXPORT_DISABLED] = l->disabled ? "t" : "f",
            [DB_EXPORT_VISITS] = visits_s,
            [DB_EXPORT_IMPORTED_VISITS] = "0",
            [DB_EXPORT_PASSWORD_HASH] = l->password_hash,
            [DB_EXPORT_MAX_VISITS] = l->max_visits ? max : NULL,
            [DB_EXPORT_FORWARD_QUERY] = l->forward_query ? "t" : "f",
            [DB_EXPORT_IOS_URL] = l->ios_url,
            [DB_EXPORT_ANDROID_URL] = l->android_url,
            [DB_EXPORT_TAGS] = tags,
            [DB_EXPORT_TITLE] = l->title,
            [DB_EXPORT_EXPIRED_URL] = l->expired_url,
        };
        fn(ctx, cols);
        *after = l->id;
        (*n)++;
    }
    return DB_OK;
}
