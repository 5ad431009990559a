/* What a visit's User-Agent says: human or bot (the isbot list plus hop's own, handlers/core/bots*.txt,
 * one PCRE2 expression compiled once with JIT), device class, browser family and OS family (a small table).
 * Only the first UA_SCAN_MAX bytes are looked at, so a hostile 8 KiB header costs no more than a long one. */
#ifndef HOP_UA_H
#define HOP_UA_H

#include <stdbool.h>
#include <stdint.h>

enum { UA_SCAN_MAX = 512 };

enum ua_device { UA_DEVICE_DESKTOP, UA_DEVICE_MOBILE, UA_DEVICE_TABLET, UA_DEVICE_BOT, UA_NDEVICES };

struct ua_class {
    bool bot;
    uint8_t device;  /* enum ua_device */
    uint8_t browser; /* index for ua_browser_name */
    uint8_t os;      /* index for ua_os_name */
};

/* Compiles the bot pattern; -1 (logged) when it does not compile. Called once per process; ua_classify
 * calls it itself when it was not. */
int ua_init(void);
/* Classifies ua (NULL or empty: a bot). head: the request is a HEAD, which is always a bot's. */
void ua_classify(const char *ua, bool head, struct ua_class *out);
/* Whether ua matches the bot pattern alone (for tests). */
bool ua_is_bot(const char *ua);

const char *ua_device_name(uint8_t device);
const char *ua_browser_name(uint8_t browser);
const char *ua_os_name(uint8_t os);

#endif
