/* Address rules of the TCP listener; see netaddr.h. No I/O here, so every rule is unit-tested directly. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* a v4 address in host order, from either family; false when sa is neither AF_INET nor v4-mapped AF_INET6 */
static bool as_v4(const struct sockaddr *sa, unsigned long *v4)
{
    if (sa->sa_family == AF_INET) {
        *v4 = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            const unsigned char *b = a->s6_addr + 12;
            *v4 = (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3];
            return true;
        }
    }
    return false;
}

static bool in_prefix(unsigned long v4, unsigned long net, int bits)
{
    unsigned long mask = (0xffffffffUL << (32 - bits)) & 0xffffffffUL;
    return (v4 & mask) == net;
}

static enum netaddr_class classify_v4(unsigned long v4)
{
    if (v4 == 0)
        return NETADDR_WILDCARD;
    if (in_prefix(v4, 0x7f000000UL, 8))
        return NETADDR_LOOPBACK;
    /* RFC 1918, the carrier-grade NAT range (RFC 6598) and link-local: none is routed on the Internet */
    if (in_prefix(v4, 0x0a000000UL, 8) || in_prefix(v4, 0xac100000UL, 12) ||
        in_prefix(v4, 0xc0a80000UL, 16) || in_prefix(v4, 0x64400000UL, 10) || in_prefix(v4, 0xa9fe0000UL, 16))
        return NETADDR_PRIVATE;
    return NETADDR_PUBLIC;
}

enum netaddr_class netaddr_classify(const struct sockaddr *sa)
{
    unsigned long v4;
    if (as_v4(sa, &v4))
        return classify_v4(v4);
    if (sa->sa_family != AF_INET6)
        return NETADDR_PUBLIC;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(a))
        return NETADDR_WILDCARD;
    if (IN6_IS_ADDR_LOOPBACK(a))
        return NETADDR_LOOPBACK;
    /* unique local fc00::/7 and link-local fe80::/10 */
    if ((a->s6_addr[0] & 0xfe) == 0xfc || (a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80))
        return NETADDR_PRIVATE;
    return NETADDR_PUBLIC;
}

const char *netaddr_class_name(enum netaddr_class c)
{
    static const char *const names[] = {"loopback", "private", "wildcard", "public"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "public";
}

int netaddr_split(const char *spec, char *host, size_t hcap, char *port, size_t pcap, const char **why)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1]) {
        *why = "a TCP listen address is host:port";
        return -1;
    }
    const char *h = spec;
    size_t hlen = (size_t)(colon - spec);
    /* "[::1]:9000": the brackets are how a v6 host keeps its own colons apart from the port's */
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    size_t plen = strlen(colon + 1);
    if (hlen >= hcap || plen >= pcap) {
        *why = "the host or port is too long";
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return 0;
}

bool netaddr_listen_allowed(const struct sockaddr *sa, bool allow_public, const char **why)
{
    enum netaddr_class c = netaddr_classify(sa);
    if (c == NETADDR_LOOPBACK || c == NETADDR_PRIVATE || allow_public)
        return true;
    *why = c == NETADDR_WILDCARD
               ? "a wildcard address listens on every interface, public ones included: "
                 "name one address, or set HOP_LISTEN_PUBLIC=1 (--listen-public)"
               : "a public address exposes the unauthenticated FastCGI port: use a loopback "
                 "or private address, or set HOP_LISTEN_PUBLIC=1 (--listen-public)";
    return false;
}

/* one list item into 16 bytes of IPv6 (IPv4 mapped), so that both families compare the same way */
static bool parse_one(const char *s, size_t len, unsigned char out[16])
{
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

int netaddr_allow_parse(const char *list, struct netaddr_allow *out, const char **why)
{
    out->n = 0;
    if (!list)
        return 0;
    const char *p = list;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (out->n == NETADDR_ALLOW_MAX) {
            *why = "too many addresses (at most 32)";
            return -1;
        }
        if (!parse_one(p, len, out->addr[out->n])) {
            *why = "an item is not an IPv4 or IPv6 address";
            return -1;
        }
        out->n++;
        if (!end)
            return 0;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
}

bool netaddr_allow_match(const struct netaddr_allow *al, const struct sockaddr *peer)
{
    if (al->n == 0 || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
        return true;
    unsigned char a[16];
    unsigned long v4;
    if (as_v4(peer, &v4)) {
        memset(a, 0, 10);
        a[10] = a[11] = 0xff;
        a[12] = (unsigned char)(v4 >> 24);
        a[13] = (unsigned char)(v4 >> 16);
        a[14] = (unsigned char)(v4 >> 8);
        a[15] = (unsigned char)v4;
    } else {
        memcpy(a, ((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr.s6_addr, 16);
    }
    for (int i = 0; i < al->n; i++) {
        if (memcmp(al->addr[i], a, 16) == 0)
            return true;
    }
    return false;
}
