/* The FastCGI-over-TCP listener's safety rules, as pure functions over socket addresses: which addresses
 * hop may listen on without being told twice (loopback and private ones), and the peer allow-list that
 * libfcgi reads from FCGI_WEB_SERVER_ADDRS (hop accepts connections itself, so it applies the list itself).
 */
#ifndef HOP_NETADDR_H
#define HOP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum netaddr_class {
    NETADDR_LOOPBACK, /* 127.0.0.0/8, ::1 */
    NETADDR_PRIVATE,  /* 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16, fc00::/7, fe80::/10 */
    NETADDR_WILDCARD, /* 0.0.0.0, :: (every interface, public ones included) */
    NETADDR_PUBLIC,   /* anything else */
};

/* The class of an AF_INET or AF_INET6 address (an IPv4-mapped IPv6 address counts as its IPv4 address);
 * any other family is NETADDR_PUBLIC, so that an unknown kind of address is never trusted. */
enum netaddr_class netaddr_classify(const struct sockaddr *sa);
/* "loopback", "private", "wildcard" or "public", for log lines. */
const char *netaddr_class_name(enum netaddr_class c);

/* Splits a listen spec "host:port" or "[v6]:port" into host (brackets removed) and port. Returns 0, or -1
 * with *why set when the spec has no port or the host does not fit in hcap. An empty host is returned as "".
 */
int netaddr_split(const char *spec, char *host, size_t hcap, char *port, size_t pcap, const char **why);

/* The listen rule: loopback and private addresses are allowed; a wildcard or public one only when
 * allow_public is set. Returns true when allowed; else false with *why a sentence for the operator. */
bool netaddr_listen_allowed(const struct sockaddr *sa, bool allow_public, const char **why);

enum { NETADDR_ALLOW_MAX = 32 };

/* A peer allow-list: addresses kept as IPv6 (IPv4 ones mapped), compared exactly. n == 0 allows everyone. */
struct netaddr_allow {
    int n;
    unsigned char addr[NETADDR_ALLOW_MAX][16];
};

/* Parses a comma-separated list of IPv4 and IPv6 literals (spaces around items ignored), as libfcgi's
 * FCGI_WEB_SERVER_ADDRS. NULL or "" gives the empty list. Returns 0, or -1 with *why set (a bad item, an
 * empty item, or more than NETADDR_ALLOW_MAX). */
int netaddr_allow_parse(const char *list, struct netaddr_allow *out, const char **why);
/* True when the list is empty, the peer is not an IP peer (a Unix socket), or the peer's address is listed.
 */
bool netaddr_allow_match(const struct netaddr_allow *al, const struct sockaddr *peer);

#endif
