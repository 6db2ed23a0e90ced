/*
 * compat.h - the few kernel ABI definitions skiff-init needs that libc headers lack.
 *
 * Defined here instead of including <linux/...> so the same sources build against
 * musl (whose include path has no kernel UAPI headers) and glibc. All names carry a
 * skiff_/SK_ prefix where a libc might one day define the same struct.
 */
#ifndef SKIFF_COMPAT_H
#define SKIFF_COMPAT_H

#include <stdint.h>
#include <sys/syscall.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the plan encoding is little endian; add byte swapping before porting"
#endif

#define SK_PROC_SUPER_MAGIC 0x9fa0 /* statfs.f_type of procfs */

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* openat2(2) */
struct skiff_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define SK_RESOLVE_NO_XDEV 0x01
#define SK_RESOLVE_NO_MAGICLINKS 0x02
#define SK_RESOLVE_NO_SYMLINKS 0x04
#define SK_RESOLVE_BENEATH 0x08
#define SK_RESOLVE_IN_ROOT 0x10

/* mount_setattr(2): the same number on every architecture (syscalls from 424 on are shared) */
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
struct skiff_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};
#define SK_AT_RECURSIVE 0x8000

/* close_range(2) */
#define SK_CLOSE_RANGE_CLOEXEC (1U << 2)

/* clone3(2) */
struct skiff_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};
#define SK_CLONE_INTO_CGROUP 0x200000000ULL
#define SK_CLONE_NEWTIME 0x00000080

/* capset(2), version 3: two 32-bit words per set */
#define SK_CAP_VERSION_3 0x20080522
struct skiff_cap_header {
    uint32_t version;
    int pid;
};
struct skiff_cap_data {
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
};

/* seccomp(2) / classic BPF */
#define SK_SECCOMP_MODE_FILTER 2
#define SK_SECCOMP_SET_MODE_FILTER 1
#define SK_SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#define SK_BPF_MAXINSNS 4096
struct skiff_sock_filter {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};
struct skiff_sock_fprog {
    unsigned short len;
    struct skiff_sock_filter *filter;
};

/* sched_setattr(2) */
struct skiff_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

/* ioprio_set(2) */
#define SK_IOPRIO_WHO_PROCESS 1
#define SK_IOPRIO_CLASS_SHIFT 13

/* prctl values that older libc headers may lack */
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#endif
#ifndef PR_CAP_AMBIENT_RAISE
#define PR_CAP_AMBIENT_RAISE 2
#endif
#ifndef PR_CAP_AMBIENT_CLEAR_ALL
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* tty ioctls (asm-generic values; x86 and arm64 share them) */
#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif

#endif
