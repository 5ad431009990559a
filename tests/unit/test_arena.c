/* Unit tests for fcgi-app/arena.c and fcgi-app/buf.c: alignment, allocations larger than a block, the
 * deferred destructors, reuse after reset, and the growable buffer on top of it. */
#include "arena.h"
#include "buf.h"
#include "unit.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static struct arena *arena;

static void setup(void)
{
    arena = arena_new(1024);
}

static void teardown(void)
{
    arena_free(arena);
}

static bool aligned(const void *p)
{
    return (uintptr_t)p % alignof(max_align_t) == 0;
}

/* ---- allocation ---- */

START_TEST(alloc_aligned)
{
    for (size_t size = 0; size < 200; size++) {
        char *p = arena_alloc(arena, size);
        ck_assert_ptr_nonnull(p);
        ck_assert_msg(aligned(p), "size %zu: %p not aligned", size, (void *)p);
        memset(p, 0xab, size);
    }
    long double *ld = arena_alloc(arena, sizeof(*ld));
    *ld = 1.5L;
    ck_assert(*ld == 1.5L);
    ck_assert(aligned(arena_strdup(arena, "x")));
    ck_assert(aligned(arena_printf(arena, "%d", 7)));
}
END_TEST

START_TEST(alloc_distinct_and_kept)
{
    /* many small allocations over many blocks: none overlaps and none is lost */
    enum { N = 20000 };
    uint32_t **p = malloc(N * sizeof(*p));
    ck_assert_ptr_nonnull(p);
    for (uint32_t i = 0; i < N; i++) {
        p[i] = arena_alloc(arena, 3 * sizeof(uint32_t));
        p[i][0] = i;
        p[i][1] = ~i;
        p[i][2] = i * 7u;
    }
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_uint_eq(p[i][0], i);
        ck_assert_uint_eq(p[i][1], ~i);
        ck_assert_uint_eq(p[i][2], i * 7u);
    }
    free(p);
}
END_TEST

START_TEST(alloc_bigger_than_first_block)
{
    char *small = arena_strdup(arena, "before");
    size_t big = 1024 * 1024;
    char *p = arena_alloc(arena, big);
    ck_assert(aligned(p));
    memset(p, 0x5c, big); /* ASan and valgrind check that all of it is ours */
    char *q = arena_alloc(arena, 3 * big + 1);
    memset(q, 0x3a, 3 * big + 1);
    char *after = arena_strdup(arena, "after");
    ck_assert_str_eq(small, "before");
    ck_assert_str_eq(after, "after");
    ck_assert_int_eq(p[0], 0x5c);
    ck_assert_int_eq(p[big - 1], 0x5c);
    ck_assert_int_eq(q[3 * big], 0x3a);
    ck_assert_uint_ge(arena_used(arena), 4 * big + 1);
}
END_TEST

START_TEST(alloc_exactly_block_sized)
{
    /* fill the first block exactly, then one more byte */
    char *a = arena_alloc(arena, 1024);
    memset(a, 1, 1024);
    char *b = arena_alloc(arena, 1);
    *b = 2;
    char *c = arena_alloc(arena, 2048);
    memset(c, 3, 2048);
    ck_assert_int_eq(a[1023], 1);
    ck_assert_int_eq(*b, 2);
    ck_assert_int_eq(c[2047], 3);
}
END_TEST

START_TEST(small_first_block_is_raised)
{
    struct arena *a = arena_new(0);
    char *p = arena_alloc(a, 1000);
    memset(p, 'x', 1000);
    arena_free(a);
    a = arena_new(1);
    ck_assert_ptr_nonnull(arena_strdup(a, "ok"));
    arena_free(a);
}
END_TEST

START_TEST(used_counts_and_resets)
{
    ck_assert_uint_eq(arena_used(arena), 0);
    arena_alloc(arena, 1);
    size_t one = arena_used(arena);
    ck_assert_uint_ge(one, 1);
    ck_assert_uint_eq(one % alignof(max_align_t), 0);
    arena_alloc(arena, 100);
    ck_assert_uint_ge(arena_used(arena), one + 100);
    arena_alloc(arena, 10000);
    ck_assert_uint_ge(arena_used(arena), one + 10100);
    arena_reset(arena);
    ck_assert_uint_eq(arena_used(arena), 0);
}
END_TEST

START_TEST(zalloc_zeroes_reused_memory)
{
    unsigned char *p = arena_alloc(arena, 512);
    memset(p, 0xff, 512);
    arena_reset(arena);
    unsigned char *z = arena_zalloc(arena, 512);
    ck_assert_ptr_eq(z, p); /* the same memory, reused */
    for (size_t i = 0; i < 512; i++)
        ck_assert_uint_eq(z[i], 0);
}
END_TEST

START_TEST(strings)
{
    ck_assert_str_eq(arena_strdup(arena, "hello"), "hello");
    ck_assert_str_eq(arena_strdup(arena, ""), "");
    ck_assert_str_eq(arena_strndup(arena, "abcdef", 3), "abc");
    char *n = arena_strndup(arena, "a\0b", 3);
    ck_assert(memcmp(n, "a\0b\0", 4) == 0);
    ck_assert_str_eq(arena_printf(arena, "%s-%d-%05.1f", "x", 42, 3.25), "x-42-003.2");
    ck_assert_str_eq(arena_printf(arena, "%s", ""), "");

    char *big = malloc(10001);
    ck_assert_ptr_nonnull(big);
    memset(big, 'q', 10000);
    big[10000] = '\0';
    char *p = arena_printf(arena, "<%s>", big);
    ck_assert_uint_eq(strlen(p), 10002);
    ck_assert_int_eq(p[0], '<');
    ck_assert_int_eq(p[10001], '>');
    ck_assert_str_eq(arena_strdup(arena, big), big);
    free(big);
}
END_TEST

/* ---- reset and reuse ---- */

START_TEST(reset_reuses_first_block)
{
    void *first = arena_alloc(arena, 16);
    arena_alloc(arena, 100000); /* a second block */
    arena_alloc(arena, 16);
    arena_reset(arena);
    ck_assert_ptr_eq(arena_alloc(arena, 16), first);
    arena_reset(arena);
    ck_assert_ptr_eq(arena_alloc(arena, 16), first);
}
END_TEST

START_TEST(reset_many_rounds)
{
    /* the worker's life: one arena, many requests; valgrind sees that no block is lost */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 50; i++) {
            char *p = arena_alloc(arena, (size_t)(i * 97 + round));
            memset(p, i, (size_t)(i * 97 + round));
        }
        char *s = arena_printf(arena, "round %d", round);
        char want[32];
        snprintf(want, sizeof(want), "round %d", round);
        ck_assert_str_eq(s, want);
        arena_reset(arena);
        ck_assert_uint_eq(arena_used(arena), 0);
    }
}
END_TEST

START_TEST(free_null)
{
    arena_free(NULL);
}
END_TEST

/* ---- deferred destructors ---- */

static int order[32];
static int norder;

static void record(void *p)
{
    ck_assert_int_lt(norder, 32);
    order[norder++] = *(int *)p;
}

static void reset_order(void)
{
    norder = 0;
    memset(order, 0, sizeof(order));
}

START_TEST(defer_runs_on_reset_newest_first)
{
    static int one = 1, two = 2, three = 3;
    reset_order();
    arena_defer(arena, record, &one);
    arena_defer(arena, record, &two);
    arena_defer(arena, record, &three);
    ck_assert_int_eq(norder, 0);
    arena_reset(arena);
    /* like destructors: the last registered runs first */
    ck_assert_int_eq(norder, 3);
    ck_assert_int_eq(order[0], 3);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 1);
    /* each runs once */
    arena_reset(arena);
    ck_assert_int_eq(norder, 3);
}
END_TEST

START_TEST(defer_runs_on_free)
{
    static int a = 10, b = 20;
    reset_order();
    struct arena *ar = arena_new(1024);
    arena_defer(ar, record, &a);
    arena_alloc(ar, 50000); /* the next record lives in a later block */
    arena_defer(ar, record, &b);
    arena_free(ar);
    ck_assert_int_eq(norder, 2);
    ck_assert_int_eq(order[0], 20);
    ck_assert_int_eq(order[1], 10);
}
END_TEST

START_TEST(defer_across_blocks_and_rounds)
{
    static int vals[20];
    reset_order();
    for (int i = 0; i < 20; i++) {
        vals[i] = i;
        arena_defer(arena, record, &vals[i]);
        arena_alloc(arena, 4096); /* spread the records over blocks */
    }
    arena_reset(arena);
    ck_assert_int_eq(norder, 20);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(order[i], 19 - i);
    /* a new round registers afresh */
    reset_order();
    arena_defer(arena, record, &vals[5]);
    arena_reset(arena);
    ck_assert_int_eq(norder, 1);
    ck_assert_int_eq(order[0], 5);
}
END_TEST

static void put_json(void *p)
{
    json_object_put(p);
}

START_TEST(defer_releases_json)
{
    /* valgrind's leak check is the assertion here */
    for (int i = 0; i < 100; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "k", json_object_new_string("a string that is heap allocated"));
        arena_defer(arena, put_json, o);
    }
    arena_reset(arena);
    struct json_object *o = json_object_new_array();
    arena_defer(arena, put_json, o);
}
END_TEST

/* ---- buf ---- */

START_TEST(buf_init_minimum)
{
    struct buf b;
    buf_init(&b, arena, 0);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_ge(b.cap, 64);
    ck_assert_ptr_eq(b.arena, arena);
    ck_assert_str_eq(buf_str(&b), "");
    buf_init(&b, arena, 1000);
    ck_assert_uint_eq(b.cap, 1000);
}
END_TEST

START_TEST(buf_grows_bytewise)
{
    struct buf b;
    buf_init(&b, arena, 1);
    for (int i = 0; i < 10000; i++) {
        buf_addc(&b, (char)('a' + i % 26));
        ck_assert_uint_eq(b.len, (size_t)i + 1);
        ck_assert_uint_gt(b.cap, b.len);
    }
    const char *s = buf_str(&b);
    ck_assert_uint_eq(strlen(s), 10000);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(s[i], 'a' + i % 26);
}
END_TEST

START_TEST(buf_add_big_and_binary)
{
    struct buf b;
    buf_init(&b, arena, 64);
    buf_adds(&b, "head:");
    buf_add(&b, "\0\1\2", 3);
    size_t big = 300000;
    char *chunk = malloc(big);
    ck_assert_ptr_nonnull(chunk);
    memset(chunk, 'z', big);
    buf_add(&b, chunk, big);
    buf_adds(&b, ":tail");
    ck_assert_uint_eq(b.len, 5 + 3 + big + 5);
    ck_assert(memcmp(b.data, "head:\0\1\2zz", 10) == 0);
    ck_assert(memcmp(b.data + 8, chunk, big) == 0);
    ck_assert(memcmp(b.data + 8 + big, ":tail", 5) == 0);
    ck_assert_int_eq(buf_str(&b)[b.len], '\0');
    buf_add(&b, "", 0);
    ck_assert_uint_eq(b.len, 5 + 3 + big + 5);
    free(chunk);
}
END_TEST

START_TEST(buf_addf_formats)
{
    struct buf b;
    buf_init(&b, arena, 8);
    buf_addf(&b, "%d-%s-%zu", 42, "x", (size_t)7);
    buf_addf(&b, "%s", "");
    buf_addf(&b, "|%c|", 'q');
    ck_assert_str_eq(buf_str(&b), "42-x-7|q|");
    ck_assert_uint_eq(b.len, 9);
}
END_TEST

START_TEST(buf_addf_boundaries)
{
    /* results that end exactly at the capacity, one short of it and one past it */
    char s[200];
    memset(s, 'w', sizeof(s));
    for (int n = 60; n <= 70; n++) {
        for (size_t pre = 0; pre < 4; pre++) {
            struct buf b;
            buf_init(&b, arena, 64);
            for (size_t i = 0; i < pre; i++)
                buf_addc(&b, 'p');
            buf_addf(&b, "%.*s", n, s);
            ck_assert_uint_eq(b.len, pre + (size_t)n);
            ck_assert_uint_gt(b.cap, b.len);
            const char *str = buf_str(&b);
            ck_assert_uint_eq(strlen(str), pre + (size_t)n);
            for (size_t i = 0; i < pre; i++)
                ck_assert_int_eq(str[i], 'p');
            for (size_t i = pre; i < b.len; i++)
                ck_assert_int_eq(str[i], 'w');
        }
    }
}
END_TEST

START_TEST(buf_addf_long)
{
    struct buf b;
    buf_init(&b, arena, 64);
    buf_adds(&b, "x");
    buf_addf(&b, "%0100000d", 5);
    ck_assert_uint_eq(b.len, 100001);
    const char *s = buf_str(&b);
    ck_assert_int_eq(s[0], 'x');
    ck_assert_int_eq(s[1], '0');
    ck_assert_int_eq(s[100000], '5');
    ck_assert_int_eq(s[100001], '\0');
}
END_TEST

START_TEST(buf_str_keeps_contents)
{
    struct buf b;
    buf_init(&b, arena, 64);
    buf_add(&b, "abc", 3);
    ck_assert_str_eq(buf_str(&b), "abc");
    buf_adds(&b, "def");
    ck_assert_str_eq(buf_str(&b), "abcdef");
    ck_assert_uint_eq(b.len, 6);
    /* exactly full: buf_str must still find room for the NUL */
    struct buf c;
    buf_init(&c, arena, 64);
    char fill[63];
    memset(fill, 'f', sizeof(fill));
    buf_add(&c, fill, sizeof(fill));
    const char *s = buf_str(&c);
    ck_assert_uint_eq(strlen(s), 63);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *alloc = tcase_create("alloc");
    TCase *reset = tcase_create("reset");
    TCase *defer = tcase_create("defer");
    TCase *buf = tcase_create("buf");

    tcase_add_checked_fixture(alloc, setup, teardown);
    tcase_add_checked_fixture(reset, setup, teardown);
    tcase_add_checked_fixture(defer, setup, teardown);
    tcase_add_checked_fixture(buf, setup, teardown);

    tcase_add_test(alloc, alloc_aligned);
    tcase_add_test(alloc, alloc_distinct_and_kept);
    tcase_add_test(alloc, alloc_bigger_than_first_block);
    tcase_add_test(alloc, alloc_exactly_block_sized);
    tcase_add_test(alloc, small_first_block_is_raised);
    tcase_add_test(alloc, used_counts_and_resets);
    tcase_add_test(alloc, zalloc_zeroes_reused_memory);
    tcase_add_test(alloc, strings);
    tcase_set_timeout(alloc, 60);
    suite_add_tcase(s, alloc);

    tcase_add_test(reset, reset_reuses_first_block);
    tcase_add_test(reset, reset_many_rounds);
    tcase_add_test(reset, free_null);
    tcase_set_timeout(reset, 60);
    suite_add_tcase(s, reset);

    tcase_add_test(defer, defer_runs_on_reset_newest_first);
    tcase_add_test(defer, defer_runs_on_free);
    tcase_add_test(defer, defer_across_blocks_and_rounds);
    tcase_add_test(defer, defer_releases_json);
    suite_add_tcase(s, defer);

    tcase_add_test(buf, buf_init_minimum);
    tcase_add_test(buf, buf_grows_bytewise);
    tcase_add_test(buf, buf_add_big_and_binary);
    tcase_add_test(buf, buf_addf_formats);
    tcase_add_test(buf, buf_addf_boundaries);
    tcase_add_test(buf, buf_addf_long);
    tcase_add_test(buf, buf_str_keeps_contents);
    tcase_set_timeout(buf, 60);
    suite_add_tcase(s, buf);

    return s;
}
