/* fuzz_www.c: libFuzzer target for the web root (server/www.c), the one
 * file route any unauthenticated client reaches: the request path
 * (percent-decoding, the component rules, the descriptor walk), If-None-
 * Match, If-Modified-Since and Accept-Encoding. The input is those four
 * fields separated by '\n' (a missing or empty one is an absent header). The
 * root is a fixture made once: five servable files, a dot-file, a symlink to a
 * file outside the root, a symlink to the parent directory, a FIFO, an
 * empty directory.
 * Properties: a 200 serves exactly the file the path names once decoded
 * (a plain one of the five, gzip when so announced, never the secret
 * outside, a dot-file or the FIFO), a 304 answers a conditional request
 * for one of them, anything else is a 404; the plain path of each file is
 * served, and an If-None-Match of the tag it was served with is a 304. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "out.h"
#include "www.h"

static const struct {
    const char *name, *body;
} files[] = {
    {"index.html", NULL},                  /* compressible: filled in below */
    {"app.js", "console.log('app');\n"},
    {"assets/style.css", "body { color: red }\n"},
    {"assets/index.html", "<p>assets</p>\n"},
    {"LICENSE", "MIT\n"},
};
#define NFILES (sizeof files / sizeof files[0])
static char index_html[2048];
static char dir[64];

static const char *body_of(size_t i)
{
    return i == 0 ? index_html : files[i].body;
}

static void put(const char *rel, const char *body)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    if (!f || fputs(body, f) < 0 || fclose(f) != 0)
        abort();
}

static void remove_fixture(void)
{
    xg_www_close();
    static const char *const rm[] = {
        "root/index.html", "root/app.js", "root/assets/style.css", "root/assets/index.html",
        "root/LICENSE",
        "root/.hidden", "root/assets/.env", "root/link.js", "root/up", "root/fifo.js",
        "root/sub", "root/assets", "root", "secret.txt", ""};
    char p[256];
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, rm[i]);
        (void)remove(p);
    }
}

static void make_fixture(void)
{
    snprintf(dir, sizeof dir, "/tmp/fuzz_www.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    size_t n = 0;
    n += (size_t)snprintf(index_html, sizeof index_html, "<!doctype html><title>index</title>\n");
    while (n + 40 < sizeof index_html)
        n += (size_t)snprintf(index_html + n, sizeof index_html - n,
                              "<p>line %zu of the index</p>\n", n);
    char p[256];
    static const char *const dirs[] = {"root", "root/assets", "root/sub"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, dirs[i]);
        if (mkdir(p, 0755) != 0)
            abort();
    }
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "root/%s", files[i].name);
        put(p, body_of(i));
    }
    put("root/.hidden", "HIDDEN\n");
    put("root/assets/.env", "HIDDEN\n");
    put("secret.txt", "SECRET\n");
    snprintf(p, sizeof p, "%s/root/link.js", dir);
    if (symlink("../secret.txt", p) != 0)
        abort();
    snprintf(p, sizeof p, "%s/root/up", dir);
    if (symlink("..", p) != 0)
        abort();
    snprintf(p, sizeof p, "%s/root/fifo.js", dir);
    if (mkfifo(p, 0644) != 0)
        abort();
    snprintf(p, sizeof p, "%s/root", dir);
    xg_err err = XG_ERR_INIT;
    if (!xg_www_open(p, &err) || !xg_www_enabled())
        abort();
    atexit(remove_fixture);
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The file a path names once percent-decoded (a trailing '/' naming the
 * index), or -1: the reference the answer is held to. */
static int named_file(const char *path)
{
    char rel[1100];
    size_t k = 0;
    if (path[0] != '/')
        return -1;
    for (const char *s = path + 1; *s && k + 1 < sizeof rel; s++) {
        if (*s == '%') {
            if (hex(s[1]) < 0 || hex(s[2]) < 0)
                return -1;
            rel[k++] = (char)(hex(s[1]) * 16 + hex(s[2]));
            s += 2;
        } else {
            rel[k++] = *s;
        }
    }
    rel[k] = 0;
    if (k == 0 || rel[k - 1] == '/')
        snprintf(rel + k, sizeof rel - k, "index.html");
    for (size_t i = 0; i < NFILES; i++)
        if (strcmp(rel, files[i].name) == 0)
            return (int)i;
    return -1;
}

static bool gunzip_equals(const char *gz, size_t n, const char *want)
{
    static unsigned char out[4096];
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        abort();
    z.next_in = (unsigned char *)gz;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = sizeof out;
    int rc = inflate(&z, Z_FINISH);
    size_t len = sizeof out - z.avail_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && len == strlen(want) && memcmp(out, want, len) == 0;
}

/* The etag header of an answer, quotes included ("" if none). */
static void etag_of(const struct xg_http_response *rs, char *out, size_t cap)
{
    const char *e = strstr(rs->extra_headers, "etag: ");
    const char *end = e ? strstr(e, "\r\n") : NULL;
    size_t n = end ? (size_t)(end - e - 6) : 0;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), e ? e + 6 : "");
}

static int serve(const char *path, const char *inm, const char *ims, const char *ae,
                 struct xg_http_response *rs)
{
    struct xg_http_request rq = {
        .method = "GET", .path = path, .query = "", .client_addr = "127.0.0.1",
        .content_length = -1, .user = "", .accept_encoding = ae, .if_none_match = inm,
        .if_modified_since = ims,
    };
    memset(rs, 0, sizeof *rs);
    xg_out_init(&rs->body);
    xg_www_serve(&rq, rs);
    return rs->status;
}

static void check(const char *path, const char *inm, const char *ims, const char *ae)
{
    struct xg_http_response rs;
    int st = serve(path, inm, ims, ae, &rs);
    int f = named_file(path);
    size_t len = 0;
    char *body = xg_out_strdup(&rs.body, &len);
    xg_out_reset(&rs.body);
    bool gz = strstr(rs.extra_headers, "content-encoding: gzip") != NULL;
    if (st == 200) {
        if (f < 0 || (gz ? !gunzip_equals(body, len, body_of((size_t)f))
                         : len != strlen(body_of((size_t)f)) ||
                           memcmp(body, body_of((size_t)f), len) != 0)) {
            fprintf(stderr, "%s served %zu bytes that are not file %d\n", path, len, f);
            abort();
        }
    } else if (st == 304) {
        if (f < 0 || (!inm && !ims))
            abort();
    } else if (st != 404) {
        abort();
    }
    free(body);
}

/* Each file by its plain path, then conditionally with the tag it was
 * served with: the property is not vacuous. */
static void check_plain_paths(void)
{
    for (size_t i = 0; i < NFILES; i++) {
        char path[128], tag[128];
        snprintf(path, sizeof path, "/%s", files[i].name);
        struct xg_http_response rs;
        if (serve(path, NULL, NULL, NULL, &rs) != 200)
            abort();
        etag_of(&rs, tag, sizeof tag);
        xg_out_reset(&rs.body);
        if (!tag[0] || serve(path, tag, NULL, "gzip", &rs) != 304)
            abort();
        xg_out_reset(&rs.body);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool made;
    if (!made) {
        make_fixture();
        check_plain_paths();
        made = true;
    }
    if (size > 4096)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    char *field[4] = {in, NULL, NULL, NULL};
    for (int i = 1; i < 4 && field[i - 1]; i++) {
        char *nl = strchr(field[i - 1], '\n');
        if (nl) {
            *nl = 0;
            field[i] = nl + 1;
        }
    }
    for (int i = 1; i < 4; i++)
        if (field[i] && !*field[i])
            field[i] = NULL;
    check(field[0], field[1], field[2], field[3]);
    free(in);
    return 0;
}
