/* plugin_response.h: a host plugin's methodResponse (plugin_response.c). */
#ifndef GW_PLUGIN_RESPONSE_H
#define GW_PLUGIN_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "../server/arena.h"

enum gw_plugin_answer {
    GW_PLUGIN_OK,            /* text: the one string result */
    GW_PLUGIN_FAULT,         /* fault_code, text: faultString */
    GW_PLUGIN_UNEXPECTED,    /* well-formed but not one string (or a fault) */
    GW_PLUGIN_UNREADABLE,    /* why: what was wrong */
};

struct gw_plugin_reply {
    const char *text;        /* in the arena, NUL-terminated */
    uint32_t len;
    int32_t fault_code;
    char why[160];
};

enum gw_plugin_answer gw_plugin_read_reply(xg_arena *a, const char *out, size_t len,
                                           struct gw_plugin_reply *r);

#endif
