/* The formats `hop import --from` reads; see import_formats.h. csv is hop's own export (every field). */
#include "import_formats.h"

#include "input.h"

#include <string.h>
#include <time.h>

const char import_format_names[] = "bitly, yourls, shlink, kutt, csv";

static int date_rfc3339(const char *s, long long *epoch)
{
    time_t t;
    if (input_rfc3339(s, &t) < 0)
        return -1;
    *epoch = (long long)t;
    return 0;
}

static void slug_as_is(char *s)
{
    (void)s;
}

/* YOURLS keeps `timestamp` as MySQL DATETIME "YYYY-MM-DD HH:MM:SS", written in UTC (YOURLS sets PHP's zone to
 * UTC), so a table export carries it without a zone. */
static int date_mysql_utc(const char *s, long long *epoch)
{
    char iso[32];
    if (strlen(s) != 19 || s[10] != ' ')
        return -1;
    memcpy(iso, s, 19);
    iso[10] = 'T';
    iso[19] = 'Z';
    iso[20] = '\0';
    return date_rfc3339(iso, epoch);
}

/* Shlink's export names the whole short URL (https://s.test/abc, or https://s.test/abc/ on some setups):
 * the slug is its last path segment. A bare short code passes unchanged. */
static void slug_last_segment(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/' && strchr(s, ':'))
        s[--n] = '\0';
    const char *slash = strchr(s, ':') ? strrchr(s, '/') : NULL;
    if (slash)
        memmove(s, slash + 1, strlen(slash + 1) + 1);
}

/* Bitly writes times as its API does, "2023-03-01T09:30:00+0000" (an offset without a colon), and some of
 * its CSVs as "2023-03-01 09:30:00" in UTC: both read, as is RFC 3339. */
static int date_bitly(const char *s, long long *epoch)
{
    char iso[40];
    size_t n = strlen(s);
    if (n < 19 || n > 30)
        return -1;
    memcpy(iso, s, n + 1);
    if (iso[10] == ' ')
        iso[10] = 'T';
    if (n == 19) {
        memcpy(iso + 19, "Z", 2);
    } else if (n == 24 && (iso[19] == '+' || iso[19] == '-') && strspn(iso + 20, "0123456789") == 4) {
        iso[25] = '\0';
        iso[24] = iso[23];
        iso[23] = iso[22];
        iso[22] = ':';
    }
    return date_rfc3339(iso, epoch);
}

/* A Bitly short link as its export writes it (https://bit.ly/3xYzAbC, brand.example/Spring, or a list of
 * custom back-halves "brand.example/a, brand.example/b"): the first one's last path segment. */
static void slug_bitly(char *s)
{
    s[strcspn(s, ", ")] = '\0';
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    const char *slash = strrchr(s, '/');
    if (slash)
        memmove(s, slash + 1, strlen(slash + 1) + 1);
}

/* Kutt's API writes created_at as JavaScript's toISOString (2024-01-05T10:20:30.000Z), but expire_in as the
 * database holds it: an ISO time from PostgreSQL, "2031-06-30 12:00:00" (UTC, no zone) from SQLite. */
static int date_kutt(const char *s, long long *epoch)
{
    return strlen(s) == 19 ? date_mysql_utc(s, epoch) : date_rfc3339(s, epoch);
}

static const struct import_format formats[] = {
    {.name = "csv",
     .columns =
         {
             [IMPORT_SLUG] = "slug",
             [IMPORT_URL] = "url",
             [IMPORT_TITLE] = "title",
             [IMPORT_CREATED] = "created_at",
             [IMPORT_TAGS] = "tags",
             [IMPORT_VISITS] = "visits",
             [IMPORT_REDIRECT] = "redirect",
             [IMPORT_EXPIRES] = "expires_at",
             [IMPORT_DISABLED] = "disabled",
             [IMPORT_PASSWORD_HASH] = "password_hash",
             [IMPORT_MAX_VISITS] = "max_visits",
             [IMPORT_FORWARD_QUERY] = "forward_query",
             [IMPORT_IOS_URL] = "ios_url",
             [IMPORT_ANDROID_URL] = "android_url",
             [IMPORT_EXPIRED_URL] = "expired_url",
             [IMPORT_DOMAIN] = "domain",
         },
     .date = date_rfc3339,
     .slug = slug_as_is,
     .tag_sep = ','},
    /* a dump of the yourls_url table (phpMyAdmin, mysql --batch, Adminer): keyword, url, title, timestamp,
     * ip, clicks; YOURLS has no tags */
    {.name = "yourls",
     .columns =
         {
             [IMPORT_SLUG] = "keyword",
             [IMPORT_URL] = "url",
             [IMPORT_TITLE] = "title",
             [IMPORT_CREATED] = "timestamp",
             [IMPORT_VISITS] = "clicks",
         },
     .date = date_mysql_utc,
     .slug = slug_as_is,
     .tag_sep = ','},
    /* Shlink's web client export (createdAt, shortUrl, longUrl, title, tags with |, visits), and the CSV its
     * own importer reads ("Long URL", "Short code", "Title", "Tags"; names compared without spaces) */
    {.name = "shlink",
     .columns =
         {
             [IMPORT_SLUG] = "shortcode|short code|shorturl|short url",
             [IMPORT_URL] = "longurl|long url",
             [IMPORT_TITLE] = "title",
             [IMPORT_CREATED] = "createdat|created at|datecreated|date created",
             [IMPORT_TAGS] = "tags",
             [IMPORT_VISITS] = "visits|visitscount|visits count",
         },
     .date = date_rfc3339,
     .slug = slug_last_segment,
     .tag_sep = '|'},
    /* Bitly's links export: the names of its web export ("Link", "Custom Link", "Destination URL") and of
     * its API's fields (link, custom_bitlinks, long_url, created_at); a custom back-half, when there is one,
     * is the slug people were given, else the link's own hash */
    {.name = "bitly",
     .columns =
         {
             [IMPORT_SLUG] = "custom link|custom links|custom_bitlinks|custom bitlinks",
             [IMPORT_URL] = "destination url|long url|long_url|original url",
             [IMPORT_TITLE] = "title",
             [IMPORT_CREATED] = "date created|created|created_at|created at|creation date",
             [IMPORT_TAGS] = "tags",
             [IMPORT_VISITS] = "engagements|total engagements|clicks|total clicks",
         },
     .date = date_bitly,
     .slug = slug_bitly,
     .tag_sep = ',',
     .slug_fallback = "link|bitlink|short link|short url"},
    /* Kutt's API: GET /api/v2/links answers {"total", "limit", "skip", "data": [link...]}; its links carry
     * address, target, description, created_at, expire_in, visit_count, banned, password (true or false
     * only) and domain (null for Kutt's own). Kutt has no export: a file of those answers is its export. */
    {.name = "kutt",
     .columns =
         {
             [IMPORT_SLUG] = "address",
             [IMPORT_URL] = "target",
             [IMPORT_TITLE] = "description",
             [IMPORT_CREATED] = "created_at",
             [IMPORT_VISITS] = "visit_count",
             [IMPORT_EXPIRES] = "expire_in",
             [IMPORT_DISABLED] = "banned",
             [IMPORT_DOMAIN] = "domain",
         },
     .date = date_kutt,
     .slug = slug_as_is,
     .tag_sep = ',',
     .json = true},
};

const struct import_format *import_format_named(const char *name)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}
