/* test_handlers.h: what the mini-IDL test handlers and hooks recorded. */
#ifndef TEST_HANDLERS_H
#define TEST_HANDLERS_H

#include <stdbool.h>

#include "call.h"

#define TEST_SESSION "OpaqueRef:s1"

struct test_log {
    int session_checks, task_begins, task_ends, starts;
    bool task_ok, task_transient, defer_next;
    char task_name[64], task_result[256], task_error[64], login[128];
    xg_call *deferred;
};
extern struct test_log tlog;

#endif
