/* ws.c: WebSocket (RFC 6455) for the console streams: the handshake's
 * accept value, an incremental frame decoder (client frames must be masked;
 * payload is unmasked in place and handed on as it arrives, so a frame of
 * any length needs no buffer), ping/pong and close, and binary framing of
 * what the server sends (unmasked, 7/16/64-bit lengths). */
#include "cons_internal.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

bool cons_ws_accept(const char *key, char out[29])
{
    /* the key is 16 random bytes in base64: 24 characters */
    size_t n = strlen(key);
    while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t'))
        n--;
    while (n > 0 && (*key == ' ' || *key == '\t')) {
        key++;
        n--;
    }
    unsigned char raw[18];
    if (n != 24 || EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
        return false;
    char buf[24 + sizeof WS_GUID];
    memcpy(buf, key, 24);
    memcpy(buf + 24, WS_GUID, sizeof WS_GUID - 1);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, 24 + sizeof WS_GUID - 1, sha);
    EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
    return true;
}

void cons_ws_init(struct cons_ws *w)
{
    memset(w, 0, sizeof *w);
    w->need = 2;
}

static void frame_header(xg_out *dst, int opcode, size_t len)
{
    uint8_t h[10];
    size_t n;
    h[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[1] = (uint8_t)len;
        n = 2;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    xg_out_append(dst, h, n);
}

void cons_ws_frame(xg_out *dst, xg_out *src)
{
    if (src->total == 0)
        return;
    frame_header(dst, OP_BINARY, src->total);
    xg_out_move(dst, src);
}

void cons_ws_close_frame(xg_out *dst)
{
    static const uint8_t normal[2] = { 0x03, 0xe8 };   /* 1000 */
    frame_header(dst, OP_CLOSE, 2);
    xg_out_append(dst, normal, 2);
}

/* The header is complete: sizes and mask. false: protocol violation. */
static bool header_done(struct cons_ws *w)
{
    const uint8_t *h = w->hdr;
    w->fin = (h[0] & 0x80) != 0;
    w->opcode = h[0] & 0x0f;
    if (h[0] & 0x70)
        return false;                /* no extension was negotiated */
    if (!(h[1] & 0x80))
        return false;                /* client frames must be masked */
    uint64_t len = h[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        at = 10;
        if (len >> 63)
            return false;
    }
    memcpy(w->mask, h + at, 4);
    bool control = w->opcode & 0x8;
    if (control && (len > 125 || !w->fin))
        return false;
    if (w->opcode != OP_CONT && w->opcode != OP_TEXT && w->opcode != OP_BINARY &&
        w->opcode != OP_CLOSE && w->opcode != OP_PING && w->opcode != OP_PONG)
        return false;
    w->left = len;
    w->pos = 0;
    w->ctl_len = 0;
    return true;
}

static size_t header_need(const uint8_t *h, size_t have)
{
    if (have < 2)
        return 2;
    size_t len7 = h[1] & 0x7f;
    return (len7 == 126 ? 4 : len7 == 127 ? 10 : 2) + 4;
}

static void control_done(struct cons_ws *w, xg_out *o)
{
    if (w->opcode == OP_PING) {
        frame_header(o, OP_PONG, w->ctl_len);
        xg_out_append(o, w->ctl, w->ctl_len);
    } else if (w->opcode == OP_CLOSE && !w->closed) {
        w->closed = true;
        cons_ws_close_frame(o);
    }
}

bool cons_ws_input(struct cons_ws *w, uint8_t *p, size_t n, xg_out *o,
                   bool (*deliver)(void *arg, uint8_t *p, size_t n), void *arg)
{
    while (n > 0 && !w->closed) {
        if (w->need) {
            while (n > 0 && w->hlen < w->need) {
                w->hdr[w->hlen++] = *p++;
                n--;
                if (w->hlen == 2 && !(w->hdr[1] & 0x80))
                    return false;    /* client frames must be masked */
                w->need = header_need(w->hdr, w->hlen);
            }
            if (w->hlen < w->need)
                return true;
            w->need = 0;
            w->hlen = 0;
            if (!header_done(w))
                return false;
            if (w->left == 0) {      /* empty frame: done already */
                if (w->opcode & 0x8)
                    control_done(w, o);
                w->need = 2;
                continue;
            }
        }
        size_t k = w->left < n ? (size_t)w->left : n;
        for (size_t i = 0; i < k; i++)
            p[i] ^= w->mask[(w->pos + i) & 3];
        w->pos += k;
        w->left -= k;
        if (w->opcode & 0x8) {
            memcpy(w->ctl + w->ctl_len, p, k);
            w->ctl_len += k;
        } else if (k > 0 && !deliver(arg, p, k)) {
            return false;
        }
        p += k;
        n -= k;
        if (w->left == 0) {
            if (w->opcode & 0x8)
                control_done(w, o);
            w->need = 2;
        }
    }
    return true;
}
