/* Decimal digits; see decimal.h. */
#include "decimal.h"

size_t decimal_u64(char out[DECIMAL_MAX], unsigned long long v)
{
    char rev[DECIMAL_MAX];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    return n;
}
