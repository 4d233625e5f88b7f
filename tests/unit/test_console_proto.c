/* Unit tests of the console protocols (handlers/console/): WebSocket
 * framing (RFC 6455 §1.3 and §5), the RFB server side over a libvterm
 * screen (RFC 6143 handshake, key events, raw rectangles with the glyphs of
 * the compiled-in font). The console thread (service.c) is replaced by the
 * two callbacks term.c needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../handlers/console/cons_internal.h"
#include "../../handlers/console/font.h"

/* ---- in place of service.c: one viewer, damage goes to its rfb ---- */
struct cons_viewer {
    struct cons_rfb rfb;
};

static void viewer_damage(void *arg, int row, int c0, int c1)
{
    struct cons_viewer *v = arg;
    cons_rfb_damage(&v->rfb, row, c0, c1);
}

static size_t take(xg_out *o, uint8_t *buf, size_t n)
{
    size_t got = 0;
    for (struct xg_chunk *c = o->head; c && got < n; c = c->next) {
        size_t k = c->len - c->sent;
        if (k > n - got)
            k = n - got;
        memcpy(buf + got, c->data + c->sent, k);
        got += k;
    }
    xg_out_reset(o);
    return got;
}

/* ---- WebSocket ---------------------------------------------------------- */
static void test_ws_accept(void **st)
{
    char acc[29];
    assert_true(cons_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc));   /* RFC 6455 §1.3 */
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_false(cons_ws_accept("short", acc));
    assert_false(cons_ws_accept("!!!!!!!!!!!!!!!!!!!!!!!!", acc));
}

static uint8_t got_payload[256];
static size_t got_len;

static bool collect(void *arg, uint8_t *p, size_t n)
{
    (void)arg;
    memcpy(got_payload + got_len, p, n);
    got_len += n;
    return true;
}

static size_t masked_frame(uint8_t *f, int opcode, const char *payload, size_t n)
{
    static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    f[0] = (uint8_t)(0x80 | opcode);
    f[1] = (uint8_t)(0x80 | n);
    memcpy(f + 2, mask, 4);
    for (size_t i = 0; i < n; i++)
        f[6 + i] = (uint8_t)payload[i] ^ mask[i & 3];
    return 6 + n;
}

static void test_ws_frames(void **st)
{
    struct cons_ws w;
    xg_out o;
    xg_out_init(&o);
    cons_ws_init(&w);
    uint8_t f[64];
    /* "Hello" (RFC 6455 §5.7), fed one byte at a time */
    size_t n = masked_frame(f, 1, "Hello", 5);
    got_len = 0;
    for (size_t i = 0; i < n; i++)
        assert_true(cons_ws_input(&w, f + i, 1, &o, collect, NULL));
    assert_int_equal(got_len, 5);
    assert_memory_equal(got_payload, "Hello", 5);
    /* a ping is answered with a pong carrying its payload, unmasked */
    n = masked_frame(f, 9, "hb", 2);
    assert_true(cons_ws_input(&w, f, n, &o, collect, NULL));
    uint8_t out[16];
    assert_int_equal(take(&o, out, sizeof out), 4);
    assert_memory_equal(out, "\x8a\x02hb", 4);
    /* close: answered, then the stream is over */
    n = masked_frame(f, 8, "\x03\xe8", 2);
    assert_true(cons_ws_input(&w, f, n, &o, collect, NULL));
    assert_true(w.closed);
    assert_int_equal(take(&o, out, sizeof out), 4);
    assert_memory_equal(out, "\x88\x02\x03\xe8", 4);
    /* an unmasked client frame is a protocol error */
    cons_ws_init(&w);
    uint8_t bad[] = { 0x82, 0x01, 'x' };
    assert_false(cons_ws_input(&w, bad, sizeof bad, &o, collect, NULL));
    /* a control frame longer than 125 bytes too */
    cons_ws_init(&w);
    uint8_t big[] = { 0x89, 0xfe, 0x00, 0x80, 0, 0, 0, 0 };
    assert_false(cons_ws_input(&w, big, sizeof big, &o, collect, NULL));
    /* server frames: 7-bit and 16-bit lengths */
    xg_out src;
    xg_out_init(&src);
    xg_out_append(&src, "abc", 3);
    cons_ws_frame(&o, &src);
    assert_int_equal(take(&o, out, sizeof out), 5);
    assert_memory_equal(out, "\x82\x03" "abc", 5);
    char blob[300];
    memset(blob, 'z', sizeof blob);
    xg_out_append(&src, blob, sizeof blob);
    cons_ws_frame(&o, &src);
    assert_int_equal(take(&o, out, 4), 4);
    assert_memory_equal(out, "\x82\x7e\x01\x2c", 4);
    xg_out_reset(&o);
}

/* ---- RFB over a screen ---------------------------------------------------- */
static void handshake(struct cons_viewer *v, struct cons_term *t, xg_out *o)
{
    uint8_t buf[64];
    cons_rfb_init(&v->rfb, o);
    assert_int_equal(take(o, buf, sizeof buf), 12);
    assert_memory_equal(buf, "RFB 003.008\n", 12);
    assert_true(cons_rfb_input(&v->rfb, t, (const uint8_t *)"RFB 003.008\n", 12, o));
    assert_int_equal(take(o, buf, sizeof buf), 2);
    assert_memory_equal(buf, "\x01\x01", 2);          /* one type: None */
    assert_true(cons_rfb_input(&v->rfb, t, (const uint8_t *)"\x01", 1, o));
    assert_int_equal(take(o, buf, sizeof buf), 4);    /* SecurityResult OK */
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_true(cons_rfb_input(&v->rfb, t, (const uint8_t *)"\x01", 1, o));   /* shared */
    size_t n = take(o, buf, sizeof buf);
    assert_true(n > 24);
    assert_int_equal(buf[0] << 8 | buf[1], CONS_COLS * XG_FONT_WIDTH);
    assert_int_equal(buf[2] << 8 | buf[3], CONS_ROWS * (int)xg_font_height);
    assert_true(cons_rfb_ready(&v->rfb));
}

static void test_rfb_keys_reach_the_guest(void **st)
{
    struct cons_viewer v = {0};
    struct cons_term *t = cons_term_new(viewer_damage, &v);
    xg_out o;
    xg_out_init(&o);
    handshake(&v, t, &o);
    /* 'a' down/up, then Return, then Ctrl-C (modifier held) */
    const uint8_t keys[] = {
        4, 1, 0, 0, 0, 0, 0, 'a',   4, 0, 0, 0, 0, 0, 0, 'a',
        4, 1, 0, 0, 0, 0, 0xff, 0x0d,
        4, 1, 0, 0, 0, 0, 0xff, 0xe3,   4, 1, 0, 0, 0, 0, 0, 'c',
    };
    /* split anywhere: messages are reassembled */
    assert_true(cons_rfb_input(&v.rfb, t, keys, 5, &o));
    assert_true(cons_rfb_input(&v.rfb, t, keys + 5, sizeof keys - 5, &o));
    char in[16];
    size_t n = cons_term_take_input(t, in, sizeof in);
    assert_int_equal(n, 3);
    assert_memory_equal(in, "a\r\x03", 3);
    /* an unknown message type cannot be framed: refused */
    assert_false(cons_rfb_input(&v.rfb, t, (const uint8_t *)"\xfe", 1, &o));
    xg_out_reset(&o);
    cons_term_free(t);
}

static void test_rfb_update_shows_the_glyphs(void **st)
{
    struct cons_viewer v = {0};
    struct cons_term *t = cons_term_new(viewer_damage, &v);
    xg_out o;
    xg_out_init(&o);
    handshake(&v, t, &o);
    /* 16 bpp big endian 5-6-5 */
    const uint8_t spf[20] = { 0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0 };
    assert_true(cons_rfb_input(&v.rfb, t, spf, sizeof spf, &o));
    cons_term_feed(t, "\x1b[2J\x1b[HHi", 9);
    const uint8_t req[10] = { 3, 1, 0, 0, 0, 0, 2, 128, 1, 144 };   /* incremental, whole screen */
    assert_true(cons_rfb_input(&v.rfb, t, req, sizeof req, &o));
    /* the update comes one row rectangle per pump */
    for (int i = 0; i < CONS_ROWS + 1; i++)
        cons_rfb_pump(&v.rfb, t, &o);
    size_t total = o.total;
    uint8_t *buf = malloc(total);
    assert_non_null(buf);
    assert_int_equal(take(&o, buf, total), total);
    assert_int_equal(buf[0], 0);                       /* FramebufferUpdate */
    unsigned nrects = (unsigned)(buf[2] << 8 | buf[3]);
    assert_true(nrects >= 1);
    /* first rectangle: row 0 */
    const uint8_t *r = buf + 4;
    unsigned x = (unsigned)(r[0] << 8 | r[1]), y = (unsigned)(r[2] << 8 | r[3]);
    unsigned w = (unsigned)(r[4] << 8 | r[5]), h = (unsigned)(r[6] << 8 | r[7]);
    assert_int_equal(y, 0);
    assert_int_equal(h, xg_font_height);
    assert_int_equal(r[8] | r[9] | r[10] | r[11], 0); /* Raw */
    const uint8_t *px = r + 12;
    /* the cell of 'H' (column 0) and of 'i' (column 1): lit pixels are the glyph's bits */
    for (int col = 0; col < 2; col++) {
        const unsigned char *g = xg_font_glyph(col == 0 ? 'H' : 'i');
        for (unsigned yy = 0; yy < xg_font_height; yy++) {
            for (unsigned xx = 0; xx < 8; xx++) {
                unsigned cx = (unsigned)col * 8 + xx - x;
                const uint8_t *p = px + ((size_t)yy * w + cx) * 2;
                bool lit = (p[0] << 8 | p[1]) != 0;     /* background is black */
                assert_int_equal(lit, (g[yy] & (0x80u >> xx)) != 0);
            }
        }
    }
    free(buf);
    cons_term_free(t);
}

/* libvterm 0.1.4 looped forever on REP (CSI n b) before any glyph was
 * printed (fuzz_console's first finding, corpus/console/regress_rep_*):
 * a guest starting with it must not hang the console thread. */
static void test_guest_rep_first_does_not_hang(void **st)
{
    struct cons_viewer v;
    memset(&v, 0, sizeof v);
    struct cons_term *t = cons_term_new(viewer_damage, &v);
    alarm(30);                                     /* the hang guard */
    cons_term_feed(t, "\x1b[3bok\x1b[6n", 11);
    alarm(0);
    char answer[32] = "";
    size_t n = cons_term_take_input(t, answer, sizeof answer - 1);
    answer[n] = 0;
    /* the terminal goes on: it answers the cursor position report */
    assert_true(n >= 6);
    assert_memory_equal(answer, "\x1b[1;", 4);
    assert_int_equal(answer[n - 1], 'R');
    cons_term_free(t);
}

/* Runs the guard over s (in one call, or byte by byte when split) and
 * returns what libvterm would read. */
static const char *bounded(const char *s, bool split)
{
    static char out[CONS_VT_BOUND_OUT(1024)];
    struct cons_vt_bound b;
    cons_vt_bound_init(&b);
    size_t n = strlen(s), k = 0;
    assert_true(n <= 1024);
    if (split)
        for (size_t i = 0; i < n; i++)
            k += cons_vt_bound(&b, s + i, 1, out + k);
    else
        k = cons_vt_bound(&b, s, n, out);
    out[k] = 0;
    return out;
}

/* libvterm writes a CSI's 17th parameter past its 16 slots (fuzz_console,
 * F12, corpus/console/regress_csi_17_parameters): vt_bound.c keeps the
 * first 16 and six significant digits each, and leaves the rest alone. */
static void test_vt_bound_keeps_csi_parameters_in_libvterms_slots(void **st)
{
    static const char *cases[][2] = {
        /* 17 and more parameters: the first 16 */
        {"\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18m",
         "\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16m"},
        {"\x1b[;;;;;;;;;;;;;;;;;;;;;;;;H", "\x1b[;;;;;;;;;;;;;;;H"},
        {"\x1b[?1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:6:7:8h", "\x1b[?1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:6h"},
        /* digits: six significant, leading zeros are harmless */
        {"\x1b[99999999999999999999A", "\x1b[999999A"},
        {"\x1b[0000000000000012;3H", "\x1b[0000000000000012;3H"},
        /* C0 controls act inside a sequence and do not end it */
        {"\x1b[1;2;3;4;5;6;7;8;\n9;10;11;12;13;14;15;16;17m", "\x1b[1;2;3;4;5;6;7;8;\n9;10;11;12;13;14;15;16m"},
        /* what is not a CSI's parameters passes untouched */
        {"1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18 99999999999",
         "1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18 99999999999"},
        {"\x1b]0;1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17\a", "\x1b]0;1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17\a"},
        {"\x1b[31mred\x1b[0m \xc3\xa9t\xc3\xa9", "\x1b[31mred\x1b[0m \xc3\xa9t\xc3\xa9"},
        /* an ESC inside an OSC that is not its ST starts an escape, CSI included */
        {"\x1b]0;t\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17m", "\x1b]0;t\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16m"},
        /* NUL and DEL, ignored by libvterm everywhere, are dropped */
        {"\x1b[1;2;3\x7fm", "\x1b[1;2;3m"},
        /* CAN aborts the sequence; the next one counts afresh */
        {"\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;\x18;;;;;;;;", "\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;\x18;;;;;;;;"},
    };
    (void)st;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_string_equal(bounded(cases[i][0], false), cases[i][1]);
        assert_string_equal(bounded(cases[i][0], true), cases[i][1]);
    }
}

/* The terminal after a guest's 40-parameter CSI: alive, and a cursor move
 * with extra parameters acts on its first two. */
static void test_guest_many_csi_parameters_keep_the_terminal(void **st)
{
    struct cons_viewer v;
    memset(&v, 0, sizeof v);
    struct cons_term *t = cons_term_new(viewer_damage, &v);
    char seq[256];
    size_t n = 0;
    n += (size_t)snprintf(seq, sizeof seq, "\x1b[");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(seq + n, sizeof seq - n, "1;");
    n += (size_t)snprintf(seq + n, sizeof seq - n, "31mx\x1b[3;7;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1H\x1b[6n");
    cons_term_feed(t, seq, n);
    char answer[32] = "";
    size_t got = cons_term_take_input(t, answer, sizeof answer - 1);
    answer[got] = 0;
    assert_string_equal(answer, "\x1b[3;7R");
    (void)st;
    cons_term_free(t);
}

/* A UTF-8 sequence reaches libvterm whole (a cut one left a decoder
 * half-way: one code point more than bytes at the next text, past on_text's
 * stack array); at most 16 combining marks follow a glyph (each piece of
 * text rescanned them all: quadratic time). */
static void test_vt_bound_gives_libvterm_whole_code_points(void **st)
{
    static const char *cases[][2] = {
        /* controls and escapes inside a sequence act first; the code point follows whole */
        {"a\xcc\x1b[1m\x81" "b", "a\x1b[1m\xcc\x81" "b"},
        {"\xe4\r\xb8\n\x80", "\r\n\xe4\xb8\x80"},
        /* a sequence cut by other text is U+FFFD, as libvterm shows it */
        {"\xcc" "A", "\xef\xbf\xbd" "A"},
        {"\xe4\xb8\xcc\x81", "\xef\xbf\xbd\xcc\x81"},
        /* stray and never-valid bytes pass (libvterm prints U+FFFD for each) */
        {"\x80\xfe", "\x80\xfe"},
        /* text that is not marks passes untouched, however long */
        {"\xe4\xb8\x80\xe4\xb8\x81\xe4\xb8\x82 \xd0\x96\xf0\x9f\x99\x82", "\xe4\xb8\x80\xe4\xb8\x81\xe4\xb8\x82 \xd0\x96\xf0\x9f\x99\x82"},
        /* a few marks after each glyph pass */
        {"e\xcc\x81" "e\xcc\x81\xcc\x82\xcc\xa3", "e\xcc\x81" "e\xcc\x81\xcc\x82\xcc\xa3"},
    };
    (void)st;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_string_equal(bounded(cases[i][0], false), cases[i][1]);
        assert_string_equal(bounded(cases[i][0], true), cases[i][1]);
    }
    assert_true(cons_vt_is_mark(0x301));
    assert_true(cons_vt_is_mark(0xe0100));           /* a variation selector */
    assert_false(cons_vt_is_mark('a'));
    assert_false(cons_vt_is_mark(0x4e00));
    assert_false(cons_vt_is_mark(0x1f642));

    /* 40 marks after one glyph, each behind an escape sequence: 16 are kept */
    char in[1024] = "a", expect[1024] = "a";
    for (int i = 0; i < 40; i++) {
        strcat(in, "\xcc\x81\x1b[m");
        strcat(expect, i < 16 ? "\xcc\x81\x1b[m" : "\x1b[m");
    }
    strcat(in, "b\xcc\x81");
    strcat(expect, "b\xcc\x81");                    /* a new glyph: marks again */
    assert_string_equal(bounded(in, false), expect);
    assert_string_equal(bounded(in, true), expect);
}

/* A guest printing a million marks behind escape sequences (6 MB): the
 * terminal keeps up (unbounded, libvterm rescanned them all for each). */
static void test_guest_marks_flood_does_not_hang(void **st)
{
    struct cons_viewer v;
    memset(&v, 0, sizeof v);
    struct cons_term *t = cons_term_new(viewer_damage, &v);
    static const char unit[] = "\xcc\x81\x1b[m";
    enum { UNITS = 1000000, PER = 1000 };
    static char block[PER * (sizeof unit - 1)];
    for (int i = 0; i < PER; i++)
        memcpy(block + (size_t)i * (sizeof unit - 1), unit, sizeof unit - 1);
    alarm(60);                                     /* the hang guard */
    cons_term_feed(t, "a", 1);
    for (int i = 0; i < UNITS / PER; i++)
        cons_term_feed(t, block, sizeof block);
    cons_term_feed(t, "\x1b[6n", 4);
    alarm(0);
    char answer[32] = "";
    size_t n = cons_term_take_input(t, answer, sizeof answer - 1);
    answer[n] = 0;
    assert_string_equal(answer, "\x1b[1;2R");       /* one cell, a's */
    (void)st;
    cons_term_free(t);
}

/* REP repeats the last glyph stepping by its width (libvterm 0.1.4): a
 * mark that joined no glyph (width 0) looped forever, a wide glyph in the
 * last column was written past the row (NULL dereference), and a C1
 * control as text has width -1. REP passes only after a one-cell glyph. */
static void test_vt_bound_rep_only_of_a_one_cell_glyph(void **st)
{
    static const char *cases[][2] = {
        {"a\x1b[3b", "a\x1b[3b"},
        {"\xe2\x94\x80\x1b[70b", "\xe2\x94\x80\x1b[70b"},          /* U+2500, narrow */
        {"e\xcc\x81\x1b[2b", "e\xcc\x81\x1b[2b"},                    /* a mark in its glyph's run */
        {"\x1b[b", "\x1b[\x18"},                                     /* no glyph yet */
        {"\xe4\xb8\xad\x1b[1;80H\x1b[b", "\xe4\xb8\xad\x1b[1;80H\x1b[\x18"},   /* wide */
        {"a\x1b[H\xcc\x81\x1b[b", "a\x1b[H\xcc\x81\x1b[\x18"},       /* a mark after a move */
        {"a\xc2\x85\x1b[b", "a\x1b[b"},                             /* C1 dropped */
        {"\xe4\xb8\xad" "a\x1b[2b", "\xe4\xb8\xad" "a\x1b[2b"},       /* the last glyph counts */
    };
    (void)st;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(bounded(cases[i][0], false), cases[i][1]);
    assert_true(cons_vt_is_narrow('a'));
    assert_true(cons_vt_is_narrow(0xfffd));
    assert_false(cons_vt_is_narrow(0x4e2d));
    assert_false(cons_vt_is_narrow(0x85));
}

/* The inputs that hung or crashed libvterm through REP, on a terminal. */
static void test_guest_rep_cases_keep_the_terminal(void **st)
{
    static const char *feeds[] = {
        "\xcc\x81\x1b[b",                                  /* fuzz_console's hang */
        "\xe4\xb8\xad\x1b[1;80H\x1b[b",                    /* wide glyph, last column */
        "\x1b[H\xc2\x85\xc2\x85\x1b[2b",
    };
    (void)st;
    for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
        struct cons_viewer v;
        memset(&v, 0, sizeof v);
        struct cons_term *t = cons_term_new(viewer_damage, &v);
        alarm(30);                                 /* the hang guard */
        cons_term_feed(t, feeds[i], strlen(feeds[i]));
        cons_term_feed(t, "\x1b[6n", 4);
        alarm(0);
        char answer[32] = "";
        size_t n = cons_term_take_input(t, answer, sizeof answer - 1);
        answer[n] = 0;
        assert_true(n >= 6 && answer[n - 1] == 'R');
        cons_term_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_accept),
        cmocka_unit_test(test_ws_frames),
        cmocka_unit_test(test_rfb_keys_reach_the_guest),
        cmocka_unit_test(test_rfb_update_shows_the_glyphs),
        cmocka_unit_test(test_guest_rep_first_does_not_hang),
        cmocka_unit_test(test_vt_bound_keeps_csi_parameters_in_libvterms_slots),
        cmocka_unit_test(test_guest_many_csi_parameters_keep_the_terminal),
        cmocka_unit_test(test_vt_bound_gives_libvterm_whole_code_points),
        cmocka_unit_test(test_guest_marks_flood_does_not_hang),
        cmocka_unit_test(test_vt_bound_rep_only_of_a_one_cell_glyph),
        cmocka_unit_test(test_guest_rep_cases_keep_the_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
