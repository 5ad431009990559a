/* How many connections wait in a listen socket's accept queue, as the kernel tells it: sock_diag netlink
 * (UDIAG_SHOW_RQLEN) for a Unix socket, TCP_INFO for TCP. */
#ifndef HOP_SOCKQUEUE_H
#define HOP_SOCKQUEUE_H

/* The connections waiting to be accepted on listening socket fd (*queued) and its backlog (*backlog):
 * 0, or -1 when the kernel does not say (no netlink in a sandbox, another network namespace, not a socket).
 */
int sockqueue_read(int fd, long *queued, long *backlog);

#endif
