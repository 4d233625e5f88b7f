/* messages.h: posting XAPI messages (the `message` class) about what happens
 * on the host. Names and priorities are XAPI's (ocaml/xapi-consts/
 * api_messages.ml): 1 critical … 5 informational. Requires the world lock. */
#ifndef GW_MESSAGES_H
#define GW_MESSAGES_H

#include <stdint.h>

#include "xapi_types.h"

#define GW_MSG_VM_STARTED   "VM_STARTED", 5
#define GW_MSG_VM_SHUTDOWN  "VM_SHUTDOWN", 5
#define GW_MSG_VM_REBOOTED  "VM_REBOOTED", 5
#define GW_MSG_VM_SUSPENDED "VM_SUSPENDED", 5
#define GW_MSG_VM_RESUMED   "VM_RESUMED", 5
#define GW_MSG_VM_CRASHED   "VM_CRASHED", 2
#define GW_MSG_ALARM        "ALARM", 3      /* perfmon/rrdd alarms are posted at 3 */
/* Ours: XAPI has no message for its own start. Informational, as XAPI's
 * lifecycle messages. */
#define GW_MSG_TOOLSTACK_RESTARTED "TOOLSTACK_RESTARTED", 5

/* Posts a message; the oldest ones go beyond GW_MESSAGES_MAX. NULL on
 * failure (logged). cls is an XAPI_CLS_* value. */
xapi_message *gw_message_post(const char *name, int64_t priority, int cls,
                              const char *obj_uuid, const char *body);
/* The same about a VM (cls VM, its uuid, an empty body as XAPI's lifecycle
 * messages have). */
void gw_message_vm(const xapi_vm *vm, const char *name, int64_t priority);

#endif
