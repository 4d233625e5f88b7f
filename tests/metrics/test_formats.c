/* test_formats.c: golden outputs (xport XML and JSON, dump XML and JSON,
 * OpenMetrics), the gzipped file round trip, and loading an XAPI-style
 * dump. XG_UPDATE_GOLDEN=1 rewrites the golden files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "doubles.h"

#define T0 1700000000.0
#define HOST "2f4c1a7e-0000-4000-8000-000000000001"
#define VM "8d3b6a52-1111-4222-8333-444455556666"

static struct rrd *H, *V;

static char *render(void (*fn)(struct msink *, void *), void *arg, size_t *len)
{
    struct mbuf b = {0};
    struct msink s;
    ms_init(&s, mbuf_sink, &b);
    fn(&s, arg);
    ms_flush(&s);
    if (len)
        *len = b.len;
    return b.p ? b.p : calloc(1, 1);
}

static void golden(const char *name, const char *got)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
    if (getenv("XG_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("missing golden %s (run with XG_UPDATE_GOLDEN=1)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *want = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (strcmp(want, got) != 0)
        fail_msg("%s differs from golden", name);
    free(want);
}

/* A small deterministic host and VM history: 4 updates at 5 s. */
static int setup(void **st)
{
    H = rrd_create(RRD_LAYOUT_HOST, T0);
    V = rrd_create(RRD_LAYOUT_VM, T0);
    struct rrd_ds_def c0 = {"cpu0", RRD_DERIVE, 0, 1}, mf = {"memory_free_kib", RRD_GAUGE, 0, INFINITY};
    struct rrd_ds_def mem = {"memory", RRD_GAUGE, 0, INFINITY};
    rrd_add_ds(H, &c0, T0);
    rrd_add_ds(H, &mf, T0);
    rrd_add_ds(V, &mem, T0);
    for (int i = 1; i <= 4; i++) {
        struct rrd_in hin[2] = {{{RRD_V_F64, 0, 100 + i * 5 * (1 - 0.0123)}, true},
                                {{RRD_V_I64, 1048576 - i, 0}, false}};
        rrd_update(H, T0 + 5 * i, hin, false);
        struct rrd_in vin[1] = {{{RRD_V_I64, (int64_t)1073741824 + i, 0}, false}};
        rrd_update(V, T0 + 5 * i, vin, false);
    }
    return 0;
}

static int teardown(void **st)
{
    rrd_free(H);
    rrd_free(V);
    return 0;
}

struct xarg { struct xport_req rq; };

static void do_xport(struct msink *s, void *arg)
{
    struct xport_src src[2] = {{"host", HOST, H}, {"vm", VM, V}};
    xg_err err = XG_ERR_INIT;
    assert_true(xport_write(s, src, 2, &((struct xarg *)arg)->rq, &err));
}

static void xport_golden(void **st)
{
    /* XO's query for the 5 s archive: start = now - 5*120 + 5, cf=AVERAGE */
    struct xarg a = {{.start = (int64_t)T0 + 20 - 600 + 5, .interval = 5, .have_cf = true,
                      .cf = RRD_AVERAGE}};
    char *x = render(do_xport, &a, NULL);
    golden("xport.xml", x);
    /* newest row first */
    assert_non_null(strstr(x, "<data><row><t>1700000020</t>"));
    free(x);
    a.rq.json = true;
    a.rq.start = (int64_t)T0 + 10;
    x = render(do_xport, &a, NULL);
    golden("xport.json", x);
    assert_non_null(strstr(x, "\"step\":5,"));           /* bare numbers for XO */
    free(x);
    /* interval=60, no cf: host AVERAGE+MIN+MAX, VM AVERAGE only */
    a = (struct xarg){{.start = (int64_t)T0 - 7200 + 60, .interval = 60}};
    x = render(do_xport, &a, NULL);
    golden("xport_60.xml", x);
    assert_non_null(strstr(x, "<step>60</step>"));
    assert_non_null(strstr(x, "<columns>7</columns>"));
    free(x);
    /* cf=LAST: no such archive anywhere */
    struct xport_src src[1] = {{"host", HOST, H}};
    struct xport_req rq = {.start = 0, .have_cf = true, .cf = RRD_LAST};
    struct mbuf b = {0};
    struct msink s;
    ms_init(&s, mbuf_sink, &b);
    xg_err err = XG_ERR_INIT;
    assert_false(xport_write(&s, src, 1, &rq, &err));
    mbuf_free(&b);
    /* a start at either end of int64 (fuzz_rrd_updates: it overflowed the
     * arithmetic): no rows after it, every row before it */
    a = (struct xarg){{.start = INT64_MAX, .interval = 5, .json = true}};
    x = render(do_xport, &a, NULL);
    assert_non_null(strstr(x, "\"rows\":0,"));
    free(x);
    a.rq.start = INT64_MIN;
    x = render(do_xport, &a, NULL);
    assert_null(strstr(x, "\"rows\":0,"));
    free(x);
}

static void do_dump_xml(struct msink *s, void *arg) { rrd_dump_xml(s, arg, false); }
static void do_dump_xml_int(struct msink *s, void *arg) { rrd_dump_xml(s, arg, true); }
static void do_dump_json(struct msink *s, void *arg) { rrd_dump_json(s, arg); }

static void dump_golden(void **st)
{
    char *x = render(do_dump_xml, V, NULL);
    golden("vm_dump.xml", x);
    assert_non_null(strstr(x, "<lastupdate>1700000020</lastupdate>"));
    free(x);
    x = render(do_dump_json, V, NULL);
    golden("vm_dump.json", x);
    free(x);
}

/* Everything but <last_ds>, which a reload forgets on purpose. */
static void strip_last_ds(char *s)
{
    char *p;
    while ((p = strstr(s, "<last_ds>")) != NULL) {
        char *e = strstr(p, "</last_ds>");
        memmove(p, e + 10, strlen(e + 10) + 1);
    }
}

static void gz_round_trip(void **st)
{
    char dir[] = "/tmp/xg-metrics-fmt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    xg_err err = XG_ERR_INIT;
    assert_true(rrd_file_save(dir, HOST, H, &err));
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.gz", dir, HOST);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char magic[2];
    assert_int_equal(fread(magic, 1, 2, f), 2);
    fclose(f);
    assert_int_equal(magic[0], 0x1f);               /* gzip */
    assert_int_equal(magic[1], 0x8b);
    struct rrd *L = NULL;
    assert_true(rrd_file_load(dir, HOST, &L, &err));
    assert_non_null(L);
    char *a = render(do_dump_xml_int, H, NULL), *b = render(do_dump_xml_int, L, NULL);
    strip_last_ds(a);
    strip_last_ds(b);
    assert_string_equal(a, b);
    /* and a second generation is byte-identical */
    assert_true(rrd_file_save(dir, "0000aaaa", L, &err));
    struct rrd *L2 = NULL;
    assert_true(rrd_file_load(dir, "0000aaaa", &L2, &err));
    char *c = render(do_dump_xml_int, L2, NULL), *d = render(do_dump_xml_int, L, NULL);
    assert_string_equal(c, d);
    free(a); free(b); free(c); free(d);
    rrd_free(L);
    rrd_free(L2);
    /* missing file: no archive, and no error */
    xg_err e2 = XG_ERR_INIT;
    struct rrd *none = L;
    assert_true(rrd_file_load(dir, "deadbeef", &none, &e2));
    assert_null(none);
    assert_null(e2.code);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void load_xapi_fixture(void **st)
{
    /* Hand-made, XAPI-shaped: a duplicate DS, a negative min, no
     * <last_updated>, pretty-printed, 3 rows. */
    const char *xml =
        "<?xml version=\"1.0\"?>\n<rrd>\n <version>0003</version>\n <step>5</step>\n"
        " <lastupdate>1700000010</lastupdate>\n"
        " <ds><name>memory</name><type>GAUGE</type><minimal_heartbeat>300.0000</minimal_heartbeat>"
        "<min>-Infinity</min><max>Infinity</max><last_ds>5</last_ds><value>0.0</value>"
        "<unknown_sec>0</unknown_sec></ds>\n"
        " <ds><name>cpu0</name><type>DERIVE</type><minimal_heartbeat>300</minimal_heartbeat>"
        "<min>0.0</min><max>1</max><last_ds>2.5</last_ds><value>0.0</value><unknown_sec>0</unknown_sec></ds>\n"
        " <ds><name>memory</name><type>GAUGE</type><minimal_heartbeat>300</minimal_heartbeat>"
        "<min>0.0</min><max>Infinity</max><last_ds>5</last_ds><value>0.0</value><unknown_sec>0</unknown_sec></ds>\n"
        " <rra><cf>AVERAGE</cf><pdp_per_row>1</pdp_per_row><params><xff>0.5</xff></params>\n"
        "  <cdp_prep><ds><primary_value>0.0</primary_value><secondary_value>0.0</secondary_value>"
        "<value>0.0</value><unknown_datapoints>0</unknown_datapoints></ds>"
        "<ds><primary_value>0.0</primary_value><secondary_value>0.0</secondary_value>"
        "<value>0.0</value><unknown_datapoints>0</unknown_datapoints></ds>"
        "<ds><primary_value>0.0</primary_value><secondary_value>0.0</secondary_value>"
        "<value>0.0</value><unknown_datapoints>0</unknown_datapoints></ds></cdp_prep>\n"
        "  <database><row><v>-1</v><v>0.5</v><v>10</v></row>"
        "<row><v>NaN</v><v>0.25</v><v>20</v></row>"
        "<row><v>3</v><v>0.125</v><v>30</v></row></database></rra>\n</rrd>\n";
    xg_err err = XG_ERR_INIT;
    struct rrd *r = rrd_load_xml(xml, strlen(xml), &err);
    assert_non_null(r);
    assert_int_equal(r->nds, 2);                     /* duplicate dropped, last kept */
    assert_string_equal(r->ds[0].name, "cpu0");
    assert_string_equal(r->ds[1].name, "memory");
    assert_int_equal(r->rra[0].rows, 3);
    assert_true(r->ds[1].min == 0.0);
    assert_true(rrd_peek(r, 0, 1, 0) == 30);
    assert_true(rrd_peek(r, 0, 0, 2) == 0.5);
    assert_true(r->ds[0].last.kind == RRD_V_UNKNOWN);   /* no spike after reload */
    assert_true(r->ds[0].last_updated == 1700000010.0);
    rrd_free(r);
    /* garbage is refused, never crashes */
    const char *bad[] = {"", "<rrd>", "<rrd><ds><name>x</name></ds>", "<x/>",
                         "<rrd><lastupdate>1</lastupdate><rra><cf>AVERAGE</cf></rra></rrd>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xg_err e = XG_ERR_INIT;
        assert_null(rrd_load_xml(bad[i], strlen(bad[i]), &e));
        assert_true(xg_err_is_set(&e));
    }
}

/* One DS, one archive of one row; the parts fuzz_rrd found wrong are
 * parameters. */
static struct rrd *load_one(const char *name, const char *lastupdate, const char *unknown,
                            const char *xff, xg_err *err)
{
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<rrd><step>5</step><lastupdate>%s</lastupdate>"
             "<ds><name>%s</name><type>GAUGE</type></ds>"
             "<rra><cf>AVERAGE</cf><pdp_per_row>12</pdp_per_row><params><xff>%s</xff></params>"
             "<cdp_prep><ds><value>0</value><unknown_datapoints>%s</unknown_datapoints></ds>"
             "</cdp_prep><database><row><v>1</v></row></database></rra></rrd>",
             lastupdate, name, xff, unknown);
    return rrd_load_xml(xml, strlen(xml), err);
}

static void load_refuses_what_it_cannot_keep(void **st)
{
    xg_err err = XG_ERR_INIT;
    struct rrd *r = load_one("ok", "1700000000", "3", "0.5", &err);
    assert_non_null(r);
    rrd_free(r);
    /* found by fuzz_rrd: a time beyond int64 seconds and an xff that is not
     * a share were undefined behaviour in rrd_add_ds/rrd_update; a control
     * byte in a name could not survive our dump */
    const char *bad[][4] = {
        {"ok", "1e300", "0", "0.5"}, {"ok", "-5", "0", "0.5"}, {"ok", "nan", "0", "0.5"},
        {"a\002b", "1700000000", "0", "0.5"}, {"ok", "1700000000", "13", "0.5"},
        {"ok", "1700000000", "0", "x"}, {"ok", "1700000000", "0", "1e300"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xg_err e = XG_ERR_INIT;
        assert_null(load_one(bad[i][0], bad[i][1], bad[i][2], bad[i][3], &e));
        assert_true(xg_err_is_set(&e));
    }
    /* found by fuzz_rrd: an infinite <unknown_sec> loaded, then its dump
     * converted inf to an integer (undefined behaviour) */
    const char *bad_unknown_sec[] = { "inf", "-1", "1e30", "6" };
    for (size_t i = 0; i < sizeof(bad_unknown_sec) / sizeof(bad_unknown_sec[0]); i++) {
        char xml[1024];
        snprintf(xml, sizeof xml,
                 "<rrd><step>5</step><lastupdate>1700000000</lastupdate>"
                 "<ds><name>ok</name><type>GAUGE</type><unknown_sec>%s</unknown_sec></ds>"
                 "<rra><cf>AVERAGE</cf><pdp_per_row>12</pdp_per_row><params><xff>0.5</xff>"
                 "</params><cdp_prep><ds><value>0</value><unknown_datapoints>0"
                 "</unknown_datapoints></ds></cdp_prep><database><row><v>1</v></row>"
                 "</database></rra></rrd>", bad_unknown_sec[i]);
        xg_err e = XG_ERR_INIT;
        assert_null(rrd_load_xml(xml, strlen(xml), &e));
        assert_true(xg_err_is_set(&e));
    }
    /* the entities our dump writes are read back: a name does not grow an
     * "amp;" at every save */
    r = load_one("a&amp;b&lt;&#x41;", "1700000000", "0", "0.5", &err);
    assert_non_null(r);
    assert_string_equal(r->ds[0].name, "a&b<A");
    struct mbuf b = {0};
    struct msink s;
    ms_init(&s, mbuf_sink, &b);
    rrd_dump_xml(&s, r, true);
    ms_flush(&s);
    rrd_free(r);
    r = rrd_load_xml(b.p, b.len, &err);
    assert_non_null(r);
    assert_string_equal(r->ds[0].name, "a&b<A");
    rrd_free(r);
    mbuf_free(&b);
}

/* A small OpenMetrics text checker: families declared before samples,
 * sample names match the family, values parse, # EOF last. */
static void check_openmetrics(const char *text, bool om)
{
    char fam[128] = "", type[16] = "";
    int samples = 0;
    const char *p = text;
    bool eof = false;
    while (*p) {
        const char *e = strchr(p, '\n');
        assert_non_null(e);
        char line[1024];
        size_t n = (size_t)(e - p);
        assert_true(n < sizeof(line));
        memcpy(line, p, n);
        line[n] = '\0';
        p = e + 1;
        assert_false(eof);
        if (!strcmp(line, "# EOF")) {
            eof = true;
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s %15s", fam, type), 2);
            assert_true(!strcmp(type, "gauge") || !strcmp(type, "counter"));
            continue;
        }
        if (!strncmp(line, "# UNIT ", 7) || !strncmp(line, "# HELP ", 7)) {
            assert_true(!strncmp(line + 7, fam, strlen(fam)));
            continue;
        }
        assert_true(fam[0]);
        char want[160];
        snprintf(want, sizeof(want), "%s%s{", fam,
                 (!strcmp(type, "counter") && om) ? "_total" : "");
        assert_true(!strncmp(line, want, strlen(want)));
        char *close = strrchr(line, '}');
        assert_non_null(close);
        assert_int_equal(close[1], ' ');
        char *end;
        strtod(close + 2, &end);
        assert_true(*end == '\0' && end != close + 2);
        samples++;
    }
    assert_int_equal(eof, om);
    assert_true(samples > 0);
}

static void openmetrics_golden(void **st)
{
    struct mreg g;
    mreg_init(&g);
    g.host.rrd = rrd_copy(H);
    snprintf(g.host.uuid, sizeof(g.host.uuid), HOST);
    snprintf(g.hostname, sizeof(g.hostname), "host \"one\"");
    struct mentry *e = calloc(1, sizeof(*e));
    snprintf(e->uuid, sizeof(e->uuid), VM);
    snprintf(e->name, sizeof(e->name), "web");
    e->rrd = rrd_copy(V);
    mreg_add(&g, e);
    struct mbuf b = {0};
    struct msink s;
    ms_init(&s, mbuf_sink, &b);
    om_write(&s, &g, HOST, true);
    ms_flush(&s);
    golden("metrics.om.txt", b.p);
    check_openmetrics(b.p, true);
    assert_non_null(strstr(b.p, "xcp_vm_memory_bytes{uuid=\"" VM "\",name_label=\"web\"} 1073741824\n"));
    assert_non_null(strstr(b.p, "name_label=\"host \\\"one\\\"\""));
    mbuf_free(&b);
    ms_init(&s, mbuf_sink, &b);
    om_write(&s, &g, HOST, false);
    ms_flush(&s);
    check_openmetrics(b.p, false);
    assert_null(strstr(b.p, "# EOF"));
    mbuf_free(&b);
    mreg_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xport_golden),
        cmocka_unit_test(dump_golden),
        cmocka_unit_test(gz_round_trip),
        cmocka_unit_test(load_xapi_fixture),
        cmocka_unit_test(load_refuses_what_it_cannot_keep),
        cmocka_unit_test(openmetrics_golden),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
