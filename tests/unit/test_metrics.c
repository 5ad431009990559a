/* Unit tests for fcgi-app/metrics.c: requests counted by route row and status class, the duration histogram's
 * buckets, the application's series summed over every slot (a forked worker's counts seen by the master
 * through shared memory), gauges cleared when a worker dies, restarts, and the status object. */
#include "metrics.h"

#include "arena.h"
#include "buf.h"
#include "router.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void noop(struct req *r, struct resp *w)
{
    (void)r;
    (void)w;
}

static const struct route routes[] = {
    {"GET", "/healthz", noop},
    {"GET", "/:slug", noop},
};

static struct arena *arena;
static int m_hits, m_up, m_busy;

/* Maps a pool of 2 workers once per test process (Check forks each test). */
static void setup(void)
{
    arena = arena_new(4096);
    ck_assert_int_eq(metrics_map(2, "t", "1.2.3", routes, 2), 0);
    /* the registry outlives a test when Check does not fork (valgrind runs): define once */
    static bool defined;
    if (!defined) {
        m_hits = metrics_define("t_hits_total", "source=\"cache\"", METRICS_COUNTER, "Hits.");
        m_up = metrics_define("t_up", NULL, METRICS_GAUGE, "Up.");
        m_busy = metrics_define("t_busy_seconds_total", NULL, METRICS_SECONDS, "Busy.");
        defined = true;
    }
    ck_assert_int_ge(m_hits, 0);
    ck_assert_int_ge(m_up, 0);
    ck_assert_int_ge(m_busy, 0);
}

static void teardown(void)
{
    arena_free(arena);
}

static const char *render(void)
{
    struct buf b;
    buf_init(&b, arena, 1024);
    metrics_render(&b, -1);
    return buf_str(&b);
}

/* The line that starts with prefix (a sample's name and labels, and the space), or fails. */
static long long sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
            return atoll(p + n + 1);
    }
    ck_abort_msg("no sample %s in:\n%s", prefix, text);
    return -1;
}

START_TEST(requests_by_route_and_class)
{
    metrics_attach(0);
    metrics_request_begin();
    metrics_request_end(2, 302, 150);
    metrics_request_end(2, 404, 3000);
    metrics_request_end(1, 200, 50);
    metrics_request_end(METRICS_ROUTE_NONE, 401, 20);
    metrics_request_end(METRICS_ROUTE_METRICS, 200, 20);
    metrics_request_end(99, 503, 20); /* a row past the table: none */
    const char *t = render();
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"GET\",route=\"/:slug\",status=\"3xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"GET\",route=\"/:slug\",status=\"4xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"\",route=\"none\",status=\"4xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"\",route=\"none\",status=\"5xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_requests_total{method=\"GET\",route=\"/metrics\",status=\"2xx\"}"), 1);
    ck_assert_int_eq(sample(t, "t_worker_requests_total{worker=\"0\"}"), 6);
    ck_assert_int_eq(sample(t, "t_workers_configured"), 2);
    ck_assert_ptr_nonnull(strstr(t, "t_build_info{version=\"1.2.3\"} 1\n"));
}
END_TEST

START_TEST(histogram_buckets_are_cumulative)
{
    metrics_attach(1);
    metrics_request_end(2, 302, 100);      /* on the 0.0001 bound: in it */
    metrics_request_end(2, 302, 101);      /* just past it */
    metrics_request_end(2, 302, 20000);    /* 20 ms */
    metrics_request_end(2, 302, 60000000); /* a minute: only +Inf */
    const char *t = render();
    const char *b = "t_request_duration_seconds_bucket{method=\"GET\",route=\"/:slug\",le=";
    char key[160];
#define BUCKET(le) (snprintf(key, sizeof(key), "%s\"%s\"}", b, le), sample(t, key))
    ck_assert_int_eq(BUCKET("0.0001"), 1);
    ck_assert_int_eq(BUCKET("0.00025"), 2);
    ck_assert_int_eq(BUCKET("0.01"), 2);
    ck_assert_int_eq(BUCKET("0.025"), 3);
    ck_assert_int_eq(BUCKET("10"), 3);
    ck_assert_int_eq(BUCKET("+Inf"), 4);
#undef BUCKET
    ck_assert_int_eq(sample(t, "t_request_duration_seconds_count{method=\"GET\",route=\"/:slug\"}"), 4);
    ck_assert_ptr_nonnull(
        strstr(t, "t_request_duration_seconds_sum{method=\"GET\",route=\"/:slug\"} 60.020201\n"));
}
END_TEST

START_TEST(app_series_summed_over_processes)
{
    /* the master (its own slot) counts 1; a forked worker counts 4 in slot 0 and sets its gauge */
    metrics_add(m_hits, 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        metrics_attach(0);
        metrics_add(m_hits, 4);
        metrics_set(m_up, 1);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    metrics_worker_up(0, pid);
    const char *t = render();
    ck_assert_int_eq(sample(t, "t_hits_total{source=\"cache\"}"), 5);
    ck_assert_int_eq(sample(t, "t_up"), 1);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE t_hits_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE t_up gauge\n"));
    /* it died: its gauge share goes, its counts stay, and a restart is counted */
    metrics_worker_down(0, true);
    t = render();
    ck_assert_int_eq(sample(t, "t_hits_total{source=\"cache\"}"), 5);
    ck_assert_int_eq(sample(t, "t_up"), 0);
    ck_assert_int_eq(sample(t, "t_worker_restarts_total"), 1);
    ck_assert_int_eq(sample(t, "t_workers_alive"), 0);
    /* an id that was never defined changes nothing */
    metrics_add(-1, 7);
    metrics_add(METRICS_APP_MAX, 7);
}
END_TEST

START_TEST(seconds_counted_in_microseconds)
{
    /* counted to the microsecond, shown in seconds as Prometheus' unit of time wants, in both views */
    metrics_add(m_busy, 1500000);
    metrics_add(m_busy, 250);
    const char *t = render();
    ck_assert_ptr_nonnull(strstr(t, "# TYPE t_busy_seconds_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nt_busy_seconds_total 1.500250\n"));
    struct json_object *st = metrics_status(-1);
    const char *s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
    ck_assert_ptr_nonnull(strstr(s, "\"t_busy_seconds_total\":1.50025"));
    json_object_put(st);
}
END_TEST

START_TEST(busy_workers)
{
    metrics_worker_up(0, getpid());
    metrics_worker_up(1, getpid());
    metrics_attach(1);
    metrics_request_begin();
    ck_assert_int_eq(metrics_busy(), 1);
    ck_assert_int_eq(sample(render(), "t_workers_busy"), 1);
    metrics_request_end(1, 200, 10);
    ck_assert_int_eq(metrics_busy(), 0);
    metrics_request_begin();
    metrics_request_dropped();
    ck_assert_int_eq(metrics_busy(), 0);
    ck_assert_int_eq(sample(render(), "t_requests_dropped_total"), 1);
}
END_TEST

START_TEST(status_object)
{
    metrics_worker_up(0, getpid());
    metrics_attach(0);
    metrics_request_end(2, 302, 10);
    metrics_add(m_hits, 2);
    struct json_object *st = metrics_status(-1);
    const char *s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
    ck_assert_ptr_nonnull(strstr(s, "\"pool\":\"t\""));
    ck_assert_ptr_nonnull(strstr(s, "\"workers_configured\":2"));
    ck_assert_ptr_nonnull(strstr(s, "\"workers_alive\":1"));
    ck_assert_ptr_nonnull(strstr(s, "\"listen_queue\":null"));
    ck_assert_ptr_nonnull(strstr(s, "\"state\":\"idle\""));
    ck_assert_ptr_nonnull(strstr(s, "\"state\":\"down\""));
    ck_assert_ptr_nonnull(strstr(s, "\"t_hits_total{source=\\\"cache\\\"}\":2"));
    json_object_put(st);
}
END_TEST

START_TEST(outside_a_pool_nothing_happens)
{
    /* a worker slot that does not exist: counting goes nowhere, and nothing crashes */
    metrics_attach(5);
    metrics_add(m_hits, 1);
    metrics_request_begin();
    metrics_request_end(1, 200, 1);
    ck_assert_int_eq(sample(render(), "t_hits_total{source=\"cache\"}"), 0);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, requests_by_route_and_class);
    tcase_add_test(tc, histogram_buckets_are_cumulative);
    tcase_add_test(tc, app_series_summed_over_processes);
    tcase_add_test(tc, seconds_counted_in_microseconds);
    tcase_add_test(tc, busy_workers);
    tcase_add_test(tc, status_object);
    tcase_add_test(tc, outside_a_pool_nothing_happens);
    suite_add_tcase(s, tc);
    return s;
}
