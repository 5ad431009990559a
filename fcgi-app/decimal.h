/* An integer's decimal digits, without printf: the response head and the access line are written on every
 * request, and parsing a format for them was a tenth of a redirect's instructions. */
#ifndef HOP_DECIMAL_H
#define HOP_DECIMAL_H

#include <stddef.h>

enum { DECIMAL_MAX = 20 }; /* the digits of 2^64 - 1 */

/* Writes v's digits (no sign, no NUL) at the start of out and returns how many. */
size_t decimal_u64(char out[DECIMAL_MAX], unsigned long long v);

#endif
