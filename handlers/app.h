/* hop's HTTP side: the entry point the runtime calls for every request, the base URLs a request's answers
 * use, and the route handlers (one file per resource) that routes.c maps paths to. */
#ifndef HOP_APP_H
#define HOP_APP_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct link;
struct req;
struct resp;

struct route;

/* The runtime's handle hook: authentication for /api, then the route table. */
void app_handle(struct req *r, struct resp *w);
/* The route table (the runtime labels its request metrics with the rows' patterns); *n rows. */
const struct route *app_routes(size_t *n);

/* The public base URL for this request: HOP_BASE_URL, else https:// and the request's Host. */
const char *app_base_url(struct req *r);
/* The base URL of short links on domain (NULL: the request's base): HOP_BASE_URL when its host is domain,
 * else https:// and domain, with the request's port when the request came to that domain. */
const char *app_domain_base_url(struct req *r, const char *domain);
/* Every base URL this request's service answers to (HOP_BASE_URL, https://Host and every domain's),
 * NULL-terminated. */
const char *const *app_self_bases(struct req *r);

/* Route handlers, one file per resource. */
void health_get(struct req *r, struct resp *w);
void redirect_get(struct req *r, struct resp *w);
void redirect_post(struct req *r, struct resp *w);
void robots_get(struct req *r, struct resp *w);
void root_get(struct req *r, struct resp *w);
void domains_get(struct req *r, struct resp *w);
void domains_tls_ask(struct req *r, struct resp *w);
void links_create(struct req *r, struct resp *w);
/* POST /api/links/bulk: up to 1,000 links in one transaction, one result per item (bulk.c). */
void links_bulk(struct req *r, struct resp *w);
/* GET /api/links/export: the owner's links, streamed (links_export.c). */
void links_export(struct req *r, struct resp *w);
/* A link as every /api answer shows it (links.c). */
struct json_object *links_json(struct req *r, const struct link *l);
void links_list(struct req *r, struct resp *w);
void links_get(struct req *r, struct resp *w);
void links_patch(struct req *r, struct resp *w);
void links_delete(struct req *r, struct resp *w);
void links_stats(struct req *r, struct resp *w);
void links_qr(struct req *r, struct resp *w);
void tags_list(struct req *r, struct resp *w);
/* GET /api/stats: all of the owner's links together (stats.c). */
void stats_get(struct req *r, struct resp *w);
/* The stats of one link the caller owns (stats.c). */
void stats_link(struct req *r, struct resp *w, const struct link *l);
void session_create(struct req *r, struct resp *w);
void session_get(struct req *r, struct resp *w);
void session_delete(struct req *r, struct resp *w);

#endif
