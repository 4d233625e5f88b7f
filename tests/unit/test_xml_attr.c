/* test_xml_attr.c: attribute values of the strict XML reader
 * (server/xml_scan.h xg_xml_attr), as perfmon configs use them:
 * <name value="…"/>, quotes of either kind, references decoded, absent
 * attributes, and a tag whose attributes are malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "xml_scan.h"

static const char *attr_of(xg_arena *a, const char *doc, const char *name, bool *ok)
{
    char msg[128];
    xg_xml x;
    struct xg_xml_tag t;
    *ok = xg_xml_begin(&x, a, doc, strlen(doc), msg, sizeof msg) && xg_xml_skip_space(&x) &&
          xg_xml_tag(&x, &t);
    return *ok ? xg_xml_attr(&x, &t, name) : NULL;
}

static void test_values(void **state)
{
    (void)state;
    xg_arena *a = xg_arena_new(4096);
    bool ok;
    assert_string_equal(attr_of(a, "<name value=\"memory_free_kib\"/>", "value", &ok),
                        "memory_free_kib");
    assert_string_equal(attr_of(a, "<v  a='1'\tvalue = 'x &amp; &lt;y&gt; &#65;' />", "value", &ok),
                        "x & <y> A");
    assert_string_equal(attr_of(a, "<v valuex=\"no\" value=\"yes\">", "value", &ok), "yes");
    assert_string_equal(attr_of(a, "<v value=\"\"/>", "value", &ok), "");
    assert_null(attr_of(a, "<v other=\"1\"/>", "value", &ok));
    assert_true(ok);
    assert_null(attr_of(a, "<v/>", "value", &ok));
    assert_true(ok);
    xg_arena_free(a);
}

static void test_malformed_tags(void **state)
{
    (void)state;
    xg_arena *a = xg_arena_new(4096);
    bool ok;
    attr_of(a, "<v value=\"unterminated/>", "value", &ok);
    assert_false(ok);
    attr_of(a, "<v value=bare/>", "value", &ok);
    assert_false(ok);
    attr_of(a, "<v value=\"a<b\"/>", "value", &ok);
    assert_false(ok);
    xg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_malformed_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
