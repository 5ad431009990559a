/* The formats `hop import --from` reads; see import_formats.h. csv is hop's own export (every field). */
#include "import_formats.h"

#include "input.h"

#include <string.h>
#include <time.h>

const char import_format_names[] = "csv";

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
};

const struct import_format *import_format_named(const char *name)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}
