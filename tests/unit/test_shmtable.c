/* Unit tests for fcgi-app/shmtable.c: values round-trip, a remove refuses a put stamped before it, epochs and
 * marks, the least recently used entry of a full set goes, and with real processes: a reader never keeps a
 * torn entry while another process writes, and writers SIGKILLed at random instants never leave the table
 * stuck or serving half an entry. */
#include "shmtable.h"
#include "unit.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { SLOT = 256, KILLS = 30 };

static struct shmtable *t;

static void setup(void)
{
    t = shmtable_map(64 * 1024, SLOT);
    ck_assert_ptr_nonnull(t);
}

static void teardown(void)
{
    shmtable_unmap(t);
    t = NULL;
}

static enum shmtable_put_rc put(const char *key, const char *val, long long ms)
{
    return shmtable_put(t, key, strlen(key), val, strlen(val) + 1, ms, shmtable_stamp(t, key, strlen(key)));
}

/* key's value, or NULL; *e filled */
static const char *get(const char *key, long long now, struct shmtable_entry *e)
{
    static char buf[SLOT];
    if (!shmtable_get(t, key, strlen(key), buf, sizeof(buf), e))
        return NULL;
    shmtable_touch(t, e, now);
    return buf;
}

START_TEST(round_trip)
{
    struct shmtable_entry e;
    ck_assert_ptr_null(get("a", 0, &e));
    ck_assert_int_eq(put("a", "one", 1000), SHMTABLE_STORED);
    ck_assert_int_eq(put("ab", "two", 1000), SHMTABLE_STORED);
    ck_assert_str_eq(get("a", 1000, &e), "one");
    ck_assert_uint_eq(e.len, 4);
    ck_assert_int_eq(e.stored_ms, 1000);
    ck_assert(e.current);
    ck_assert_str_eq(get("ab", 1000, &e), "two");
    ck_assert_int_eq(put("a", "three", 2000), SHMTABLE_STORED);
    ck_assert_str_eq(get("a", 2000, &e), "three");
    ck_assert_int_eq(e.stored_ms, 2000);
    shmtable_remove(t, "a", 1);
    ck_assert_ptr_null(get("a", 2000, &e));
    ck_assert_str_eq(get("ab", 2000, &e), "two");
    struct shmtable_stats st;
    shmtable_stats(t, &st);
    ck_assert_int_eq(st.entries, 1);
    shmtable_clear(t);
    ck_assert_ptr_null(get("ab", 2000, &e));
    shmtable_stats(t, &st);
    ck_assert_int_eq(st.entries, 0);
}
END_TEST

START_TEST(too_big_and_too_small_buffer)
{
    char big[SLOT];
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(shmtable_put(t, "k", 1, big, shmtable_item_max(t), 0, shmtable_stamp(t, "k", 1)),
                     SHMTABLE_TOO_BIG);
    ck_assert_int_eq(shmtable_put(t, "k", 1, big, shmtable_item_max(t) - 1, 0, shmtable_stamp(t, "k", 1)),
                     SHMTABLE_STORED);
    struct shmtable_entry e;
    char small[8];
    ck_assert(!shmtable_get(t, "k", 1, small, sizeof(small), &e));
}
END_TEST

START_TEST(remove_refuses_earlier_stamp)
{
    /* the NOTIFY of a change came between the question to the database and the put: the answer may be old */
    struct shmtable_stamp stamp = shmtable_stamp(t, "k", 1);
    shmtable_remove(t, "k", 1);
    ck_assert_int_eq(shmtable_put(t, "k", 1, "old", 4, 0, stamp), SHMTABLE_RACED);
    struct shmtable_entry e;
    ck_assert_ptr_null(get("k", 0, &e));
    ck_assert_int_eq(put("k", "new", 0), SHMTABLE_STORED);
    ck_assert_str_eq(get("k", 0, &e), "new");
    stamp = shmtable_stamp(t, "k", 1);
    shmtable_clear(t);
    ck_assert_int_eq(shmtable_put(t, "k", 1, "old", 4, 0, stamp), SHMTABLE_RACED);
}
END_TEST

START_TEST(epochs_and_marks)
{
    struct shmtable_entry e;
    struct shmtable_stamp before = shmtable_stamp(t, "k", 1);
    ck_assert_int_eq(put("k", "v", 0), SHMTABLE_STORED);
    shmtable_mark(t, "k", 1, 2);
    shmtable_mark(t, "absent", 6, 2);
    ck_assert_str_eq(get("k", 0, &e), "v");
    ck_assert(e.current);
    ck_assert_uint_eq(e.marks, 2);
    shmtable_new_epoch(t);
    ck_assert_str_eq(get("k", 0, &e), "v");
    ck_assert(!e.current);
    /* stamped before the new epoch: stored, but not current */
    ck_assert_int_eq(shmtable_put(t, "k", 1, "w", 2, 0, before), SHMTABLE_STORED);
    ck_assert_str_eq(get("k", 0, &e), "w");
    ck_assert(!e.current);
    ck_assert_uint_eq(e.marks, 0);
    ck_assert_int_eq(put("k", "x", 0), SHMTABLE_STORED);
    ck_assert_str_eq(get("k", 0, &e), "x");
    ck_assert(e.current);
}
END_TEST

START_TEST(least_used_evicted)
{
    /* one set: the ninth key evicts the entry used longest ago, here the first, unless it was used lately */
    shmtable_unmap(t);
    t = shmtable_map(1, SLOT);
    ck_assert_ptr_nonnull(t);
    struct shmtable_stats st;
    shmtable_stats(t, &st);
    ck_assert_uint_eq(st.slots, SHMTABLE_WAYS);
    char key[16];
    for (int i = 0; i < SHMTABLE_WAYS; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(put(key, key, 10000 + i * 1000), SHMTABLE_STORED);
    }
    struct shmtable_entry e;
    ck_assert_ptr_nonnull(get("k0", 50000, &e)); /* k0 used now: k1 is the oldest use */
    ck_assert_int_eq(e.used_ms, 10000);
    ck_assert_ptr_nonnull(get("k0", 50500, &e));
    ck_assert_int_eq(e.used_ms, 50000);
    ck_assert_ptr_nonnull(get("k0", 51000, &e)); /* uses are kept to the second */
    ck_assert_int_eq(e.used_ms, 50000);
    ck_assert_ptr_nonnull(get("k0", 51000, &e));
    ck_assert_int_eq(e.used_ms, 51000);
    ck_assert_int_eq(put("new", "new", 60000), SHMTABLE_EVICTED);
    ck_assert_ptr_nonnull(get("k0", 60000, &e));
    ck_assert_ptr_null(get("k1", 60000, &e));
    ck_assert_ptr_nonnull(get("new", 60000, &e));
    shmtable_stats(t, &st);
    ck_assert_uint_eq(st.evictions, 1);
    ck_assert_int_eq(st.entries, SHMTABLE_WAYS);
}
END_TEST

START_TEST(sized_in_bytes)
{
    shmtable_unmap(t);
    t = shmtable_map(4 << 20, 1000);
    ck_assert_ptr_nonnull(t);
    struct shmtable_stats st;
    shmtable_stats(t, &st);
    ck_assert_uint_eq(st.slot_size, 1024);
    ck_assert_uint_le(st.bytes, 4 << 20);
    ck_assert_uint_ge(st.slots, (4 << 20) / 1024 * 9 / 10);
    ck_assert_uint_eq(shmtable_item_max(t), 1024 - SHMTABLE_SLOT_OVERHEAD);
    ck_assert_ptr_null(shmtable_map(1 << 20, SHMTABLE_MAX_SLOT + 1));
}
END_TEST

/* A value that says which write it came from: its length in its first two bytes, then one letter repeated. */
static size_t pattern(unsigned n, char *buf)
{
    size_t len = 16 + n % 150;
    buf[0] = (char)(len & 0xff);
    buf[1] = (char)(len >> 8);
    memset(buf + 2, 'a' + (int)(n % 26), len - 2);
    return len;
}

/* Whether a copy is whole (no ck_assert here: Check records every assertion, far too slow for this loop). */
static bool whole(const char *buf, size_t len)
{
    if (len < 3 || ((unsigned char)buf[0] | (size_t)(unsigned char)buf[1] << 8) != len)
        return false;
    for (size_t i = 3; i < len; i++) {
        if (buf[i] != buf[2])
            return false;
    }
    return true;
}

/* Writes the same few keys over and over until killed. */
static void writer(void)
{
    char buf[SLOT];
    for (unsigned n = 0;; n++) {
        char key[4] = {'k', (char)('0' + n % 4), 0, 0};
        size_t len = pattern(n, buf);
        shmtable_put(t, key, 2, buf, len, n, shmtable_stamp(t, key, 2));
        if (n % 64 == 0)
            shmtable_remove(t, key, 2);
    }
}

static pid_t spawn_writer(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        alarm(60); /* never outlive a failed test */
        writer();
        _exit(0);
    }
    return pid;
}

/* Reads every key a few times; every copy kept is whole. */
static void read_all(int rounds)
{
    char buf[SLOT];
    struct shmtable_entry e;
    long found = 0, torn = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 4; k++) {
            char key[3] = {'k', (char)('0' + k), 0};
            if (shmtable_get(t, key, 2, buf, sizeof(buf), &e)) {
                shmtable_touch(t, &e, r);
                found++;
                torn += !whole(buf, e.len);
            }
        }
    }
    ck_assert_msg(torn == 0, "%ld torn entries of %ld read", torn, found);
}

START_TEST(no_torn_reads)
{
    /* a real second process writing while this one reads, on the two cores */
    pid_t pid = spawn_writer();
    read_all(200000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(killed_writers_never_block)
{
    /* writers killed at random instants, some of them inside a write: every later read and write finishes
     * (the test's timeout says otherwise) and sees whole entries */
    srand((unsigned)time(NULL));
    for (int i = 0; i < KILLS; i++) {
        pid_t pid = spawn_writer();
        struct timespec ts = {0, (long)(rand() % 3000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        read_all(50);
        char buf[SLOT];
        size_t len = pattern((unsigned)i, buf);
        ck_assert_int_ne(shmtable_put(t, "k1", 2, buf, len, 0, shmtable_stamp(t, "k1", 2)), SHMTABLE_RACED);
        shmtable_remove(t, "k2", 2);
        shmtable_mark(t, "k3", 2, 1);
    }
    /* every key's stripe locked once more (a mark of no bits), so that a stripe whose writer died holding it
     * is repaired; then the table counts exactly the entries it holds, wherever a writer was killed (a
     * writer killed after counting a new entry and before writing it once left the count one too high) */
    long present = 0;
    for (int k = 0; k < 4; k++) {
        char key[3] = {'k', (char)('0' + k), 0}, buf[SLOT];
        struct shmtable_entry e;
        shmtable_mark(t, key, 2, 0);
        present += shmtable_get(t, key, 2, buf, sizeof(buf), &e);
    }
    struct shmtable_stats st;
    shmtable_stats(t, &st);
    ck_assert_int_eq(st.entries, present);
    printf("shmtable: %d writers killed, %llu half writes undone, %ld entries\n", KILLS, st.repairs, present);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("shmtable");
    TCase *tc = tcase_create("shmtable");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, too_big_and_too_small_buffer);
    tcase_add_test(tc, remove_refuses_earlier_stamp);
    tcase_add_test(tc, epochs_and_marks);
    tcase_add_test(tc, least_used_evicted);
    tcase_add_test(tc, sized_in_bytes);
    tcase_add_test(tc, no_torn_reads);
    tcase_add_test(tc, killed_writers_never_block);
    suite_add_tcase(s, tc);
    return s;
}
