/* test_driver_select.c: driver selection by name and by host detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../handlers/driver/driver.h"

static bool on_dom0(void)
{
    char buf[256] = "";
    FILE *f = fopen("/proc/xen/capabilities", "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, "control_d") != NULL;
}

static void test_select_by_name(void **state)
{
    (void)state;
    xg_err err = XG_ERR_INIT;
    const struct xg_driver *d = xg_driver_select("sim", &err);
    assert_ptr_equal(d, &xg_driver_sim);
    assert_string_equal(d->name, "sim");
    assert_null(xg_driver_select("qemu", &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    assert_non_null(strstr(err.param[0], "unknown driver"));
}

static void test_select_auto_and_libxl(void **state)
{
    (void)state;
    xg_err err = XG_ERR_INIT;
    const struct xg_driver *a = xg_driver_select("auto", &err);
    assert_non_null(a);
    if (on_dom0()) {
        assert_string_equal(a->name, "libxl");
        return;
    }
    assert_ptr_equal(a, &xg_driver_sim);
    /* Asking for libxl off Xen fails with a message that says why. */
    assert_null(xg_driver_select("libxl", &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    assert_true(strstr(err.param[0], "Xen") != NULL || strstr(err.param[0], "libxenlight") != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_by_name),
        cmocka_unit_test(test_select_auto_and_libxl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
