/* tls.c: the one server SSL_CTX. Policy: TLS 1.2 and 1.3 only; for 1.2
 * ECDHE with AES-GCM or ChaCha20-Poly1305 (xapi's two RSA-GCM suites first),
 * server preference, no compression, no renegotiation, session tickets on
 * (resumption is 10x cheaper than a full handshake). Groups X25519 first:
 * P-384 (xapi's choice) costs 4x more per handshake, and is still offered. */
#include "transport.h"
#include "served_cert.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <string.h>

#define TLS12_CIPHERS \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:" \
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305"

static bool ssl_fail(xg_err *err, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char buf[200];
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return xg_err_internal(err, "%s %s: %s", what, path ? path : "", buf);
}

SSL_CTX *xg_tls_ctx_new(const char *cert, const char *key, xg_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_fail(err, "SSL_CTX_new", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                        SSL_OP_NO_RENEGOTIATION);
    /* partial writes + moving buffers: our send queue is a chunk chain;
     * release buffers: idle connections keep no 34 KiB record buffers */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* read ahead: one read(2) per request instead of header + record +
     * EAGAIN (profiled: ~3-4 % CPU per trivial call). Safe with our
     * edge-triggered loop: conn_run reads until SSL says WANT_READ. */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        ssl_fail(err, "TLS policy", NULL);
        goto bad;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"xapi-gateway", 12);
    SSL_CTX_set_num_tickets(ctx, 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_fail(err, "cannot load certificate", cert);
        goto bad;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_fail(err, "cannot load key", key);
        goto bad;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_fail(err, "key does not match certificate", cert);
        goto bad;
    }
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

/* The context new connections get. SIGHUP swaps it (xg_io_set_tls) while
 * I/O threads accept: a mutex guards the pointer, and each SSL holds its own
 * reference, so the old context is freed when its last connection closes. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current;

void xg_io_set_tls(SSL_CTX *ctx)
{
    pthread_mutex_lock(&current_lock);
    SSL_CTX *old = current;
    current = ctx;
    pthread_mutex_unlock(&current_lock);
    if (old)
        SSL_CTX_free(old);
}

SSL *xg_tls_ssl_new(void)
{
    pthread_mutex_lock(&current_lock);
    SSL *ssl = current ? SSL_new(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return ssl;
}

size_t xg_tls_served_cert_pem(char *out, size_t cap)
{
    size_t n = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || cap == 0)
        goto done;
    pthread_mutex_lock(&current_lock);
    X509 *x = current ? SSL_CTX_get0_certificate(current) : NULL;
    bool ok = x && PEM_write_bio_X509(b, x) == 1;
    pthread_mutex_unlock(&current_lock);
    char *p;
    long len = ok ? BIO_get_mem_data(b, &p) : 0;
    if (len > 0 && (size_t)len < cap) {
        memcpy(out, p, (size_t)len);
        out[len] = '\0';
        n = (size_t)len;
    }
done:
    BIO_free(b);
    return n;
}
