/* FastCGI records as a client writes them (request id 1, one request per connection, as Caddy sends):
 * the encoding shared by `hop status`'s client (fcgiclient.c) and the load generator (bench/fcgi_load.c). */
#ifndef HOP_FCGIREC_H
#define HOP_FCGIREC_H

#include <stddef.h>

enum fcgirec_type {
    FCGIREC_BEGIN_REQUEST = 1,
    FCGIREC_END_REQUEST = 3,
    FCGIREC_PARAMS = 4,
    FCGIREC_STDIN = 5,
    FCGIREC_STDOUT = 6,
    FCGIREC_STDERR = 7,
};

enum {
    FCGIREC_HEADER = 8,      /* bytes before a record's content */
    FCGIREC_MAX = 65528,     /* content bytes a stream puts in one record (a multiple of 8 below 65536) */
    FCGIREC_BEGIN_SIZE = 16, /* a BEGIN_REQUEST record, header and body */
    FCGIREC_NAME_MAX = 0x7fffffff, /* the longest name or value a pair can encode */
};

/* Appends one name-value pair to buf, which holds *len of cap bytes: 0, or -1 (buf unchanged) when it does
 * not fit. */
int fcgirec_param(unsigned char *buf, size_t *len, size_t cap, const char *name, size_t nlen,
                  const char *value, size_t vlen);
/* Writes one record of n (at most 65535) content bytes at p, without padding: the bytes written, 8 + n. */
size_t fcgirec_record(unsigned char *p, enum fcgirec_type type, const unsigned char *content, size_t n);
/* Writes a stream (PARAMS or STDIN): its content in records of at most FCGIREC_MAX bytes, then the empty
 * record that ends it. p must hold n + 8 * (n / FCGIREC_MAX + 2) bytes. Returns the bytes written. */
size_t fcgirec_stream(unsigned char *p, enum fcgirec_type type, const unsigned char *content, size_t n);
/* Writes the BEGIN_REQUEST of a responder that closes the connection after the answer (no keep-alive): the
 * FCGIREC_BEGIN_SIZE bytes written. */
size_t fcgirec_begin(unsigned char *p);

#endif
