/* The response a handler fills: status, headers, body; serialised in one piece for the FastCGI stream.
 * It starts as a 500 so that a handler that forgets to answer is visible, never silent. */
#ifndef HOP_RESP_H
#define HOP_RESP_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;

struct resp {
    struct arena *arena;
    int status;
    struct buf headers; /* "Name: value\r\n" lines */
    const char *content_type;
    const char *body;
    size_t body_len;
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
/* The bytes of the FastCGI response: "Status:" line, headers, blank line, body unless head_only. */
void resp_serialize(const struct resp *w, const char *request_id, bool head_only, struct buf *out);

#endif
