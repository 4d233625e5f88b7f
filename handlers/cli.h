/* cli.h: xe's POST /cli (XAPI's thin CLI protocol) and its commands.
 * cli.c reads the request and logs in; cli_records.c runs the generic
 * <class>-list / -param-list / -param-get commands, walking the
 * IDL-generated class descriptors, so a new class gets them for free. */
#ifndef XG_CLI_H
#define XG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "out.h"

#define CLI_MAX_ARGS 4096              /* xapi caps the body at 200 KiB */

struct cli_arg {
    const char *key, *value;
};

struct cli_cmd {
    const char *name;                  /* "vm-list" */
    struct cli_arg args[CLI_MAX_ARGS];
    unsigned nargs;
    bool minimal;
};

/* The value of the first argument named key, or NULL. */
const char *cli_arg(const struct cli_cmd *cmd, const char *key);

/* Splits the request body (len bytes, NUL at body[len]) in place into cmd
 * (cli_frontend.ml parse_commandline): one argument per line, `--name` is
 * name=true, `-u/-pw/-s/-h/-p` take the next line, other words split at
 * their first '='. false: syntax error. */
bool cli_parse(char *body, size_t len, struct cli_cmd *cmd);

/* What a command produced, sent by cli.c once the world lock is dropped. */
struct cli_result {
    xg_out out;                        /* Print messages: u32 length + text each */
    char err[1024];                    /* stderr text ("" = success) */
    const char *api_code;              /* undocumented API error: sent as Error */
    char api_params[4][256];
    unsigned api_nparams;
    bool minimal_sent;                 /* the --minimal line is in out */
};

/* Queues one Print of text. */
void cli_print(struct cli_result *r, const char *text, size_t n);

/* Is cmd a generic command? *missing: a required parameter not given. */
bool cli_records_check(const struct cli_cmd *cmd, const char **missing);
/* Runs a generic command under the world lock; false if cmd is not one. */
bool cli_records_run(const struct cli_cmd *cmd, struct cli_result *r);

void xg_cli_init(void);

#endif
