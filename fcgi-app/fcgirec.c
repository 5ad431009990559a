/* FastCGI record encoding for clients; see fcgirec.h. */
#include "fcgirec.h"

#include <string.h>

/* A pair's length: one byte below 128, else four with the high bit set. */
static size_t put_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)(0x80 | (n >> 24));
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

int fcgirec_param(unsigned char *buf, size_t *len, size_t cap, const char *name, size_t nlen,
                  const char *value, size_t vlen)
{
    if (*len > cap || nlen > FCGIREC_NAME_MAX || vlen > FCGIREC_NAME_MAX || nlen + vlen + 8 > cap - *len)
        return -1;
    size_t o = *len;
    o += put_len(buf + o, nlen);
    o += put_len(buf + o, vlen);
    memcpy(buf + o, name, nlen);
    o += nlen;
    memcpy(buf + o, value, vlen);
    *len = o + vlen;
    return 0;
}

size_t fcgirec_record(unsigned char *p, enum fcgirec_type type, const unsigned char *content, size_t n)
{
    const unsigned char h[FCGIREC_HEADER] = {
        1, (unsigned char)type, 0, 1, (unsigned char)(n >> 8), (unsigned char)n, 0, 0};
    memcpy(p, h, sizeof(h));
    if (n)
        memcpy(p + FCGIREC_HEADER, content, n);
    return FCGIREC_HEADER + n;
}

size_t fcgirec_stream(unsigned char *p, enum fcgirec_type type, const unsigned char *content, size_t n)
{
    size_t o = 0;
    for (size_t off = 0; off < n; off += FCGIREC_MAX) {
        size_t k = n - off < FCGIREC_MAX ? n - off : FCGIREC_MAX;
        o += fcgirec_record(p + o, type, content + off, k);
    }
    return o + fcgirec_record(p + o, type, NULL, 0);
}

size_t fcgirec_begin(unsigned char *p)
{
    static const unsigned char body[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* role responder, flags 0: close after */
    return fcgirec_record(p, FCGIREC_BEGIN_REQUEST, body, sizeof(body));
}
