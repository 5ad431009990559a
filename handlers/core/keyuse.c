/* A worker's last uses of API keys; see keyuse.h. A small open-addressed table: a worker sees few keys, and
 * one that is full drops a note rather than grow (the last use is coarse anyway). */
#include "keyuse.h"

#include "db.h"
#include "db_keys.h"

#include <stddef.h>
#include <time.h>

enum { SLOTS = 256 };

struct use {
    long long key_id; /* 0: free */
    long long used_s, written_s;
};

static struct use uses[SLOTS];

static size_t slot_of(long long key_id)
{
    return (size_t)((unsigned long long)key_id * 0x9e3779b97f4a7c15ULL >> 56) % SLOTS;
}

void keyuse_note(long long key_id)
{
    long long now = (long long)time(NULL);
    size_t i = slot_of(key_id);
    struct use *reuse = NULL;
    for (size_t k = 0; k < SLOTS; k++, i = (i + 1) % SLOTS) {
        if (uses[i].key_id == key_id) {
            uses[i].used_s = now;
            return;
        }
        if (uses[i].key_id == 0)
            break;
        /* an entry already written holds nothing to lose: it may go to another key */
        if (!reuse && uses[i].used_s <= uses[i].written_s)
            reuse = &uses[i];
    }
    struct use *u = uses[i].key_id == 0 ? &uses[i] : reuse;
    if (u)
        *u = (struct use){.key_id = key_id, .used_s = now, .written_s = 0};
}

/* A use not written yet is due at once the first time, then a minute after the last write. */
static bool due(const struct use *u, long long now, bool all)
{
    return u->key_id && u->used_s > u->written_s &&
           (all || u->written_s == 0 || now - u->written_s >= KEYUSE_EVERY_S);
}

void keyuse_flush(bool all)
{
    long long now = (long long)time(NULL), ids[SLOTS], at[SLOTS];
    size_t n = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (due(&uses[i], now, all)) {
            ids[n] = uses[i].key_id;
            at[n++] = uses[i].used_s;
        }
    }
    if (n == 0 || db_keys_touch(ids, at, n) != DB_OK)
        return;
    for (size_t i = 0; i < SLOTS; i++) {
        if (due(&uses[i], now, all))
            uses[i].written_s = now > uses[i].used_s ? now : uses[i].used_s;
    }
}
