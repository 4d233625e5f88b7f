/* test_auth.c: the users file round trip (set, check, reload, atomic
 * write, first-start root password) and the async pool. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "transport.h"

static char dir[] = "/tmp/xg-auth-XXXXXX";

static void test_roundtrip(void **st)
{
    xg_err err = XG_ERR_INIT;
    assert_non_null(mkdtemp(dir));
    setenv("XAPI_GATEWAY_ROOT_PASSWORD", "rootpw", 1);
    assert_true(xg_auth_init("file", dir, &err));
    assert_true(xg_auth_ensure_root(&err));
    assert_true(xg_auth_check("root", "rootpw", &err));
    assert_false(xg_auth_check("root", "wrong", &err));
    assert_string_equal(err.code, "SESSION_AUTHENTICATION_FAILED");
    assert_int_equal(err.nparams, 2);
    assert_string_equal(err.param[0], "root");
    xg_err_clear(&err);
    assert_false(xg_auth_check("nobody", "rootpw", &err));
    xg_err_clear(&err);
    assert_true(xg_auth_set_password("alice", "pw:with:colons", &err));
    assert_false(xg_auth_set_password("bad:name", "x", &err));
    xg_err_clear(&err);

    char path[256];
    snprintf(path, sizeof(path), "%s/users", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_true(strncmp(line, "root:$y$", 8) == 0 || strncmp(line, "root:$6$", 8) == 0);
    fclose(f);

    /* reload from disk: second start keeps the users, prints nothing */
    xg_auth_shutdown();
    assert_true(xg_auth_init("file", dir, &err));
    assert_true(xg_auth_ensure_root(&err));
    assert_true(xg_auth_check("alice", "pw:with:colons", &err));
    assert_true(xg_auth_check("root", "rootpw", &err));
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int results[2], nres;

static void cb(void *arg, bool ok, const xg_err *err)
{
    pthread_mutex_lock(&mu);
    results[(intptr_t)arg] = ok ? 1 : (err && err->code ? 2 : 3);
    nres++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void test_async(void **st)
{
    xg_auth_check_async("10.0.0.1", "root", "rootpw", cb, (void *)0);
    xg_auth_check_async("10.0.0.1", "root", "nope", cb, (void *)1);
    pthread_mutex_lock(&mu);
    while (nres < 2)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(results[0], 1);
    assert_int_equal(results[1], 2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int done_count;
static double done_at[2];

static void timed_cb(void *arg, bool ok, const xg_err *err)
{
    (void)ok;
    (void)err;
    pthread_mutex_lock(&mu);
    if (arg)
        done_at[(intptr_t)arg - 1] = now_s();
    done_count++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

/* A guessing address is slowed after a few failures; another address is
 * not, and neither is refused when its password is right. */
static void test_throttle(void **st)
{
    (void)st;
    const int guesses = 8;
    for (int i = 0; i < guesses; i++)
        xg_auth_check_async("10.0.0.66", "root", "guess", timed_cb, NULL);
    pthread_mutex_lock(&mu);
    while (done_count < 6)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    double t0 = now_s();
    /* queued behind the guesser's throttled jobs at the same address */
    xg_auth_check_async("10.0.0.66", "root", "rootpw", timed_cb, (void *)1);
    xg_auth_check_async("10.0.0.7", "root", "rootpw", timed_cb, (void *)2);
    pthread_mutex_lock(&mu);
    while (done_count < guesses + 2)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    /* the other address went through first; the guesser's address waited
     * for its growing delays (at least 250 + 500 ms before its 7th and 8th
     * checks, then its 9th): lower bounds, so load cannot make this flaky */
    assert_true(done_at[1] < done_at[0]);
    assert_true(done_at[0] - t0 >= 0.7);
    xg_auth_shutdown();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
