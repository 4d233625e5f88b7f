/* test_config.c: the config file (server/config.c) as an operator writes
 * it, and the lines it must refuse rather than misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof path, "/tmp/xg-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static bool load(const char *text, xg_err *err)
{
    write_file(text);
    xg_config_defaults();
    bool ok = xg_config_load_file(path, err);
    unlink(path);
    return ok;
}

static void test_settings_comments_and_spacing(void **state)
{
    xg_err err = XG_ERR_INIT;
    assert_true(load("# comment\nhttps = [::1]:4443\n\t--driver=sim # trailing\r\n"
                     "sim-vms = 12\nhttp = off\n", &err));
    assert_string_equal(xg_cfg.https.addr, "::1");
    assert_int_equal(xg_cfg.https.port, 4443);
    assert_string_equal(xg_cfg.driver, "sim");
    assert_int_equal(xg_cfg.sim_vms, 12);
    assert_false(xg_cfg.http.set);
}

static void test_bad_lines_are_errors(void **state)
{
    xg_err err = XG_ERR_INIT;
    assert_false(load("sim-vms = -1\n", &err));
    xg_err_clear(&err);
    assert_false(load("no equals sign\n", &err));
    xg_err_clear(&err);
    assert_false(load("https = 1.2.3.4:65536\n", &err));
    xg_err_clear(&err);
    /* found by fuzz_config: the listener binds IP literals only, so
     * anything else must fail here, not at start (and --dump-config could
     * not write it back) */
    assert_false(load("http = [ = ]:4\n", &err));
    xg_err_clear(&err);
    assert_false(load("https = \034:1]:4\n", &err));
    xg_err_clear(&err);
    assert_false(load("https = localhost:443\n", &err));
    xg_err_clear(&err);
    assert_true(load("https = :8443\nhttp = 127.0.0.1:80\n", &err));
    assert_string_equal(xg_cfg.https.addr, "0.0.0.0");
}

/* Found while writing fuzz_config: fgets split a line longer than its buffer, and the
 * tail of a comment was read as a setting. */
static void test_overlong_line_is_refused_not_split(void **state)
{
    size_t pad = 2000;
    char *text = malloc(pad + 64);
    memset(text, '#', pad);
    strcpy(text + 1022, " driver = sim\n");   /* the tail starts a fgets line */
    xg_err err = XG_ERR_INIT;
    assert_false(load(text, &err));
    assert_non_null(strstr(err.param[0], "too long"));
    assert_string_equal(xg_cfg.driver, "auto");
    xg_err_clear(&err);
    free(text);
    /* the last line may end without a newline */
    assert_true(load("driver = sim", &err));
    assert_string_equal(xg_cfg.driver, "sim");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_comments_and_spacing),
        cmocka_unit_test(test_bad_lines_are_errors),
        cmocka_unit_test(test_overlong_line_is_refused_not_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
