/* What every handler needs besides the runtime: reading a JSON body and query parameters in the contract's
 * order, and the answers several resources give alike (a database failure, a 422 naming fields, a 400 naming
 * a parameter). Helpers that answer return 0 when they did not and -1 when the response is written. */
#ifndef HOP_HANDLER_H
#define HOP_HANDLER_H

#include <stdbool.h>

struct json_object;
struct req;
struct resp;

/* The body as one JSON object, checked in the contract's order (413, 415, 400); NULL when answered.
 * The object belongs to the request arena. */
struct json_object *handler_json_body(struct req *r, struct resp *w);
/* Answers a database failure (503 with Retry-After, or 500): -1 when rc was one, else 0. */
int handler_db_failed(struct resp *w, int rc);
/* The 503 every path gives while PostgreSQL cannot be reached. */
void handler_unavailable(struct resp *w);
/* A 422 naming each bad field of errors ([{field, detail}]); the top-level detail repeats the first. */
void handler_invalid(struct resp *w, struct json_object *errors);
/* A 400 whose errors list names the query parameter. */
void handler_param_error(struct resp *w, const char *name, const char *detail);
/* A query parameter as an integer in [lo, hi]: 0 and *out (def when absent), or -1 with a 400 answered. */
int handler_int_param(struct req *r, struct resp *w, const char *name, int lo, int hi, int def, int *out);
/* The route's :slug when it could name a link, else NULL with a 404 answered (a string that cannot be a slug,
 * bad UTF-8 included, never reaches the database). */
const char *handler_route_slug(struct req *r, struct resp *w);
/* Hands obj to the request arena: it is released with the request. Returns obj. */
struct json_object *handler_own(struct req *r, struct json_object *obj);
/* Answers obj as JSON with Cache-Control: no-store (every /api answer about an owner's data). */
void handler_json(struct resp *w, int status, struct json_object *obj);

/* Appends {field, detail} to errors; the detail reads as a sentence that names its field ("url must be a
 * string"), so a detail that already starts with the field's name is kept as it is. */
void handler_field_error(struct json_object *errors, const char *field, const char *detail);
/* A JSON string without NUL bytes, or NULL with *why set ("must be a string"). */
const char *handler_string_field(struct json_object *v, const char **why);

#endif
