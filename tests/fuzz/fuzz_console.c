/* fuzz_console.c: libFuzzer target for the bytes of a console stream
 * (handlers/console/): a viewer's WebSocket frames (ws.c) or CONNECT
 * stream carrying RFB client messages (rfb.c), and the guest's own output
 * interpreted by the terminal (term.c), interleaved as the console thread
 * (service.c, replaced here by the two callbacks term.c needs) sees them.
 *
 * The input: one flags byte, then records [tag][len][len bytes]:
 *   tag % 4 == 0  bytes from the viewer      1  bytes from the guest
 *             2  the viewer's queue drained: updates are pumped out
 *             3  the guest reads its keys; a payload, if any, is the
 *                viewer's Sec-WebSocket-Key
 * flags: bit 0 WebSocket (else CONNECT), bit 1 the harness frames each
 * viewer record itself as a masked client frame (else the record is raw
 * WebSocket bytes), bit 2 a vt100 console (bytes go to the guest as they
 * are), bits 3-7 the size of the reads the stream is cut into.
 * Properties: a payload framed as a client frames it (7/16/64-bit lengths,
 * any mask, any cut) is delivered exactly; every update the server pumps
 * out parses as a client parses it: a FramebufferUpdate header, then Raw
 * rectangles inside the framebuffer whose pixel bytes match the pixel
 * format in force, their count as announced; an accepted WebSocket key
 * gets a 28-character base64 accept value; vt_bound.c passes the same
 * bytes to libvterm whether the guest output comes whole or byte by byte
 * (but for REPs it cancels byte by byte after marks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../handlers/console/cons_internal.h"
#include "../../handlers/console/font.h"

struct cons_viewer {
    struct cons_rfb rfb;
};

static void viewer_damage(void *arg, int row, int c0, int c1)
{
    struct cons_viewer *v = arg;
    cons_rfb_damage(&v->rfb, row, c0, c1);
}

static struct {
    struct cons_viewer v;
    struct cons_term *term;
    struct cons_ws ws;
    xg_out out, stage;
    bool raw;                        /* vt100: no RFB */
    uint8_t got[70000];              /* what the WebSocket delivered */
    size_t got_len;
    unsigned rects_left;             /* of the update being pumped out */
    struct cons_vt_bound whole, split;   /* guest bytes bounded in one go, byte by byte */
} s;

/* vt_bound.c passes the same bytes however the guest's output is cut. */
static void check_bound_split(const uint8_t *p, size_t n)
{
    static char a[CONS_VT_BOUND_OUT(256)], b[CONS_VT_BOUND_OUT(256)];
    size_t na = cons_vt_bound(&s.whole, (const char *)p, n, a), nb = 0;
    for (size_t i = 0; i < n; i++)
        nb += cons_vt_bound(&s.split, (const char *)p + i, 1, b + nb);
    if (na != nb)
        __builtin_trap();
    /* except REP: a mark in a write of its own may miss its glyph, so
     * byte by byte a REP after marks is cancelled (CAN) where it passes whole */
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i] && !(a[i] == 'b' && b[i] == 0x18))
            __builtin_trap();
}

static bool deliver(void *arg, uint8_t *p, size_t n)
{
    (void)arg;
    if (s.got_len + n <= sizeof s.got)
        memcpy(s.got + s.got_len, p, n);
    s.got_len += n;
    if (s.raw) {
        cons_term_send(s.term, (const char *)p, n);
        return true;
    }
    return cons_rfb_input(&s.v.rfb, s.term, p, n, &s.stage);
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* What one cons_rfb_pump call appended, read as a viewer reads it. */
static void check_update(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    if (n == 0)
        return;
    if (s.rects_left == 0) {
        if (n < 4 || p[0] != 0)
            __builtin_trap();
        s.rects_left = get16(p + 2);
        if (s.rects_left == 0 || s.rects_left > CONS_ROWS)
            __builtin_trap();
        pos = 4;
    }
    unsigned fw = CONS_COLS * XG_FONT_WIDTH, fh = CONS_ROWS * cons_cell_height();
    while (pos < n) {
        if (n - pos < 12 || s.rects_left == 0)
            __builtin_trap();
        const uint8_t *r = p + pos;
        unsigned x = get16(r), y = get16(r + 2), w = get16(r + 4), h = get16(r + 6);
        if (memcmp(r + 8, "\0\0\0\0", 4) != 0 || w == 0 || h == 0 || x + w > fw ||
            y + h > fh)
            __builtin_trap();
        size_t bytes = (size_t)w * h * (s.v.rfb.pf.bpp / 8);
        if (n - pos - 12 < bytes)
            __builtin_trap();
        pos += 12 + bytes;
        s.rects_left--;
    }
    if (s.v.rfb.sending != (s.rects_left > 0))
        __builtin_trap();
}

static void pump(void)
{
    for (int i = 0; i < 2 * CONS_ROWS + 2; i++) {
        xg_out_reset(&s.stage);
        cons_rfb_pump(&s.v.rfb, s.term, &s.stage);
        size_t n = 0;
        char *all = xg_out_strdup(&s.stage, &n);
        check_update((const uint8_t *)all, n);
        free(all);
        if (n == 0)
            break;
        cons_ws_frame(&s.out, &s.stage);
    }
    xg_out_reset(&s.stage);
    xg_out_reset(&s.out);
}

/* Cuts p into reads of `step` bytes, as the socket might deliver it. */
static bool feed(uint8_t *p, size_t n, bool ws, size_t step)
{
    for (size_t off = 0; off < n;) {
        size_t k = n - off < step ? n - off : step;
        bool ok = ws ? cons_ws_input(&s.ws, p + off, k, &s.out, deliver, NULL)
                     : deliver(NULL, p + off, k);
        xg_out_reset(&s.stage);
        xg_out_reset(&s.out);
        if (!ok)
            return false;
        off += k;
    }
    return true;
}

/* A client frame of payload (binary, masked with bytes taken from the
 * tag); the length form the tag picks (RFC 6455 allows any that fits). */
static size_t client_frame(uint8_t *f, uint8_t tag, const uint8_t *payload, size_t n)
{
    size_t at = 2;
    f[0] = 0x82;
    int form = n > 0xffff ? 2 : n > 125 ? ((tag >> 2) & 1) + 1 : (tag >> 2) % 3;
    if (form == 0) {
        f[1] = (uint8_t)(0x80 | n);
    } else if (form == 1) {
        f[1] = 0x80 | 126;
        f[2] = (uint8_t)(n >> 8);
        f[3] = (uint8_t)n;
        at = 4;
    } else {
        f[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            f[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        at = 10;
    }
    uint8_t mask[4] = {tag, (uint8_t)(tag * 7), (uint8_t)(tag ^ 0x5a), (uint8_t)~tag};
    memcpy(f + at, mask, 4);
    at += 4;
    for (size_t i = 0; i < n; i++)
        f[at + i] = payload[i] ^ mask[i & 3];
    return at + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    memset(&s.v, 0, sizeof s.v);
    s.term = cons_term_new(viewer_damage, &s.v);
    if (!s.term)
        abort();
    cons_ws_init(&s.ws);
    xg_out_init(&s.out);
    xg_out_init(&s.stage);
    s.rects_left = 0;
    cons_vt_bound_init(&s.whole);
    cons_vt_bound_init(&s.split);
    uint8_t flags = data[0];
    bool ws = flags & 1, framed = ws && (flags & 2);
    s.raw = flags & 4;
    size_t step = (size_t)(flags >> 3) * 7 + 1;
    if (!s.raw)
        cons_rfb_init(&s.v.rfb, &s.stage);
    xg_out_reset(&s.stage);

    static uint8_t buf[70000];
    bool open = true;
    for (size_t off = 1; off + 2 <= size && open;) {
        uint8_t tag = data[off];
        size_t len = data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        switch (tag & 3) {
        case 0:
            if (framed) {
                size_t n = client_frame(buf, tag, data + off, len);
                s.got_len = 0;
                open = feed(buf, n, true, step);
                /* the whole payload arrived, byte for byte, unless the
                 * RFB stream it carried was refused on the way */
                if (open && (s.got_len != len || memcmp(s.got, data + off, len) != 0))
                    __builtin_trap();
            } else {
                memcpy(buf, data + off, len);
                open = feed(buf, len, ws, step);
            }
            break;
        case 1:
            cons_term_feed(s.term, (const char *)data + off, len);
            check_bound_split(data + off, len);
            break;
        case 2:
            if (!s.raw)
                pump();
            break;
        default: {
            char keys[512], accept[29];
            while (cons_term_has_input(s.term))
                cons_term_take_input(s.term, keys, sizeof keys);
            if (len > 0) {
                char key[256];
                memcpy(key, data + off, len);
                key[len] = '\0';
                if (cons_ws_accept(key, accept) &&
                    (strlen(accept) != 28 || accept[27] != '='))
                    __builtin_trap();
            }
            break;
        }
        }
        off += len;
    }
    if (open && !s.raw)
        pump();
    xg_out_reset(&s.stage);
    xg_out_reset(&s.out);
    cons_term_free(s.term);
    return 0;
}
