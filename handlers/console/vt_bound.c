/* vt_bound.c: what a guest prints passes here before libvterm reads it.
 *
 * libvterm 0.1.4 (Debian 12's) trusts its input in three places where a
 * guest's console output is hostile:
 *  - a control sequence's parameters go into 16 slots, stepping to the
 *    next on every ';' or ':' with no bound: the 17th parameter of
 *    `ESC [ 1;2;…;17 m` is written past the array over the parser's state
 *    and one guest line kills the gateway (fuzz_console, F12); digits
 *    accumulate into a long with no bound either;
 *  - a UTF-8 sequence cut by a control byte, an escape sequence or the end
 *    of a write stays half-decoded in one of its five decoders, and the
 *    next text can then yield one code point more than it has bytes: a
 *    write past the end of on_text's stack array;
 *  - combining marks after a glyph are appended to one buffer and every
 *    piece of text rescans it: a guest printing marks separated by escape
 *    sequences costs quadratic time (megabytes hang the console thread)
 *    and grows memory without end;
 *  - REP (CSI n b) repeats the last glyph stepping by its width: a mark
 *    printed where it joins no glyph has width 0 and the loop never ends
 *    (`U+0301 ESC [ b`), a two-cell glyph repeated in the last column is
 *    written past the row's end (a NULL dereference); and a C1 control
 *    sent as UTF-8 text is printed with width -1, walking the cursor off
 *    the screen.
 *
 * So libvterm's parser state is followed here exactly (parser.c: C0
 * controls act inside a sequence without ending it, CAN/SUB abort it, ESC
 * starts a new one, an ESC inside an OSC or DCS string that is not its ST
 * starts an escape) and:
 *  - inside a CSI's parameters, separators past the 16th parameter are
 *    dropped with every digit after them (the sequence acts on its first
 *    16, as xterm does), and digits past six significant ones;
 *  - text reaches libvterm in whole UTF-8 sequences only: a sequence is
 *    held until complete (the controls and escapes inside it act first, as
 *    in libvterm, where a partial code point shows nothing) and one cut by
 *    other text becomes U+FFFD, which is what libvterm would show;
 *  - at most VT_MARKS_MAX combining marks follow a glyph (a cell keeps 5);
 *  - REP passes only when the glyph it repeats is surely one cell wide
 *    (else it becomes CAN, which cancels the sequence), and C1 controls in
 *    text are dropped.
 * NUL and DEL, which libvterm ignores everywhere, are dropped. */
#include "cons_internal.h"

#include <pthread.h>

#include <vterm.h>

#include "../../server/utf8.h"

#define VT_ARGS_MAX 16               /* libvterm's CSI_ARGS_MAX */
#define VT_DIGITS_MAX 6              /* significant digits kept per parameter */
#define VT_MARKS_MAX 16              /* combining marks kept after one glyph */

enum { VT_NORMAL, VT_ESC, VT_CSI_LEADER, VT_CSI_ARGS, VT_CSI_INTERMED, VT_STRING,
       VT_ESC_IN_STRING };

/* ---- what libvterm does with a code point ------------------------------
 * Which code points combine with the glyph before and which take one cell
 * are libvterm's internal tables (vterm_unicode_is_combining and _width
 * are not exported), so libvterm itself is asked once: after "\ra" and
 * the code point, a mark is in a's cell, and a one-cell glyph leaves the
 * cursor in column 2. Marks exist in planes 0, 1 and 14 only (libvterm's
 * table ends at U+E01EF); a code point elsewhere counts as not one cell
 * wide. 10 ms for the 200,000 code points. */
#define PROBE_LOW_END 0x20000u
#define PROBE_TAGS 0xE0000u
#define PROBE_TAGS_END 0xE1000u
#define PROBE_BITS (PROBE_LOW_END + (PROBE_TAGS_END - PROBE_TAGS))
static uint8_t mark_bits[PROBE_BITS / 8], narrow_bits[PROBE_BITS / 8];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static long probe_index(uint32_t cp)
{
    if (cp < PROBE_LOW_END)
        return cp;
    if (cp >= PROBE_TAGS && cp < PROBE_TAGS_END)
        return (long)(PROBE_LOW_END + (cp - PROBE_TAGS));
    return -1;
}

static bool probe_bit(const uint8_t *bits, uint32_t cp)
{
    long i = probe_index(cp);
    return i >= 0 && (bits[i / 8] >> (i % 8) & 1);
}

static void probe_one(VTerm *vt, VTermScreen *vs, uint32_t cp)
{
    char buf[8] = "\ra";
    size_t n = 2 + xg_utf8_put(buf + 2, cp);
    vterm_input_write(vt, buf, n);
    long i = probe_index(cp);
    VTermScreenCell cell;
    VTermPos cursor;
    vterm_state_get_cursorpos(vterm_obtain_state(vt), &cursor);
    if (vterm_screen_get_cell(vs, (VTermPos){0, 0}, &cell) && cell.chars[1] == cp)
        mark_bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else if (cursor.col == 2)
        narrow_bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void probe(void)
{
    VTerm *vt = vterm_new(1, 8);
    if (!vt)
        abort();                     /* out of memory at the first console */
    vterm_set_utf8(vt, 1);
    VTermScreen *vs = vterm_obtain_screen(vt);
    vterm_screen_reset(vs, 1);
    for (uint32_t cp = 0x20; cp < PROBE_LOW_END; cp++)
        if (cp != 0x7f && (cp < 0xd800 || cp > 0xdfff))
            probe_one(vt, vs, cp);
    for (uint32_t cp = PROBE_TAGS; cp < PROBE_TAGS_END; cp++)
        probe_one(vt, vs, cp);
    vterm_free(vt);
}

bool cons_vt_is_mark(uint32_t cp)
{
    pthread_once(&probe_once, probe);
    return probe_bit(mark_bits, cp);
}

bool cons_vt_is_narrow(uint32_t cp)
{
    pthread_once(&probe_once, probe);
    return probe_bit(narrow_bits, cp);
}

/* ---- the bound ----------------------------------------------------------- */
void cons_vt_bound_init(struct cons_vt_bound *b)
{
    *b = (struct cons_vt_bound){.state = VT_NORMAL};
    pthread_once(&probe_once, probe);
}

struct sink {
    char *out;
    size_t k;
};

static void put(struct sink *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s->out[s->k++] = p[i];
}

static bool is_intermediate(unsigned char c)
{
    return c >= 0x20 && c <= 0x2f;
}

/* One byte in a CSI's parameters: whether libvterm may see it. */
static bool csi_arg_byte(struct cons_vt_bound *b, unsigned char c)
{
    if (c >= '0' && c <= '9') {
        if (b->dropping)
            return false;
        if (b->digits == 0 && c == '0')
            return true;             /* leading zeros leave the value at 0 */
        if (b->digits >= VT_DIGITS_MAX)
            return false;
        b->digits++;
        return true;
    }
    /* ';' or ':' (libvterm reads ':' as ';' with a flag on the previous) */
    if (b->dropping || b->args + 1 >= VT_ARGS_MAX) {
        b->dropping = true;
        return false;
    }
    b->args++;
    b->digits = 0;
    return true;
}

/* libvterm printed a glyph that is not a mark: a new cell, the glyph REP
 * repeats. After a single shift (ESC N, ESC O) libvterm may skip bytes
 * that decode here, so only printable ASCII, which every decoder prints,
 * is trusted then. */
static void base_glyph(struct cons_vt_bound *b, bool ascii, bool narrow)
{
    if (ascii)
        b->shifted = false;
    if (!b->shifted)
        b->marks = 0;
    b->rep_safe = narrow && !b->shifted;
    b->run_open = true;
}

/* A mark reaches libvterm. In the run of its glyph it joins that glyph's
 * cell; at the start of a run it joins the last glyph only if the cursor
 * has not moved, else it is a glyph of width 0 of its own, and REP of it
 * never ends: REP is safe again only after the next glyph. */
static void mark_glyph(struct cons_vt_bound *b)
{
    if (!b->run_open)
        b->rep_safe = false;
    b->marks++;
    b->run_open = true;
}

/* The held sequence was cut by other text: libvterm would print U+FFFD. */
static void cut_held(struct cons_vt_bound *b, struct sink *s)
{
    if (b->held_len == 0)
        return;
    put(s, XG_UTF8_REPLACEMENT, 3);
    b->held_len = b->need = 0;
    base_glyph(b, false, true);
}

static uint32_t held_code_point(const struct cons_vt_bound *b)
{
    static const uint8_t lead_mask[7] = {0, 0, 0x1f, 0x0f, 0x07, 0x03, 0x01};
    static const uint32_t shortest[7] = {0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000};
    uint32_t cp = (uint8_t)b->held[0] & lead_mask[b->held_len];
    for (size_t i = 1; i < b->held_len; i++)
        cp = cp << 6 | ((uint8_t)b->held[i] & 0x3f);
    if (cp < shortest[b->held_len] || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff)
        return 0xfffd;               /* libvterm decodes these as U+FFFD */
    return cp;
}

/* The held sequence is complete. */
static void held_done(struct cons_vt_bound *b, struct sink *s)
{
    uint32_t cp = held_code_point(b);
    size_t n = b->held_len;
    b->held_len = 0;
    if (cp >= 0x80 && cp < 0xa0)
        return;                      /* a C1 control as text: libvterm prints it with
                                      * width -1 and the cursor walks off the screen */
    if (!cons_vt_is_mark(cp)) {
        put(s, b->held, n);
        base_glyph(b, false, cons_vt_is_narrow(cp));
    } else if (b->marks < VT_MARKS_MAX) {
        put(s, b->held, n);
        mark_glyph(b);
    }
}

/* A byte of text in the parser's normal state (libvterm's on_text). */
static void text_byte(struct cons_vt_bound *b, unsigned char c, struct sink *s)
{
    if (c < 0x80) {
        cut_held(b, s);
        put(s, (const char *)&c, 1);
        base_glyph(b, true, true);
        return;
    }
    if (c < 0xc0) {                  /* continuation */
        if (b->need == 0) {
            put(s, (const char *)&c, 1);      /* a stray one: U+FFFD in libvterm */
            base_glyph(b, false, true);
            return;
        }
        b->held[b->held_len++] = (char)c;
        if (--b->need == 0)
            held_done(b, s);
        return;
    }
    cut_held(b, s);
    if (c >= 0xfe) {
        put(s, (const char *)&c, 1);          /* never valid: U+FFFD in libvterm */
        base_glyph(b, false, true);
        return;
    }
    b->need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf8 ? 3 : c < 0xfc ? 4 : 5;
    b->held[0] = (char)c;
    b->held_len = 1;
}

/* One byte of guest output: follows libvterm's parser and passes on what
 * libvterm may read. */
static void step(struct cons_vt_bound *b, unsigned char c, struct sink *s)
{
    if (c == 0x00 || c == 0x7f)
        return;                      /* ignored by the parser in any state */
    if (c == 0x18 || c == 0x1a) {
        b->state = VT_NORMAL;
    } else if (c == 0x1b) {
        b->state = b->state == VT_STRING ? VT_ESC_IN_STRING : VT_ESC;
    } else if (c < 0x20 && !(c == 0x07 && b->state == VT_STRING)) {
        /* a C0 control acts, the state stays */
    } else {
        switch (b->state) {
        case VT_ESC_IN_STRING:
            if (c == '\\') {
                b->state = VT_NORMAL;
                break;
            }
            b->state = VT_ESC;
            /* fallthrough */
        case VT_ESC:
            if (c == '[') {
                b->state = VT_CSI_LEADER;
                b->args = 0;
                b->digits = 0;
                b->dropping = false;
            } else if (c == 'P' || c == ']') {
                b->state = VT_STRING;
            } else if (!is_intermediate(c) && c >= 0x30 && c < 0x7f) {
                if (c == 'N' || c == 'O')
                    b->shifted = true;        /* SS2, SS3 */
                b->state = VT_NORMAL;
            }
            break;
        case VT_CSI_LEADER:
            if (c >= 0x3c && c <= 0x3f)
                break;
            b->state = VT_CSI_ARGS;
            /* fallthrough */
        case VT_CSI_ARGS:
            if ((c >= '0' && c <= '9') || c == ';' || c == ':') {
                if (!csi_arg_byte(b, c))
                    return;
                break;
            }
            b->state = VT_CSI_INTERMED;
            /* fallthrough */
        case VT_CSI_INTERMED:
            if (!is_intermediate(c)) {
                b->state = VT_NORMAL;
                if (c == 'b' && !b->rep_safe)
                    c = 0x18;        /* REP cancelled (CAN): see mark_glyph, rep_safe */
            }
            break;
        case VT_STRING:
            if (c == 0x07)
                b->state = VT_NORMAL; /* BEL ends an OSC or DCS (UTF-8 mode: 0x9c does not) */
            break;
        default:
            text_byte(b, c, s);
            return;
        }
    }
    b->run_open = false;             /* libvterm's text runs end at any other byte */
    put(s, (const char *)&c, 1);
}

size_t cons_vt_bound(struct cons_vt_bound *b, const char *in, size_t n, char *out)
{
    struct sink s = {out, 0};
    b->run_open = false;             /* and at the end of each write */
    for (size_t i = 0; i < n; i++)
        step(b, (unsigned char)in[i], &s);
    return s.k;
}
