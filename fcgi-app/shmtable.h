/* A bounded hash table of byte keys to byte values in memory shared by the processes of one host (mapped
 * before fork), with each entry's age and last use, and eviction of the least recently used in its set.
 * Readers take no lock and never see a torn entry; writers lock robust process-shared mutexes, so a process
 * killed at any instant, even in the middle of a write, never leaves the table stuck. Knows nothing about
 * what it stores. */
#ifndef HOP_SHMTABLE_H
#define HOP_SHMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shmtable;

enum {
    SHMTABLE_WAYS = 8,           /* entries per set: a key lives in one set, the least used one goes */
    SHMTABLE_SLOT_OVERHEAD = 64, /* bytes of each slot that are not key or value */
    SHMTABLE_MIN_SLOT = 128,     /* the smallest slot_size: a multiple of 64 */
    SHMTABLE_MAX_SLOT = 64 * 1024,
};

/* Taken before asking the source of truth for a key, given back to shmtable_put: a put is refused when the
 * key may have been removed (a change announced) in between, and an entry keeps the epoch of its stamp. */
struct shmtable_stamp {
    uint64_t removes, epoch;
};

/* What shmtable_get says of the entry it found, besides its value. */
struct shmtable_entry {
    size_t len;          /* the value's length */
    long long stored_ms; /* as given to shmtable_put */
    long long used_ms;   /* the last shmtable_touch, or the put */
    unsigned marks;      /* bits set by shmtable_mark since the put */
    bool current;        /* stored under the stamp of the table's current epoch (shmtable_new_epoch) */
    void *where_;        /* for shmtable_touch: the slot and its sequence when read */
    uint32_t seq_;
};

enum shmtable_put_rc {
    SHMTABLE_STORED,
    SHMTABLE_EVICTED, /* stored, in the place of the least recently used entry of its set */
    SHMTABLE_RACED,   /* not stored: a remove in its part of the table came after the stamp */
    SHMTABLE_TOO_BIG, /* not stored: key and value do not fit a slot */
};

struct shmtable_stats {
    size_t slots, slot_size, bytes;
    long long entries;
    unsigned long long evictions, repairs; /* repairs: writes a killed process left half done, undone */
};

/* Maps a table of about bytes bytes (at least one set of SHMTABLE_WAYS slots) of slots of slot_size bytes
 * (rounded up to a multiple of 64, within SHMTABLE_MIN_SLOT..SHMTABLE_MAX_SLOT), shared with every process
 * forked afterwards. Pages are touched only as entries arrive. NULL when it cannot be mapped. */
struct shmtable *shmtable_map(size_t bytes, size_t slot_size);
void shmtable_unmap(struct shmtable *t);
/* The most key and value bytes together that one slot holds. */
size_t shmtable_item_max(const struct shmtable *t);

/* Copies the value of key into val (at most cap bytes) and fills *e: true when found and it fits. */
bool shmtable_get(struct shmtable *t, const void *key, size_t klen, void *val, size_t cap,
                  struct shmtable_entry *e);
/* Records a use at now_ms of the entry e was read from, unless it has been written since; kept to the second,
 * so a popular entry's line is written once a second, not on every use. Eviction takes the least used. */
void shmtable_touch(struct shmtable *t, const struct shmtable_entry *e, long long now_ms);
struct shmtable_stamp shmtable_stamp(struct shmtable *t, const void *key, size_t klen);
/* Stores key's value (replacing any), aged from stored_ms and used at stored_ms, unless a remove came after
 * stamp. */
enum shmtable_put_rc shmtable_put(struct shmtable *t, const void *key, size_t klen, const void *val,
                                  size_t vlen, long long stored_ms, struct shmtable_stamp stamp);
/* Forgets key (whether or not it is there): a put stamped before it is refused. */
void shmtable_remove(struct shmtable *t, const void *key, size_t klen);
/* Sets bits in key's marks, if key is there; a put clears them. */
void shmtable_mark(struct shmtable *t, const void *key, size_t klen, unsigned bits);
/* Forgets every entry. */
void shmtable_clear(struct shmtable *t);
/* Starts a new epoch: every entry stored so far reads as not current, without being dropped. */
void shmtable_new_epoch(struct shmtable *t);
void shmtable_stats(const struct shmtable *t, struct shmtable_stats *out);

#endif
