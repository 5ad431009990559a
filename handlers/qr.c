/* QR codes as SVG and PNG; see qr.h. */
#include "qr.h"

#include "arena.h"
#include "buf.h"

#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <string.h>

static int dark(const QRcode *q, int x, int y)
{
    return x >= 0 && y >= 0 && x < q->width && y < q->width && (q->data[y * q->width + x] & 1);
}

/* One path of horizontal runs: a few kilobytes even for a large code, and crisp at any zoom. */
static void svg_draw(struct buf *b, const QRcode *q, int scale, int margin)
{
    int n = q->width + 2 * margin;
    buf_addf(
        b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" "
        "d=\"",
        n * scale, n * scale, n, n, n, n);
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width;) {
            if (!dark(q, x, y)) {
                x++;
                continue;
            }
            int run = 1;
            while (dark(q, x + run, y))
                run++;
            buf_addf(b, "M%d %dh%dv1h-%dz", x + margin, y + margin, run, run);
            x += run;
        }
    }
    buf_adds(b, "\"/></svg>\n");
}

static void png_to_buf(png_structp png, png_bytep data, png_size_t len)
{
    buf_add(png_get_io_ptr(png), data, len);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* A 1-bit grayscale image: the smallest PNG a code can be, and exact for a scanner. */
static int png_draw(struct arena *a, struct buf *b, const QRcode *q, int scale, int margin)
{
    int n = (q->width + 2 * margin) * scale;
    size_t stride = ((size_t)n + 7) / 8;
    png_bytep row = arena_alloc(a, stride);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png)
        return -1;
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        return -1;
    }
    png_set_write_fn(png, b, png_to_buf, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)n, (png_uint_32)n, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int py = 0; py < n; py++) {
        memset(row, 0xff, stride);
        for (int px = 0; px < n; px++)
            if (dark(q, px / scale - margin, py / scale - margin))
                row[px / 8] &= (png_byte) ~(0x80u >> (px % 8));
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int qr_render(struct arena *a, const char *text, enum qr_format format, int scale, int margin,
              const char **out, size_t *len)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return -1;
    struct buf b;
    buf_init(&b, a, 4096);
    int rc = 0;
    if (format == QR_SVG)
        svg_draw(&b, q, scale, margin);
    else
        rc = png_draw(a, &b, q, scale, margin);
    QRcode_free(q);
    if (rc < 0)
        return -1;
    *len = b.len;
    *out = buf_str(&b);
    return 0;
}
