/* Spool files of visit batches; see visits_spool.h.
 *
 * A file is a header, the records, and a 64-bit checksum of both: "visits-<ms>-<id>.spool" (hexadecimal, so
 * names sort by the time written). Temporary files are ".tmp-<id>", never read back. */
#include "visits_spool.h"

#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bump when the meaning of a record changes (visits.c's struct sum, ua.h's indices). */
enum { SPOOL_VERSION = 1, NAME_MAX_LEN = 64 };

static const char MAGIC[8] = "HOPVSPL\n";

struct header {
    char magic[8];
    uint32_t version;
    uint32_t rec_size;
    int64_t id;
    int64_t nrecs;
    int64_t visits;
    char db_id[40]; /* NUL-terminated, "" when the database was unknown */
};

static char *dir;
static long long max_bytes;
static size_t rec_size;
static long long files, bytes, visits_held, replayable;

static uint64_t checksum(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}

/* mkdir -p with mode 0700 (the spool holds visit data) */
static int make_dir(void)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static bool is_spool_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "visits-", 7) == 0 && n > 13 && strcmp(name + n - 6, ".spool") == 0;
}

static int spool_filter(const struct dirent *d)
{
    return is_spool_name(d->d_name);
}

/* Reads a file's header (and with recs, its records, checksum checked): 0, or -1 when it is not whole. */
static int read_fp(FILE *f, struct header *h, void **recs)
{
    if (fread(h, sizeof(*h), 1, f) != 1 || memcmp(h->magic, MAGIC, sizeof(MAGIC)) != 0 ||
        h->version != SPOOL_VERSION || h->rec_size != rec_size || h->nrecs < 0 || h->visits < 0 ||
        memchr(h->db_id, '\0', sizeof(h->db_id)) == NULL)
        return -1;
    if (!recs)
        return 0;
    size_t size = (size_t)h->nrecs * rec_size;
    void *r = xmalloc(size ? size : 1);
    uint64_t sum;
    if (fread(r, 1, size, f) != size || fread(&sum, sizeof(sum), 1, f) != 1 ||
        sum != checksum(checksum(0xcbf29ce484222325ULL, h, sizeof(*h)), r, size) || fgetc(f) != EOF) {
        free(r);
        return -1;
    }
    *recs = r;
    return 0;
}

static int read_file(const char *name, struct header *h)
{
    char path[4096 + NAME_MAX_LEN];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = read_fp(f, h, NULL);
    fclose(f);
    return rc;
}

/* Counts the files and bytes there; removes temporary files a crash left. */
static void scan(const char *db_id)
{
    files = bytes = visits_held = replayable = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) == 0) {
            unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        struct stat st;
        struct header h;
        if (!is_spool_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) < 0)
            continue;
        files++;
        bytes += st.st_size;
        if (read_file(e->d_name, &h) == 0) {
            visits_held += h.visits;
            replayable += !db_id || !h.db_id[0] || strcmp(h.db_id, db_id) == 0;
        } else {
            replayable++; /* read again at replay, then set aside */
        }
    }
    closedir(d);
}

int vspool_open(const char *path, long long max, size_t size)
{
    free(dir);
    dir = xstrdup(path);
    max_bytes = max;
    rec_size = size;
    if (make_dir() < 0) {
        log_error("visit spool directory unusable", "dir=\"%s\" error=\"%s\"", dir, strerror(errno));
        return -1;
    }
    scan(NULL);
    if (files)
        log_info("visit spool found", "dir=\"%s\" files=%lld visits=%lld", dir, files, visits_held);
    return 0;
}

long long vspool_replayable(void)
{
    return dir ? replayable : 0;
}

void vspool_gauges(long long *f, long long *b, long long *v)
{
    *f = files;
    *b = bytes;
    *v = visits_held;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The file's content to a temporary name, synced, then renamed into place and the directory synced. */
static int write_file(const struct header *h, const void *recs, size_t size)
{
    char tmp[4096 + NAME_MAX_LEN], path[4096 + NAME_MAX_LEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%016llx", dir, (unsigned long long)h->id);
    snprintf(path, sizeof(path), "%s/visits-%012llx-%016llx.spool", dir, (unsigned long long)ms,
             (unsigned long long)h->id);
    uint64_t sum = checksum(checksum(0xcbf29ce484222325ULL, h, sizeof(*h)), recs, size);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, h, sizeof(*h)) == 0 && write_all(fd, recs, size) == 0 &&
                     write_all(fd, &sum, sizeof(sum)) == 0 && fsync(fd) == 0
                 ? 0
                 : -1;
    int saved = errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1, saved = errno;
    if (rc < 0) {
        unlink(tmp);
        errno = saved;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int vspool_write(long long id, const char *db_id, const void *recs, size_t n, long long visits)
{
    if (!dir)
        return -1;
    size_t size = n * rec_size;
    long long file_bytes = (long long)(sizeof(struct header) + size + sizeof(uint64_t));
    if (bytes + file_bytes > max_bytes) {
        log_error("visit spool full", "dir=\"%s\" bytes=%lld max_bytes=%lld visits=%lld", dir, bytes,
                  max_bytes, visits);
        return -1;
    }
    struct header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MAGIC, sizeof(MAGIC));
    h.version = SPOOL_VERSION;
    h.rec_size = (uint32_t)rec_size;
    h.id = id;
    h.nrecs = (int64_t)n;
    h.visits = visits;
    snprintf(h.db_id, sizeof(h.db_id), "%s", db_id);
    if (make_dir() < 0 || write_file(&h, recs, size) < 0) {
        log_error("cannot write the visit spool", "dir=\"%s\" error=\"%s\" visits=%lld", dir, strerror(errno),
                  visits);
        return -1;
    }
    files++;
    bytes += file_bytes;
    visits_held += visits;
    replayable++;
    return 0;
}

/* A file that cannot be read back: kept for a person to look at, out of the replay's way. */
static void set_aside(const char *name, void (*dropped)(long long visits))
{
    char path[4096 + NAME_MAX_LEN], bad[4096 + NAME_MAX_LEN + 8];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(bad, sizeof(bad), "%s.bad", path);
    struct header h;
    long long lost = read_file(name, &h) == 0 ? h.visits : 0;
    rename(path, bad);
    log_error("visit spool file unreadable", "file=\"%s\" visits=%lld", bad, lost);
    dropped(lost);
}

/* Replays one file: 1 replayed, 0 not this database's (or another pool's just now), -1 stop. The file is
 * locked from before it is read until after it is removed, and one found removed once locked is skipped:
 * two pools that share the directory (an overlap during a deploy) never send the same file twice. */
static int replay_one(const char *name, const char *db_id, vspool_apply_fn apply,
                      void (*removed)(long long id), void (*dropped)(long long visits))
{
    char path[4096 + NAME_MAX_LEN];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    struct stat st;
    if (flock(fileno(f), LOCK_EX | LOCK_NB) < 0 || fstat(fileno(f), &st) < 0 || st.st_nlink == 0) {
        fclose(f);
        return 0;
    }
    struct header h;
    void *recs = NULL;
    int rc = read_fp(f, &h, &recs);
    if (rc < 0) {
        fclose(f);
        set_aside(name, dropped);
        return 0;
    }
    if (h.db_id[0] && strcmp(h.db_id, db_id) != 0) {
        free(recs);
        fclose(f);
        return 0;
    }
    rc = apply(h.id, recs, (size_t)h.nrecs, h.visits);
    free(recs);
    if (rc == 0 && unlink(path) < 0) {
        /* replayed again later, it adds nothing: PostgreSQL keeps the id until it is confirmed */
        log_error("cannot remove a replayed visit spool file", "file=\"%s\" error=\"%s\"", path,
                  strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc < 0)
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    files--;
    bytes -= st.st_size;
    visits_held -= h.visits;
    removed(h.id);
    return 1;
}

int vspool_replay(const char *db_id, int max_files, vspool_apply_fn apply, void (*removed)(long long id),
                  void (*dropped)(long long visits))
{
    if (!dir)
        return 0;
    struct dirent **names;
    int n = scandir(dir, &names, spool_filter, alphasort);
    if (n < 0)
        return 0;
    int done = 0, i = 0;
    bool stopped = false;
    for (; i < n && done < max_files && !stopped; i++) {
        int rc = replay_one(names[i]->d_name, db_id, apply, removed, dropped);
        done += rc > 0;
        stopped = rc < 0;
    }
    for (int k = 0; k < n; k++)
        free(names[k]);
    free(names);
    /* what is left is counted again (files of other databases are not replayable) */
    if (!stopped && i == n)
        scan(db_id);
    return done;
}
