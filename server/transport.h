/* transport.h: the transport's internal interfaces between main.c,
 * cert.c, tls.c and conn.c (private to server/). */
#ifndef XG_TRANSPORT_H
#define XG_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "xg_err.h"

/* cert.c: <state_dir>/xapi-gateway.pem and .key, made on first start
 * (self-signed RSA-2048, SAN = hostname + local addresses, 10 years) and
 * reused afterwards. Paths are written into cert/key (PATH_MAX buffers). */
bool xg_cert_ensure(const char *state_dir, char *cert, size_t cert_len,
                    char *key, size_t key_len, xg_err *err);

/* tls.c: the server context: TLS 1.2/1.3 only, ECDHE + AEAD suites,
 * server preference, no compression, no renegotiation, tickets on. */
SSL_CTX *xg_tls_ctx_new(const char *cert, const char *key, xg_err *err);
/* Makes ctx (its reference is taken over) the context of connections accepted
 * from now on; open connections keep theirs (certificate reload on SIGHUP). */
void xg_io_set_tls(SSL_CTX *ctx);
/* A new SSL of the current context (NULL if none or out of memory). */
SSL *xg_tls_ssl_new(void);

/* conn.c: listeners and I/O threads. */
/* local_path set: a Unix socket there instead of addr:port (plain HTTP;
 * a uid-0 peer is local root, trusted without a password, as by XAPI). */
struct xg_listener_cfg { const char *addr; unsigned port; bool tls; const char *local_path; };
bool xg_io_start(const struct xg_listener_cfg *ls, unsigned nls,
                 SSL_CTX *tls, unsigned nthreads, xg_err *err);
/* Stops accepting, closes every connection and joins the I/O threads. */
void xg_io_stop(void);

/* auth.c */
void xg_auth_shutdown(void);

#endif
