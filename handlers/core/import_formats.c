/* The formats `hop import --from` reads; see import_formats.h. csv is hop's own export (every field). */
#include "import_formats.h"

#include "input.h"

#include <string.h>
#include <time.h>

const char import_format_names[] = "yourls, shlink, csv";

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
};

const struct import_format *import_format_named(const char *name)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}
