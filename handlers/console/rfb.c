/* rfb.c: the server side of RFB 3.8 (RFC 6143) over a text screen: version
 * and security handshake (None: the /console request was authenticated
 * already, as XAPI's is), ServerInit, then client messages. Updates use the
 * Raw encoding, which every client supports (noVNC included), one
 * rectangle per changed row span; an update is made only when the client
 * has asked for one, and its rectangles are rendered one at a time as the
 * viewer's queue drains (service.c calls cons_rfb_pump), so a viewer costs
 * one row rectangle of memory however far behind it is. Versions 3.3 and
 * 3.7 are served too. A viewer that asks for a colour map is refused. */
#include "cons_internal.h"

#include <string.h>

#include <vterm.h>

#include "font.h"

enum { RFB_VERSION, RFB_SECURITY, RFB_CLIENT_INIT, RFB_NORMAL };

#define DESKTOP_NAME "xapi-gateway console"

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned fb_width(void)
{
    return CONS_COLS * XG_FONT_WIDTH;
}

static unsigned fb_height(void)
{
    return CONS_ROWS * cons_cell_height();
}

static void mark_all(struct cons_rfb *r)
{
    for (int i = 0; i < CONS_ROWS; i++) {
        r->dlo[i] = 0;
        r->dhi[i] = CONS_COLS;
    }
}

void cons_rfb_init(struct cons_rfb *r, xg_out *o)
{
    memset(r, 0, sizeof *r);
    r->st = RFB_VERSION;
    /* 32 bpp true colour, little endian: what noVNC asks for anyway */
    r->pf = (struct cons_pixfmt){ .bpp = 32, .depth = 24, .true_colour = 1,
                                  .rmax = 255, .gmax = 255, .bmax = 255,
                                  .rshift = 16, .gshift = 8, .bshift = 0 };
    mark_all(r);
    xg_out_append(o, "RFB 003.008\n", 12);
}

bool cons_rfb_ready(const struct cons_rfb *r)
{
    return r->st == RFB_NORMAL;
}

void cons_rfb_damage(struct cons_rfb *r, int row, int c0, int c1)
{
    if (row < 0 || row >= CONS_ROWS || c0 >= c1)
        return;
    if (c0 < 0)
        c0 = 0;
    if (c1 > CONS_COLS)
        c1 = CONS_COLS;
    if (r->dlo[row] >= r->dhi[row]) {
        r->dlo[row] = (uint8_t)c0;
        r->dhi[row] = (uint8_t)c1;
        return;
    }
    if (c0 < r->dlo[row])
        r->dlo[row] = (uint8_t)c0;
    if (c1 > r->dhi[row])
        r->dhi[row] = (uint8_t)c1;
}

static void pixfmt_put(uint8_t *p, const struct cons_pixfmt *pf)
{
    memset(p, 0, 16);
    p[0] = pf->bpp;
    p[1] = pf->depth;
    p[2] = pf->big_endian;
    p[3] = pf->true_colour;
    put16(p + 4, pf->rmax);
    put16(p + 6, pf->gmax);
    put16(p + 8, pf->bmax);
    p[10] = pf->rshift;
    p[11] = pf->gshift;
    p[12] = pf->bshift;
}

static bool pixfmt_get(const uint8_t *p, struct cons_pixfmt *pf)
{
    pf->bpp = p[0];
    pf->depth = p[1];
    pf->big_endian = p[2] != 0;
    pf->true_colour = p[3] != 0;
    pf->rmax = (uint16_t)get16(p + 4);
    pf->gmax = (uint16_t)get16(p + 6);
    pf->bmax = (uint16_t)get16(p + 8);
    pf->rshift = p[10];
    pf->gshift = p[11];
    pf->bshift = p[12];
    if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
        return false;
    if (!pf->true_colour)
        return false;                /* colour maps: not served */
    return pf->rshift < pf->bpp && pf->gshift < pf->bpp && pf->bshift < pf->bpp;
}

static void server_init(xg_out *o)
{
    uint8_t m[24];
    struct cons_pixfmt pf = { .bpp = 32, .depth = 24, .true_colour = 1, .rmax = 255,
                              .gmax = 255, .bmax = 255, .rshift = 16, .gshift = 8 };
    put16(m, fb_width());
    put16(m + 2, fb_height());
    pixfmt_put(m + 4, &pf);
    put32(m + 20, (uint32_t)strlen(DESKTOP_NAME));
    xg_out_append(o, m, sizeof m);
    xg_out_puts(o, DESKTOP_NAME);
}

/* Bytes a client message of this type needs before it can be handled
 * (0: unknown type). ClientCutText's text is skipped, not buffered. */
static size_t msg_size(const uint8_t *m)
{
    switch (m[0]) {
    case 0: return 20;                           /* SetPixelFormat */
    case 2: return 4;                            /* SetEncodings header; the list is skipped */
    case 3: return 10;                           /* FramebufferUpdateRequest */
    case 4: return 8;                            /* KeyEvent */
    case 5: return 6;                            /* PointerEvent */
    case 6: return 8;                            /* ClientCutText header */
    default: return 0;
    }
}

static int modifier_bit(uint32_t ks)
{
    switch (ks) {
    case 0xffe1: case 0xffe2: return VTERM_MOD_SHIFT;
    case 0xffe3: case 0xffe4: return VTERM_MOD_CTRL;
    case 0xffe7: case 0xffe8: case 0xffe9: case 0xffea: return VTERM_MOD_ALT;
    default: return 0;
    }
}

static void on_key(struct cons_rfb *r, struct cons_term *t, const uint8_t *m)
{
    bool down = m[1] != 0;
    uint32_t ks = get32(m + 4);
    int bit = modifier_bit(ks);
    if (bit) {
        r->mods = down ? (r->mods | bit) : (r->mods & ~bit);
        return;
    }
    if (down)
        cons_term_key(t, ks, r->mods);
}

static void on_update_request(struct cons_rfb *r, const uint8_t *m)
{
    bool incremental = m[1] != 0;
    r->want = true;
    if (incremental)
        return;
    /* the client lost track of that area: all of it is sent again */
    unsigned h = cons_cell_height();
    unsigned x = get16(m + 2), y = get16(m + 4), w = get16(m + 6), hh = get16(m + 8);
    if (x >= fb_width() || y >= fb_height() || w == 0 || hh == 0)
        return;
    int c0 = (int)(x / XG_FONT_WIDTH), c1 = (int)((x + w + XG_FONT_WIDTH - 1) / XG_FONT_WIDTH);
    int r0 = (int)(y / h), r1 = (int)((y + hh + h - 1) / h);
    for (int row = r0; row < r1 && row < CONS_ROWS; row++)
        cons_rfb_damage(r, row, c0, c1);
}

/* One complete client message in r->msg. */
static bool on_message(struct cons_rfb *r, struct cons_term *t, xg_out *o)
{
    const uint8_t *m = r->msg;
    switch (m[0]) {
    case 0: {
        struct cons_pixfmt pf;
        if (!pixfmt_get(m + 4, &pf))
            return false;
        r->pf_next = pf;
        r->pf_pending = true;        /* applies from the next update on */
        mark_all(r);
        return true;
    }
    case 3:
        on_update_request(r, m);
        return true;
    case 4:
        on_key(r, t, m);
        return true;
    case 6: {
        uint32_t len = get32(m + 4);
        /* extended clipboard (negative length) or text: ignored either way */
        r->skip = (len & 0x80000000u) ? (uint32_t)-(int32_t)len : len;
        return true;
    }
    default:
        return true;                 /* SetEncodings: Raw is always allowed; pointer: no mouse */
    }
}

static bool handshake(struct cons_rfb *r, xg_out *o)
{
    const uint8_t *m = r->msg;
    switch (r->st) {
    case RFB_VERSION: {
        if (memcmp(m, "RFB 003.", 8) != 0 || m[11] != '\n')
            return false;
        int minor = (m[8] - '0') * 100 + (m[9] - '0') * 10 + (m[10] - '0');
        if (minor < 3)
            return false;
        r->minor = minor >= 8 ? 8 : minor >= 7 ? 7 : 3;
        if (r->minor == 3) {
            uint8_t sec[4];
            put32(sec, 1);           /* None, chosen by the server */
            xg_out_append(o, sec, 4);
            r->st = RFB_CLIENT_INIT;
        } else {
            uint8_t sec[2] = { 1, 1 };   /* one type: None */
            xg_out_append(o, sec, 2);
            r->st = RFB_SECURITY;
        }
        return true;
    }
    case RFB_SECURITY:
        if (m[0] != 1) {
            if (r->minor == 8) {
                static const char why[] = "only security type None is offered";
                uint8_t res[8];
                put32(res, 1);
                put32(res + 4, sizeof why - 1);
                xg_out_append(o, res, 8);
                xg_out_append(o, why, sizeof why - 1);
            }
            return false;
        }
        if (r->minor == 8) {
            uint8_t ok[4] = { 0, 0, 0, 0 };
            xg_out_append(o, ok, 4);
        }
        r->st = RFB_CLIENT_INIT;
        return true;
    case RFB_CLIENT_INIT:                /* shared flag: every viewer shares */
        server_init(o);
        r->st = RFB_NORMAL;
        return true;
    default:
        return false;
    }
}

static size_t handshake_size(const struct cons_rfb *r)
{
    return r->st == RFB_VERSION ? 12 : 1;
}

bool cons_rfb_input(struct cons_rfb *r, struct cons_term *t, const uint8_t *p, size_t n,
                    xg_out *o)
{
    while (n > 0) {
        if (r->skip) {
            size_t k = n < r->skip ? n : r->skip;
            r->skip -= (uint32_t)k;
            p += k;
            n -= k;
            continue;
        }
        size_t need;
        if (r->st != RFB_NORMAL) {
            need = handshake_size(r);
        } else {
            if (r->mlen == 0) {
                r->msg[r->mlen++] = *p++;
                n--;
            }
            need = msg_size(r->msg);
            if (need == 0)
                return false;        /* unknown message: the stream cannot be framed */
        }
        size_t k = need - r->mlen;
        if (k > n)
            k = n;
        memcpy(r->msg + r->mlen, p, k);
        r->mlen += k;
        p += k;
        n -= k;
        if (r->mlen < need)
            continue;
        if (r->st == RFB_NORMAL && r->msg[0] == 2) {
            r->skip = 4u * get16(r->msg + 2);
            r->mlen = 0;
            continue;
        }
        bool ok = r->st != RFB_NORMAL ? handshake(r, o) : on_message(r, t, o);
        r->mlen = 0;
        if (!ok)
            return false;
    }
    return true;
}

void cons_rfb_pump(struct cons_rfb *r, const struct cons_term *t, xg_out *o)
{
    if (r->st != RFB_NORMAL)
        return;
    if (!r->sending) {
        if (!r->want)
            return;
        if (r->pf_pending) {
            r->pf = r->pf_next;
            r->pf_pending = false;
        }
        unsigned nrects = 0;
        for (int i = 0; i < CONS_ROWS; i++) {
            r->slo[i] = r->dlo[i];
            r->shi[i] = r->dhi[i];
            if (r->dlo[i] < r->dhi[i])
                nrects++;
            r->dlo[i] = r->dhi[i] = 0;
        }
        if (nrects == 0)
            return;                  /* nothing changed: answer when something does */
        uint8_t hdr[4] = { 0, 0 };
        put16(hdr + 2, nrects);
        xg_out_append(o, hdr, 4);
        r->want = false;
        r->sending = true;
        r->next_row = 0;
    }
    /* one rectangle per call: the caller comes back when the queue drains */
    while (r->next_row < CONS_ROWS && r->slo[r->next_row] >= r->shi[r->next_row])
        r->next_row++;
    if (r->next_row >= CONS_ROWS) {
        r->sending = false;
        return;
    }
    int row = r->next_row++;
    int c0 = r->slo[row], c1 = r->shi[row];
    unsigned h = cons_cell_height();
    uint8_t rect[12];
    put16(rect, (unsigned)c0 * XG_FONT_WIDTH);
    put16(rect + 2, (unsigned)row * h);
    put16(rect + 4, (unsigned)(c1 - c0) * XG_FONT_WIDTH);
    put16(rect + 6, h);
    put32(rect + 8, 0);              /* Raw */
    xg_out_append(o, rect, sizeof rect);
    cons_term_render(t, row, c0, c1, &r->pf, o);
    while (r->next_row < CONS_ROWS && r->slo[r->next_row] >= r->shi[r->next_row])
        r->next_row++;
    if (r->next_row >= CONS_ROWS)
        r->sending = false;
}
