/* QR codes of short URLs, drawn as SVG or PNG (libqrencode for the code, libpng for the pixels). */
#ifndef HOP_QR_H
#define HOP_QR_H

#include <stddef.h>

struct arena;

enum qr_format { QR_SVG, QR_PNG };

/* Bounds of the drawing: scale is pixels per module, margin the quiet zone in modules (the standard asks 4).
 */
enum { QR_SCALE_MIN = 1, QR_SCALE_MAX = 20, QR_SCALE_DEF = 8, QR_MARGIN_MAX = 10, QR_MARGIN_DEF = 4 };

/* Draws text as a QR code (error correction level M) into a buffer of a: 0 with *out and *len, or -1 when
 * the text cannot be encoded (longer than a QR code holds) or the PNG writer failed. */
int qr_render(struct arena *a, const char *text, enum qr_format format, int scale, int margin,
              const char **out, size_t *len);

#endif
