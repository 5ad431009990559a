/* A visitor's country from their address, with the operator's MaxMind-format database (HOP_GEOIP_DB, read
 * with libmaxminddb). The address is looked up and forgotten; without a database every country is unknown. */
#ifndef HOP_GEO_H
#define HOP_GEO_H

#include <stddef.h>

/* Opens path (NULL: none) once, in the master before the fork (the mapping is shared): 0, or -1 logged. */
int geo_init(const char *path);
/* The ISO 3166-1 alpha-2 code of addr (a numeric IPv4 or IPv6 address) into out (3 bytes or more), upper
 * case; "" when there is no database, addr does not parse or the database has no country for it. No
 * allocation: the redirect calls it. */
void geo_country(const char *addr, char *out, size_t cap);
/* Closes the database (tests). */
void geo_close(void);

#endif
