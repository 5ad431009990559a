/* Country lookups with libmaxminddb; see geo.h. Addresses are parsed with inet_pton and looked up by
 * sockaddr: MMDB_lookup_string would call getaddrinfo, which allocates. */
#include "geo.h"

#include "log.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

static MMDB_s db;
static bool opened;

int geo_init(const char *path)
{
    geo_close();
    if (!path)
        return 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &db);
    if (rc != MMDB_SUCCESS) {
        log_error("cannot open HOP_GEOIP_DB", "path=\"%s\" error=\"%s\"", path, MMDB_strerror(rc));
        return -1;
    }
    opened = true;
    return 0;
}

void geo_close(void)
{
    if (opened)
        MMDB_close(&db);
    opened = false;
}

/* addr as a sockaddr in *ss: 0, or -1 when it is not a numeric address. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

void geo_country(const char *addr, char *out, size_t cap)
{
    out[0] = '\0';
    struct sockaddr_storage ss;
    if (!opened || !addr || cap < 3 || parse_addr(addr, &ss) < 0)
        return;
    int err = 0;
    MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&db, (const struct sockaddr *)&ss, &err);
    if (err != MMDB_SUCCESS || !res.found_entry)
        return;
    MMDB_entry_data_s data;
    if (MMDB_get_value(&res.entry, &data, "country", "iso_code", NULL) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
        return;
    for (int i = 0; i < 2; i++) {
        char c = data.utf8_string[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return (void)(out[0] = '\0');
        out[i] = c;
    }
    out[2] = '\0';
}
