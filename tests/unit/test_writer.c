/* test_writer.c: writer output byte for byte against XAPI's encodings
 * (spec/xapi-wire.md §2.1, §2.3), including sanitising of guest bytes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "writer.h"

static void sample(xg_writer *w)
{
    const struct xg_writer_ops *o = w->ops;
    o->begin_struct(w);
    o->member(w, "name_label", 10);
    xg_write_cstr(w, "a&b<c>\"d\x01\tz");
    o->member(w, "memory", 6);
    o->int64(w, 4294967296LL);
    o->member(w, "n", 1);
    o->int32(w, 12);
    o->member(w, "f", 1);
    o->dbl(w, 1.0);
    o->member(w, "g", 1);
    o->dbl(w, 0.5);
    o->member(w, "b", 1);
    o->boolean(w, true);
    o->member(w, "t", 1);
    o->datetime(w, 1742357784);
    o->member(w, "set", 3);
    o->begin_array(w);
    xg_write_cstr(w, "x");
    o->begin_array(w);
    o->end_array(w);
    o->boolean(w, false);
    o->end_array(w);
    o->member(w, "m", 1);
    o->begin_struct(w);
    o->end_struct(w);
    o->end_struct(w);
}

static char *render(void (*init)(xg_writer *, xg_out *), void (*fn)(xg_writer *))
{
    xg_out o;
    xg_writer w;
    xg_out_init(&o);
    init(&w, &o);
    fn(&w);
    char *s = xg_out_strdup(&o, NULL);
    xg_out_reset(&o);
    return s;
}

static void test_xml(void **st)
{
    char *s = render(xg_writer_init_xml, sample);
    assert_string_equal(s,
        "<value><struct>"
        "<member><name>name_label</name><value>a&amp;b&lt;c&gt;&quot;d\tz</value></member>"
        "<member><name>memory</name><value>4294967296</value></member>"
        "<member><name>n</name><value><i4>12</i4></value></member>"
        "<member><name>f</name><value><double>1</double></value></member>"
        "<member><name>g</name><value><double>0.5</double></value></member>"
        "<member><name>b</name><value><boolean>1</boolean></value></member>"
        "<member><name>t</name><value><dateTime.iso8601>20250319T04:16:24Z</dateTime.iso8601></value></member>"
        "<member><name>set</name><value><array><data><value>x</value>"
        "<value><array><data></data></array></value><value><boolean>0</boolean></value>"
        "</data></array></value></member>"
        "<member><name>m</name><value><struct></struct></value></member>"
        "</struct></value>");
    free(s);
}

static void test_json(void **st)
{
    char *s = render(xg_writer_init_json, sample);
    assert_string_equal(s,
        "{\"name_label\":\"a&b<c>\\\"d\\u0001\\tz\",\"memory\":4294967296,\"n\":12,"
        "\"f\":1.0,\"g\":0.5,\"b\":true,\"t\":\"20250319T04:16:24Z\","
        "\"set\":[\"x\",[],false],\"m\":{}}");
    free(s);
}

static void bad_utf8(xg_writer *w)
{
    w->ops->begin_array(w);
    xg_write_cstr(w, "ok\xc3\xa9|\xff|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82");
    w->ops->dbl(w, NAN);
    w->ops->dbl(w, -INFINITY);
    w->ops->dbl(w, 1e20);
    w->ops->int64(w, INT64_MIN);
    w->ops->end_array(w);
}

static void test_sanitise(void **st)
{
    char *s = render(xg_writer_init_xml, bad_utf8);
    assert_string_equal(s, "<value><array><data><value>ok\xc3\xa9|\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd</value>"
                           "<value><double>nan</double></value><value><double>-inf</double></value>"
                           "<value><double>1e+20</double></value>"
                           "<value>-9223372036854775808</value></data></array></value>");
    free(s);
    s = render(xg_writer_init_json, bad_utf8);
    assert_string_equal(s, "[\"ok\xc3\xa9|\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd\",NaN,-Infinity,1e+20,-9223372036854775808]");
    free(s);
}

static void test_fmt(void **st)
{
    char b[40];
    assert_int_equal(xg_fmt_datetime(b, 0), 18);
    assert_string_equal(b, "19700101T00:00:00Z");
    xg_fmt_double(b, 0.1);
    assert_string_equal(b, "0.1");
    xg_fmt_double(b, 1.0 / 3);
    assert_string_equal(b, "0.3333333333333333");
}

static void big(xg_writer *w)
{
    w->ops->begin_array(w);
    char s[1000];
    memset(s, 'q', sizeof(s));
    for (int i = 0; i < 300; i++)
        w->ops->string(w, s, sizeof(s));
    w->ops->end_array(w);
}

static void test_chunks(void **st)
{
    char *s = render(xg_writer_init_json, big);
    assert_int_equal(strlen(s), 2 + 300 * 1002 + 299);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_sanitise),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test(test_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
