/* Unit tests for handlers/core/ua.c: the isbot list and hop's additions find bots (each preview fetcher and
 * probe the issue names), real browsers are people, and device, browser and OS families are right. */
#include "ua.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static const char *const BOTS[] = {
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "curl/8.5.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
    "Pleroma 2.5.0; https://pleroma.example <admin@pleroma.example>",
    "Misskey/13.14.2 (https://misskey.io)",
    /* iMessage's preview fetcher speaks as these two at once */
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 "
    "Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Mozilla/5.0 (compatible; StatusCake)",
    "Uptime-Kuma/1.23.0",
    "check_http/v2.3.3 (monitoring-plugins 2.3.3)",
    "Zabbix",
    "Datadog Agent/7.50.0",
};

static const char CHROME_WIN[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
static const char SAFARI_IPHONE[] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
static const char FIREFOX_LINUX[] = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
static const char EDGE_MAC[] =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
static const char SAMSUNG_TAB[] =
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36";
static const char CHROME_ANDROID[] =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
static const char SAFARI_IPAD[] =
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

START_TEST(bots_are_bots)
{
    ck_assert_int_eq(ua_init(), 0);
    for (size_t i = 0; i < sizeof(BOTS) / sizeof(BOTS[0]); i++) {
        struct ua_class c;
        ua_classify(BOTS[i], false, &c);
        ck_assert_msg(c.bot, "not a bot: %s", BOTS[i]);
        ck_assert_str_eq(ua_device_name(c.device), "bot");
    }
}
END_TEST

START_TEST(people_are_people)
{
    const char *const people[] = {CHROME_WIN,  SAFARI_IPHONE,  FIREFOX_LINUX, EDGE_MAC,
                                  SAMSUNG_TAB, CHROME_ANDROID, SAFARI_IPAD};
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
        ck_assert_msg(!ua_is_bot(people[i]), "a bot: %s", people[i]);
}
END_TEST

START_TEST(head_and_empty_are_bots)
{
    struct ua_class c;
    ua_classify(CHROME_WIN, true, &c);
    ck_assert(c.bot);
    ck_assert_str_eq(ua_device_name(c.device), "bot");
    ck_assert_str_eq(ua_browser_name(c.browser), "Chrome");
    ua_classify("", false, &c);
    ck_assert(c.bot);
    ua_classify(NULL, false, &c);
    ck_assert(c.bot);
}
END_TEST

static void expect(const char *ua, const char *device, const char *browser, const char *os)
{
    struct ua_class c;
    ua_classify(ua, false, &c);
    ck_assert_msg(!c.bot, "a bot: %s", ua);
    ck_assert_str_eq(ua_device_name(c.device), device);
    ck_assert_str_eq(ua_browser_name(c.browser), browser);
    ck_assert_str_eq(ua_os_name(c.os), os);
}

START_TEST(families)
{
    expect(CHROME_WIN, "desktop", "Chrome", "Windows");
    expect(SAFARI_IPHONE, "mobile", "Safari", "iOS");
    expect(FIREFOX_LINUX, "desktop", "Firefox", "Linux");
    expect(EDGE_MAC, "desktop", "Edge", "macOS");
    expect(SAMSUNG_TAB, "tablet", "Samsung Internet", "Android");
    expect(CHROME_ANDROID, "mobile", "Chrome", "Android");
    expect(SAFARI_IPAD, "tablet", "Safari", "iOS");
    expect("Mozilla/5.0 something new", "desktop", "other", "other");
}
END_TEST

/* Only the first UA_SCAN_MAX bytes count: a bot's name past them is not seen, and 8 KiB cost no more. */
START_TEST(bounded)
{
    char big[8192];
    size_t n = strlen(CHROME_WIN);
    memcpy(big, CHROME_WIN, n);
    for (; n + 1 < sizeof(big); n++)
        big[n] = n % 8 ? 'a' : ' ';
    big[n] = '\0';
    ck_assert(!ua_is_bot(big));
    memcpy(big + sizeof(big) - 20, "Googlebot", 9);
    ck_assert(!ua_is_bot(big));
    memcpy(big + 200, "Googlebot", 9);
    ck_assert(ua_is_bot(big));
    /* control bytes are only bytes */
    ck_assert(!ua_is_bot("Mozilla/5.0 (Windows NT 10.0)\x01\x02\x7f\xff Chrome/120.0 Safari/537.36"));
}
END_TEST

/* The worker's memo of classes answers exactly what matching answers: for more distinct User-Agents than it
 * holds, bots and people mixed, seen again in another order, with HEAD after GET and GET after HEAD. */
START_TEST(memo_answers_as_matching)
{
    enum { N = 3000 };
    static struct ua_class first[N];
    char ua[256];
    for (int pass = 0; pass < 3; pass++) {
        for (int k = 0; k < N; k++) {
            int i = pass == 1 ? N - 1 - k : (k * 7) % N;
            if (i % 3 == 0)
                snprintf(ua, sizeof(ua), "Mozilla/5.0 (compatible; Crawler%dbot/1.0)", i);
            else
                snprintf(ua, sizeof(ua), "%s %d", i % 3 == 1 ? CHROME_WIN : SAFARI_IPHONE, i);
            struct ua_class c;
            ua_classify(ua, false, &c);
            if (pass == 0)
                first[i] = c;
            ck_assert_msg(c.bot == ua_is_bot(ua) && c.bot == (i % 3 == 0), "%s", ua);
            ck_assert_msg(memcmp(&c, &first[i], sizeof(c)) == 0, "pass %d: %s", pass, ua);
            ua_classify(ua, true, &c);
            ck_assert(c.bot);
            ck_assert_str_eq(ua_device_name(c.device), "bot");
        }
    }
    /* the same first bytes, a different length: another User-Agent */
    struct ua_class c;
    ua_classify("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", false, &c);
    ck_assert(!c.bot);
    ua_classify("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0 Googlebot", false, &c);
    ck_assert(c.bot);
}
END_TEST

Suite *unit_suite(void)
{
    Suite *s = suite_create("ua");
    TCase *tc = tcase_create("ua");
    tcase_add_test(tc, bots_are_bots);
    tcase_add_test(tc, people_are_people);
    tcase_add_test(tc, head_and_empty_are_bots);
    tcase_add_test(tc, families);
    tcase_add_test(tc, bounded);
    tcase_add_test(tc, memo_answers_as_matching);
    suite_add_tcase(s, tc);
    return s;
}
