/* The request as handlers see it: method, percent-decoded path, query parameters, headers, route
 * parameters and a body read on demand with a size limit and a deadline. Everything lives in r->arena. */
#ifndef HOP_REQ_H
#define HOP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct arena;

struct req_kv {
    const char *name, *value;
    size_t name_len, value_len;
    bool bad; /* the value's percent-encoding was malformed */
};

/* Where the body comes from: a FastCGI stream in the server, memory in tests. read returns the bytes
 * read, 0 at the end, -1 on an error and -2 when the deadline passed. */
struct req_body_source {
    void *ctx;
    ssize_t (*read)(void *ctx, char *buf, size_t cap);
};

enum { REQ_ID_MAX = 128, REQ_ENV_LENS = 48 };

struct req {
    struct arena *arena;
    char **env;               /* FastCGI params as KEY=VALUE */
    const uint32_t *env_klen; /* each param's KEY length (UINT32_MAX: no '='), made once by req_init */
    size_t nenv;
    /* The params by their key's length, in request order: env_first[len] is 1 + the first one's index (0:
     * none), env_next[i] the next one's after param i; keys of REQ_ENV_LENS - 1 bytes or more share the last
     * chain. Made once by req_init. */
    uint32_t env_first[REQ_ENV_LENS];
    const uint32_t *env_next;
    const char *method;
    char *path; /* percent-decoded, NUL-free */
    size_t path_len;
    const char *query; /* raw, without '?' */
    struct req_kv *qs;
    size_t nqs;
    struct req_kv *route; /* ":name" segments filled by the router */
    size_t nroute;
    int route_no; /* the row of the route table the router matched, from 1; 0 while none did */
    char id[REQ_ID_MAX + 1];
    long long content_length; /* -1 when absent or unknown (chunked), -2 when malformed */
    size_t max_body;
    struct req_body_source body_src;
    char *body;
    size_t body_len;
    bool body_read;
    int body_status; /* what req_read_body answered the first time */
    const char *body_detail;
    void *app; /* the application's per-request state, in the arena; NULL until the application sets it */
    /* req_init's verdict: when nonzero, the path is raw and the handler must answer this status (after
     * whatever the application checks first, such as authentication) */
    int bad_status;
    const char *bad_detail;
};

/* Fills r from FastCGI params. Returns 0, or 400 when the path cannot be decoded (*detail says why). */
int req_init(struct req *r, struct arena *a, char **env, const char **detail);
/* A FastCGI param by its CGI name ("CONTENT_TYPE", "HTTP_AUTHORIZATION"), or NULL. */
const char *req_env(const struct req *r, const char *name);
/* Query parameter: 0 absent, 1 found (*value set), -1 given twice or malformed. */
int req_query(const struct req *r, const char *name, const char **value);
/* Every value of a parameter that may be repeated (?tag=a&tag=b), in request order, into values (room for
 * max): the count, 0 when absent, or -1 when one is malformed or there are more than max. */
int req_query_all(const struct req *r, const char *name, const char **values, size_t max);
/* Route parameter filled by the router, or NULL. */
const char *req_route(const struct req *r, const char *name);
/* Reads the whole body once. Returns 0, or 413 (too large), 400 (shorter than CONTENT_LENGTH, or a broken
 * stream), 408 (deadline passed); *detail says why. */
int req_read_body(struct req *r, const char **detail);

/* Whether CONTENT_TYPE is the media type want (case-insensitive), with no charset parameter or charset
 * utf-8 (any case, quoted or not); other parameters are ignored. */
bool req_content_type_is(const struct req *r, const char *want);

/* Percent-decodes in[0..len) into out (room for len + 1 bytes). plus_space turns '+' into ' ' (query
 * strings). Returns the decoded length, or -1 for a malformed escape or a NUL byte. */
ssize_t req_decode(const char *in, size_t len, char *out, bool plus_space);
/* Whether s may be echoed as a request id: [A-Za-z0-9._~:/+=-]{1,128}. */
bool req_id_valid(const char *s);
/* Splits a query string into r->qs. */
void req_parse_query(struct req *r, const char *q, size_t len);

#endif
