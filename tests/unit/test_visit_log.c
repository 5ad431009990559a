/* Unit tests for the visit log's encoding (handlers/core/visit_log.c): sums come back as they went, part by
 * part, and a row that is not sums of its part (cut short, a field out of range, random bytes: another master
 * or an operator may have written it) is refused without reading past it. */
#include "visit_log.h"

#include "ua.h"
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { NSUMS = 200 };

static struct sum sums[NSUMS];

/* NSUMS sums over links 1..NSUMS: every field used, text values empty, short and of the longest length. */
static void fill(void)
{
    memset(sums, 0, sizeof(sums));
    for (int i = 0; i < NSUMS; i++) {
        struct sum *s = &sums[i];
        s->key.link_id = 1 + i;
        s->key.hour = 490000 + i % 3;
        s->key.v.bot = i % 2;
        s->key.v.device = (uint8_t)(i % UA_NDEVICES);
        s->key.v.browser = (uint8_t)(i % 7);
        s->key.v.os = (uint8_t)(i % 5);
        if (i % 4)
            memcpy(s->key.v.country, "FR", 2);
        if (i % 3 == 1)
            memset(s->key.v.host, 'h', VISITS_VALUE_MAX);
        else if (i % 3 == 2)
            memcpy(s->key.v.host, "news.example", 12);
        if (i % 5 == 0)
            memset(s->key.v.utm[VISITS_UTM_CAMPAIGN], 'c', VISITS_VALUE_MAX);
        s->count = 1 + (long long)i * 1000003;
    }
}

/* The sums of part p, in order. */
static int of_part(int p, struct sum *out)
{
    int n = 0;
    for (int i = 0; i < NSUMS; i++) {
        if (vwin_part_of(sums[i].key.link_id) == p)
            out[n++] = sums[i];
    }
    return n;
}

static unsigned char *enc; /* the sums encoded (encode_all), part p's at off[p], len[p] bytes long */
static int off[VWIN_PARTS], len[VWIN_PARTS];

static size_t encode_all(void)
{
    fill();
    return vlog_encode(sums, NSUMS, &enc, off, len);
}

START_TEST(sums_come_back_part_by_part)
{
    size_t size = encode_all();
    size_t seen = 0;
    for (int p = 0; p < VWIN_PARTS; p++) {
        struct sum want[NSUMS], *got;
        int n = of_part(p, want);
        seen += (size_t)len[p];
        if (n == 0) {
            ck_assert_int_eq(len[p], 0);
            continue;
        }
        ck_assert_int_eq(vlog_decode(p, enc + off[p], (size_t)len[p], &got), n);
        ck_assert_mem_eq(got, want, (size_t)n * sizeof(*got));
        free(got);
    }
    ck_assert_uint_eq(seen, size);
    free(enc);
}
END_TEST

/* Every cut of a part's row is refused, except at the end of a sum (then the sums before it come back). */
START_TEST(a_row_cut_short_is_refused)
{
    encode_all();
    int p = vwin_part_of(sums[0].key.link_id);
    struct sum want[NSUMS];
    int n = of_part(p, want);
    /* where each sum ends, from the encodings of the first k sums alone */
    size_t ends[NSUMS];
    for (int k = 1; k <= n; k++) {
        unsigned char *e;
        int o2[VWIN_PARTS], l2[VWIN_PARTS];
        vlog_encode(want, (size_t)k, &e, o2, l2);
        ends[k - 1] = (size_t)l2[p];
        free(e);
    }
    int boundary = 0;
    for (size_t cut = 1; cut < (size_t)len[p]; cut++) {
        unsigned char *copy = malloc(cut); /* exactly cut bytes: the sanitizers see a read past them */
        memcpy(copy, enc + off[p], cut);
        struct sum *got = NULL;
        long long r = vlog_decode(p, copy, cut, &got);
        if (boundary < n && cut == ends[boundary]) {
            ck_assert_int_eq(r, boundary + 1);
            boundary++;
            free(got);
        } else {
            ck_assert_int_eq(r, -1);
        }
        free(copy);
    }
    ck_assert_int_eq(boundary, n - 1);
    free(enc);
}
END_TEST

/* One sum of link 1 encoded, changed by f, then decoded as part p: -1 expected. */
static void refused(void (*f)(unsigned char *row, size_t *n), int p)
{
    struct sum s;
    memset(&s, 0, sizeof(s));
    s.key.link_id = 1;
    s.key.hour = 490000;
    s.count = 3;
    memcpy(s.key.v.host, "a.example", 9);
    unsigned char *one, row[512];
    int o[VWIN_PARTS], l[VWIN_PARTS];
    vlog_encode(&s, 1, &one, o, l);
    int mine = vwin_part_of(1);
    size_t n = (size_t)l[mine];
    memcpy(row, one + o[mine], n);
    free(one);
    f(row, &n);
    struct sum *got = NULL;
    ck_assert_int_eq(vlog_decode(p < 0 ? mine : p, row, n, &got), -1);
}

static void nothing(unsigned char *row, size_t *n)
{
    (void)row;
    (void)n;
}
static void empty(unsigned char *row, size_t *n)
{
    (void)row;
    *n = 0;
}
static void link_zero(unsigned char *row, size_t *n)
{
    (void)n;
    memset(row, 0, 8);
}
static void count_zero(unsigned char *row, size_t *n)
{
    (void)n;
    memset(row + 12, 0, 8);
}
static void count_negative(unsigned char *row, size_t *n)
{
    (void)n;
    memset(row + 12, 0xff, 8);
}
static void bot_two(unsigned char *row, size_t *n)
{
    (void)n;
    row[20] = 2;
}
static void device_unknown(unsigned char *row, size_t *n)
{
    (void)n;
    row[21] = UA_NDEVICES;
}
static void country_lower(unsigned char *row, size_t *n)
{
    (void)n;
    row[24] = 'f';
    row[25] = 'r';
}
static void country_half(unsigned char *row, size_t *n)
{
    (void)n;
    row[24] = 'F';
    row[25] = 0;
}
static void text_too_long(unsigned char *row, size_t *n)
{
    (void)n;
    row[26] = VISITS_VALUE_MAX + 1;
}
static void text_with_nul(unsigned char *row, size_t *n)
{
    (void)n;
    row[27 + 3] = 0; /* inside "a.example" */
}
static void bytes_after(unsigned char *row, size_t *n)
{
    row[(*n)++] = 7;
}

START_TEST(a_field_out_of_range_is_refused)
{
    refused(nothing, vwin_part_of(1) + 1 == VWIN_PARTS ? 0 : vwin_part_of(1) + 1); /* another part's link */
    refused(empty, -1);
    refused(link_zero, -1);
    refused(count_zero, -1);
    refused(count_negative, -1);
    refused(bot_two, -1);
    refused(device_unknown, -1);
    refused(country_lower, -1);
    refused(country_half, -1);
    refused(text_too_long, -1);
    refused(text_with_nul, -1);
    refused(bytes_after, -1);
}
END_TEST

/* Random rows, the first bytes of many of them a valid sum's: decoded or refused, never read past. */
START_TEST(random_rows_are_decoded_or_refused)
{
    encode_all();
    unsigned int seed = 20261207;
    int decoded = 0;
    for (int i = 0; i < 20000; i++) {
        int p = rand_r(&seed) % VWIN_PARTS;
        bool mutant = len[p] > 0 && i % 2; /* a valid row with a byte changed */
        size_t n = mutant ? (size_t)len[p] : 1 + (size_t)(rand_r(&seed) % 400);
        unsigned char *row = malloc(n);
        if (mutant) {
            memcpy(row, enc + off[p], n);
            row[rand_r(&seed) % n] = (unsigned char)rand_r(&seed);
        } else {
            for (size_t k = 0; k < n; k++)
                row[k] = (unsigned char)rand_r(&seed);
        }
        struct sum *got = NULL;
        long long r = vlog_decode(p, row, n, &got);
        ck_assert_int_ge(r, -1);
        if (r >= 0) {
            decoded++;
            for (long long k = 0; k < r; k++)
                ck_assert_int_eq(vwin_part_of(got[k].key.link_id), p);
            free(got);
        }
        free(row);
    }
    /* a changed count, hour, browser or OS leaves a valid row: the loop did reach the decoder's end */
    ck_assert_int_gt(decoded, 0);
    free(enc);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("visit_log");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sums_come_back_part_by_part);
    tcase_add_test(tc, a_row_cut_short_is_refused);
    tcase_add_test(tc, a_field_out_of_range_is_refused);
    tcase_add_test(tc, random_rows_are_decoded_or_refused);
    suite_add_tcase(s, tc);
    return s;
}
