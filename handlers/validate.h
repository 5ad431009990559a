/* Input checks for custom slugs and target URLs, shared by the HTTP handlers so that every entry point
 * applies the same rules and answers with the same human-readable details. */
#ifndef HOP_VALIDATE_H
#define HOP_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

enum { VALIDATE_SLUG_MAX = 64, VALIDATE_URL_MAX = 2048 };

/* Predicates are true when the slug passes. Slug alphabet [A-Za-z0-9_-], 1..64 chars, case-sensitive. */
bool validate_slug_chars(const char *s, size_t len);

/* Not a reserved word. Reserved words match exactly (with case): "api", "healthz", "metrics", "static", and
 * anything starting with '_'. */
bool validate_slug_unreserved(const char *s, size_t len);

/* NULL when s is a usable custom slug, else a static English detail for a person, e.g.
 * "slug must be 1 to 64 characters from A-Z a-z 0-9 _ -" or "slug \"api\" is reserved". */
const char *validate_slug(const char *s, size_t len);

/* NULL when url is acceptable, else a static detail string. self_base is this service's public base URL such
 * as "https://sho.rt" or "https://localhost:8443" (may be NULL: then no self-link check). len is
 * authoritative: url need not be NUL-terminated, and embedded NULs are rejected. */
const char *validate_url(const char *url, size_t len, const char *self_base);

#endif
