/* Small HTML pages for people who follow a short link in a browser: the password form and the pages that
 * say a link is missing, gone or resting. Each carries a strict Content-Security-Policy, loads nothing
 * else, works without JavaScript and is not to be indexed. Programs keep getting problem JSON. */
#ifndef HOP_PAGE_H
#define HOP_PAGE_H

#include <stdbool.h>

struct req;
struct resp;

/* Whether the request prefers HTML to JSON (a browser's Accept names text/html first). */
bool page_wanted(const struct req *r);
/* Answers status with a page that says sentence (static text), or the problem JSON when r does not want a
 * page. */
void page_or_problem(struct req *r, struct resp *w, int status, const char *sentence);
/* The password form for slug; message (static text, may be NULL) says why it is shown again. */
void page_password_form(struct req *r, struct resp *w, int status, const char *slug, const char *message);

#endif
