/* cli_parse.c: the command line xe sends as the body of POST /cli, one
 * argument per line, split into a cli_cmd (see cli.h). The bytes are the
 * client's: every line and argument count is bounded by CLI_MAX_ARGS. */
#include <string.h>

#include "cli.h"

bool cli_parse(char *body, size_t len, struct cli_cmd *cmd)
{
    char *lines[CLI_MAX_ARGS + 1];
    unsigned n = 0;
    for (char *p = body; p <= body + len;) {
        char *nl = memchr(p, '\n', (size_t)(body + len - p));
        char *end = nl ? nl : body + len;
        if (end > p && end[-1] == '\r')
            end[-1] = 0;
        *end = 0;
        if (n == sizeof(lines) / sizeof(lines[0]))
            return false;
        lines[n++] = p;
        p = end + 1;
    }
    unsigned i = 0;
    if (n > 0 && strncmp(lines[0], "session_id=", 11) == 0)
        i++;                           /* pool forwarding: not supported, ignored */
    if (i >= n || strchr(lines[i], '='))
        return false;
    cmd->name = lines[i++];
    static const struct { const char *flag, *key; } dash[] = {
        {"-u", "username"}, {"-pw", "password"}, {"-s", "server"}, {"-h", "server"},
        {"-p", "port"},
    };
    for (; i < n; i++) {
        struct cli_arg *a = &cmd->args[cmd->nargs++];
        char *w = lines[i];
        if (w[0] == '-' && w[1] == '-') {
            a->key = w + 2;
            a->value = "true";
        } else if (w[0] == '-') {
            size_t k = 0;
            while (k < sizeof(dash) / sizeof(dash[0]) && strcmp(dash[k].flag, w) != 0)
                k++;
            if (k == sizeof(dash) / sizeof(dash[0]) || i + 1 >= n)
                return false;
            a->key = dash[k].key;
            a->value = lines[++i];
        } else {
            char *eq = strchr(w, '=');
            a->key = w;
            a->value = eq ? eq + 1 : "";
            if (eq)
                *eq = 0;
        }
    }
    cmd->minimal = cli_flag(cmd, "minimal");
    return true;
}
