/* Hexadecimal digits both ways: percent-decoding, JSON \u escapes, log escapes, hashes as text. One table, so
 * every encoder writes the same (lower-case) digits. */
#ifndef HOP_HEX_H
#define HOP_HEX_H

#include <stddef.h>

/* The value of one hex digit (either case), or -1 when c is not one. */
int hex_value(unsigned char c);
/* Writes the n bytes of in as 2n lower-case digits and a NUL: out holds at least 2n + 1 chars. */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
