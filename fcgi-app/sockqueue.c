/* A listen socket's accept queue; see sockqueue.h. */
#include "sockqueue.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* A listening TCP socket reports its accept queue in tcpi_unacked and its backlog in tcpi_sacked. */
static int tcp_queue(int fd, long *queued, long *backlog)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ti.tcpi_state != TCP_LISTEN)
        return -1;
    *queued = (long)ti.tcpi_unacked;
    *backlog = (long)ti.tcpi_sacked;
    return 0;
}

static int unix_ask(int nl, ino_t ino)
{
    struct {
        struct nlmsghdr nh;
        struct unix_diag_req req;
    } msg = {
        .nh = {.nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST},
        .req = {.sdiag_family = AF_UNIX,
                .udiag_states = 1u << TCP_LISTEN,
                .udiag_ino = (unsigned)ino,
                .udiag_show = UDIAG_SHOW_RQLEN,
                .udiag_cookie = {~0u, ~0u}}, /* no cookie: look the socket up by inode */
    };
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    return sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == sizeof(msg) ? 0
                                                                                                       : -1;
}

/* Finds UNIX_DIAG_RQLEN in the kernel's answer for the socket with inode ino. */
static int unix_answer(const char *buf, long n, ino_t ino, long *queued, long *backlog)
{
    for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
            return -1;
        const struct unix_diag_msg *m = NLMSG_DATA(h);
        if (m->udiag_ino != ino)
            continue;
        long left = (long)h->nlmsg_len - (long)NLMSG_LENGTH(sizeof(*m));
        for (const struct rtattr *a = (const void *)(m + 1); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
            if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
                const struct unix_diag_rqlen *q = RTA_DATA(a);
                *queued = (long)q->udiag_rqueue;
                *backlog = (long)q->udiag_wqueue;
                return 0;
            }
        }
    }
    return -1;
}

static int unix_queue(int fd, long *queued, long *backlog)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    /* a scrape must never hang on the kernel's answer */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int rc = -1;
    char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    if (unix_ask(nl, st.st_ino) == 0) {
        long n = recv(nl, buf, sizeof(buf), 0);
        if (n > 0)
            rc = unix_answer(buf, n, st.st_ino, queued, backlog);
    }
    close(nl);
    return rc;
}

int sockqueue_read(int fd, long *queued, long *backlog)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    if (sa.ss_family == AF_UNIX)
        return unix_queue(fd, queued, backlog);
    if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6)
        return tcp_queue(fd, queued, backlog);
    return -1;
}
