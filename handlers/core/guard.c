/* Wrong-password counters shared by the pool's workers; see guard.h.
 *
 * A fixed table of entries keyed by (link, address), under one process-shared robust mutex: only form posts
 * take it, so contention is that of password attempts, and a worker killed while holding it cannot wedge the
 * others. A full table replaces the entry whose window started longest ago. Beside it, the password checks
 * under way, one per client address, since each holds a worker for tens of milliseconds. */
#include "guard.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { SLOTS = 8192, PROBE = 16, ADDR_MAX = 63, CHECKS_MAX = 64 };

/* A password check under way: the worker doing it and for which address (pid 0: free). */
struct check {
    pid_t pid;
    char addr[ADDR_MAX + 1];
};

struct entry {
    long long link_id; /* 0: free */
    char addr[ADDR_MAX + 1];
    long long start_ms; /* the window's first wrong password */
    int fails;
};

struct table {
    pthread_mutex_t lock;
    struct check checks[CHECKS_MAX];
    struct entry e[SLOTS];
};

static struct table *table;

int guard_init(void)
{
    void *p = mmap(NULL, sizeof(*table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_error("cannot map the password attempt table", "bytes=%zu", sizeof(*table));
        return -1;
    }
    table = p;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&table->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

static void lock(void)
{
    /* the holder died: the table holds counters only, so whatever it wrote half is harmless */
    if (pthread_mutex_lock(&table->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&table->lock);
}

static unsigned long long key_hash(long long link_id, const char *addr)
{
    unsigned long long h = 1469598103934665603ULL ^ (unsigned long long)link_id;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* The entry for (link_id, addr), or the one to reuse for it (free, or the oldest in its probe run). */
static struct entry *slot_for(long long link_id, const char *addr, bool *found)
{
    unsigned long long h = key_hash(link_id, addr);
    struct entry *victim = NULL;
    for (int i = 0; i < PROBE; i++) {
        struct entry *e = &table->e[(h + (unsigned long long)i) % SLOTS];
        if (e->link_id == link_id && strcmp(e->addr, addr) == 0) {
            *found = true;
            return e;
        }
        if (!victim || !e->link_id || (victim->link_id && e->start_ms < victim->start_ms))
            victim = e;
    }
    *found = false;
    return victim;
}

/* The address as kept: cut to ADDR_MAX bytes (an IPv6 address with a zone fits). */
static void addr_key(const char *client, char out[ADDR_MAX + 1])
{
    snprintf(out, ADDR_MAX + 1, "%s", client ? client : "");
}

bool guard_allows(long long link_id, const char *client, int *retry_after)
{
    if (!table)
        return true;
    char addr[ADDR_MAX + 1];
    addr_key(client, addr);
    long long now = clock_ms();
    bool found, allowed = true;
    lock();
    struct entry *e = slot_for(link_id, addr, &found);
    if (found && now - e->start_ms < GUARD_WINDOW_S * 1000LL && e->fails >= GUARD_MAX_FAILS) {
        allowed = false;
        long long left = e->start_ms + GUARD_WINDOW_S * 1000LL - now;
        *retry_after = (int)((left + 999) / 1000);
    }
    pthread_mutex_unlock(&table->lock);
    return allowed;
}

void guard_failed(long long link_id, const char *client)
{
    if (!table)
        return;
    char addr[ADDR_MAX + 1];
    addr_key(client, addr);
    long long now = clock_ms();
    bool found;
    lock();
    struct entry *e = slot_for(link_id, addr, &found);
    if (!found || now - e->start_ms >= GUARD_WINDOW_S * 1000LL) {
        e->link_id = link_id;
        memcpy(e->addr, addr, sizeof(e->addr));
        e->start_ms = now;
        e->fails = 0;
    }
    e->fails++;
    pthread_mutex_unlock(&table->lock);
}

/* A worker killed in the middle of a check leaves its slot taken: free it once that process is gone. */
static bool check_stale(const struct check *c)
{
    return c->pid && kill(c->pid, 0) != 0 && errno == ESRCH;
}

bool guard_check_begin(const char *client)
{
    if (!table)
        return true;
    char addr[ADDR_MAX + 1];
    addr_key(client, addr);
    struct check *free_slot = NULL;
    bool busy = false;
    lock();
    for (int i = 0; i < CHECKS_MAX; i++) {
        struct check *c = &table->checks[i];
        if (check_stale(c))
            c->pid = 0;
        if (c->pid && strcmp(c->addr, addr) == 0)
            busy = true;
        if (!c->pid && !free_slot)
            free_slot = c;
    }
    bool allowed = !busy && free_slot;
    if (allowed) {
        free_slot->pid = getpid();
        memcpy(free_slot->addr, addr, sizeof(free_slot->addr));
    }
    pthread_mutex_unlock(&table->lock);
    return allowed;
}

void guard_check_end(const char *client)
{
    if (!table)
        return;
    char addr[ADDR_MAX + 1];
    addr_key(client, addr);
    pid_t self = getpid();
    lock();
    for (int i = 0; i < CHECKS_MAX; i++) {
        struct check *c = &table->checks[i];
        if (c->pid == self && strcmp(c->addr, addr) == 0)
            c->pid = 0;
    }
    pthread_mutex_unlock(&table->lock);
}
