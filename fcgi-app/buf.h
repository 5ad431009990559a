/* A growable byte buffer whose memory comes from a request arena. */
#ifndef HOP_BUF_H
#define HOP_BUF_H

#include <stddef.h>

struct arena;

struct buf {
    struct arena *arena;
    char *data;
    size_t len, cap;
};

void buf_init(struct buf *b, struct arena *a, size_t cap);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
/* v in decimal, without buf_addf's format parse: for what every request writes (decimal.h). */
void buf_addu(struct buf *b, unsigned long long v);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a NUL-terminated string (the NUL is not counted in len). */
const char *buf_str(struct buf *b);

#endif
