/* The in-memory database of the handler tests; see fake_db.h. It keeps PostgreSQL's answers where handlers
 * can tell: another owner's link is DB_NOT_FOUND, a taken slug DB_CONFLICT, lists are newest first. */
#include "fake_db.h"

#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "db_keys.h"
#include "db_domains.h"
#include "db_links.h"
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
    VISIT_ROWS = 32768,
    VISIT_INDEX = 65536,
    HOST_MAX = 63
};

struct stored {
    long long owner;
    struct link l;
};

struct visit_row {
    long long link_id;
    int day;
    char host[HOST_MAX + 1];
    long long n;
};

static struct arena *store; /* the strings of stored links and queued notifications */
static struct stored links[MAX_LINKS];
static int nlinks;
static long long next_id;
static unsigned char key_hash[MAX_KEYS][KEY_HASH_LEN];
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
static unsigned long queries, listens, batches;
static unsigned long generation = 1;
static const char *notes[MAX_NOTES][2];
static int nnotes;
static struct visit_row visits[VISIT_ROWS];
static int nvisits;
static int visit_index[VISIT_INDEX]; /* row number + 1, 0 for none: batches of thousands of keys stay quick */

void fake_db_reset(void)
{
    if (store)
        arena_free(store);
    store = arena_new(4096);
    memset(links, 0, sizeof(links));
    memset(visit_index, 0, sizeof(visit_index));
    nlinks = nkeys = nnotes = nvisits = 0;
    next_id = 0;
    fail_rc = DB_OK;
    fail_after = 0;
    fail_visits = 0;
    queries = listens = batches = 0;
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

static long long link_visits(long long id)
{
    return fake_db_visits(id, NULL);
}

/* What a row of LINK_COLUMNS holds for s: the stored link with its visits added up. */
static void row(struct arena *a, const struct stored *s, struct link *out)
{
    copy_link(a, &s->l, out);
    out->visits = link_visits(s->l.id);
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

long long fake_db_add_key(const char *token)
{
    if (nkeys == MAX_KEYS)
        abort();
    apikey_hash(token, key_hash[nkeys]);
    return ++nkeys;
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

int db_key_owner(const unsigned char hash[KEY_HASH_LEN], long long *owner_id)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nkeys; i++) {
        if (!key_revoked[i] && memcmp(key_hash[i], hash, KEY_HASH_LEN) == 0) {
            *owner_id = i + 1;
            return DB_OK;
        }
    }
    return DB_NOT_FOUND;
}

int db_key_add(const char *owner, const unsigned char hash[KEY_HASH_LEN])
{
    (void)owner;
    int rc = query();
    if (rc != DB_OK || nkeys == MAX_KEYS)
        return rc != DB_OK ? rc : DB_ERROR;
    memcpy(key_hash[nkeys++], hash, KEY_HASH_LEN);
    return DB_OK;
}

int db_keys_list(void (*fn)(const char *owner, long long id, const char *created, const char *revoked))
{
    int rc = query();
    for (int i = 0; rc == DB_OK && i < nkeys; i++)
        fn("owner", i + 1, "2026-01-02T03:04:05Z", NULL);
    return rc;
}

int db_keys_revoke(const char *owner, int *count)
{
    (void)owner;
    *count = 0;
    return query();
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

int db_session_owner(struct arena *a, const unsigned char sid_hash[SESSION_HASH_LEN], long long *owner_id,
                     const char **expires_at)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < nsessions; i++) {
        int k = sessions[i].key;
        if (k && !key_revoked[k - 1] && memcmp(sessions[i].hash, sid_hash, SESSION_HASH_LEN) == 0) {
            *owner_id = k;
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

static long long day_visits(long long link_id, int day)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++)
        n += visits[i].link_id == link_id && visits[i].day == day ? visits[i].n : 0;
    return n;
}

int db_link_stats(struct arena *a, long long link_id, int days, struct link_stats *out)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    int today = (int)(time(NULL) / 86400);
    *out =
        (struct link_stats){.days = arena_alloc(a, (size_t)days * sizeof(*out->days)), .ndays = (size_t)days};
    for (int d = 0; d < days; d++) {
        time_t t = (time_t)(today - days + 1 + d) * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        char date[16];
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        out->days[d] = (struct day_count){arena_strdup(a, date), day_visits(link_id, today - days + 1 + d)};
        out->total += out->days[d].visits;
    }
    /* one referrer row per host of the period, in the order first seen (tests use one host or few) */
    out->referrers = arena_alloc(a, 20 * sizeof(*out->referrers));
    for (int i = 0; i < nvisits && out->nreferrers < 20; i++) {
        if (visits[i].link_id != link_id || visits[i].day <= today - days)
            continue;
        size_t r = 0;
        while (r < out->nreferrers && strcmp(out->referrers[r].host, visits[i].host) != 0)
            r++;
        if (r == out->nreferrers)
            out->referrers[out->nreferrers++] = (struct host_count){arena_strdup(a, visits[i].host), 0};
        out->referrers[r].visits += visits[i].n;
    }
    return DB_OK;
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

static unsigned visit_hash(long long link_id, int day, const char *host)
{
    unsigned long long h = (unsigned long long)link_id * 1000003ULL + (unsigned)day;
    for (const unsigned char *p = (const unsigned char *)host; *p; p++)
        h = h * 31 + *p;
    return (unsigned)(h % VISIT_INDEX);
}

/* The row of (link_id, day, host), made when new: the primary key of the visits table. */
static struct visit_row *visit_row(long long link_id, int day, const char *host)
{
    unsigned i = visit_hash(link_id, day, host);
    for (; visit_index[i]; i = (i + 1) % VISIT_INDEX) {
        struct visit_row *v = &visits[visit_index[i] - 1];
        if (v->link_id == link_id && v->day == day && strcmp(v->host, host) == 0)
            return v;
    }
    if (nvisits == VISIT_ROWS)
        abort();
    struct visit_row *v = &visits[nvisits++];
    *v = (struct visit_row){.link_id = link_id, .day = day};
    snprintf(v->host, sizeof(v->host), "%s", host);
    visit_index[i] = nvisits;
    return v;
}

int db_visits_add(const struct visit_batch *b)
{
    int rc = query();
    if (rc != DB_OK)
        return rc;
    if (fail_visits > 0) {
        fail_visits--;
        return DB_UNAVAILABLE;
    }
    for (size_t i = 0; i < b->n; i++)
        visit_row(b->link_id[i], b->day[i], b->host[i])->n += b->count[i];
    batches++;
    return DB_OK;
}

long long fake_db_visits(long long link_id, const char *host)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++) {
        if (visits[i].link_id == link_id && (!host || strcmp(visits[i].host, host) == 0))
            n += visits[i].n;
    }
    return n;
}

long long fake_db_visits_total(void)
{
    long long n = 0;
    for (int i = 0; i < nvisits; i++)
        n += visits[i].n;
    return n;
}

unsigned long fake_db_visit_batches(void)
{
    return batches;
}
