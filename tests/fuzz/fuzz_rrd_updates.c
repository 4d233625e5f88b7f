/* fuzz_rrd_updates.c: libFuzzer target for the metrics GET routes
 * (handlers/metrics/metrics_http.c: /rrd_updates, /host_rrd, /vm_rrd,
 * /metrics) as their route table calls them: the query string (start,
 * interval, cf, host, vm_uuid…, json) and the Accept header (q-values), then
 * the export itself (rrd_updates.c: archive choice, rows, JSON and XML) over
 * a registry of a host RRD and three VMs' (one halted) with a day of ticks.
 * The input: a route byte, the query, '\n', the Accept header.
 * Properties: only 200, 400 and 404; a JSON /rrd_updates answer parses as
 * JSON with meta.rows rows in data, meta.columns names in the legend and
 * that many values in each row. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "http_routes.h"
#include "metrics/metrics_int.h"

static const char *const vm_uuid[] = {
    "3f7b3c1a-0000-4000-8000-000000000001", "3f7b3c1a-0000-4000-8000-000000000002",
    "3f7b3c1a-0000-4000-8000-000000000003"};
#define T0 1733000000.0                   /* a day of 5 s ticks before now */

static struct rrd *filled(enum rrd_layout layout, const char *const *ds, uint32_t n)
{
    struct rrd *r = rrd_create(layout, T0);
    for (uint32_t i = 0; i < n; i++) {
        struct rrd_ds_def def = {ds[i], i % 2 ? RRD_DERIVE : RRD_GAUGE, 0, 1e12};
        if (!r || rrd_add_ds(r, &def, T0) < 0)
            abort();
    }
    struct rrd_in in[4];
    for (uint32_t t = 1; t <= 86400 / 5; t++) {
        for (uint32_t i = 0; i < n; i++)
            in[i].v = (struct rrd_value){.kind = RRD_V_F64, .f = (double)(t % 97) * (i + 1)};
        rrd_update(r, T0 + 5.0 * t, in, t == 1);
    }
    return r;
}

static void make_registry(void)
{
    struct mreg *g = metrics_reg();
    mreg_init(g);
    static const char *const host_ds[] = {"cpu0", "memory_free_kib", "memory_total_kib"};
    static const char *const vm_ds[] = {"cpu0", "memory", "vif_0_rx", "vbd_xvda_read"};
    snprintf(g->host.uuid, sizeof g->host.uuid, "8a7d1c52-5a8b-4c2e-9a39-0ffee0000001");
    g->host.rrd = filled(RRD_LAYOUT_HOST, host_ds, 3);
    for (uint32_t i = 0; i < 3; i++) {
        struct mentry *e = calloc(1, sizeof *e);
        snprintf(e->uuid, sizeof e->uuid, "%s", vm_uuid[i]);
        e->domid = i + 1;
        e->halted = i == 2;
        e->rrd = filled(RRD_LAYOUT_VM, vm_ds, 4 - i);
        mreg_add(g, e);
    }
    metrics_http_register();
}

static size_t array_len(yajl_val v)
{
    return YAJL_IS_ARRAY(v) ? v->u.array.len : (size_t)-1;
}

/* The JSON export's shape is what its meta says. */
static void check_json(const char *body)
{
    char err[128];
    yajl_val top = yajl_tree_parse(body, err, sizeof err);
    if (!top) {
        fprintf(stderr, "/rrd_updates JSON does not parse (%s):\n%s\n", err, body);
        abort();
    }
    const char *rows_p[] = {"meta", "rows", NULL}, *cols_p[] = {"meta", "columns", NULL},
               *legend_p[] = {"meta", "legend", NULL}, *data_p[] = {"data", NULL};
    yajl_val rows = yajl_tree_get(top, rows_p, yajl_t_number),
             cols = yajl_tree_get(top, cols_p, yajl_t_number),
             legend = yajl_tree_get(top, legend_p, yajl_t_array),
             data = yajl_tree_get(top, data_p, yajl_t_array);
    if (!rows || !cols || !legend || !data ||
        array_len(data) != (size_t)YAJL_GET_INTEGER(rows) ||
        array_len(legend) != (size_t)YAJL_GET_INTEGER(cols))
        goto bad;
    for (size_t i = 0; i < data->u.array.len; i++) {
        const char *values_p[] = {"values", NULL};
        yajl_val v = yajl_tree_get(data->u.array.values[i], values_p, yajl_t_array);
        if (!v || array_len(v) != (size_t)YAJL_GET_INTEGER(cols))
            goto bad;
    }
    yajl_tree_free(top);
    return;
bad:
    fprintf(stderr, "/rrd_updates JSON is not the shape its meta says:\n%s\n", body);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool made;
    if (!made) {
        make_registry();
        made = true;
    }
    if (!size || size > 4096)
        return 0;
    static const char *const paths[] = {"/rrd_updates", "/host_rrd", "/vm_rrd", "/metrics"};
    const char *path = paths[data[0] % 4];
    char *in = malloc(size);
    memcpy(in, data + 1, size - 1);
    in[size - 1] = 0;
    char *nl = strchr(in, '\n');
    const char *accept = NULL;
    if (nl) {
        *nl = 0;
        accept = nl + 1;
    }
    const struct xg_http_route_entry *r = xg_http_find_route("GET", path, strlen(path));
    if (!r || !r->get_fn)
        abort();
    struct xg_http_request rq = {
        .method = "GET", .path = path, .query = in, .accept = accept,
        .client_addr = "127.0.0.1", .content_length = -1, .user = "root",
    };
    struct xg_http_response rs;
    memset(&rs, 0, sizeof rs);
    xg_out_init(&rs.body);
    r->get_fn(&rq, &rs);
    if (rs.status != 200 && rs.status != 400 && rs.status != 404)
        abort();
    if (rs.status == 200 && data[0] % 4 == 0 && rs.content_type &&
        strcmp(rs.content_type, "application/json") == 0) {
        size_t len;
        char *body = xg_out_strdup(&rs.body, &len);
        check_json(body);
        free(body);
    }
    xg_out_reset(&rs.body);
    free(in);
    return 0;
}
