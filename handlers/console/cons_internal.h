/* cons_internal.h: the parts of the console module (handlers/console/),
 * shared by its files only. Everything here runs on the console thread. */
#ifndef XG_CONS_INTERNAL_H
#define XG_CONS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../server/out.h"

#define CONS_ROWS 25                 /* the 80x25 of a PC text console, hvc0 */
#define CONS_COLS 80

/* An RFB pixel format (RFC 6143 §7.4), true colour only. */
struct cons_pixfmt {
    uint8_t bpp, depth, big_endian, true_colour;
    uint16_t rmax, gmax, bmax;
    uint8_t rshift, gshift, bshift;
};

struct cons_term;
struct cons_viewer;

/* ---- term.c: a text console rendered by libvterm ---------------------- */
/* Cells [c0,c1) of row changed: the owner redraws them for its viewers.
 * A function pointer, so that term.c never calls its owner (service.c). */
typedef void (*cons_damage_fn)(void *arg, int row, int c0, int c1);
struct cons_term *cons_term_new(cons_damage_fn damage, void *arg);
void cons_term_free(struct cons_term *t);
/* The guest printed n bytes: the screen changes, damage goes to the
 * cons_damage_fn given at creation. */
void cons_term_feed(struct cons_term *t, const char *buf, size_t n);
/* The term's viewers: a list service.c links through its viewers and
 * keeps here, next to the screen they show. */
struct cons_viewer *cons_term_viewers(struct cons_term *t);
void cons_term_set_viewers(struct cons_term *t, struct cons_viewer *head);
/* An X keysym pressed with modifiers (VTermModifier bits): the bytes the
 * terminal sends for it are queued for the guest (cons_term_take_input). */
void cons_term_key(struct cons_term *t, uint32_t keysym, int mods);
/* Bytes typed on a raw text console, queued for the guest as they are. */
void cons_term_send(struct cons_term *t, const char *p, size_t n);
/* Bytes queued for the guest (keys, terminal replies); consumes them. */
size_t cons_term_take_input(struct cons_term *t, char *buf, size_t n);
bool cons_term_has_input(const struct cons_term *t);
/* Appends the raw pixels of cells [c0,c1) of one text row (a rectangle
 * 8*(c1-c0) x font height) in format pf. */
void cons_term_render(const struct cons_term *t, int row, int c0, int c1,
                      const struct cons_pixfmt *pf, xg_out *o);
unsigned cons_cell_height(void);

/* ---- vt_bound.c: guest output made safe for libvterm ------------------ */
/* Follows libvterm's parser state across calls (one per term). */
struct cons_vt_bound {
    uint8_t state;
    uint8_t args;                    /* separators seen in this CSI */
    uint8_t digits;                  /* significant digits of its parameter */
    bool dropping;                   /* past the last parameter slot */
    char held[6];                    /* a UTF-8 sequence not complete yet */
    uint8_t held_len, need;
    uint8_t marks;                   /* combining marks since the last glyph */
    bool shifted;                    /* a single shift may be pending */
    bool run_open;                   /* libvterm's current text run goes on */
    bool rep_safe;                   /* the glyph REP repeats is one cell wide */
};
void cons_vt_bound_init(struct cons_vt_bound *b);
/* Room out needs for n bytes in: a held sequence completes, cut ones
 * become U+FFFD. */
#define CONS_VT_BOUND_OUT(n) (4 * (size_t)(n) + 8)
/* Copies to out the bytes of in libvterm may read (for one
 * vterm_input_write): a CSI's parameters bounded to libvterm's 16 slots
 * and 6 digits each, text in whole UTF-8 sequences without C1 controls, at
 * most 16 combining marks after a glyph, REP only of a one-cell glyph. */
size_t cons_vt_bound(struct cons_vt_bound *b, const char *in, size_t n, char *out);
/* Whether libvterm combines cp with the glyph before it; whether it
 * prints cp one cell wide. */
bool cons_vt_is_mark(uint32_t cp);
bool cons_vt_is_narrow(uint32_t cp);

/* ---- rfb.c: our RFB 3.8 server over a term (per viewer) -------------- */
struct cons_rfb {
    int st;                          /* handshake step, then RFB_NORMAL */
    int minor;                       /* 3, 7 or 8 */
    uint8_t msg[24];                 /* the client message being read */
    size_t mlen;
    uint32_t skip;                   /* ClientCutText bytes left to ignore */
    struct cons_pixfmt pf, pf_next;
    bool pf_pending;
    bool want;                       /* a FramebufferUpdateRequest is open */
    bool sending;                    /* an update's rectangles are going out */
    int next_row;
    uint8_t dlo[CONS_ROWS], dhi[CONS_ROWS];   /* dirty cells per row [lo,hi) */
    uint8_t slo[CONS_ROWS], shi[CONS_ROWS];   /* the update being sent */
    int mods;
};
void cons_rfb_init(struct cons_rfb *r, xg_out *o);
/* Client bytes; false: protocol error (close). */
bool cons_rfb_input(struct cons_rfb *r, struct cons_term *t, const uint8_t *p, size_t n,
                    xg_out *o);
void cons_rfb_damage(struct cons_rfb *r, int row, int c0, int c1);
/* The handshake is over: the viewer is receiving the screen. */
bool cons_rfb_ready(const struct cons_rfb *r);
/* Writes the next piece of an update when one is asked for and due. */
void cons_rfb_pump(struct cons_rfb *r, const struct cons_term *t, xg_out *o);

/* ---- ws.c: RFC 6455 server side -------------------------------------- */
/* Sec-WebSocket-Accept for a client key; false if the key is malformed. */
bool cons_ws_accept(const char *key, char out[29]);
struct cons_ws {
    uint8_t hdr[14];
    size_t hlen, need;               /* header bytes read / needed */
    uint64_t left;                   /* payload bytes of this frame to go */
    uint8_t mask[4];
    uint64_t pos;                    /* payload offset (mask index) */
    int opcode;
    bool fin;
    uint8_t ctl[125];                /* a control frame's payload */
    size_t ctl_len;
    bool closed;                     /* a close frame came */
};
void cons_ws_init(struct cons_ws *w);
/* Decodes client bytes: data payload is passed to deliver (in place,
 * unmasked); pings are answered into o. false: protocol violation or
 * deliver failed. */
bool cons_ws_input(struct cons_ws *w, uint8_t *p, size_t n, xg_out *o,
                   bool (*deliver)(void *arg, uint8_t *p, size_t n), void *arg);
/* Moves src into dst as one binary frame. */
void cons_ws_frame(xg_out *dst, xg_out *src);
void cons_ws_close_frame(xg_out *dst);

#endif
