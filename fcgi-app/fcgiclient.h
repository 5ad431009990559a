/* A small blocking FastCGI client: one GET over a new connection to a responder's socket (the pool's own, for
 * `hop status`), with the params a web server would send and any the caller adds. */
#ifndef HOP_FCGICLIENT_H
#define HOP_FCGICLIENT_H

#include <stddef.h>

struct fcgiclient_reply {
    int status;   /* from the Status: header; 200 when there is none */
    char *header; /* the response's header lines, NUL-terminated */
    char *body;   /* NUL-terminated; body_len bytes */
    size_t body_len;
};

/* GET path from the responder at addr ("/path/to.sock" or "host:port"), adding params (name, value pairs,
 * NULL-terminated), within timeout_ms for each read and write. 0 and *out (release it with
 * fcgiclient_free), or -1 with *err saying why. */
int fcgiclient_get(const char *addr, const char *path, const char *const *params, int timeout_ms,
                   struct fcgiclient_reply *out, const char **err);
void fcgiclient_free(struct fcgiclient_reply *r);

#endif
