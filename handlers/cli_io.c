/* cli_io.c: what a running xe command reads and prints: its arguments and
 * xapi's printer (cli_printer.ml) over the thin CLI protocol (cli_wire.c).
 * Shared by cli.c and the command files (cli_records.c, cli_ops.c), and
 * calls none of them. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "cli_wire.h"

const char *cli_arg(const struct cli_cmd *cmd, const char *key)
{
    for (unsigned i = 0; i < cmd->nargs; i++)
        if (strcmp(cmd->args[i].key, key) == 0)
            return cmd->args[i].value;
    return NULL;
}

bool cli_flag(const struct cli_cmd *cmd, const char *key)
{
    const char *v = cli_arg(cmd, key);
    return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "t") == 0 || strcmp(v, "1") == 0);
}

/* ---- output (cli_printer.ml) ------------------------------------------- */

void cli_print(struct cli_ctx *c, const char *text, size_t n)
{
    cli_wire_print(c->x, text, n);
}

void cli_print_msg(struct cli_ctx *c, const char *text)
{
    if (!c->cmd->minimal)
        cli_wire_print(c->x, text, strlen(text));
}

/* --minimal: ',' and '\' escaped (cli_printer.ml escape_commas). */
void cli_print_list_item(struct cli_ctx *c, const char *text)
{
    if (!c->cmd->minimal) {
        cli_wire_print(c->x, text, strlen(text));
        return;
    }
    if (c->any_minimal)
        xg_out_putc(&c->minimal, ',');
    c->any_minimal = true;
    for (const char *v = text; *v; v++) {
        if (*v == ',' || *v == '\\')
            xg_out_putc(&c->minimal, '\\');
        xg_out_putc(&c->minimal, *v);
    }
}

bool cli_user_says_yes(struct cli_ctx *c)
{
    static const char ask[] = "Type 'yes' to continue";
    cli_wire_print(c->x, ask, strlen(ask));
    char answer[256];
    size_t n = 0;
    if (!cli_wire_prompt(c->x) ||
        !cli_wire_read_blobs(c->x, answer, sizeof(answer) - 1, &n, 64 * 1024))
        return false;
    answer[n] = 0;
    const char *b = answer, *e = answer + n;
    while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    if (e - b == 3 && strncasecmp(b, "yes", 3) == 0)
        return true;
    char msg[320];
    snprintf(msg, sizeof(msg), "Aborted (you typed: '%s')", answer);
    cli_wire_print(c->x, msg, strlen(msg));
    return false;
}

char *cli_load_file(struct cli_ctx *c, const char *filename, size_t max, size_t *len,
                    bool *too_big)
{
    *too_big = false;
    if (!cli_wire_load(c->x, filename) || cli_wire_read_response(c->x) != 1)
        return NULL;
    char *buf = malloc(max + 2);
    if (!buf)
        abort();
    /* one byte more than max tells a file that is too big; the rest of it,
     * up to xapi's own cap, is read and dropped so that xe, still sending,
     * gets the error rather than a reset connection */
    if (!cli_wire_read_blobs(c->x, buf, max + 1, len, CLI_LOAD_CAP) || *len > max) {
        *too_big = *len > max;
        free(buf);
        return NULL;
    }
    buf[*len] = 0;
    return buf;
}
