/* Prometheus text exposition; see promtext.h. */
#include "promtext.h"

#include "buf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void promtext_label_value(struct buf *b, const char *s)
{
    /* most values need no escape: one copy instead of a byte at a time */
    if (!strpbrk(s, "\\\"\n")) {
        buf_adds(b, s);
        return;
    }
    for (; *s; s++) {
        if (*s == '\\')
            buf_adds(b, "\\\\");
        else if (*s == '"')
            buf_adds(b, "\\\"");
        else if (*s == '\n')
            buf_adds(b, "\\n");
        else
            buf_addc(b, *s);
    }
}

/* HELP text escapes only backslash and newline (quotes stay as they are there). */
static void help_text(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_adds(b, "\\\\");
        else if (*s == '\n')
            buf_adds(b, "\\n");
        else
            buf_addc(b, *s);
    }
}

void promtext_family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_addf(b, "# HELP %s ", name);
    help_text(b, help);
    buf_addf(b, "\n# TYPE %s %s\n", name, type);
}

static void sample_head(struct buf *b, const char *name, const char *const *labels, size_t nlabels)
{
    buf_adds(b, name);
    if (nlabels == 0) {
        buf_addc(b, ' ');
        return;
    }
    buf_addc(b, '{');
    for (size_t i = 0; i < nlabels; i++) {
        if (i)
            buf_addc(b, ',');
        buf_adds(b, labels[2 * i]);
        buf_add(b, "=\"", 2);
        promtext_label_value(b, labels[2 * i + 1]);
        buf_addc(b, '"');
    }
    buf_add(b, "} ", 2);
}

void promtext_int(struct buf *b, const char *name, const char *const *labels, size_t nlabels, long long v)
{
    sample_head(b, name, labels, nlabels);
    char text[24];
    int n = snprintf(text, sizeof(text), "%lld\n", v);
    buf_add(b, text, (size_t)n);
}

void promtext_double(struct buf *b, const char *name, const char *const *labels, size_t nlabels, double v)
{
    sample_head(b, name, labels, nlabels);
    if (isinf(v))
        buf_adds(b, v > 0 ? "+Inf\n" : "-Inf\n");
    else if (isnan(v))
        buf_adds(b, "NaN\n");
    else
        buf_addf(b, "%.9g\n", v);
}
