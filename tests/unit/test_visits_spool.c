/* Unit tests for handlers/core/visits_spool.c: batches written to a temporary directory come back whole and
 * in order, are removed only once applied, respect the bound, skip another database's files, set aside files
 * that are cut short, and a crash's temporary files are removed at open. */
#include "visits_spool.h"

#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rec {
    long long a, b;
};

static char dir[64];
static long long applied_ids[16], removed_ids[16], dropped_visits;
static int napplied, nremoved, fail_apply;

static int apply(long long id, const void *recs, size_t n, long long visits)
{
    if (fail_apply)
        return -1;
    const struct rec *r = recs;
    long long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += r[i].b;
    ck_assert_int_eq(sum, visits);
    applied_ids[napplied++] = id;
    return 0;
}

static void removed(long long id)
{
    removed_ids[nremoved++] = id;
}

static void dropped(long long visits)
{
    dropped_visits += visits;
}

/* Files in the directory whose name ends with suffix. */
static int count_files(const char *suffix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        n += len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/hop-spool-unit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    napplied = nremoved = fail_apply = 0;
    dropped_visits = 0;
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' || strncmp(e->d_name, ".tmp-", 5) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void write_batch(long long id, const char *db, int n)
{
    struct rec r[8];
    long long visits = 0;
    for (int i = 0; i < n; i++) {
        r[i] = (struct rec){.a = id, .b = i + 1};
        visits += i + 1;
    }
    ck_assert_int_eq(vspool_write(id, db, r, (size_t)n, visits), 0);
}

START_TEST(written_then_replayed_once)
{
    ck_assert_int_eq(vspool_open(dir, 1 << 20, sizeof(struct rec)), 0);
    write_batch(11, "db-a", 3);
    usleep(2000); /* names sort by the millisecond they were written */
    write_batch(22, "", 5);
    long long f, b, v;
    vspool_gauges(&f, &b, &v);
    ck_assert_int_eq(f, 2);
    ck_assert_int_eq(v, 6 + 15);
    ck_assert_int_eq(vspool_replayable(), 2);
    ck_assert_int_eq(vspool_replay("db-a", 8, apply, removed, dropped), 2);
    ck_assert_int_eq(napplied, 2);
    ck_assert_int_eq(applied_ids[0], 11);
    ck_assert_int_eq(applied_ids[1], 22);
    ck_assert_int_eq(nremoved, 2);
    ck_assert_int_eq(count_files(".spool"), 0);
    vspool_gauges(&f, &b, &v);
    ck_assert_int_eq(f + b + v, 0);
    ck_assert_int_eq(vspool_replayable(), 0);
}
END_TEST

START_TEST(kept_until_applied)
{
    ck_assert_int_eq(vspool_open(dir, 1 << 20, sizeof(struct rec)), 0);
    write_batch(33, "db-a", 2);
    fail_apply = 1;
    ck_assert_int_eq(vspool_replay("db-a", 8, apply, removed, dropped), 0);
    ck_assert_int_eq(count_files(".spool"), 1);
    ck_assert_int_eq(nremoved, 0);
    fail_apply = 0;
    ck_assert_int_eq(vspool_replay("db-a", 8, apply, removed, dropped), 1);
    ck_assert_int_eq(removed_ids[0], 33);
}
END_TEST

START_TEST(another_database_left_alone)
{
    ck_assert_int_eq(vspool_open(dir, 1 << 20, sizeof(struct rec)), 0);
    write_batch(44, "db-b", 2);
    ck_assert_int_eq(vspool_replay("db-a", 8, apply, removed, dropped), 0);
    ck_assert_int_eq(napplied, 0);
    ck_assert_int_eq(count_files(".spool"), 1);
    ck_assert_int_eq(vspool_replayable(), 0);
}
END_TEST

START_TEST(bounded)
{
    /* one file of 2 records is 80 + 32 + 8 bytes: the second does not fit in 200 */
    ck_assert_int_eq(vspool_open(dir, 200, sizeof(struct rec)), 0);
    write_batch(55, "db-a", 2);
    struct rec r[2] = {{1, 1}, {2, 2}};
    ck_assert_int_eq(vspool_write(56, "db-a", r, 2, 3), -1);
    ck_assert_int_eq(count_files(".spool"), 1);
}
END_TEST

START_TEST(cut_short_set_aside)
{
    ck_assert_int_eq(vspool_open(dir, 1 << 20, sizeof(struct rec)), 0);
    write_batch(66, "db-a", 4);
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512] = "";
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".spool"))
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    }
    closedir(d);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size - 5), 0);
    ck_assert_int_eq(vspool_replay("db-a", 8, apply, removed, dropped), 0);
    ck_assert_int_eq(napplied, 0);
    ck_assert_int_eq(dropped_visits, 1 + 2 + 3 + 4);
    ck_assert_int_eq(count_files(".spool"), 0);
    ck_assert_int_eq(count_files(".bad"), 1);
}
END_TEST

START_TEST(crash_leftovers_removed)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s/.tmp-00000000000000aa", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "half", 4), 4);
    close(fd);
    ck_assert_int_eq(vspool_open(dir, 1 << 20, sizeof(struct rec)), 0);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(vspool_replayable(), 0);
}
END_TEST

START_TEST(unwritable_refused)
{
    char file[128], sub[160];
    snprintf(file, sizeof(file), "%s/not-a-dir", dir);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(sub, sizeof(sub), "%s/spool", file);
    ck_assert_int_eq(vspool_open(sub, 1 << 20, sizeof(struct rec)), -1);
    struct rec r = {1, 1};
    ck_assert_int_eq(vspool_write(77, "db-a", &r, 1, 1), -1);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("visits_spool");
    TCase *tc = tcase_create("visits_spool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, written_then_replayed_once);
    tcase_add_test(tc, kept_until_applied);
    tcase_add_test(tc, another_database_left_alone);
    tcase_add_test(tc, bounded);
    tcase_add_test(tc, cut_short_set_aside);
    tcase_add_test(tc, crash_leftovers_removed);
    tcase_add_test(tc, unwritable_refused);
    suite_add_tcase(s, tc);
    return s;
}
