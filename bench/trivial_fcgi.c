/* The FastCGI transport's ceiling for `make bench`: a libfcgi responder that answers every request with a
 * constant 302, in hop's process model (a master owns the socket and forks N single-threaded workers). */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_WORKERS = 64, BACKLOG = 4096 };

/* The same head hop sends for a redirect, header for header and in its order (X-Robots-Tag since issue 11),
 * so that both move the same bytes through Caddy and Caddy parses the same header lines for each. */
static const char response[] = "Status: 302 Found\r\n"
                               "Content-Length: 0\r\n"
                               "X-Request-Id: 00000000-1\r\n"
                               "Cache-Control: private, max-age=0\r\n"
                               "X-Robots-Tag: noindex\r\n"
                               "Location: https://example.com/popular\r\n"
                               "\r\n";

static volatile sig_atomic_t stopping; /* in a worker */

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* No SA_RESTART: the signal must interrupt a blocking accept so that the loop sees the flag. */
static void catch_stop(void)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void worker(int fd, pid_t master, const sigset_t *blocked)
{
    sigprocmask(SIG_UNBLOCK, blocked, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master)
        _exit(0);
    FCGX_Request r;
    if (FCGX_InitRequest(&r, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        _exit(1);
    while (!stopping) {
        if (FCGX_Accept_r(&r) < 0) {
            if (!stopping)
                usleep(1000); /* a failed accept (EMFILE...) must not spin */
            continue;
        }
        FCGX_PutStr(response, (int)sizeof(response) - 1, r.out);
        FCGX_Finish_r(&r);
    }
    FCGX_Free(&r, 1);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: trivial_fcgi SOCKET_PATH|:PORT WORKERS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > MAX_WORKERS) {
        fprintf(stderr, "trivial_fcgi: WORKERS must be 1..%d\n", MAX_WORKERS);
        return 2;
    }
    catch_stop();
    if (FCGX_Init() != 0)
        return 1;
    if (argv[1][0] != ':')
        unlink(argv[1]);
    int fd = FCGX_OpenSocket(argv[1], BACKLOG);
    if (fd < 0) {
        fprintf(stderr, "trivial_fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    /* the master takes its signals with sigwaitinfo, so that none can slip in before it waits */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t master = getpid(), pids[MAX_WORKERS];
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("trivial_fcgi: fork");
            return 1;
        }
        if (pids[i] == 0)
            worker(fd, master, &set);
    }
    fprintf(stderr, "trivial_fcgi: ready workers=%d\n", n);

    /* The master serves nothing: it waits for a stop signal or for a worker to die, then stops them all. */
    int rc = 0, alive = n;
    while (rc == 0) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        int status;
        pid_t p;
        while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
            alive--;
            fprintf(stderr, "trivial_fcgi: worker %d died (status %d)\n", (int)p, status);
            rc = 1;
        }
    }
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGTERM);
    /* a worker that got the signal just before it blocked in accept() would wait for one more connection:
     * give them 2 s, then kill them */
    for (int i = 0; i < 200 && alive > 0; i++) {
        while (alive > 0 && waitpid(-1, NULL, WNOHANG) > 0)
            alive--;
        if (alive > 0)
            usleep(10000);
    }
    if (alive > 0) {
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
        while (wait(NULL) > 0 || errno == EINTR)
            ;
    }
    if (argv[1][0] != ':')
        unlink(argv[1]);
    return rc;
}
