/* User-Agent classification; see ua.h. The bot expression is build/bots.c's (scripts/embed-bots.sh). */
#include "ua.h"

#include "log.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

extern const char ua_bot_pattern[];

static pcre2_code *bot_re;
static pcre2_match_data *bot_md;
static bool bot_jit;
static bool bot_failed; /* logged once; every User-Agent is a person's then */

/* A family and the substrings that name it; the first family with a match wins, so more specific ones
 * (Edge says "Chrome/" too, Chrome says "Safari/") come first. */
struct family {
    const char *name;
    const char *needles[4];
};

static const struct family browsers[] = {
    {"other", {NULL}},
    {"Edge", {"Edg/", "EdgA/", "EdgiOS/", "Edge/"}},
    {"Opera", {"OPR/", "Opera", "OPT/", NULL}},
    {"Samsung Internet", {"SamsungBrowser/", NULL}},
    {"Yandex", {"YaBrowser/", NULL}},
    {"Vivaldi", {"Vivaldi/", NULL}},
    {"Firefox", {"Firefox/", "FxiOS/", NULL}},
    {"Chrome", {"Chrome/", "CriOS/", "Chromium/", NULL}},
    {"Safari", {"Safari/", NULL}},
    {"Internet Explorer", {"MSIE ", "Trident/", NULL}},
};

static const struct family systems[] = {
    {"other", {NULL}},
    {"Windows", {"Windows", NULL}},
    {"iOS", {"iPhone", "iPad", "iPod", NULL}},
    {"Android", {"Android", NULL}},
    {"ChromeOS", {"CrOS", NULL}},
    {"macOS", {"Macintosh", "Mac OS X", NULL}},
    {"Linux", {"Linux", "X11", NULL}},
};

/* systems[] index of Android, which device_of asks about */
enum { OS_ANDROID = 3 };

static const char *const devices[UA_NDEVICES] = {"desktop", "mobile", "tablet", "bot"};

enum { NBROWSERS = sizeof(browsers) / sizeof(browsers[0]), NSYSTEMS = sizeof(systems) / sizeof(systems[0]) };

int ua_init(void)
{
    if (bot_re || bot_failed)
        return bot_re ? 0 : -1;
    int err;
    PCRE2_SIZE at;
    bot_re =
        pcre2_compile((PCRE2_SPTR)ua_bot_pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &err, &at, NULL);
    if (!bot_re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        bot_failed = true;
        log_error("the bot pattern does not compile", "offset=%zu error=\"%s\"", (size_t)at, (char *)msg);
        return -1;
    }
    bot_jit = pcre2_jit_compile(bot_re, PCRE2_JIT_COMPLETE) == 0;
    bot_md = pcre2_match_data_create(1, NULL);
    return 0;
}

static bool matches_bot(const char *ua, size_t len)
{
    if (ua_init() < 0)
        return false;
    int rc = bot_jit ? pcre2_jit_match(bot_re, (PCRE2_SPTR)ua, len, 0, 0, bot_md, NULL)
                     : pcre2_match(bot_re, (PCRE2_SPTR)ua, len, 0, 0, bot_md, NULL);
    return rc >= 0;
}

bool ua_is_bot(const char *ua)
{
    return !ua || !*ua || matches_bot(ua, strnlen(ua, UA_SCAN_MAX));
}

static uint8_t family_of(const struct family *t, size_t n, const char *ua, size_t len)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = 0; k < 4 && t[i].needles[k]; k++)
            if (memmem(ua, len, t[i].needles[k], strlen(t[i].needles[k])))
                return (uint8_t)i;
    return 0;
}

static bool has(const char *ua, size_t len, const char *needle)
{
    return memmem(ua, len, needle, strlen(needle)) != NULL;
}

static uint8_t device_of(const char *ua, size_t len, uint8_t os)
{
    if (has(ua, len, "iPad") || has(ua, len, "Tablet") || has(ua, len, "Kindle") || has(ua, len, "Silk/"))
        return UA_DEVICE_TABLET;
    /* Android phones say "Mobile"; Android tablets do not */
    if (os == OS_ANDROID && !has(ua, len, "Mobile"))
        return UA_DEVICE_TABLET;
    if (has(ua, len, "Mobi") || has(ua, len, "iPhone") || has(ua, len, "iPod") || os == OS_ANDROID ||
        has(ua, len, "Windows Phone") || has(ua, len, "Opera Mini"))
        return UA_DEVICE_MOBILE;
    return UA_DEVICE_DESKTOP;
}

/* The class of ua[0..len), len > 0, as a GET sees it. */
static void classify(const char *ua, size_t len, struct ua_class *out)
{
    *out = (struct ua_class){.bot = matches_bot(ua, len)};
    out->browser = family_of(browsers, NBROWSERS, ua, len);
    out->os = family_of(systems, NSYSTEMS, ua, len);
    out->device = out->bot ? UA_DEVICE_BOT : device_of(ua, len, out->os);
}

/* The worker's last classes, by User-Agent. The bot expression is a few hundred alternatives tried at every
 * position of the User-Agent (tens of microseconds for a browser's, more than the rest of the redirect),
 * while a site's visitors send few distinct User-Agents: each is matched once, then found here by its exact
 * bytes. Direct-mapped (a new User-Agent replaces the one in its place), in static memory: no allocation.
 * Crafted User-Agents that share a place only cost their matching again, never a wrong class. */
enum { MEMO_SLOTS = 1024 }; /* a power of two; about 0.5 MiB per worker, touched as it fills */

struct memo {
    uint64_t hash;
    uint16_t len; /* 0: empty */
    struct ua_class c;
    char ua[UA_SCAN_MAX];
};

static struct memo memo[MEMO_SLOTS];

/* Eight bytes at a time: the hash costs a fraction of one match. */
static uint64_t ua_hash(const char *ua, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, ua + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)ua[i]) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

void ua_classify(const char *ua, bool head, struct ua_class *out)
{
    size_t len = ua ? strnlen(ua, UA_SCAN_MAX) : 0;
    if (len == 0) {
        *out = (struct ua_class){.bot = true, .device = UA_DEVICE_BOT};
        return;
    }
    uint64_t h = ua_hash(ua, len);
    struct memo *m = &memo[h & (MEMO_SLOTS - 1)];
    if (m->len == len && m->hash == h && memcmp(m->ua, ua, len) == 0) {
        *out = m->c;
    } else {
        classify(ua, len, out);
        *m = (struct memo){.hash = h, .len = (uint16_t)len, .c = *out};
        memcpy(m->ua, ua, len);
    }
    /* a HEAD from a browser's User-Agent is a checker, not a person: a bot, with a bot's device */
    if (head) {
        out->bot = true;
        out->device = UA_DEVICE_BOT;
    }
}

const char *ua_device_name(uint8_t device)
{
    return device < UA_NDEVICES ? devices[device] : "other";
}

const char *ua_browser_name(uint8_t browser)
{
    return browser < NBROWSERS ? browsers[browser].name : "other";
}

const char *ua_os_name(uint8_t os)
{
    return os < NSYSTEMS ? systems[os].name : "other";
}
