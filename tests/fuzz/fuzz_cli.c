/* fuzz_cli.c: libFuzzer target for what xe sends to POST /cli: the client
 * greeting of the thin CLI protocol (cli_wire.c) and the request body, the
 * command line (cli_parse.c), then the command lookup and its required
 * parameters (cli_records.c) as cli.c runs them. The input is the 35-byte
 * greeting followed by the body.
 * Properties: the greeting is accepted exactly when it is the protocol's
 * prefix with major version 0; whatever body parses, rendered back one
 * argument per line ("key=value", "--key" where a key could only have come
 * from a flag) parses to the same command; values are C strings, so
 * what follows a NUL in a line is not part of it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_wire.h"

static struct cli_cmd cmd, again;

/* The command rendered as xe would have sent it. */
static char *render(const struct cli_cmd *c, size_t *len)
{
    size_t cap = strlen(c->name) + 3;
    for (unsigned i = 0; i < c->nargs; i++)
        cap += strlen(c->args[i].key) + strlen(c->args[i].value) + 5;
    char *out = malloc(cap), *p = out;
    p += sprintf(p, "%s\r\n", c->name);
    for (unsigned i = 0; i < c->nargs; i++) {
        const char *k = c->args[i].key;
        if (strchr(k, '=') || k[0] == '-') {
            if (strcmp(c->args[i].value, "true") != 0)
                __builtin_trap();          /* only a flag makes such a key */
            p += sprintf(p, "--%s\r\n", k);
        } else {
            p += sprintf(p, "%s=%s\r\n", k, c->args[i].value);
        }
    }
    /* no '\n' after the last line (its "\r" stays: the parser strips one) */
    *len = (size_t)(p - out) - 1;
    out[*len] = '\0';
    return out;
}

static bool same(const struct cli_cmd *a, const struct cli_cmd *b)
{
    if (strcmp(a->name, b->name) != 0 || a->nargs != b->nargs || a->minimal != b->minimal)
        return false;
    for (unsigned i = 0; i < a->nargs; i++)
        if (strcmp(a->args[i].key, b->args[i].key) != 0 ||
            strcmp(a->args[i].value, b->args[i].value) != 0)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < CLI_GREETING_LEN || size - CLI_GREETING_LEN > 200 * 1024)
        return 0;
    static const unsigned char prefix[] = "XenSource thin CLI protocol\0\0\0\0";
    bool ok = cli_wire_greeting_ok(data);
    if (ok != (memcmp(data, prefix, sizeof prefix - 1) == 0))
        __builtin_trap();

    size_t len = size - CLI_GREETING_LEN;
    char *body = malloc(len + 1);
    memcpy(body, data + CLI_GREETING_LEN, len);
    body[len] = '\0';
    memset(&cmd, 0, sizeof cmd);
    if (cli_parse(body, len, &cmd)) {
        const char *missing = NULL;
        (void)cli_records_check(&cmd, &missing);
        (void)cli_arg(&cmd, "username");
        size_t n = 0;
        char *text = render(&cmd, &n);
        memset(&again, 0, sizeof again);
        if (!cli_parse(text, n, &again) || !same(&cmd, &again))
            __builtin_trap();
        free(text);
    }
    free(body);
    return 0;
}
