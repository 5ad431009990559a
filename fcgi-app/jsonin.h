/* jsonin: strict intake of a request body that must be exactly one JSON object (RFC 8259, UTF-8).
 * Generic on purpose: it knows nothing about links; callers check fields, types and ranges. */
#ifndef HOP_JSONIN_H
#define HOP_JSONIN_H

#include <stddef.h>

struct json_object;

/* Deepest nesting of arrays/objects accepted; {} alone is depth 1. */
enum { JSONIN_MAX_DEPTH = 32 };

/* Parses a request body that must be one JSON object. Returns 0 and sets *out (caller owns it,
 * json_object_put) or -1 and sets *detail to a static English sentence for a person, e.g.
 * "body is not valid UTF-8", "body nests deeper than 32 levels", "body is not valid JSON",
 * "body must be a JSON object", "body names the same key twice", "body has data after the JSON value".
 *
 * len is authoritative: body need not be NUL-terminated, and a raw NUL byte in it is rejected as
 * invalid JSON. A \u0000 escape inside a string value is accepted (json-c keeps the length), so
 * callers that store strings must reject embedded NULs per field. body may be NULL only when len is 0.
 * On success *detail is set to NULL; on failure *out is set to NULL. */
int jsonin_parse(const char *body, size_t len, struct json_object **out, const char **detail);

#endif
