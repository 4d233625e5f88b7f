/* xml_scan.h: the small, strict XML reader under the XML-RPC request parser
 * (xmlrpc_in.c). It knows elements, character data, the five predefined
 * entities, character references, CDATA sections, comments and processing
 * instructions, and nothing else: any markup declaration (<!DOCTYPE,
 * <!ENTITY, ...) is refused, so no entity is ever expanded beyond one
 * character. Every step is linear in the input and allocates only in the
 * call's arena, at most once per text and never more than the text's own
 * length plus one. Errors are the first one met, written to msg. */
#ifndef XG_XML_SCAN_H
#define XG_XML_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct xg_xml {
    const char *p, *end;   /* the document, as UTF-8 */
    xg_arena *a;
    char *msg;
    size_t msglen;
    bool failed;           /* msg holds the first error */
} xg_xml;

enum xg_xml_kind {
    XG_XML_OPEN,           /* <name ...> */
    XG_XML_EMPTY,          /* <name .../> */
    XG_XML_CLOSE,          /* </name> */
    XG_XML_DATA,           /* character data where a tag was expected */
    XG_XML_EOF,
};

struct xg_xml_tag {
    enum xg_xml_kind kind;
    const char *name;      /* not terminated: name_len bytes */
    size_t name_len;
    const char *attrs;     /* the (checked) attributes of a start tag */
    size_t attrs_len;
};

/* Sets up x over body: a UTF-8 BOM is skipped; a UTF-16 BOM or an
 * ISO-8859-1 encoding declaration makes a UTF-8 copy in the arena; any
 * other declared encoding than UTF-8/US-ASCII is refused. */
bool xg_xml_begin(xg_xml *x, xg_arena *a, const char *body, size_t len,
                  char *msg, size_t msglen);

/* Records the first error (printf format); always returns false. */
bool xg_xml_fail(xg_xml *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Skips whitespace, comments and processing instructions; false (with the
 * error set) on a markup declaration or an unterminated construct. */
bool xg_xml_skip_space(xg_xml *x);

/* Reads the character data up to the next start or end tag (or the end):
 * references decoded, CDATA included, comments and PIs dropped, line ends
 * normalised to \n as XML requires, UTF-8 and XML characters checked.
 * *s is NUL-terminated in the arena (a static "" when there is none). */
bool xg_xml_text(xg_xml *x, const char **s, uint32_t *n);

/* Reads the tag at the current position (attributes are checked and
 * ignored); DATA or EOF when there is none, without moving. */
bool xg_xml_tag(xg_xml *x, struct xg_xml_tag *t);

/* true when the next thing is an end tag (after xg_xml_skip_space). */
static inline bool xg_xml_at_close(const xg_xml *x)
{
    return x->end - x->p >= 2 && x->p[0] == '<' && x->p[1] == '/';
}

/* The value of attribute name of start tag t (read by xg_xml_tag from x),
 * references decoded, NUL-terminated in the arena; NULL when t has no such
 * attribute (or on an error, then set in x). */
const char *xg_xml_attr(xg_xml *x, const struct xg_xml_tag *t, const char *name);

/* true when t is a tag named name */
bool xg_xml_is(const struct xg_xml_tag *t, const char *name);

#endif
