/* Finding links: the `tag` (repeated) and `q` parameters of GET /api/links read into a filter, with q turned
 * into a LIKE pattern in which the client's own '%', '_' and '\' are literal. */
#ifndef HOP_SEARCH_H
#define HOP_SEARCH_H

struct arena;
struct link_filter;
struct req;
struct resp;

#include <stddef.h>

/* SEARCH_Q_TRIGRAM: a q of fewer characters holds no trigram, so the trigram index cannot narrow it */
enum { SEARCH_Q_MIN = 2, SEARCH_Q_TRIGRAM = 3, SEARCH_Q_MAX = 2048 };

/* q as a LIKE pattern that matches it as a substring of text in lower case (A-Z folded, as the "C"
 * collation folds): NULL, *pattern (in a) and q's length in characters in *chars, or a sentence naming q
 * that says why it cannot be searched for (too short or long, not UTF-8, a control character). */
const char *search_pattern(struct arena *a, const char *q, const char **pattern, size_t *chars);
/* The request's tags and q into f (no q: f->pattern is NULL): 0, or -1 with a 400 naming the parameter
 * answered. */
int search_filter(struct req *r, struct resp *w, struct link_filter *f);

#endif
