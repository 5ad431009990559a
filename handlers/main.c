/* hop's command line: serve, migrate, keys, and the configuration read from the environment. */
#include "app.h"

#include "domains_cli.h"
#include "export.h"
#include "import.h"
#include "keys_cli.h"
#include "db.h"
#include "config.h"
#include "lifecycle.h"
#include "log.h"
#include "migrate.h"
#include "password.h"
#include "server.h"
#include "status_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOP_VERSION
#define HOP_VERSION "dev"
#endif

static const char usage[] =
    "usage: hop COMMAND\n"
    "\n"
    "hop is a self-hosted short-link service: a pool of FastCGI workers behind Caddy, with PostgreSQL.\n"
    "\n"
    "commands:\n"
    "  serve [--no-migrate] [--check] [--listen-public]\n"
    "                     migrate, then run the pool until SIGTERM; --check only validates the settings;\n"
    "                     --listen-public is HOP_LISTEN_PUBLIC=1\n"
    "  migrate            apply the database migrations that are missing, then exit\n"
    "  domains add NAME [--root-redirect URL] [--not-found-redirect URL]\n"
    "                     serve short links on NAME too (the first domain becomes the default)\n"
    "  domains list       the domains, the default one and their links\n"
    "  domains remove NAME [--with-links]\n"
    "                     stop serving NAME (refused while links use it, unless --with-links)\n"
    "  import --from bitly|yourls|shlink|kutt|csv FILE --owner NAME [--domain D] [--on-conflict "
    "skip|rename|fail] "
    "[--dry-run] [--jobs N]\n"
    "                     bring links from another service's export (or hop's own) into NAME's links\n"
    "  export --owner NAME [--format csv|json]\n"
    "                     every link of owner NAME, with all its fields, on standard output\n"
    "  keys create NAME [--scope read|create|full]\n"
    "                     make an API key for owner NAME (created if new); the key is printed once;\n"
    "                     read: GET only, create: GET and POST, full: everything (the default)\n"
    "  keys list          owners, their keys' numbers, scopes, dates and last use (never a key)\n"
    "  keys revoke NAME   revoke every key of owner NAME\n"
    "  keys revoke --key ID\n"
    "                     revoke one key by the number keys list shows\n"
    "  status [--json|--metrics] [--socket ADDR]\n"
    "                     the running pool's workers, queue and counters, asked over its socket\n"
    "                     (HOP_LISTEN); --metrics prints the Prometheus text a scrape gets\n"
    "  version            print the version\n"
    "  help, --help       this text\n"
    "\n"
    "environment:\n"
    "  HOP_DB             libpq connection string or URI (else libpq's PGHOST, PGDATABASE, ...)\n"
    "  HOP_DB_READ        a read replica's connection string: list, search, tags, export and stats reads\n"
    "                     go to it once it has the owner's last change, else to HOP_DB (default: unset)\n"
    "  HOP_LISTEN         Unix socket path or host:port when no socket is inherited (default "
    "/run/hop/hop.sock);\n"
    "                     a socket from systemd (LISTEN_FDS) or spawn-fcgi (fd 0) is used when present;\n"
    "                     host:port must be a loopback or private address (127/8, ::1, 10/8, 172.16/12,\n"
    "                     192.168/16, 100.64/10, fc00::/7, link-local)\n"
    "  HOP_LISTEN_PUBLIC  1: also allow a wildcard (0.0.0.0, ::, empty host) or public host:port (a warning\n"
    "                     is logged; FastCGI has no authentication)\n"
    "  FCGI_WEB_SERVER_ADDRS\n"
    "                     comma-separated IPv4/IPv6 addresses: the only TCP peers served (default: any)\n"
    "  HOP_SOCKET_MODE    octal mode of a socket file hop creates (default 0660)\n"
    "  HOP_WORKERS        worker processes (default: twice the number of CPUs)\n"
    "  HOP_MAX_BODY       request body limit in bytes (default 65536)\n"
    "  HOP_READ_TIMEOUT   seconds a request may take to send its body (default 10)\n"
    "  HOP_BASE_URL       public base URL for short_url and loop detection (default https://<Host>)\n"
    "  HOP_NO_MIGRATE     set to 1 to skip migrations at serve start\n"
    "  HOP_MIGRATE_LOCK_MS  how long a migration may wait for other sessions' locks, in all: each attempt\n"
    "                     waits 2 s at most (default 60000; 0: one attempt, as long as they take)\n"
    "  HOP_CORS_ORIGINS   browser origins that may call the API, comma-separated (https://app.example; * "
    "for\n"
    "                     any); none by default\n"
    "  HOP_VISITS         off: count no visits (only to measure what counting costs; default on)\n"
    "  HOP_ANALYTICS_HOURLY_DAYS  days hourly visit counts are kept before they become daily (default 30)\n"
    "  HOP_GEOIP_DB       a MaxMind-format .mmdb of countries (without it, every country is unknown)\n"
    "  HOP_SPOOL_DIR      where visits spill while PostgreSQL is away (default $STATE_DIRECTORY/spool,\n"
    "                     else $XDG_STATE_HOME/hop/spool, else ~/.local/state/hop/spool; off: none)\n"
    "  HOP_SPOOL_MB       the spool's bound in MB (default 256)\n"
    "  HOP_VISITS_MEMORY_KB  the master's bound on unwritten visit counts in KB (default 4096)\n"
    "  HOP_VISITS_WRITE_MS   between the master's batches of visits to PostgreSQL (default 500)\n"
    "  HOP_VISITS_WINDOW_MS  the longest a logged visit waits to reach the stats (default 60000; 0: none)\n"
    "  HOP_VISITS_WINDOW_KB  the master's bound on that window in memory, in KB (default 65536)\n"
    "  HOP_VISITS_PG_MS      PostgreSQL ms a second the master aims to spend adding the window to the\n"
    "                        stats under load (default 10: 1 % of a core; more: fresher stats)\n"
    "  HOP_LOG_LEVEL      debug, info, warn or error (default info)\n"
    "  HOP_ACCESS_LOG     on, off, or N for one access line in N (a 5xx is always logged; default on)\n"
    "  HOP_CACHE_MB       the host's link table shared by the workers, in MiB (default 64)\n";

/* A decimal setting within [lo, hi], or def when unset; exits with a clear message when malformed. */
static long env_long(const char *name, long def, long lo, long hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "hop: %s=%s is not a number from %ld to %ld\n", name, s, lo, hi);
        exit(2);
    }
    return v;
}

static int env_mode(const char *name, int def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 8);
    if (*end || v < 0 || v > 0777) {
        fprintf(stderr, "hop: %s=%s is not an octal file mode such as 0660\n", name, s);
        exit(2);
    }
    return (int)v;
}

/* HOP_ACCESS_LOG: on (every line), off, or N (one line in N). */
static int access_every(void)
{
    const char *s = getenv("HOP_ACCESS_LOG");
    if (!s || !*s || strcmp(s, "on") == 0)
        return 1;
    if (strcmp(s, "off") == 0)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 1000000) {
        fprintf(stderr, "hop: HOP_ACCESS_LOG=%s is not on, off or a number from 1 to 1000000\n", s);
        exit(2);
    }
    return (int)v;
}

static void load_config(struct server_config *cfg)
{
    const char *lvl = getenv("HOP_LOG_LEVEL");
    if (lvl && *lvl && log_set_level(lvl) < 0) {
        fprintf(stderr, "hop: HOP_LOG_LEVEL=%s is not debug, info, warn or error\n", lvl);
        exit(2);
    }
    log_set_access_every(access_every());
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const char *listen = getenv("HOP_LISTEN");
    cfg->listen = listen && *listen ? listen : "/run/hop/hop.sock";
    cfg->listen_public = env_long("HOP_LISTEN_PUBLIC", 0, 0, 1) == 1;
    cfg->peer_addrs = getenv("FCGI_WEB_SERVER_ADDRS");
    cfg->socket_mode = env_mode("HOP_SOCKET_MODE", 0660);
    /* measured (make bench, 2 cores): 4 workers serve 7% more redirects through Caddy than 2, because a
     * worker also waits on its socket and on PostgreSQL; 1 worker serves 20% fewer */
    cfg->workers = (int)env_long("HOP_WORKERS", cpus < 1 ? 2 : 2 * cpus, 1, 256);
    cfg->max_body = (size_t)env_long("HOP_MAX_BODY", 64 * 1024, 1, 64L * 1024 * 1024);
    cfg->read_timeout_ms = (int)env_long("HOP_READ_TIMEOUT", 10, 1, 3600) * 1000;
    cfg->tick_ms = 100;
    cfg->shutdown_grace_ms = 30 * 1000;
    cfg->name = "hop";
    cfg->version = HOP_VERSION;
    cfg->routes = app_routes(&cfg->nroutes);
    cfg->admin_param = "HOP_METRICS";

    if (config_load() < 0)
        exit(2);
    if (password_init() < 0) {
        fprintf(stderr, "hop: libsodium cannot start\n");
        exit(1);
    }
}

static int cmd_migrate(void)
{
    int n = db_migrate(config_get()->migrate_lock_ms);
    if (n < 0) {
        fprintf(stderr, "hop: migration failed (see the log above)\n");
        return 1;
    }
    log_info("migrations done", "applied=%d total=%d", n, db_nmigrations);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    bool migrate = !(getenv("HOP_NO_MIGRATE") && strcmp(getenv("HOP_NO_MIGRATE"), "1") == 0);
    bool check = false, listen_public = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-migrate") == 0) {
            migrate = false;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--listen-public") == 0) {
            listen_public = true;
        } else {
            fprintf(stderr, "hop: serve: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
    }
    struct server_config cfg;
    load_config(&cfg);
    cfg.listen_public = cfg.listen_public || listen_public;
    if (check) {
        printf("configuration ok: listen=%s workers=%d max_body=%zu read_timeout=%ds base_url=%s\n",
               cfg.listen, cfg.workers, cfg.max_body, cfg.read_timeout_ms / 1000,
               config_get()->base_url ? config_get()->base_url : "(Host)");
        return 0;
    }
    if (migrate && cmd_migrate() != 0)
        return 1;
    char *owned = NULL;
    int fd = server_listen(&cfg, &owned);
    if (fd < 0) {
        fprintf(stderr, "hop: cannot listen on %s (see the log above)\n", cfg.listen);
        return 1;
    }
    log_info("starting", "version=%s workers=%d max_body=%zu", HOP_VERSION, cfg.workers, cfg.max_body);
    int rc = server_run(&cfg, &lifecycle_hooks, fd);
    if (owned) {
        unlink(owned);
        free(owned);
    }
    return rc;
}

int main(int argc, char **argv)
{
    log_set_pid();
    log_detect_journal();
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hop %s\n", HOP_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "migrate") == 0) {
        struct server_config cfg;
        load_config(&cfg);
        return cmd_migrate();
    }
    if (strcmp(cmd, "domains") == 0) {
        struct server_config cfg;
        load_config(&cfg);
        return domains_command(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "import") == 0 || strcmp(cmd, "export") == 0) {
        struct server_config cfg;
        load_config(&cfg);
        return cmd[0] == 'i' ? import_command(argc - 2, argv + 2) : export_command(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "status") == 0)
        return status_command(argc - 2, argv + 2);
    if (strcmp(cmd, "keys") == 0) {
        struct server_config cfg;
        load_config(&cfg);
        return keys_command(argc - 2, argv + 2);
    }
    fprintf(stderr, "hop: unknown command \"%s\"\n\n%s", cmd, usage);
    return 2;
}
