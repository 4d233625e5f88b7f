/* vt_bound.c: what a guest prints passes here before libvterm reads it.
 *
 * libvterm 0.1.4 (Debian 12's, and later releases too) keeps a control
 * sequence's parameters in 16 slots and steps to the next one on every
 * ';' or ':' without a bound: the 17th parameter of `ESC [ 1;2;…;17 m`
 * is written past the array, over the parser's other fields, and one
 * guest line kills the gateway (fuzz_console, F12). Its digits are
 * accumulated into a long without a bound either (signed overflow).
 *
 * The parser's state is followed here exactly (libvterm's parser.c: C0
 * controls act inside a sequence without ending it, NUL and DEL are
 * ignored, CAN/SUB abort it, ESC starts a new one, an ESC inside an OSC or
 * DCS string that is not its ST starts an escape): inside a CSI's
 * parameters, separators past the 16th parameter are dropped with every
 * digit after them (the sequence acts on its first 16, as xterm does), and
 * a parameter keeps at most six significant digits (no screen has a
 * million rows). Every other byte passes untouched. */
#include "cons_internal.h"

#define VT_ARGS_MAX 16               /* libvterm's CSI_ARGS_MAX */
#define VT_DIGITS_MAX 6              /* significant digits kept per parameter */

enum { VT_NORMAL, VT_ESC, VT_CSI_LEADER, VT_CSI_ARGS, VT_CSI_INTERMED, VT_STRING,
       VT_ESC_IN_STRING };

void cons_vt_bound_init(struct cons_vt_bound *b)
{
    *b = (struct cons_vt_bound){.state = VT_NORMAL};
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

static bool pass(struct cons_vt_bound *b, unsigned char c)
{
    if (c == 0x00 || c == 0x7f)
        return true;                 /* ignored by the parser in any state */
    if (c == 0x18 || c == 0x1a) {
        b->state = VT_NORMAL;
        return true;
    }
    if (c == 0x1b) {
        b->state = b->state == VT_STRING ? VT_ESC_IN_STRING : VT_ESC;
        return true;
    }
    if (c < 0x20 && !(c == 0x07 && b->state == VT_STRING))
        return true;                 /* a C0 control acts, the state stays */

    switch (b->state) {
    case VT_ESC_IN_STRING:
        if (c == '\\') {
            b->state = VT_NORMAL;
            return true;
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
            b->state = VT_NORMAL;
        }
        return true;
    case VT_CSI_LEADER:
        if (c >= 0x3c && c <= 0x3f)
            return true;
        b->state = VT_CSI_ARGS;
        /* fallthrough */
    case VT_CSI_ARGS:
        if ((c >= '0' && c <= '9') || c == ';' || c == ':')
            return csi_arg_byte(b, c);
        b->state = VT_CSI_INTERMED;
        /* fallthrough */
    case VT_CSI_INTERMED:
        if (!is_intermediate(c))
            b->state = VT_NORMAL;
        return true;
    case VT_STRING:
        if (c == 0x07)
            b->state = VT_NORMAL;    /* BEL ends an OSC or DCS (UTF-8 mode: 0x9c does not) */
        return true;
    default:
        return true;                 /* text */
    }
}

size_t cons_vt_bound(struct cons_vt_bound *b, const char *in, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (pass(b, (unsigned char)in[i]))
            out[k++] = in[i];
    return k;
}
