/* The response a handler fills: status, headers, body; serialised in one piece for the FastCGI stream.
 * It starts as a 500 so that a handler that forgets to answer is visible, never silent. */
#ifndef HOP_RESP_H
#define HOP_RESP_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;

/* Where a streamed body goes: write sends n bytes on (the server's FastCGI stream, or a test's buffer). */
struct resp_sink {
    void (*write)(void *ctx, const char *s, size_t n);
    void *ctx;
};
/* A body made while it is sent: fn writes it to out piece by piece, after the head has gone. */
typedef void (*resp_stream_fn)(void *ctx, const struct resp_sink *out);

struct resp {
    struct arena *arena;
    int status;
    struct buf headers; /* "Name: value\r\n" lines */
    const char *content_type;
    const char *body;
    size_t body_len;
    resp_stream_fn stream; /* set by resp_stream: no Content-Length, the body comes from stream */
    void *stream_ctx;
};

void resp_init(struct resp *w, struct arena *a);
/* Adds a header; a name or value with CR, LF or NUL is refused (returns -1) so nothing can be injected. */
int resp_header(struct resp *w, const char *name, const char *value);
void resp_body(struct resp *w, int status, const char *content_type, const char *body, size_t len);
/* Serialises obj (the response does not take ownership). */
void resp_json(struct resp *w, int status, struct json_object *obj);
/* RFC 9457 problem: type about:blank, title from the status, detail for a person. */
void resp_problem(struct resp *w, int status, const char *detail);
/* Same, with an "errors" list ([{field, detail}]); takes ownership of errors. */
void resp_problem_errors(struct resp *w, int status, const char *detail, struct json_object *errors);
/* A redirect to url (checked by the caller; a CR or LF still turns it into a 500 rather than a header). */
void resp_redirect(struct resp *w, int status, const char *url);
const char *resp_reason(int status);
/* A response whose body is too large to hold: status and type now, the body written by fn(ctx, sink) when
 * the server sends it (a HEAD request skips it). ctx must live until then (the request's arena). */
void resp_stream(struct resp *w, int status, const char *content_type, resp_stream_fn fn, void *ctx);
/* Sends the response: its head and body in one piece, or its head then the streamed body, to out. */
void resp_send(const struct resp *w, const char *request_id, bool head_only, struct buf *scratch,
               const struct resp_sink *out);
/* The bytes of the FastCGI response: "Status:" line, headers, blank line, body unless head_only. */
void resp_serialize(const struct resp *w, const char *request_id, bool head_only, struct buf *out);

#endif
