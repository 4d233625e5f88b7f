/* tlsclose.c: full-handshake request rate. T threads, each for D seconds: new TCP connection,
 * new SSL (no session reuse, so every handshake is full), one POST with Connection: close, read
 * to EOF, close. Prints "conns=<n> secs=<d> rate=<n/d> p50_ms=<> p99_ms=<> errors=<e>".
 *   tlsclose HOST PORT THREADS SECONDS BODYFILE [PATH]
 * Build: cc -O2 -pthread -o tlsclose tlsclose.c -lssl -lcrypto */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *host, *path = "/";
static int port, secs;
static char *req;
static size_t reqlen;
static SSL_CTX *ctx;

#define MAXLAT 2000000
static double *lat;
static long nlat, nerr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &sa.sin_addr);
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    int ok = -1;
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, req, (int)reqlen) == (int)reqlen) {
        char buf[16384];
        int n, total = 0;
        while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
            total += n;
        ok = total > 12 && memcmp(buf, "HTTP/1.", 7) == 0 ? 0 : (total > 0 ? 0 : -1);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return ok;
}

static void *worker(void *arg)
{
    (void)arg;
    double end = now() + secs;
    while (now() < end) {
        double t0 = now();
        int r = one();
        double dt = now() - t0;
        pthread_mutex_lock(&mu);
        if (r == 0 && nlat < MAXLAT)
            lat[nlat++] = dt;
        else if (r != 0)
            nerr++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: tlsclose HOST PORT THREADS SECONDS BODYFILE [PATH]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int threads = atoi(argv[3]);
    secs = atoi(argv[4]);
    if (argc > 6)
        path = argv[6];
    FILE *f = fopen(argv[5], "rb");
    if (!f) {
        perror(argv[5]);
        return 2;
    }
    char body[65536];
    size_t blen = fread(body, 1, sizeof(body), f);
    fclose(f);
    req = malloc(blen + 512);
    reqlen = (size_t)sprintf(req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\n"
                             "Connection: close\r\nContent-Length: %zu\r\n\r\n", path, host, blen);
    memcpy(req + reqlen, body, blen);
    reqlen += blen;
    lat = malloc(sizeof(double) * MAXLAT);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    pthread_t t[256];
    if (threads > 256)
        threads = 256;
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now() - t0;
    qsort(lat, (size_t)nlat, sizeof(double), cmp);
    double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(long)(nlat * 0.99)] : 0;
    printf("conns=%ld secs=%.2f rate=%.1f p50_ms=%.3f p99_ms=%.3f errors=%ld\n",
           nlat, el, nlat / el, p50 * 1e3, p99 * 1e3, nerr);
    return 0;
}
