/* fuzz_config.c: libFuzzer target for the configuration file
 * (server/config.c): the input is the file, read through a memfd. Property:
 * a file that loads leaves every setting within the bounds the rest of the
 * gateway assumes (NUL-terminated strings). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("xg-config", 0);
        if (fd < 0)
            return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    xg_config_defaults();
    xg_err err = XG_ERR_INIT;
    if (xg_config_load_file(path, &err)) {
        if (strnlen(xg_cfg.state_dir, sizeof xg_cfg.state_dir) == sizeof xg_cfg.state_dir ||
            strnlen(xg_cfg.https.addr, sizeof xg_cfg.https.addr) == sizeof xg_cfg.https.addr ||
            strnlen(xg_cfg.driver, sizeof xg_cfg.driver) == sizeof xg_cfg.driver)
            __builtin_trap();
    }
    xg_err_clear(&err);
    return 0;
}
