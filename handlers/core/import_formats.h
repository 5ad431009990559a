/* The export formats `hop import` reads: which header names carry which of a link's fields, and how each
 * service writes its dates. One table row per service (import_formats.c). */
#ifndef HOP_IMPORT_FORMATS_H
#define HOP_IMPORT_FORMATS_H

#include <stdbool.h>

/* What an import can carry over, in the staging table's column order after the line number. */
enum import_field {
    IMPORT_SLUG,
    IMPORT_URL,
    IMPORT_TITLE,
    IMPORT_CREATED,
    IMPORT_TAGS,
    IMPORT_VISITS,
    IMPORT_REDIRECT,
    IMPORT_EXPIRES,
    IMPORT_DISABLED,
    IMPORT_PASSWORD_HASH,
    IMPORT_MAX_VISITS,
    IMPORT_FORWARD_QUERY,
    IMPORT_IOS_URL,
    IMPORT_ANDROID_URL,
    IMPORT_EXPIRED_URL,
    IMPORT_DOMAIN, /* a domain's name in the file; staged as its id */
    IMPORT_NFIELDS
};

struct import_format {
    const char *name;
    /* the header names (lower case, "|" between alternatives) of each field; NULL: the format lacks it */
    const char *columns[IMPORT_NFIELDS];
    /* a creation time as the service writes it into seconds since 1970 (UTC): 0, or -1 */
    int (*date)(const char *s, long long *epoch);
    /* a slug as the service writes it (e.g. a whole short URL) into the bare slug, in place */
    void (*slug)(char *s);
    /* tags as the service writes them into hop's comma-separated list, or NULL (the same) */
    char tag_sep;
    /* the header names of the column the slug comes from when the slug's own is empty, or NULL */
    const char *slug_fallback;
    /* a stream of JSON values (Kutt's API answers) instead of CSV; columns[] then name the keys of a link */
    bool json;
};

/* The format named name ("bitly", "yourls", "shlink", "kutt", "csv"), or NULL. */
const struct import_format *import_format_named(const char *name);
/* "bitly|yourls|..." for the usage text. */
extern const char import_format_names[];

#endif
