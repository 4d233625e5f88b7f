/* sock_io.h: one non-blocking read or write on a socket, through its TLS
 * session when it has one. Shared by the HTTP connections (conn.c) and the
 * streams they hand over (consoles), so both treat TLS the same way. */
#ifndef XG_SOCK_IO_H
#define XG_SOCK_IO_H

#include <stddef.h>

#include <stdbool.h>

#include <openssl/ssl.h>

#include "out.h"

enum xg_io { XG_IO_OK, XG_IO_AGAIN, XG_IO_EOF };

/* XG_IO_OK: *got > 0 bytes read. XG_IO_AGAIN: nothing now (TLS may want
 * the socket writable; watch both directions). XG_IO_EOF: closed or failed. */
enum xg_io xg_sock_read(int fd, SSL *ssl, char *buf, size_t n, size_t *got);
/* XG_IO_OK: *put bytes (maybe fewer than n) written. */
enum xg_io xg_sock_write(int fd, SSL *ssl, const char *buf, size_t n, size_t *put);
/* Writes what o holds, dropping sent chunks. XG_IO_OK: o is empty.
 * *progress is set when any byte went out. */
enum xg_io xg_sock_flush(int fd, SSL *ssl, xg_out *o, bool *progress);

#endif
