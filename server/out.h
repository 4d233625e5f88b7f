/* out.h: response bytes as a chain of fixed-size chunks.
 *
 * Writers append here; the connection sends chunks as they fill. Chunks come
 * from a per-thread free list, so steady-state serving does not call malloc
 * per response, let alone per field. */
#ifndef XG_OUT_H
#define XG_OUT_H

#include <stddef.h>
#include <stdint.h>

struct xg_chunk {
    struct xg_chunk *next;
    uint32_t len;          /* bytes used */
    uint32_t sent;         /* bytes already written to the socket */
    char data[];           /* XG_OUT_CHUNK_BYTES */
};

typedef struct xg_out {
    struct xg_chunk *head, *tail;
    size_t total;          /* bytes appended so far */
} xg_out;

void xg_out_init(xg_out *o);
void xg_out_append(xg_out *o, const void *p, size_t n);
void xg_out_putc(xg_out *o, char ch);
void xg_out_puts(xg_out *o, const char *s);
void xg_out_printf(xg_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies the whole content into a NUL-terminated malloc'd string. */
char *xg_out_strdup(const xg_out *o, size_t *len_out);
void xg_out_reset(xg_out *o);      /* returns chunks to the free list */
/* Moves every chunk of src to the end of dst (no copy). */
void xg_out_move(xg_out *dst, xg_out *src);
/* Connection side: frees the leading chunks whose bytes were all sent and
 * subtracts them from total (total then counts bytes still queued). */
void xg_out_drop_sent(xg_out *o);
/* Bytes appended and not yet sent. */
size_t xg_out_pending(const xg_out *o);

#endif
