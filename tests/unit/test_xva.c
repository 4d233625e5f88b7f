/* test_xva.c: the pure parts of XVA archives (handlers/xva_tar.c,
 * handlers/xva_ova.c): ustar headers written and read back, hostile
 * headers refused, chunk member names, and ova.xml documents (valid, and
 * the forms an uploaded archive could take to hurt the reader). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../handlers/xva.h"

static void tar_round_trip(void **state)
{
    (void)state;
    char h[XVA_TAR_BLOCK], name[XVA_NAME_MAX], msg[128];
    uint64_t size = 0;
    xva_tar_header(h, "Ref:12/00000007.xxhash", 16);
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_FILE);
    assert_string_equal(name, "Ref:12/00000007.xxhash");
    assert_int_equal(size, 16);
    xva_tar_header(h, "ova.xml", 5ull << 30);
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_FILE);
    assert_int_equal(size, 5ull << 30);
    assert_int_equal(xva_tar_pad(1), 511);
    assert_int_equal(xva_tar_pad(512), 0);
}

static void tar_hostile(void **state)
{
    (void)state;
    char h[XVA_TAR_BLOCK], name[XVA_NAME_MAX], msg[128];
    uint64_t size;
    memset(h, 0, sizeof h);
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_END);
    xva_tar_header(h, "ova.xml", 10);
    h[0] ^= 1;                                      /* checksum no longer matches */
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_BAD);
    /* a directory, a symlink: refused, never followed */
    const char types[] = {'5', '2', '1', 'L', 'x'};
    for (size_t i = 0; i < sizeof types; i++) {
        xva_tar_header(h, "a", 0);
        h[156] = types[i];
        xva_tar_seal(h);
        assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_BAD);
    }
    /* a size field that is not octal */
    xva_tar_header(h, "a", 0);
    memcpy(h + 124, "9999999999x", 11);
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_BAD);
}

/* The longest name ustar holds: a 155-byte prefix, "/", a 100-byte name
 * (fuzz_xva's regress_name_256_bytes: its NUL was written past the buffer). */
static void tar_longest_name(void **state)
{
    (void)state;
    char h[XVA_TAR_BLOCK], name[XVA_NAME_MAX + 8], msg[128], want[300];
    uint64_t size = 0;
    memset(name, 'z', sizeof name);
    xva_tar_header(h, "x", 3);
    memset(h, 'b', 100);
    memset(h + 345, 'a', 155);
    xva_tar_seal(h);
    assert_int_equal(xva_tar_parse(h, name, &size, msg, sizeof msg), XVA_TAR_FILE);
    memset(want, 'a', 155);
    want[155] = '/';
    memset(want + 156, 'b', 100);
    want[256] = 0;
    assert_string_equal(name, want);
    assert_int_equal(name[XVA_NAME_MAX], 'z');       /* nothing written past the buffer */
    assert_int_equal(size, 3);
}

static void member_names(void **state)
{
    (void)state;
    char id[64];
    uint32_t n = 0;
    assert_int_equal(xva_member_parse("Ref:3/00000012", id, &n), XVA_M_DATA);
    assert_string_equal(id, "Ref:3");
    assert_int_equal(n, 12);
    assert_int_equal(xva_member_parse("Ref:3/00000012.xxhash", id, &n), XVA_M_XXHASH);
    assert_int_equal(xva_member_parse("Ref:3/99999999.checksum", id, &n), XVA_M_SHA1);
    assert_int_equal(n, 99999999);
    const char *bad[] = {"Ref:3/0000001", "Ref:3/00000012.foo", "../etc/passwd", "Ref:3",
                         "/Ref:3/00000001", "X:3/00000001", "Ref:3/0000000a", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(xva_member_parse(bad[i], id, &n), XVA_M_OTHER);
}

static bool parse(const char *doc, struct xva_ova *ova, xg_arena *a)
{
    char msg[200];
    return xva_ova_parse(a, doc, strlen(doc), ova, msg, sizeof msg);
}

#define OBJ(cls, id) "<value><struct><member><name>class</name><value>" cls "</value></member>" \
    "<member><name>id</name><value>" id "</value></member><member><name>snapshot</name>" \
    "<value><struct><member><name>name_label</name><value>x</value></member></struct></value>" \
    "</member></struct></value>"
#define DOC(objs) "<value><struct><member><name>version</name><value><struct><member><name>" \
    "export_vsn</name><value><i4>2</i4></value></member></struct></value></member><member>" \
    "<name>objects</name><value><array><data>" objs "</data></array></value></member>" \
    "</struct></value>"

static void ova_documents(void **state)
{
    (void)state;
    xg_arena *a = xg_arena_new(64 << 20);
    struct xva_ova ova;
    assert_true(parse("<?xml version=\"1.0\"?>" DOC(OBJ("VM", "Ref:0") OBJ("VDI", "Ref:1")), &ova, a));
    assert_int_equal(ova.n, 2);
    assert_int_equal(ova.export_vsn, 2);
    assert_string_equal(ova.objs[1].cls, "VDI");
    assert_non_null(xva_ova_find(&ova, "Ref:1"));
    assert_null(xva_ova_find(&ova, "Ref:2"));
    assert_string_equal(xva_str(ova.objs[0].snapshot, "name_label"), "x");
    assert_string_equal(xva_str(ova.objs[0].snapshot, "absent"), "");
    /* refused: two objects with one id, no objects array, an entity
     * declaration (billion laughs), unbalanced or deep nesting, trailing data */
    assert_false(parse(DOC(OBJ("VM", "Ref:0") OBJ("VDI", "Ref:0")), &ova, a));
    assert_false(parse("<value><struct><member><name>version</name><value><struct></struct>"
                       "</value></member></struct></value>", &ova, a));
    assert_false(parse("<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
                       "<value>&b;</value>", &ova, a));
    assert_false(parse("<value><struct>", &ova, a));
    assert_false(parse(DOC(OBJ("VM", "Ref:0")) "<value/>", &ova, a));
    static const char open[] = "<value><array><data>";
    size_t depth = 5000, k = sizeof open - 1;
    char *deep = malloc(depth * k + 1);
    for (size_t i = 0; i < depth; i++)
        memcpy(deep + i * k, open, k);
    deep[depth * k] = 0;
    assert_false(parse(deep, &ova, a));
    free(deep);
    xg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tar_round_trip),
        cmocka_unit_test(tar_hostile),
        cmocka_unit_test(tar_longest_name),
        cmocka_unit_test(member_names),
        cmocka_unit_test(ova_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
