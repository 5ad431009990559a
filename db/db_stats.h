/* Typed queries for the stats API: a series of buckets and the top values of each dimension, for one link
 * or all of an owner's links, in the viewer's time zone. */
#ifndef HOP_DB_STATS_H
#define HOP_DB_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* What the series covers; strings as the caller checked them (timearg.h), NULL for the default. */
struct stats_range {
    const char *from_date, *from_time, *to_date, *to_time;
    int days; /* 0: none; else from = today - days + 1 (the legacy days=) */
    const char *tz;
    bool hourly;
    int hourly_days; /* HOP_ANALYTICS_HOURLY_DAYS: where the owner's hours give way to days */
};

struct stats_bucket {
    const char *local; /* YYYY-MM-DDTHH:MM:SS in the zone */
    int offset;        /* the zone's UTC offset then, in seconds */
    long long lo, hi;  /* its bounds, epoch seconds */
    long long humans, bots;
};

struct stats_value {
    int dim; /* db_links.h's enum visit_dim */
    const char *value;
    long long visits;
};

struct stats_link {
    const char *slug, *domain; /* domain NULL: none */
    long long visits;
};

/* The series of link_id (owner false) or of every link of owner_id (owner true). */
int db_stats_series(struct arena *a, long long id, bool owner, const struct stats_range *rg,
                    struct stats_bucket **out, size_t *n);
/* Up to 20 values of each dimension over [lo, hi), most visits first, ties by value; hourly_days as in
 * struct stats_range. */
int db_stats_top(struct arena *a, long long id, bool owner, long long lo, long long hi, bool bots,
                 int hourly_days, struct stats_value **out, size_t *n);
/* The owner's 20 most visited links over [lo, hi). */
int db_stats_top_links(struct arena *a, long long owner_id, long long lo, long long hi, bool bots,
                       int hourly_days, struct stats_link **out, size_t *n);
/* Every zone name PostgreSQL knows, sorted bytewise; malloc'd (the caller keeps them). */
int db_tz_names(char ***out, size_t *n);

#endif
