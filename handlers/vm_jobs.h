/* vm_jobs.h: long VM operations in flight (vm_jobs.c), shared by
 * vm_lifecycle.c (which starts them) and vm_ops/vm_config (which ask whether
 * one runs). A job lives from the driver call to its completion; it keeps
 * the VM by ref (never by pointer: the world lock is released meanwhile). */
#ifndef XG_VM_JOBS_H
#define XG_VM_JOBS_H

#include "vm_internal.h"

enum vm_job_kind {
    JOB_START,          /* dom_create; also resume (restore_path) and restarts */
    JOB_SHUTDOWN,       /* dom_shutdown clean or hard */
    JOB_SHUTDOWN_FALLBACK, /* VM.shutdown: clean, then hard if clean fails */
    JOB_REBOOT,         /* dom_reboot clean or hard */
    JOB_SUSPEND,        /* dom_suspend to path */
    JOB_CHECKPOINT,     /* dom_suspend to path, then vm_snapshot.c goes on */
};

struct vm_job {
    enum vm_job_kind kind;
    xg_call *c;                 /* NULL: internal (restart after guest exit) */
    char vm[XG_REF_LEN];
    char task[XG_REF_LEN];      /* task of c, for TASK_CANCELLED */
    int op;                     /* vm_operations value in current_operations */
    enum xg_stop_how how;
    bool start_paused;
    bool resume;                /* JOB_START restoring path */
    bool cancelled;             /* overtaken by hard_shutdown/hard_reboot */
    uint32_t domid;             /* domain the job acts on */
    char path[600];             /* suspend image */
    const char *name;           /* JOB_CHECKPOINT: the checkpoint's name (arena) */
    bool keep_memory;           /* JOB_CHECKPOINT: a checkpoint (else a snapshot
                                 * taken while the guest is suspended) */
    xg_set ignore;              /* its ignore_vdis (items in the arena) */
    char result[XG_REF_LEN];    /* the call's VM ref result, "" for none */
    xg_err after;               /* set: the call fails with it even if the job
                                 * succeeds (a checkpoint resumed after its
                                 * memory image could not be kept) */
    xg_arena *arena;            /* the dom spec's strings */
    struct xg_dom_spec spec;
    struct vm_job *prev, *next;
};

/* New job for vm (not yet listed); arena allocated. NULL + INTERNAL_ERROR. */
struct vm_job *vm_job_new(enum vm_job_kind kind, xg_call *c, xapi_vm *vm,
                          int op, xg_err *err);
void vm_job_list(struct vm_job *j);
void vm_job_unlist(struct vm_job *j);
void vm_job_free(struct vm_job *j);
/* Marks every listed job of vm whose op is in ops[0..n) as cancelled. */
void vm_job_cancel(const xapi_vm *vm, const int *ops, size_t n);
/* The xg_done for a job; its completion is vm_job_complete (vm_lifecycle.c). */
xg_done vm_job_done(struct vm_job *j);
void vm_job_complete(struct vm_job *j, bool ok, const xg_err *derr,
                     uint32_t domid);

#endif
