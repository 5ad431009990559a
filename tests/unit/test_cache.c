/* Unit tests for handlers/core/cache.c over the fake database and clock: a fresh hit asks nothing, an old
 * entry is asked again, a stale one is served while the database is away as long as it was served within
 * CACHE_STALE_MS (a day), a NOTIFY drops what it names, a new connection makes every entry old; links of
 * every size are kept whole; each redirect is counted under where its link came from. */
#include "cache.h"

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "db_links.h"
#include "fake_clock.h"
#include "fake_db.h"
#include "metrics.h"
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    fake_db_reset();
    fake_clock_reset();
    cache_clear();
}

/* Looks slug up and checks the result, and the url when found. */
static void expect(const char *slug, enum cache_result want, const char *url)
{
    const struct link *l = NULL;
    enum cache_result got = cache_lookup(0, slug, &l);
    ck_assert_msg(got == want, "%s: wanted result %d, got %d", slug, want, got);
    if (want == CACHE_FOUND) {
        ck_assert_str_eq(l->slug, slug);
        ck_assert_str_eq(l->url, url);
    }
}

START_TEST(fresh_hit_asks_nothing)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    unsigned long asked = fake_db_queries();
    for (int i = 0; i < 10; i++)
        expect("abc", CACHE_FOUND, "https://example.com/a");
    fake_clock_advance(CACHE_FRESH_MS);
    expect("abc", CACHE_FOUND, "https://example.com/a");
    ck_assert_uint_eq(fake_db_queries(), asked);
}
END_TEST

START_TEST(missing_link_is_not_found_each_time)
{
    expect("nope", CACHE_NOT_FOUND, NULL);
    unsigned long asked = fake_db_queries();
    expect("nope", CACHE_NOT_FOUND, NULL);
    /* an absent link is not cached: it may be created any moment */
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
}
END_TEST

START_TEST(old_entry_is_asked_again)
{
    struct link *stored = fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    /* a change whose NOTIFY was missed: the cache may serve the old copy only while it is fresh */
    stored->url = "https://example.com/b";
    expect("abc", CACHE_FOUND, "https://example.com/a");
    unsigned long asked = fake_db_queries();
    fake_clock_advance(CACHE_FRESH_MS + 1);
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
}
END_TEST

START_TEST(stale_entry_served_while_unavailable)
{
    static const int failures[] = {DB_UNAVAILABLE, DB_ERROR};
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        setup();
        fake_db_add_link(1, "abc", "https://example.com/a");
        fake_db_add_link(1, "idle", "https://example.com/i");
        expect("abc", CACHE_FOUND, "https://example.com/a");
        expect("idle", CACHE_FOUND, "https://example.com/i");
        fake_db_fail(failures[i], 0);
        fake_clock_advance(CACHE_FRESH_MS + 1);
        expect("abc", CACHE_FOUND, "https://example.com/a");
        /* each redirect counts as served: a link in use keeps working for as long as the outage lasts */
        for (int hour = 0; hour < 48; hour++) {
            fake_clock_advance(3600 * 1000);
            expect("abc", CACHE_FOUND, "https://example.com/a");
        }
        /* one not served for more than a day does not */
        expect("idle", CACHE_UNAVAILABLE, NULL);
        fake_clock_advance(CACHE_STALE_MS);
        expect("abc", CACHE_FOUND, "https://example.com/a");
        fake_clock_advance(CACHE_STALE_MS + 1);
        expect("abc", CACHE_UNAVAILABLE, NULL);
        /* back: served again, fetched afresh */
        fake_db_fail(DB_OK, 0);
        expect("abc", CACHE_FOUND, "https://example.com/a");
    }
}
END_TEST

START_TEST(idle_a_day_before_the_outage)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    fake_clock_advance(CACHE_STALE_MS - 1000);
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_FOUND, "https://example.com/a");
    fake_db_fail(DB_OK, 0);
    fake_clock_advance(CACHE_STALE_MS + 1);
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_UNAVAILABLE, NULL);
}
END_TEST

START_TEST(reconnect_makes_entries_old_not_gone)
{
    struct link *a = fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    a->url = "https://example.com/b";
    /* reconnected (notifications may be lost), then the database went away again: the old copy still serves
     */
    fake_db_reconnect();
    cache_sync(false);
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_FOUND, "https://example.com/a");
    fake_db_fail(DB_OK, 0);
    unsigned long asked = fake_db_queries();
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
}
END_TEST

START_TEST(every_field_and_size_round_trips)
{
    /* from a bare link to one of four 2 KB addresses and a password: each kept in its table, read back whole
     */
    static const size_t sizes[] = {20, 150, 400, 1500, 2000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        setup();
        cache_sync(false); /* a new generation: listened to before counting queries */
        char *url = calloc(1, sizes[i] + 1);
        memcpy(url, "https://example.com/", 20);
        memset(url + 20, 'u', sizes[i] - 20);
        struct link *l = fake_db_add_link(1, "big", url);
        l->id = 42;
        l->expires_epoch = 4000000000LL;
        l->redirect = 307;
        l->max_visits = 9;
        l->forward_query = true;
        bool all = sizes[i] >= 1500;
        l->password_hash = all ? "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo" : NULL;
        l->ios_url = all ? url : NULL;
        l->android_url = all ? url : NULL;
        l->expired_url = all ? url : NULL;
        for (int round = 0; round < 2; round++) {
            const struct link *got = NULL;
            unsigned long asked = fake_db_queries();
            ck_assert_int_eq(cache_lookup(0, "big", &got), CACHE_FOUND);
            ck_assert_uint_eq(fake_db_queries(), asked + (round == 0));
            ck_assert_str_eq(got->slug, "big");
            ck_assert_str_eq(got->url, url);
            ck_assert_int_eq(got->id, 42);
            ck_assert_int_eq(got->expires_epoch, 4000000000LL);
            ck_assert_int_eq(got->redirect, 307);
            ck_assert_int_eq(got->max_visits, 9);
            ck_assert(got->forward_query);
            ck_assert(!got->disabled);
            if (all) {
                ck_assert_str_eq(got->password_hash, l->password_hash);
                ck_assert_str_eq(got->ios_url, url);
                ck_assert_str_eq(got->android_url, url);
                ck_assert_str_eq(got->expired_url, url);
            } else {
                ck_assert_ptr_null(got->password_hash);
                ck_assert_ptr_null(got->ios_url);
                ck_assert_ptr_null(got->expired_url);
            }
        }
        fake_db_reset();
        free(url);
    }
}
END_TEST

START_TEST(used_up_is_remembered_until_fetched_again)
{
    fake_db_add_link(1, "lim", "https://example.com/l");
    expect("lim", CACHE_FOUND, "https://example.com/l");
    ck_assert(!cache_used_up());
    cache_note_used_up();
    expect("lim", CACHE_FOUND, "https://example.com/l");
    ck_assert(cache_used_up());
    fake_db_fail(DB_UNAVAILABLE, 0);
    fake_clock_advance(CACHE_FRESH_MS + 1);
    expect("lim", CACHE_FOUND, "https://example.com/l");
    ck_assert(cache_used_up());
    /* fetched afresh (its limit may have been raised): not known used up any more */
    fake_db_fail(DB_OK, 0);
    expect("lim", CACHE_FOUND, "https://example.com/l");
    ck_assert(!cache_used_up());
}
END_TEST

START_TEST(unseen_link_unavailable)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_UNAVAILABLE, NULL);
}
END_TEST

START_TEST(deleted_link_dropped_when_asked_again)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    ck_assert_int_eq(db_link_delete(0, "abc", 1), DB_OK);
    fake_clock_advance(CACHE_FRESH_MS + 1);
    expect("abc", CACHE_NOT_FOUND, NULL);
    /* gone from the cache too: with the database away it is not served from an old copy */
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_UNAVAILABLE, NULL);
}
END_TEST

START_TEST(notify_drops_entry)
{
    struct link *a = fake_db_add_link(1, "abc", "https://example.com/a");
    fake_db_add_link(1, "other", "https://example.com/o");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    expect("other", CACHE_FOUND, "https://example.com/o");
    a->url = "https://example.com/b";
    fake_db_notify("some_other_channel", "abc");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    unsigned long asked = fake_db_queries();
    fake_db_notify("hop_links", "0:abc"); /* "domain id:slug" */
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
    /* only the named slug was dropped */
    expect("other", CACHE_FOUND, "https://example.com/o");
    ck_assert_uint_eq(fake_db_queries(), asked + 1);
}
END_TEST

START_TEST(notify_of_deleted_link)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    ck_assert_int_eq(db_link_delete(0, "abc", 1), DB_OK);
    fake_db_notify("hop_links", "0:abc"); /* "domain id:slug" */
    expect("abc", CACHE_NOT_FOUND, NULL);
}
END_TEST

START_TEST(new_generation_empties_cache)
{
    struct link *a = fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    unsigned long listens = fake_db_listens();
    a->url = "https://example.com/b";
    /* the connection was reopened: notifications may have been lost in between */
    fake_db_reconnect();
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_listens(), listens + 1);
    expect("abc", CACHE_FOUND, "https://example.com/b");
    ck_assert_uint_eq(fake_db_listens(), listens + 1);
}
END_TEST

START_TEST(failed_listen_tried_again)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    fake_db_reconnect();
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_UNAVAILABLE, NULL);
    unsigned long listens = fake_db_listens();
    fake_db_fail(DB_OK, 0);
    expect("abc", CACHE_FOUND, "https://example.com/a");
    ck_assert_uint_eq(fake_db_listens(), listens + 1);
}
END_TEST

START_TEST(clear_forgets_everything)
{
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect("abc", CACHE_FOUND, "https://example.com/a");
    cache_clear();
    fake_db_fail(DB_UNAVAILABLE, 0);
    expect("abc", CACHE_UNAVAILABLE, NULL);
}
END_TEST

START_TEST(many_links_each_served)
{
    /* more links than one set holds: whatever is evicted is fetched again, never confused with another */
    char slug[32], url[64];
    for (int i = 0; i < 200; i++) {
        snprintf(slug, sizeof(slug), "s%d", i);
        snprintf(url, sizeof(url), "https://example.com/%d", i);
        fake_db_add_link(1, slug, url);
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 200; i++) {
            snprintf(slug, sizeof(slug), "s%d", i);
            snprintf(url, sizeof(url), "https://example.com/%d", i);
            expect(slug, CACHE_FOUND, url);
        }
    }
}
END_TEST

/* hop_redirects_total{source="SOURCE"} in the master's exposition. */
static long long redirects(const char *source)
{
    struct arena *a = arena_new(4096);
    struct buf b;
    buf_init(&b, a, 4096);
    metrics_render(&b, -1);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "hop_redirects_total{source=\"%s\"} ", source);
    const char *line = strstr(buf_str(&b), prefix);
    long long n = line ? atoll(line + strlen(prefix)) : -1;
    arena_free(a);
    ck_assert_msg(n >= 0, "no sample %s", prefix);
    return n;
}

/* Looks slug up, answers it as the redirect does, and checks the one source counted. */
static void expect_source(const char *slug, const char *source)
{
    static const char *const all[] = {"cache", "postgres", "stale"};
    long long before[3];
    for (int i = 0; i < 3; i++)
        before[i] = redirects(all[i]);
    expect(slug, CACHE_FOUND, "https://example.com/a");
    cache_count_redirect();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(redirects(all[i]), before[i] + (strcmp(all[i], source) == 0));
}

START_TEST(redirects_counted_by_source)
{
    /* the registry outlives a test when Check does not fork (valgrind runs): define once */
    static bool defined;
    ck_assert_int_eq(metrics_map(1, "hop", "t", NULL, 0), 0);
    if (!defined) {
        ck_assert_int_eq(cache_metrics_define(), 0);
        defined = true;
    }
    fake_db_add_link(1, "abc", "https://example.com/a");
    expect_source("abc", "postgres");
    expect_source("abc", "cache");
    fake_clock_advance(CACHE_FRESH_MS + 1);
    expect_source("abc", "postgres");
    fake_db_fail(DB_UNAVAILABLE, 0);
    fake_clock_advance(CACHE_FRESH_MS + 1);
    expect_source("abc", "stale");
    fake_db_fail(DB_OK, 0);
    expect_source("abc", "postgres");
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, fresh_hit_asks_nothing);
    tcase_add_test(tc, missing_link_is_not_found_each_time);
    tcase_add_test(tc, old_entry_is_asked_again);
    tcase_add_test(tc, stale_entry_served_while_unavailable);
    tcase_add_test(tc, idle_a_day_before_the_outage);
    tcase_add_test(tc, reconnect_makes_entries_old_not_gone);
    tcase_add_test(tc, every_field_and_size_round_trips);
    tcase_add_test(tc, used_up_is_remembered_until_fetched_again);
    tcase_add_test(tc, unseen_link_unavailable);
    tcase_add_test(tc, deleted_link_dropped_when_asked_again);
    tcase_add_test(tc, notify_drops_entry);
    tcase_add_test(tc, notify_of_deleted_link);
    tcase_add_test(tc, new_generation_empties_cache);
    tcase_add_test(tc, failed_listen_tried_again);
    tcase_add_test(tc, clear_forgets_everything);
    tcase_add_test(tc, many_links_each_served);
    tcase_add_test(tc, redirects_counted_by_source);
    suite_add_tcase(s, tc);
    return s;
}
