/* sock_io.c: see sock_io.h. */
#include "sock_io.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/err.h>

enum xg_io xg_sock_read(int fd, SSL *ssl, char *buf, size_t n, size_t *got)
{
    if (ssl) {
        ERR_clear_error();
        int r = SSL_read(ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (r > 0) {
            *got = (size_t)r;
            return XG_IO_OK;
        }
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return XG_IO_AGAIN;
        return XG_IO_EOF;
    }
    ssize_t r = recv(fd, buf, n, 0);
    if (r > 0) {
        *got = (size_t)r;
        return XG_IO_OK;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return XG_IO_AGAIN;
    return XG_IO_EOF;
}

enum xg_io xg_sock_write(int fd, SSL *ssl, const char *buf, size_t n, size_t *put)
{
    if (ssl) {
        ERR_clear_error();
        int r = SSL_write(ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (r > 0) {
            *put = (size_t)r;
            return XG_IO_OK;
        }
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return XG_IO_AGAIN;
        return XG_IO_EOF;
    }
    ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
        *put = (size_t)r;
        return XG_IO_OK;
    }
    if (errno == EAGAIN || errno == EINTR)
        return XG_IO_AGAIN;
    return XG_IO_EOF;
}

enum xg_io xg_sock_flush(int fd, SSL *ssl, xg_out *o, bool *progress)
{
    struct xg_chunk *ch;
    while ((ch = o->head)) {
        if (ch->sent == ch->len) {
            if (!ch->next) {
                xg_out_reset(o);
                break;
            }
            xg_out_drop_sent(o);
            continue;
        }
        size_t put = 0;
        enum xg_io r = xg_sock_write(fd, ssl, ch->data + ch->sent, ch->len - ch->sent, &put);
        if (r != XG_IO_OK)
            return r;
        ch->sent += (uint32_t)put;
        *progress = true;
    }
    return XG_IO_OK;
}
