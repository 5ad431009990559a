/* The master's sums as rows of the visit log (migration 0021): a batch's sums split into the window's parts
 * by link, and a row read back, field by field, from whichever master wrote it. */
#ifndef HOP_VISIT_LOG_H
#define HOP_VISIT_LOG_H

#include "visit_sum.h"
#include "visit_window.h"

#include <stddef.h>

/* n sums as log rows, part by part, in a new buffer (*out, the caller frees it): part p's at off[p], len[p]
 * bytes long (0 for a part without sums). Returns the size. */
size_t vlog_encode(const struct sum *rows, size_t n, unsigned char **out, int off[VWIN_PARTS],
                   int len[VWIN_PARTS]);
/* The sums of a log row of part, in a new array (*out, the caller frees it): how many, or -1 when data is not
 * sums of that part (truncated, a field out of range, a link of another part, a count not positive). */
long long vlog_decode(int part, const unsigned char *d, size_t len, struct sum **out);

#endif
