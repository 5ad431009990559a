/* What the redirect counts of a visitor: the request's User-Agent, Referer, query and address turned into a
 * struct visit (visits.h) of bounded, valid UTF-8 values. Nothing that names the person is kept. */
#ifndef HOP_VISITOR_H
#define HOP_VISITOR_H

#include "visits.h"

#include <stdbool.h>
#include <stddef.h>

struct req;

/* Describes the request's visitor into *v (zeroed first). No allocation; the address is only looked up. */
void visitor_describe(const struct req *r, bool head, struct visit *v);

/* The Referer's host in lower case without port or user information, at most cap - 1 bytes; 0 (and "")
 * when there is none or it is not an absolute URL with a plausible host. */
size_t visitor_referrer_host(const char *ref, char *out, size_t cap);
/* The value of query parameter name (exact, case-sensitive) in query, percent-decoded, cut to at most
 * cap - 1 bytes at a character boundary; "" when absent, malformed, not UTF-8 or holding control
 * characters (such a value is dropped, not repaired). */
size_t visitor_query_value(const char *query, const char *name, char *out, size_t cap);

#endif
