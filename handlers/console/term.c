/* term.c: a guest's text console as a screen: libvterm (Debian's libvterm,
 * the terminal emulator neovim uses) interprets the guest's bytes; its
 * damage is forwarded to the viewers; cells are rendered on demand with
 * the compiled-in PSF font, so no framebuffer is kept anywhere. */
#include "cons_internal.h"

#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "font.h"

#define TO_GUEST_MAX 4096            /* keys not yet taken by the guest */

struct cons_term {
    VTerm *vt;
    VTermScreen *vs;
    VTermPos cursor;
    bool cursor_visible;
    struct cons_vt_bound bound;      /* libvterm reads guest bytes through it */
    struct cons_viewer *viewers;     /* kept for service.c */
    cons_damage_fn damage;
    void *damage_arg;
    char to_guest[TO_GUEST_MAX];
    size_t to_guest_len;
};

unsigned cons_cell_height(void)
{
    return xg_font_height;
}

static void damage_all(struct cons_term *t, int r0, int r1, int c0, int c1)
{
    for (int r = r0; r < r1; r++)
        t->damage(t->damage_arg, r, c0, c1);
}

static int on_damage(VTermRect r, void *user)
{
    damage_all(user, r.start_row, r.end_row, r.start_col, r.end_col);
    return 1;
}

static int on_movecursor(VTermPos pos, VTermPos old, int visible, void *user)
{
    struct cons_term *t = user;
    damage_all(t, old.row, old.row + 1, old.col, old.col + 1);
    damage_all(t, pos.row, pos.row + 1, pos.col, pos.col + 1);
    t->cursor = pos;
    t->cursor_visible = visible;
    return 1;
}

static int on_termprop(VTermProp prop, VTermValue *val, void *user)
{
    struct cons_term *t = user;
    if (prop == VTERM_PROP_CURSORVISIBLE) {
        t->cursor_visible = val->boolean;
        damage_all(t, t->cursor.row, t->cursor.row + 1, t->cursor.col, t->cursor.col + 1);
    }
    return 1;
}

static const VTermScreenCallbacks screen_cbs = {
    .damage = on_damage,
    .movecursor = on_movecursor,
    .settermprop = on_termprop,
};

void cons_term_send(struct cons_term *t, const char *p, size_t n)
{
    size_t room = TO_GUEST_MAX - t->to_guest_len;
    if (n > room)
        n = room;                    /* a guest that reads nothing loses keys */
    memcpy(t->to_guest + t->to_guest_len, p, n);
    t->to_guest_len += n;
}

/* The terminal's answers (device status, keys) go to the guest. */
static void on_output(const char *s, size_t len, void *user)
{
    cons_term_send(user, s, len);
}

/* Guest bytes, bounded (vt_bound.c), into libvterm. */
static void write_bounded(struct cons_term *t, const char *buf, size_t n)
{
    enum { CHUNK = 1024 };
    char safe[CONS_VT_BOUND_OUT(CHUNK)];
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        vterm_input_write(t->vt, safe, cons_vt_bound(&t->bound, buf, k, safe));
        buf += k;
        n -= k;
    }
}

struct cons_term *cons_term_new(cons_damage_fn damage, void *arg)
{
    struct cons_term *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->damage = damage;
    t->damage_arg = arg;
    cons_vt_bound_init(&t->bound);
    t->vt = vterm_new(CONS_ROWS, CONS_COLS);
    if (!t->vt) {
        free(t);
        return NULL;
    }
    vterm_set_utf8(t->vt, 1);
    vterm_output_set_callback(t->vt, on_output, t);
    t->vs = vterm_obtain_screen(t->vt);
    vterm_screen_set_callbacks(t->vs, &screen_cbs, t);
    vterm_screen_set_damage_merge(t->vs, VTERM_DAMAGE_SCROLL);
    vterm_screen_reset(t->vs, 1);
    /* libvterm 0.1.4 (Debian 12) loops forever on REP (CSI n b) while no
     * glyph was ever printed: the width it steps by is still 0 (fixed
     * upstream later). A guest could hang the console thread with four
     * bytes; a blank printed and the cursor sent home first means there
     * always is a glyph to repeat (found by fuzz_console). */
    static const char prime[] = " \x1b[H";
    write_bounded(t, prime, sizeof prime - 1);
    t->cursor_visible = true;
    return t;
}

void cons_term_free(struct cons_term *t)
{
    if (!t)
        return;
    vterm_free(t->vt);
    free(t);
}

void cons_term_feed(struct cons_term *t, const char *buf, size_t n)
{
    write_bounded(t, buf, n);
    vterm_screen_flush_damage(t->vs);
}

struct cons_viewer *cons_term_viewers(struct cons_term *t)
{
    return t->viewers;
}

void cons_term_set_viewers(struct cons_term *t, struct cons_viewer *head)
{
    t->viewers = head;
}

/* X keysyms (X11/keysymdef.h) of the keys a terminal has. */
static int vterm_key_of(uint32_t ks)
{
    switch (ks) {
    case 0xff0d: case 0xff8d: return VTERM_KEY_ENTER;
    case 0xff09: return VTERM_KEY_TAB;
    case 0xff08: return VTERM_KEY_BACKSPACE;
    case 0xff1b: return VTERM_KEY_ESCAPE;
    case 0xff52: case 0xff97: return VTERM_KEY_UP;
    case 0xff54: case 0xff99: return VTERM_KEY_DOWN;
    case 0xff51: case 0xff96: return VTERM_KEY_LEFT;
    case 0xff53: case 0xff98: return VTERM_KEY_RIGHT;
    case 0xff63: case 0xff9e: return VTERM_KEY_INS;
    case 0xffff: case 0xff9f: return VTERM_KEY_DEL;
    case 0xff50: case 0xff95: return VTERM_KEY_HOME;
    case 0xff57: case 0xff9c: return VTERM_KEY_END;
    case 0xff55: case 0xff9a: return VTERM_KEY_PAGEUP;
    case 0xff56: case 0xff9b: return VTERM_KEY_PAGEDOWN;
    default: break;
    }
    if (ks >= 0xffbe && ks <= 0xffc9)           /* F1..F12 */
        return VTERM_KEY_FUNCTION((int)(ks - 0xffbe + 1));
    return VTERM_KEY_NONE;
}

void cons_term_key(struct cons_term *t, uint32_t ks, int mods)
{
    VTermModifier m = (VTermModifier)mods;
    int key = vterm_key_of(ks);
    if (key != VTERM_KEY_NONE) {
        vterm_keyboard_key(t->vt, (VTermKey)key, m);
        return;
    }
    uint32_t cp = 0;
    if ((ks >= 0x20 && ks <= 0x7e) || (ks >= 0xa0 && ks <= 0xff))
        cp = ks;                                 /* Latin-1 keysyms are code points */
    else if (ks >= 0x01000100 && ks <= 0x0110ffff)
        cp = ks - 0x01000000;                    /* Unicode keysyms */
    else if (ks >= 0xffb0 && ks <= 0xffb9)
        cp = '0' + (ks - 0xffb0);                /* keypad digits */
    else if (ks == 0xffaa || ks == 0xffab || ks == 0xffad || ks == 0xffae || ks == 0xffaf)
        cp = "*+,-./"[ks - 0xffaa];
    if (cp)
        vterm_keyboard_unichar(t->vt, cp, m);
}

size_t cons_term_take_input(struct cons_term *t, char *buf, size_t n)
{
    if (n > t->to_guest_len)
        n = t->to_guest_len;
    memcpy(buf, t->to_guest, n);
    memmove(t->to_guest, t->to_guest + n, t->to_guest_len - n);
    t->to_guest_len -= n;
    return n;
}

bool cons_term_has_input(const struct cons_term *t)
{
    return t->to_guest_len > 0;
}

static uint32_t pixel(const struct cons_pixfmt *pf, uint8_t r, uint8_t g, uint8_t b)
{
    return ((uint32_t)(r * pf->rmax + 127) / 255) << pf->rshift |
           ((uint32_t)(g * pf->gmax + 127) / 255) << pf->gshift |
           ((uint32_t)(b * pf->bmax + 127) / 255) << pf->bshift;
}

static size_t put_pixel(uint8_t *p, const struct cons_pixfmt *pf, uint32_t v)
{
    switch (pf->bpp) {
    case 8:
        p[0] = (uint8_t)v;
        return 1;
    case 16:
        if (pf->big_endian) {
            p[0] = (uint8_t)(v >> 8);
            p[1] = (uint8_t)v;
        } else {
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v >> 8);
        }
        return 2;
    default:
        if (pf->big_endian) {
            p[0] = (uint8_t)(v >> 24);
            p[1] = (uint8_t)(v >> 16);
            p[2] = (uint8_t)(v >> 8);
            p[3] = (uint8_t)v;
        } else {
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v >> 8);
            p[2] = (uint8_t)(v >> 16);
            p[3] = (uint8_t)(v >> 24);
        }
        return 4;
    }
}

struct cell_look {
    const unsigned char *glyph;
    uint32_t fg, bg;
    bool underline;
};

static void look_of(const struct cons_term *t, int row, int col, const struct cons_pixfmt *pf,
                    struct cell_look *out)
{
    VTermScreenCell c;
    VTermPos pos = { .row = row, .col = col };
    if (!vterm_screen_get_cell(t->vs, pos, &c)) {
        memset(&c, 0, sizeof c);
        vterm_color_rgb(&c.fg, 240, 240, 240);
        vterm_color_rgb(&c.bg, 0, 0, 0);
    }
    vterm_screen_convert_color_to_rgb(t->vs, &c.fg);
    vterm_screen_convert_color_to_rgb(t->vs, &c.bg);
    uint32_t ch = c.chars[0];
    if (ch == (uint32_t)-1 || ch == 0)
        ch = ' ';                    /* right half of a wide char, or empty */
    uint8_t fr = c.fg.rgb.red, fgc = c.fg.rgb.green, fb = c.fg.rgb.blue;
    uint8_t br = c.bg.rgb.red, bgc = c.bg.rgb.green, bb = c.bg.rgb.blue;
    bool rev = c.attrs.reverse;
    if (t->cursor_visible && t->cursor.row == row && t->cursor.col == col)
        rev = !rev;
    out->glyph = xg_font_glyph(ch);
    out->fg = rev ? pixel(pf, br, bgc, bb) : pixel(pf, fr, fgc, fb);
    out->bg = rev ? pixel(pf, fr, fgc, fb) : pixel(pf, br, bgc, bb);
    out->underline = c.attrs.underline != 0;
}

void cons_term_render(const struct cons_term *t, int row, int c0, int c1,
                      const struct cons_pixfmt *pf, xg_out *o)
{
    struct cell_look look[CONS_COLS];
    for (int c = c0; c < c1; c++)
        look_of(t, row, c, pf, &look[c - c0]);
    uint8_t line[CONS_COLS * XG_FONT_WIDTH * 4];
    unsigned h = xg_font_height;
    for (unsigned y = 0; y < h; y++) {
        size_t n = 0;
        for (int c = 0; c < c1 - c0; c++) {
            const struct cell_look *l = &look[c];
            unsigned bits = l->glyph[y];
            if (l->underline && y == h - 1)
                bits = 0xff;
            for (int x = 0; x < XG_FONT_WIDTH; x++)
                n += put_pixel(line + n, pf, (bits & (0x80u >> x)) ? l->fg : l->bg);
        }
        xg_out_append(o, line, n);
    }
}
