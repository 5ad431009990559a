/* The Prometheus text exposition format (version 0.0.4), written into a buf: a family's HELP and TYPE lines,
 * then its samples. Label values are escaped here, so a caller never writes one raw. */
#ifndef HOP_PROMTEXT_H
#define HOP_PROMTEXT_H

#include <stddef.h>

struct buf;

/* The media type a scrape is answered with. */
#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram); help is escaped. */
void promtext_family(struct buf *b, const char *name, const char *type, const char *help);
/* One sample: name, labels (pairs of name and value, nlabels pairs; values escaped) and an integer value. */
void promtext_int(struct buf *b, const char *name, const char *const *labels, size_t nlabels, long long v);
/* The same with a floating-point value (seconds, bytes per second...). */
void promtext_double(struct buf *b, const char *name, const char *const *labels, size_t nlabels, double v);
/* A label value as the format wants it: backslash, double quote and newline escaped. */
void promtext_label_value(struct buf *b, const char *s);

#endif
