/* www.c: the static web root (see www.h).
 *
 * A request path is percent-decoded once, then walked one component at a
 * time with openat(O_NOFOLLOW) from the root's descriptor: no "..", no
 * component starting with '.', no symlink, no encoded '/' or '\\', no NUL.
 * Only regular files are served, at most XG_WWW_MAX_FILE_BYTES each; one
 * descriptor is open per request, for the time of one read.
 *
 * The cache holds file bodies (XG_WWW_CACHE_BYTES in all) keyed by path and
 * validated by device, inode, size and mtime, so an edited file is served
 * fresh. Compressible bodies get a gzip variant made by one background
 * thread; until it is ready the identity body is served. */
#include "www.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "limits.h"
#include "log.h"

#define WWW_MAX_PATH 1024
#define WWW_MAX_DEPTH 16

struct entry {
    struct entry *next;
    char *path;                 /* relative, e.g. "assets/x.js" */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char *data;                 /* size bytes */
    char *gz;                   /* NULL until compressed (or not worth it) */
    size_t gz_len;
    bool gz_tried;
    bool compressible;
};

static int root_fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static struct entry *entries;   /* small list: a web root has hundreds of files */
static size_t cached_bytes;
static bool stopping;
static pthread_t gz_thread;
static bool gz_thread_started;

bool xg_www_enabled(void)
{
    return root_fd >= 0;
}

/* ===== content types ================================================== */

static const struct { const char *ext, *type; bool compress; } types[] = {
    { "html", "text/html; charset=utf-8", true },
    { "htm", "text/html; charset=utf-8", true },
    { "js", "text/javascript; charset=utf-8", true },
    { "mjs", "text/javascript; charset=utf-8", true },
    { "css", "text/css; charset=utf-8", true },
    { "json", "application/json", true },
    { "map", "application/json", true },
    { "webmanifest", "application/manifest+json", true },
    { "svg", "image/svg+xml", true },
    { "txt", "text/plain; charset=utf-8", true },
    { "xml", "application/xml", true },
    { "wasm", "application/wasm", true },
    { "ttf", "font/ttf", true },
    { "png", "image/png", false },
    { "jpg", "image/jpeg", false },
    { "jpeg", "image/jpeg", false },
    { "gif", "image/gif", false },
    { "webp", "image/webp", false },
    { "ico", "image/x-icon", false },
    { "woff", "font/woff", false },
    { "woff2", "font/woff2", false },
};

static const char *content_type(const char *path, bool *compress)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    *compress = false;
    if (dot)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0) {
                *compress = types[i].compress;
                return types[i].type;
            }
    return "application/octet-stream";
}

/* ===== path checks and the descriptor walk ============================ */

/* Decodes the URL path into out as a root-relative path ("" = the root),
 * or returns false for anything that could name a file outside the root
 * or a hidden one. A trailing '/' means the directory's index.html. */
static bool relative_path(const char *url, char *out, size_t cap)
{
    if (url[0] != '/')
        return false;
    size_t k = 0;
    for (const char *p = url + 1; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = xg_hex_value(p[1]), lo = hi >= 0 ? xg_hex_value(p[2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            if (c == '/' || c == '\0')
                return false;          /* encoded slash or NUL */
            p += 2;
        }
        if (c == '\\')
            return false;
        if (k + 1 >= cap)
            return false;
        out[k++] = c;
    }
    out[k] = '\0';
    if (k == 0 || out[k - 1] == '/') {
        const char idx[] = "index.html";
        if (k + sizeof(idx) > cap)
            return false;
        memcpy(out + k, idx, sizeof(idx));
        k += sizeof(idx) - 1;
    }
    /* every component: non-empty, not starting with '.' */
    unsigned depth = 0;
    for (const char *s = out; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || s[0] == '.' || ++depth > WWW_MAX_DEPTH)
            return false;
        s += n + (e ? 1 : 0);
    }
    return true;
}

/* Opens rel under the root, refusing symlinks at every level; returns a
 * descriptor on a regular file, or -1. */
static int open_beneath(const char *rel)
{
    char buf[WWW_MAX_PATH];
    snprintf(buf, sizeof(buf), "%s", rel);
    int dir = root_fd;
    char *s = buf;
    for (;;) {
        char *slash = strchr(s, '/');
        if (slash)
            *slash = '\0';
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
                    (slash ? O_DIRECTORY : 0);
        int fd = openat(dir, s, flags);
        if (dir != root_fd)
            close(dir);
        if (fd < 0 || !slash)
            return fd;
        dir = fd;
        s = slash + 1;
    }
}

/* ===== the cache ====================================================== */

static struct entry *find(const char *rel)
{
    for (struct entry *e = entries; e; e = e->next)
        if (strcmp(e->path, rel) == 0)
            return e;
    return NULL;
}

static bool same_file(const struct entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void entry_free(struct entry *e)
{
    free(e->path);
    free(e->data);
    free(e->gz);
    free(e);
}

static void drop(struct entry *e)
{
    for (struct entry **pp = &entries; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    cached_bytes -= (size_t)e->size + e->gz_len;
    entry_free(e);
}

/* Reads the whole file (size known from fstat; a file that changes size
 * while being read is refused rather than served torn). */
static char *read_all(int fd, off_t size)
{
    char *buf = malloc(size ? (size_t)size : 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    return buf;
}

/* ===== gzip, off the network threads ================================== */

static bool gzip(const char *in, size_t n, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    size_t cap = deflateBound(&z, (uLong)n);
    char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}

static struct entry *next_to_compress(void)
{
    for (struct entry *e = entries; e; e = e->next)
        if (e->compressible && !e->gz_tried)
            return e;
    return NULL;
}

/* Compresses a copy outside the lock; the result is attached only if the
 * entry is still the same file (it may have been replaced meanwhile). */
static void *gz_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct entry *e = next_to_compress();
        if (!e) {
            pthread_cond_wait(&work_cv, &mu);
            continue;
        }
        e->gz_tried = true;
        size_t n = (size_t)e->size;
        char *copy = malloc(n ? n : 1);
        if (!copy)
            continue;
        memcpy(copy, e->data, n);
        char *path = strdup(e->path);
        struct timespec mt = e->mtime;
        pthread_mutex_unlock(&mu);
        char *gz = NULL;
        size_t gz_len = 0;
        bool ok = path && gzip(copy, n, &gz, &gz_len) && gz_len < n;
        free(copy);
        pthread_mutex_lock(&mu);
        struct entry *now = path ? find(path) : NULL;
        if (ok && now && now->size == (off_t)n && now->mtime.tv_sec == mt.tv_sec &&
            now->mtime.tv_nsec == mt.tv_nsec && !now->gz &&
            cached_bytes + gz_len <= XG_WWW_CACHE_BYTES) {
            now->gz = gz;
            now->gz_len = gz_len;
            cached_bytes += gz_len;
            gz = NULL;
        }
        free(gz);
        free(path);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* ===== HTTP details =================================================== */

static void http_date(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool parse_http_date(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return false;
    *out = timegm(&tm);
    return true;
}

static bool accepts_gzip(const char *ae)
{
    if (!ae)
        return false;
    for (const char *p = ae; (p = strcasestr(p, "gzip")) != NULL; p += 4) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q == ';') {             /* "gzip;q=0" refuses it */
            const char *qv = strstr(q, "q=");
            const char *comma = strchr(q, ',');
            if (qv && (!comma || qv < comma) && strtod(qv + 2, NULL) == 0.0)
                return false;
        }
        return true;
    }
    return false;
}

/* If-None-Match: "*" or a list of tags; weak comparison ignores W/ and the
 * "-gz" representation suffix, as both variants are the same file. */
static bool etag_matches(const char *inm, const char *etag)
{
    if (strcmp(inm, "*") == 0)
        return true;
    size_t base_len = strlen(etag) - 1;       /* without the closing quote */
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n >= base_len && memcmp(p, etag, base_len) == 0 &&
            ((n == base_len + 1 && p[base_len] == '"') ||
             (n == base_len + 4 && memcmp(p + base_len, "-gz\"", 4) == 0)))
            return true;
        p += n;
        if (e)
            p = e + 1;
        else
            break;
    }
    return false;
}

static void not_found(struct xg_http_response *rs)
{
    rs->status = 404;
    rs->content_type = "text/plain";
    xg_out_puts(&rs->body, "Not Found\n");
}

void xg_www_serve(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    char rel[WWW_MAX_PATH];
    if (root_fd < 0 || !relative_path(rq->path, rel, sizeof(rel))) {
        not_found(rs);
        return;
    }
    int fd = open_beneath(rel);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(rs);
        return;
    }
    if (st.st_size > XG_WWW_MAX_FILE_BYTES) {
        close(fd);
        XG_WARN("www", "%s: %lld bytes, over the %d limit", rel, (long long)st.st_size,
                XG_WWW_MAX_FILE_BYTES);
        rs->status = 403;
        return;
    }
    bool compressible;
    rs->content_type = content_type(rel, &compressible);

    pthread_mutex_lock(&mu);
    struct entry *e = find(rel);
    if (e && !same_file(e, &st)) {
        drop(e);
        e = NULL;
    }
    if (!e && cached_bytes + (size_t)st.st_size <= XG_WWW_CACHE_BYTES) {
        /* read under the lock: one small local file, and it spares two
         * threads reading the same one */
        char *data = read_all(fd, st.st_size);
        e = data ? calloc(1, sizeof(*e)) : NULL;
        if (e) {
            e->path = strdup(rel);
            if (!e->path) {
                free(e);
                e = NULL;
            }
        }
        if (e) {
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            e->size = st.st_size;
            e->mtime = st.st_mtim;
            e->data = data;
            e->compressible = compressible && st.st_size >= 256;
            e->gz_tried = !e->compressible;
            e->next = entries;
            entries = e;
            cached_bytes += (size_t)st.st_size;
            if (e->compressible)
                pthread_cond_signal(&work_cv);
        } else {
            free(data);
        }
    }

    char etag[96], lm[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx%09ld\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
    http_date(st.st_mtim.tv_sec, lm, sizeof(lm));
    bool not_modified = false;
    time_t since;
    if (rq->if_none_match)
        not_modified = etag_matches(rq->if_none_match, etag);
    else if (rq->if_modified_since && parse_http_date(rq->if_modified_since, &since))
        not_modified = st.st_mtim.tv_sec <= since;
    bool use_gz = e && e->gz && accepts_gzip(rq->accept_encoding);
    if (use_gz) {                    /* a distinct tag per representation */
        size_t n = strlen(etag);
        snprintf(etag + n - 1, sizeof(etag) - n + 1, "-gz\"");
    }
    /* the index names the hashed assets: always revalidate it */
    bool is_html = strncmp(rs->content_type, "text/html", 9) == 0;
    rs->cache_control = is_html ? "no-cache" : "public, max-age=86400";
    snprintf(rs->extra_headers, sizeof(rs->extra_headers),
             "etag: %s\r\nlast-modified: %s\r\nx-content-type-options: nosniff\r\n%s%s",
             etag, lm, compressible ? "vary: Accept-Encoding\r\n" : "",
             use_gz && !not_modified ? "content-encoding: gzip\r\n" : "");
    if (not_modified) {
        rs->status = 304;
    } else if (e) {
        rs->status = 200;
        if (use_gz)
            xg_out_append(&rs->body, e->gz, e->gz_len);
        else
            xg_out_append(&rs->body, e->data, (size_t)e->size);
    } else {
        /* over the cache budget: read it straight into the response */
        pthread_mutex_unlock(&mu);
        char *data = read_all(fd, st.st_size);
        close(fd);
        if (!data) {
            not_found(rs);
            return;
        }
        rs->status = 200;
        xg_out_append(&rs->body, data, (size_t)st.st_size);
        free(data);
        return;
    }
    pthread_mutex_unlock(&mu);
    close(fd);
}

bool xg_www_open(const char *root, xg_err *err)
{
    (void)err;
    if (!root || !*root || strcmp(root, "off") == 0)
        return true;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        XG_INFO("www", "no web root at %s (%s): only the API is served", root, strerror(errno));
        return true;
    }
    root_fd = fd;
    stopping = false;
    if (pthread_create(&gz_thread, NULL, gz_main, NULL) != 0) {
        close(fd);
        root_fd = -1;
        return xg_err_internal(err, "cannot start the web root's compression thread");
    }
    gz_thread_started = true;
    XG_INFO("www", "serving %s at /", root);
    return true;
}

void xg_www_close(void)
{
    if (gz_thread_started) {
        pthread_mutex_lock(&mu);
        stopping = true;
        pthread_cond_signal(&work_cv);
        pthread_mutex_unlock(&mu);
        pthread_join(gz_thread, NULL);
        gz_thread_started = false;
    }
    pthread_mutex_lock(&mu);
    while (entries)
        drop(entries);
    pthread_mutex_unlock(&mu);
    if (root_fd >= 0)
        close(root_fd);
    root_fd = -1;
}
