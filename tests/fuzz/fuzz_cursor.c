/* Fuzzes the list cursor decoder (handlers/cursor.c): anything it accepts is a positive id whose encoding is
 * exactly the input (one spelling per cursor), and every id round-trips. */
#include "fuzz.h"

#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    long long id = 0;
    if (cursor_decode(s, &id) == 0) {
        char again[CURSOR_MAX];
        FUZZ_CHECK(id > 0, "decoded id %lld", id);
        cursor_encode(id, again);
        FUZZ_CHECK(strcmp(again, s) == 0, "\"%s\" decodes to %lld, which encodes as \"%s\"", s, id, again);
    }
    if (size >= sizeof(long long)) {
        long long v;
        memcpy(&v, data, sizeof(v));
        if (v > 0) {
            char c[CURSOR_MAX];
            long long back = 0;
            cursor_encode(v, c);
            FUZZ_CHECK(cursor_decode(c, &back) == 0 && back == v, "%lld does not round-trip via \"%s\"", v,
                       c);
        }
    }
    free(s);
    return 0;
}
