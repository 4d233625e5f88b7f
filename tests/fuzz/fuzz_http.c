/* fuzz_http.c: libFuzzer target for http_in.c framing: the input is split
 * into reads at bytes chosen by its first byte, then every request is
 * taken in order, as conn.c does. */
#include <stdint.h>
#include <string.h>

#include "http_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct xg_http_limits lim = { 8192, 64, 300 * 1024 };
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    size_t step = size ? (data[0] % 64) + 1 : 1;
    size_t off = 0;
    while (off < size) {
        size_t room;
        char *p = xg_http_in_space(&h, &room);
        if (!p)
            break;
        size_t k = size - off < step ? size - off : step;
        if (k > room)
            k = room;
        memcpy(p, data + off, k);
        off += k;
        enum xg_http_status s = xg_http_in_feed(&h, k);
        while (s == XG_HTTP_REQUEST) {
            (void)xg_http_in_path(&h);
            (void)xg_http_in_query(&h);
            for (int i = 0; i < XG_H_COUNT; i++)
                (void)xg_http_in_header(&h, (enum xg_hdr)i);
            s = xg_http_in_next(&h);
        }
        if (s == XG_HTTP_ERROR)
            break;
    }
    xg_http_in_free(&h);
    return 0;
}
