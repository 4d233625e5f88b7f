/* fuzz_config.c: libFuzzer target for the configuration file
 * (server/config.c): the input is the file, read through a memfd.
 * Property: a file that loads is written back by --dump-config (every
 * setting as a commented "#key = value" line); that dump with its settings
 * uncommented loads too and dumps to the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static int fd = -1;
static char path[64];

static bool load(const char *text, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, size, 0) != (ssize_t)size)
        abort();
    xg_config_defaults();
    xg_err err = XG_ERR_INIT;
    bool ok = xg_config_load_file(path, &err);
    xg_err_clear(&err);
    return ok;
}

static char *dump(size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        abort();
    xg_config_dump(f);
    fclose(f);
    return text;
}

/* "#key = value" → "key = value"; comment lines that are prose (they contain
 * no " = ") stay comments. */
static char *uncomment(const char *text, size_t *len)
{
    char *out = malloc(strlen(text) + 1);
    size_t o = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        const char *eq = memmem(line, n, " = ", 3);
        const char *sp = memchr(line, ' ', n);
        bool setting = line[0] == '#' && eq && sp == eq;
        memcpy(out + o, line + setting, n - setting);
        o += n - setting;
        line += n;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("xg-config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (!load((const char *)data, size))
        return 0;
    size_t n1, nf, n2;
    char *one = dump(&n1);
    char *file = uncomment(one, &nf);
    if (!load(file, nf)) {
        fprintf(stderr, "the dump of a loaded file does not load:\n%s\n", file);
        abort();
    }
    char *two = dump(&n2);
    if (n1 != n2 || memcmp(one, two, n1)) {
        fprintf(stderr, "dump -> load -> dump changed:\n%s\n----\n%s\n", one, two);
        abort();
    }
    free(one);
    free(file);
    free(two);
    return 0;
}
