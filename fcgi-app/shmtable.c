/* The process-shared table; see shmtable.h.
 *
 * Layout of the one mapping: a header, an array of stripes (a robust mutex and a remove counter each), then
 * nsets sets of SHMTABLE_WAYS fixed-size slots. Set s is guarded by stripe s % nstripes.
 *
 * Why a seqlock per slot and robust mutexes for writers: the redirect path reads on every request, from every
 * worker, and must not contend or write; writes (a miss, a NOTIFY) are rare. A writer takes its stripe's
 * mutex, makes the slot's sequence odd, writes, and makes it even again. A reader copies the slot out between
 * two reads of the sequence and keeps the copy only if both are the same even number, so it never keeps a
 * torn entry. A reader that finds a write under way waits on the stripe's mutex instead of spinning: a live
 * writer holds it for one memcpy. If the writer was killed, the mutex being robust, the next process to lock
 * it gets EOWNERDEAD and undoes the half write (the slot is freed) before marking the mutex consistent, so no
 * dead process can hold anything forever and no half entry is ever served. */
#include "shmtable.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

enum { MAX_STRIPES = 4096, LINE = 64 };

struct header {
    size_t bytes, slot_size, nsets, nstripes;
    _Atomic uint64_t epoch;
    _Atomic uint64_t evictions, repairs;
};

struct stripe {
    pthread_mutex_t mu;
    _Atomic uint64_t removes; /* bumped by every remove and clear: refuses puts stamped before */
    /* entries in its sets, changed only under mu (a repair counts them again): a clear walks only the
     * stripes that have some, and the table's entries are their sum */
    _Atomic uint32_t used;
} __attribute__((aligned(LINE)));

/* The header's fields are atomics read relaxed between the two reads of seq (free on x86 and arm64, and no
 * data race in C11's sense); only the key and value bytes are copied with memcpy, and a copy made while a
 * write was under way is thrown away. */
struct slot {
    _Atomic uint32_t seq; /* odd while a write is under way */
    _Atomic uint32_t klen, vlen;
    _Atomic uint32_t marks;
    _Atomic uint64_t hash; /* 0: free */
    _Atomic int64_t stored_ms;
    _Atomic uint64_t epoch;
    _Atomic int64_t used_ms; /* outside the sequence: a use is a relaxed store, never a write of the entry */
    unsigned char data[];    /* the key, then the value */
};

_Static_assert(sizeof(struct slot) <= SHMTABLE_SLOT_OVERHEAD, "slot header");

struct shmtable {
    struct header h;
};

static struct stripe *stripes(const struct shmtable *t)
{
    return (struct stripe *)((char *)t + LINE * ((sizeof(struct header) + LINE - 1) / LINE));
}

static struct slot *slot_at(const struct shmtable *t, size_t set, int way)
{
    char *base = (char *)(stripes(t) + t->h.nstripes);
    return (struct slot *)(base + (set * SHMTABLE_WAYS + (size_t)way) * t->h.slot_size);
}

static size_t fixed_bytes(size_t nstripes)
{
    return LINE * ((sizeof(struct header) + LINE - 1) / LINE) + nstripes * sizeof(struct stripe);
}

static uint64_t key_hash(const void *key, size_t klen)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

struct shmtable *shmtable_map(size_t bytes, size_t slot_size)
{
    slot_size = (slot_size + LINE - 1) / LINE * LINE;
    if (slot_size < SHMTABLE_MIN_SLOT || slot_size > SHMTABLE_MAX_SLOT)
        return NULL;
    size_t set_bytes = slot_size * SHMTABLE_WAYS;
    size_t nstripes = bytes / set_bytes;
    nstripes = nstripes < 1 ? 1 : nstripes > MAX_STRIPES ? MAX_STRIPES : nstripes;
    size_t nsets = bytes > fixed_bytes(nstripes) ? (bytes - fixed_bytes(nstripes)) / set_bytes : 0;
    if (nsets < 1)
        nsets = 1;
    if (nstripes > nsets)
        nstripes = nsets;
    size_t total = fixed_bytes(nstripes) + nsets * set_bytes;
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct shmtable *t = p;
    t->h.bytes = total;
    t->h.slot_size = slot_size;
    t->h.nsets = nsets;
    t->h.nstripes = nstripes;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    for (size_t i = 0; i < nstripes; i++)
        pthread_mutex_init(&stripes(t)[i].mu, &attr);
    pthread_mutexattr_destroy(&attr);
    return t;
}

void shmtable_unmap(struct shmtable *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->h.nstripes; i++)
        pthread_mutex_destroy(&stripes(t)[i].mu);
    munmap(t, t->h.bytes);
}

size_t shmtable_item_max(const struct shmtable *t)
{
    return t->h.slot_size - SHMTABLE_SLOT_OVERHEAD;
}

static size_t set_of(const struct shmtable *t, uint64_t h)
{
    return (size_t)(h % t->h.nsets);
}

static struct stripe *stripe_of(const struct shmtable *t, size_t set)
{
    return &stripes(t)[set % t->h.nstripes];
}

/* Frees a slot; the caller holds its stripe. Leaves seq even. */
static void slot_free(struct slot *s)
{
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q | 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->hash, 0, memory_order_relaxed);
    atomic_store_explicit(&s->klen, 0, memory_order_relaxed);
    atomic_store_explicit(&s->vlen, 0, memory_order_relaxed);
    atomic_store_explicit(&s->seq, (q | 1) + 1, memory_order_release);
}

/* Frees an entry's slot and counts it gone; the caller holds its stripe. */
static void entry_free(struct shmtable *t, size_t stripe, struct slot *s)
{
    if (atomic_load_explicit(&s->hash, memory_order_relaxed))
        atomic_fetch_sub(&stripes(t)[stripe].used, 1);
    slot_free(s);
}

/* A process died holding the stripe: every slot it guards that is odd was being written; free it. The
 * stripe's entries are counted again: the dead process may have counted a slot it had not written yet. */
static void stripe_repair(struct shmtable *t, size_t stripe)
{
    uint32_t used = 0;
    for (size_t set = stripe; set < t->h.nsets; set += t->h.nstripes) {
        for (int w = 0; w < SHMTABLE_WAYS; w++) {
            struct slot *s = slot_at(t, set, w);
            if (atomic_load_explicit(&s->seq, memory_order_relaxed) & 1)
                slot_free(s);
            used += atomic_load_explicit(&s->hash, memory_order_relaxed) != 0;
        }
    }
    atomic_store(&stripes(t)[stripe].used, used);
    atomic_fetch_add(&t->h.repairs, 1);
}

static void stripe_lock(struct shmtable *t, size_t set)
{
    struct stripe *st = stripe_of(t, set);
    if (pthread_mutex_lock(&st->mu) == EOWNERDEAD) {
        stripe_repair(t, set % t->h.nstripes);
        pthread_mutex_consistent(&st->mu);
    }
}

static void stripe_unlock(struct shmtable *t, size_t set)
{
    pthread_mutex_unlock(&stripe_of(t, set)->mu);
}

enum read_rc { READ_MISS, READ_HIT, READ_BUSY };

/* One attempt at reading slot s for key: READ_BUSY when a write was under way (the copy is not kept). */
static enum read_rc slot_read(const struct slot *s, uint64_t h, const void *key, size_t klen, void *val,
                              size_t cap, struct shmtable_entry *e, uint64_t *epoch)
{
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (q & 1)
        return READ_BUSY;
    enum read_rc rc = READ_MISS;
    size_t vlen = atomic_load_explicit(&s->vlen, memory_order_relaxed);
    if (atomic_load_explicit(&s->hash, memory_order_relaxed) == h &&
        atomic_load_explicit(&s->klen, memory_order_relaxed) == klen && vlen <= cap &&
        memcmp(s->data, key, klen) == 0) {
        memcpy(val, s->data + klen, vlen);
        e->len = vlen;
        e->stored_ms = atomic_load_explicit(&s->stored_ms, memory_order_relaxed);
        e->marks = atomic_load_explicit(&s->marks, memory_order_relaxed);
        e->used_ms = atomic_load_explicit(&s->used_ms, memory_order_relaxed);
        e->seq_ = q;
        *epoch = atomic_load_explicit(&s->epoch, memory_order_relaxed);
        rc = READ_HIT;
    }
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->seq, memory_order_relaxed) == q ? rc : READ_BUSY;
}

bool shmtable_get(struct shmtable *t, const void *key, size_t klen, void *val, size_t cap,
                  struct shmtable_entry *e)
{
    uint64_t h = key_hash(key, klen);
    size_t set = set_of(t, h);
    for (int w = 0; w < SHMTABLE_WAYS; w++) {
        struct slot *s = slot_at(t, set, w);
        uint64_t epoch = 0;
        enum read_rc rc;
        while ((rc = slot_read(s, h, key, klen, val, cap, e, &epoch)) == READ_BUSY) {
            /* wait for the writer (or undo what a dead one left) rather than spin */
            stripe_lock(t, set);
            stripe_unlock(t, set);
        }
        if (rc == READ_MISS)
            continue;
        e->current = epoch == atomic_load_explicit(&t->h.epoch, memory_order_relaxed);
        e->where_ = s;
        return true;
    }
    return false;
}

void shmtable_touch(struct shmtable *t, const struct shmtable_entry *e, long long now_ms)
{
    (void)t;
    struct slot *s = e->where_;
    if (!s || now_ms - atomic_load_explicit(&s->used_ms, memory_order_relaxed) < 1000)
        return;
    /* a slot written again since the get belongs to another entry now: leave it be (a race lost here only
     * leaves a use unrecorded or recorded on the newer entry, which was just written anyway) */
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) == e->seq_)
        atomic_store_explicit(&s->used_ms, now_ms, memory_order_relaxed);
}

struct shmtable_stamp shmtable_stamp(struct shmtable *t, const void *key, size_t klen)
{
    struct stripe *st = stripe_of(t, set_of(t, key_hash(key, klen)));
    struct shmtable_stamp stamp = {atomic_load_explicit(&st->removes, memory_order_acquire),
                                   atomic_load_explicit(&t->h.epoch, memory_order_acquire)};
    return stamp;
}

/* key's slot in set, or NULL; the caller holds the stripe, so no write is under way. */
static struct slot *find_locked(const struct shmtable *t, size_t set, uint64_t h, const void *key,
                                size_t klen)
{
    for (int w = 0; w < SHMTABLE_WAYS; w++) {
        struct slot *s = slot_at(t, set, w);
        if (atomic_load_explicit(&s->hash, memory_order_relaxed) == h &&
            atomic_load_explicit(&s->klen, memory_order_relaxed) == klen && memcmp(s->data, key, klen) == 0)
            return s;
    }
    return NULL;
}

/* Where a new key goes: a free slot, else the least recently used one (*evicted then). */
static struct slot *victim_locked(const struct shmtable *t, size_t set, bool *evicted)
{
    struct slot *v = NULL;
    for (int w = 0; w < SHMTABLE_WAYS; w++) {
        struct slot *s = slot_at(t, set, w);
        if (!atomic_load_explicit(&s->hash, memory_order_relaxed)) {
            *evicted = false;
            return s;
        }
        if (!v || atomic_load_explicit(&s->used_ms, memory_order_relaxed) <
                      atomic_load_explicit(&v->used_ms, memory_order_relaxed))
            v = s;
    }
    *evicted = true;
    return v;
}

static void slot_write(struct slot *s, uint64_t h, const void *key, size_t klen, const void *val, size_t vlen,
                       long long stored_ms, uint64_t epoch)
{
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->hash, h, memory_order_relaxed);
    atomic_store_explicit(&s->klen, (uint32_t)klen, memory_order_relaxed);
    atomic_store_explicit(&s->vlen, (uint32_t)vlen, memory_order_relaxed);
    atomic_store_explicit(&s->marks, 0, memory_order_relaxed);
    atomic_store_explicit(&s->stored_ms, stored_ms, memory_order_relaxed);
    atomic_store_explicit(&s->epoch, epoch, memory_order_relaxed);
    atomic_store_explicit(&s->used_ms, stored_ms, memory_order_relaxed);
    memcpy(s->data, key, klen);
    memcpy(s->data + klen, val, vlen);
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

enum shmtable_put_rc shmtable_put(struct shmtable *t, const void *key, size_t klen, const void *val,
                                  size_t vlen, long long stored_ms, struct shmtable_stamp stamp)
{
    if (klen + vlen > shmtable_item_max(t))
        return SHMTABLE_TOO_BIG;
    uint64_t h = key_hash(key, klen);
    size_t set = set_of(t, h);
    enum shmtable_put_rc rc = SHMTABLE_RACED;
    stripe_lock(t, set);
    if (atomic_load_explicit(&stripe_of(t, set)->removes, memory_order_relaxed) != stamp.removes)
        goto out;
    bool evicted = false;
    struct slot *s = find_locked(t, set, h, key, klen);
    if (!s) {
        s = victim_locked(t, set, &evicted);
        if (evicted) {
            atomic_fetch_add(&t->h.evictions, 1);
        } else {
            atomic_fetch_add(&stripe_of(t, set)->used, 1);
        }
    }
    slot_write(s, h, key, klen, val, vlen, stored_ms, stamp.epoch);
    rc = evicted ? SHMTABLE_EVICTED : SHMTABLE_STORED;
out:
    stripe_unlock(t, set);
    return rc;
}

void shmtable_remove(struct shmtable *t, const void *key, size_t klen)
{
    uint64_t h = key_hash(key, klen);
    size_t set = set_of(t, h);
    stripe_lock(t, set);
    atomic_fetch_add_explicit(&stripe_of(t, set)->removes, 1, memory_order_release);
    struct slot *s = find_locked(t, set, h, key, klen);
    if (s)
        entry_free(t, set % t->h.nstripes, s);
    stripe_unlock(t, set);
}

void shmtable_mark(struct shmtable *t, const void *key, size_t klen, unsigned bits)
{
    uint64_t h = key_hash(key, klen);
    size_t set = set_of(t, h);
    stripe_lock(t, set);
    struct slot *s = find_locked(t, set, h, key, klen);
    if (s)
        atomic_fetch_or_explicit(&s->marks, bits, memory_order_relaxed);
    stripe_unlock(t, set);
}

void shmtable_clear(struct shmtable *t)
{
    for (size_t i = 0; i < t->h.nstripes; i++) {
        stripe_lock(t, i);
        atomic_fetch_add_explicit(&stripes(t)[i].removes, 1, memory_order_release);
        /* an empty stripe's pages are not read: reading shared memory allocates it */
        for (size_t set = i; atomic_load(&stripes(t)[i].used) && set < t->h.nsets; set += t->h.nstripes) {
            for (int w = 0; w < SHMTABLE_WAYS; w++)
                entry_free(t, i, slot_at(t, set, w));
        }
        stripe_unlock(t, i);
    }
}

void shmtable_new_epoch(struct shmtable *t)
{
    atomic_fetch_add_explicit(&t->h.epoch, 1, memory_order_release);
}

/* Every stripe's entries: each count is right whenever its stripe is not being written. */
static long long entries(const struct shmtable *t)
{
    long long n = 0;
    for (size_t i = 0; i < t->h.nstripes; i++)
        n += atomic_load_explicit(&stripes(t)[i].used, memory_order_relaxed);
    return n;
}

void shmtable_stats(const struct shmtable *t, struct shmtable_stats *out)
{
    *out = (struct shmtable_stats){
        .slots = t->h.nsets * SHMTABLE_WAYS,
        .slot_size = t->h.slot_size,
        .bytes = t->h.bytes,
        .entries = entries(t),
        .evictions = atomic_load(&t->h.evictions),
        .repairs = atomic_load(&t->h.repairs),
    };
}
