/* test_random.c: xg_random_bytes over a getrandom(2) that misbehaves
 * (linked with -Wl,--wrap=getrandom): EINTR and short reads are retried
 * until the buffer is full; a persistent error aborts instead of spinning
 * or handing out unfilled bytes. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "random.h"

enum mode { SHORT_AND_EINTR, BROKEN };
static enum mode mode;
static int calls;

ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    calls++;
    if (mode == BROKEN) {
        errno = ENOSYS;
        return -1;
    }
    if (calls % 3 == 1) {               /* every third call interrupted */
        errno = EINTR;
        return -1;
    }
    size_t k = n < 3 ? n : 3;           /* short reads */
    memset(buf, 0xA5, k);
    return (ssize_t)k;
}

static void test_retries_until_full(void **st)
{
    (void)st;
    mode = SHORT_AND_EINTR;
    calls = 0;
    unsigned char b[64];
    memset(b, 0, sizeof(b));
    xg_random_bytes(b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++)
        assert_int_equal(b[i], 0xA5);
    assert_true(calls > 22);            /* 22 short reads plus the EINTRs */

    char u[37];
    xg_random_uuid(u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');       /* version 4 */
    assert_true(strchr("89ab", u[19]) != NULL);
}

static void test_persistent_error_aborts(void **st)
{
    (void)st;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mode = BROKEN;
        unsigned char b[16];
        alarm(5);                       /* spinning would end in SIGALRM */
        xg_random_bytes(b, sizeof(b));
        _exit(0);                       /* handing out unfilled bytes */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retries_until_full),
        cmocka_unit_test(test_persistent_error_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
