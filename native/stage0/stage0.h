/*
 * stage0.h - internal interfaces of skiff-init, shared by its source files.
 * The wire format lives in plan.h; this is only how the C side holds a parsed plan.
 */
#ifndef SKIFF_STAGE0_H
#define SKIFF_STAGE0_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* One validated record: ints are read through rec_int() (they are 8-byte aligned in
 * the buffer, but memcpy keeps the compiler honest); strs[] point into the buffer. */
struct rec {
    uint32_t op;
    uint32_t nints;
    uint32_t nstrs;
    const unsigned char *ints;
    const char **strs;
};

struct plan {
    struct rec *recs;
    size_t nrecs;
    /* global values, copied out while validating */
    int mode;           /* 0 create, 1 exec */
    int sync_fd;
    int preserve_fds;
    uint64_t clone_flags;
    /* singleton records, NULL when absent */
    const struct rec *cgroup_clone_into, *time_offsets, *uid_map, *gid_map, *rootfs, *user, *caps, *seccomp, *env, *args, *exec_fifo;
    int await_go;
    int setgroups_deny;
    int no_new_privs;
};

#define MODE_CREATE 0
#define MODE_EXEC 1

uint64_t rec_int(const struct rec *r, uint32_t i);

/* reaper.c: `skiff-init --init -- PROGRAM...`, the pid 1 of `skiff run --init`. */
int reaper_main(int argc, char **argv);

/* plan.c */
void plan_load(int fd, struct plan *p);

/* error.c: every failure path ends in fail*(): SYNC_ERROR (and stderr once nobody
 * listens any more), then _exit(1). */
extern int g_sync_fd;
extern int g_ready_sent;
int sync_send(uint32_t type, int32_t value, const char *text); /* 0, or -1 for SYNC_ERROR that could not be sent */
int sync_recv(struct sync_msg *m); /* 1 = message, 0 = EOF, -1 = error */
int send_fd(int sock, int fd, const void *data, size_t len); /* data + fd as SCM_RIGHTS; 0, or -1/errno */
_Noreturn void fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));     /* appends ": strerror(err)" */
_Noreturn void fail_raw(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* text as given */
void write_file(const char *path, const char *data, size_t len, const char *what);

/* mounts.c */
void mounts_init_root(void); /* root = "/" (exec mode, or no OP_ROOTFS) */
void op_rootfs(const struct rec *r);
void op_mount(const struct rec *r);
void op_mount_setattr(const struct rec *r);
void op_device(const struct rec *r);
void op_symlink(const struct rec *r);
void op_pivot(void);
void op_mask(const struct rec *r);
void op_file_label(const struct rec *r);
void op_readonly(const struct rec *r);
void op_remount_ro(const struct rec *r);
void op_cwd(const struct plan *p, const struct rec *r);
int resolve_in_root(const char *path, int flags); /* O_PATH fd or -1/errno */
int mkdir_in_root(const char *path);             /* 0 or -1/errno */

/* process.c */
void op_sysctl(const struct rec *r);
void op_rlimit(const struct rec *r);
void op_oom_score_adj(const struct rec *r);
void op_ioprio(const struct rec *r);
void op_scheduler(const struct rec *r);
void op_personality(const struct rec *r);
void op_setsid(void);
int load_seccomp(const struct rec *r); /* the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0 */
void drop_bounding(const struct rec *caps);
void switch_identity(const struct plan *p);
void apply_caps(const struct rec *caps);

/* console.c */
void op_console(const struct plan *p, const struct rec *r);

/* hook.c */
void op_hooks_sync(void);
void run_hook(const struct rec *r);

/* exec.c */
_Noreturn void run_tail(const struct plan *p);

#endif
