/* Turns a JSON body into typed link fields, collecting one error per bad field, before any handler logic
 * runs (the way kore validates parameters). */
#ifndef HOP_INPUT_H
#define HOP_INPUT_H

#include <stdbool.h>
#include <time.h>

struct arena;
struct json_object;
struct link_fields;

enum input_kind { INPUT_CREATE, INPUT_PATCH };

/* Fills out (strings point into body or a) from the object body, checking each field by the input table in
 * input.c. Returns 0, or -1 with one {field, detail} appended to errors for each bad field. bases is a
 * NULL-terminated list of this service's base URLs (HOP_BASE_URL and the request's own https://Host), for the
 * no-self-link rule; NULL for none. */
int input_link(struct arena *a, struct json_object *body, enum input_kind kind, const char *const *bases,
               struct link_fields *out, struct json_object *errors);

enum { INPUT_TAG_MAX = 32, INPUT_TAGS_MAX = 10 };
/* One tag folded to lower case into out (as tags are stored): NULL, or why s is not a tag. */
const char *input_tag_fold(const char *s, char out[INPUT_TAG_MAX + 1]);

/* Parses an RFC 3339 date-time ("2026-11-25T06:00:00Z", fractions and offsets allowed) into *t.
 * Returns 0 or -1. */
int input_rfc3339(const char *s, time_t *t);

/* Writes a new slug of 7 base62 characters from the kernel's CSPRNG into out (8 bytes). */
void input_random_slug(char out[8]);

#endif
