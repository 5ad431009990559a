/* Unit tests for fcgi-app/sockqueue.c: the accept queue of a real listening Unix socket and a real loopback
 * TCP socket, as the kernel reports it, and a clear -1 for what is not a listening socket. */
#include "sockqueue.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { BACKLOG = 7, CLIENTS = 3 };

static int unix_listener(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/hop-sockq-%d-%ld.sock", (int)getpid(), (long)time(NULL));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, BACKLOG), 0);
    return fd;
}

static int unix_client(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

START_TEST(unix_queue_counts_waiting_connections)
{
    char path[108];
    int lfd = unix_listener(path, sizeof(path));
    long queued = -1, backlog = -1;
    ck_assert_int_eq(sockqueue_read(lfd, &queued, &backlog), 0);
    ck_assert_int_eq(queued, 0);
    ck_assert_int_eq(backlog, BACKLOG);
    int c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        c[i] = unix_client(path);
    ck_assert_int_eq(sockqueue_read(lfd, &queued, &backlog), 0);
    ck_assert_int_eq(queued, CLIENTS);
    /* one accepted: one fewer waits */
    int a = accept(lfd, NULL, NULL);
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(sockqueue_read(lfd, &queued, &backlog), 0);
    ck_assert_int_eq(queued, CLIENTS - 1);
    close(a);
    for (int i = 0; i < CLIENTS; i++)
        close(c[i]);
    close(lfd);
    unlink(path);
}
END_TEST

START_TEST(tcp_queue_counts_waiting_connections)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, BACKLOG), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    long queued = -1, backlog = -1;
    ck_assert_int_eq(sockqueue_read(lfd, &queued, &backlog), 0);
    ck_assert_int_eq(queued, 0);
    ck_assert_int_eq(backlog, BACKLOG);
    int c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(c[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    /* the handshake's last ACK reaches the listener a moment after connect returns */
    for (int tries = 0; tries < 100; tries++) {
        ck_assert_int_eq(sockqueue_read(lfd, &queued, &backlog), 0);
        if (queued == CLIENTS)
            break;
        usleep(10 * 1000);
    }
    ck_assert_int_eq(queued, CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        close(c[i]);
    close(lfd);
}
END_TEST

START_TEST(not_a_listening_socket)
{
    long queued = 0, backlog = 0;
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(sockqueue_read(p[0], &queued, &backlog), -1);
    close(p[0]);
    close(p[1]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(sockqueue_read(s, &queued, &backlog), -1);
    close(s);
    ck_assert_int_eq(sockqueue_read(-1, &queued, &backlog), -1);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("sockqueue");
    TCase *tc = tcase_create("queue");
    tcase_add_test(tc, unix_queue_counts_waiting_connections);
    tcase_add_test(tc, tcp_queue_counts_waiting_connections);
    tcase_add_test(tc, not_a_listening_socket);
    suite_add_tcase(s, tc);
    return s;
}
