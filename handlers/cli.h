/* cli.h: xe's POST /cli (XAPI's thin CLI protocol) and its commands.
 * cli.c reads the request, logs in and reports the outcome; cli_io.c
 * holds what every command reads its arguments and prints with;
 * cli_records.c runs the generic <class>-list / -param-* commands, walking
 * the IDL-generated class descriptors, so a new class gets them for free;
 * cli_ops.c holds the specific commands (vm-start, vm-install, ...). Both
 * act through the API in process (cli_api.h), as xapi's CLI server does. */
#ifndef XG_CLI_H
#define XG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "cli_api.h"
#include "http_routes.h"
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
/* --name given as true (xapi's get_bool_param: true/t/1, false/f/0). */
bool cli_flag(const struct cli_cmd *cmd, const char *key);
/* Parameters that never select nor set fields (cli_operations.ml stdparams). */
bool cli_is_stdparam(const char *key);

/* Splits the request body (len bytes, NUL at body[len]) in place into cmd
 * (cli_frontend.ml parse_commandline): one argument per line, `--name` is
 * name=true, `-u/-pw/-s/-h/-p` take the next line, other words split at
 * their first '='. false: syntax error. */
bool cli_parse(char *body, size_t len, struct cli_cmd *cmd);

/* One running command: its client, arguments, session and output. */
struct cli_ctx {
    xg_http_ex *x;
    const struct cli_cmd *cmd;
    cli_api api;
    xg_out minimal;                    /* --minimal pieces, sent at success */
    bool any_minimal;
    xg_out failures;                   /* --multiple: "operation failed on ..." */
};

/* Output kinds of xapi's printer (cli_printer.ml): a record table or a
 * message is one Print, dropped by --minimal unless it is a list item;
 * list items are joined by commas under --minimal. */
void cli_print(struct cli_ctx *c, const char *text, size_t n);
void cli_print_msg(struct cli_ctx *c, const char *text);
void cli_print_list_item(struct cli_ctx *c, const char *text);
/* Prompts the user (xe's Prompt, cli_util.ml user_says_yes): true when the
 * answer, trimmed, is "yes" in any case; otherwise prints the abort line. */
bool cli_user_says_yes(struct cli_ctx *c);
/* xe's Load (cli_operations.ml get_client_file): the contents of the user's
 * file `filename`, which must be sent back exactly as typed (xe sends only
 * files named on its command line). Returns them malloc'd and
 * NUL-terminated with their length in *len, or NULL when xe could not read
 * the file, broke the protocol or sent more than max bytes (*too_big). */
#define CLI_LOAD_CAP (32u << 20)       /* xapi's max_cli_upload_bytes */
char *cli_load_file(struct cli_ctx *c, const char *filename, size_t max, size_t *len,
                    bool *too_big);
/* Reports f, the command's failure, on the client's stderr. */
void cli_report(struct cli_ctx *c, const struct cli_fail *f);
/* "<uuid> (<name-label>)" for a ref, as xapi's ref_convert; s itself
 * otherwise. Takes the world lock. */
void cli_ref_convert(const char *s, char *buf, size_t n);

/* ---- generic commands (cli_records.c) ---------------------------------- */

/* Is cmd a generic command? *missing: a required parameter not given. */
bool cli_records_check(const struct cli_cmd *cmd, const char **missing);
/* Runs a generic command; false with f set when it fails. */
bool cli_records_run(struct cli_ctx *c, struct cli_fail *f);
/* event-wait class=C [field=value | field=/=value ...]: returns once an
 * object of C matches every condition, following event.from meanwhile. */
bool cli_event_wait(struct cli_ctx *c, struct cli_fail *f);
/* The generic command names, comma-separated, appended to o (help). */
void cli_records_names(xg_out *o);

/* Objects picked by selectors (xe-cli.md §8.6). */
struct cli_pick {
    char ref[XG_REF_LEN];
    char uuid[40];
};
/* Selects objects of API class cls with the command's filters: every
 * argument except stdparams, `ignore` (NULL-terminated) and `by` (which
 * matches uuid or name-label, e.g. "vm"), plus the `fixed` filters
 * (NULL-terminated key, value pairs). Returns the count (picks malloc'd in
 * *out) or -1 with f set. */
int cli_select(const struct cli_cmd *cmd, const char *cls, const char *by,
               const char *const *fixed, const char *const *ignore, struct cli_pick **out,
               struct cli_fail *f);
/* The ref of the object of class cls with this uuid; false with
 * UUID_INVALID in f otherwise. */
bool cli_ref_by_uuid(const char *cls, const char *uuid, char ref[XG_REF_LEN],
                     struct cli_fail *f);

/* xapi's Record_util.bytes_of_string: "512", "2GiB", "64 MiB", "1k". */
bool cli_bytes_of_string(const char *s, int64_t *out);

/* ---- specific commands (cli_ops.c) ------------------------------------- */

bool cli_ops_check(const struct cli_cmd *cmd, const char **missing);
bool cli_ops_run(struct cli_ctx *c, struct cli_fail *f);
void cli_ops_names(xg_out *o, bool all);
/* Prints help for one command; false if it is not a specific command. */
bool cli_ops_help(struct cli_ctx *c, const char *name);

/* ---- storage and network commands (cli_devices.c) --------------------- */

bool cli_vdi_create(struct cli_ctx *c, struct cli_fail *f);
bool cli_vbd_create(struct cli_ctx *c, struct cli_fail *f);
bool cli_vif_create(struct cli_ctx *c, struct cli_fail *f);
/* vm-disk-add on one VM: a new VDI, an owner VBD, plugged if it can be. */
bool cli_vm_disk_add(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                     struct cli_fail *f);

/* vdi-export / vdi-import uuid= filename= [format=] (cli_transfer.c): xe
 * moves the file itself over HttpGet / HttpPut. */
bool cli_vdi_transfer(struct cli_ctx *c, struct cli_fail *f);

/* host-call-plugin host-uuid= plugin= fn= [args:k=v] [args:k:file=path]
 * (cli_plugin.c): host.call_plugin, file arguments read with Load. */
bool cli_host_call_plugin(struct cli_ctx *c, struct cli_fail *f);

/* ---- pool commands of a pool of one (cli_pool.c) ----------------------- */

bool cli_pool_sync_database(struct cli_ctx *c, struct cli_fail *f);
bool cli_pool_designate_new_master(struct cli_ctx *c, struct cli_fail *f);
bool cli_pool_recover_slaves(struct cli_ctx *c, struct cli_fail *f);
bool cli_pool_emergency_transition_to_master(struct cli_ctx *c, struct cli_fail *f);

void xg_cli_init(void);

#endif
