/*
 * plan.h - the contract between skiff-runtime (C#, policy) and skiff-init (C, mechanism).
 *
 * Why a plan at all: the .NET runtime is multithreaded, and the kernel refuses
 * unshare(CLONE_NEWUSER) and setns() into user/mount namespaces from a multithreaded
 * caller; a child forked from a multithreaded process may only run async-signal-safe
 * code. So C# parses and validates config.json, decides *everything* (which
 * namespaces, which mounts in which order, which capabilities, the resolved program),
 * and writes a flat list of operations. skiff-init executes it without interpreting
 * policy: no JSON, no defaults, no decisions beyond errno handling spelled out here.
 *
 * Process tree (create; exec is the same without the rootfs part):
 *
 *   skiff-runtime (C#)                         host namespaces, multithreaded
 *     |  posix_spawn(skiff-init PLANFD)        signals reset to default, mask empty
 *     +-- skiff-init "P" (stage-0 parent)      single-threaded, host namespaces
 *     |     loads and validates the whole plan, sets FD_CLOEXEC on the sync socket (the
 *     |       runtime must pass it without), closes PLANFD
 *     |     PR_SET_DUMPABLE 0 (inherited by C until execve: CVE-2016-9962, exec into a running
 *     |       container must not be ptrace-able by its processes while holding host fds)
 *     |     with OP_AWAIT_GO (create), waits for SYNC_CONTINUE: the runtime makes the cgroups meanwhile
 *     |     writes its own pid to every OP_CGROUP_PROCS file (so the child is born in
 *     |     the container's cgroups: the cgroup namespace root is the cgroup at clone time)
 *     |     writes OP_OOM_SCORE_ADJ to /proc/self/oom_score_adj (inherited by C)
 *     |     setns() every OP_JOIN_NS in plan order (user first: it owns the others)
 *     |     OP_TIME_OFFSETS: unshare(CLONE_NEWTIME) + /proc/self/timens_offsets
 *     |     clone(OP_CLONE_FLAGS | CLONE_PARENT | SIGCHLD)
 *     |     sends SYNC_PID(C) on the sync socket (first, so the runtime can reap C even if
 *     |       a map write fails; C sends nothing before it is released)
 *     |     writes /proc/C/{setgroups,uid_map,gid_map} (OP_SETGROUPS_DENY, OP_UID_MAP, OP_GID_MAP)
 *     |     releases C through a pipe, _exit(0). If P fails instead, C sees EOF on the pipe
 *     |       and _exits(1) without a message (P already sent SYNC_ERROR).
 *     +-- skiff-init "C" (container init)      CLONE_PARENT: a child of skiff-runtime, so
 *           the runtime can pidfd_open()+waitid() it (run/exec) and a short-lived
 *           `create` leaves it to the caller's subreaper, exactly like runc.
 *           waits for P's release byte (nothing privileged may happen before the maps);
 *           in a new or joined user namespace it then does setresgid/setresuid(0) so files
 *           it creates belong to the mapped root (EINVAL, 0 unmapped, is ignored)
 *           executes the remaining ops in plan order (mounts, devices, pivot, ...)
 *           then the fixed tail described at the end of enum plan_op, ending in execve().
 *
 * Transport:
 *   - skiff-init is started as `skiff-init <PLANFD>`; PLANFD is a sealed memfd holding
 *     the plan. Other fds it needs (sync socket, exec fifo, console socket) are
 *     named by number inside the plan. fds 0,1,2 are the container's stdio unless
 *     OP_CONSOLE replaces them; fds 3 .. 3+N-1 are the --preserve-fds fds (OP_PRESERVE_FDS).
 *   - Plan layout (little endian, every record 8-byte aligned):
 *       struct plan_header { uint32_t magic = PLAN_MAGIC; uint32_t version = PLAN_VERSION;
 *                            uint32_t count; uint32_t reserved; }
 *       then `count` records:
 *       struct plan_record { uint32_t op; uint32_t nints; uint32_t nstrs; uint32_t size; }
 *         size = total record size in bytes including this 16-byte header and padding;
 *         followed by nints uint64_t values, then nstrs NUL-terminated strings back to
 *         back, then zero padding up to `size` (a multiple of 8).
 *       Binary payloads (OP_SECCOMP) are carried as ints (8 bytes per sock_filter).
 *
 *   - Sync socket: AF_UNIX SOCK_SEQPACKET, one struct sync_msg per message.
 *     Children -> runtime:
 *       SYNC_PID    value = pid of C in the runtime's pid namespace (sent by P)
 *       SYNC_HOOKS  C reached OP_HOOKS; it blocks until the runtime answers SYNC_CONTINUE
 *                   (or closes the socket, in which case C _exits(1))
 *       SYNC_READY  create: setup done, C now blocks opening the exec fifo.
 *                   exec: not sent; success is EOF of the socket (it is CLOEXEC) after SYNC_PID.
 *       SYNC_SECCOMP_LISTENER  carries the seccomp notify fd as SCM_RIGHTS (OP_SECCOMP with
 *                   SECCOMP_FILTER_FLAG_NEW_LISTENER, tail step 2); C blocks until SYNC_CONTINUE, by
 *                   which time the runtime has passed the fd on to linux.seccomp.listenerPath.
 *       SYNC_ERROR  value = errno (0 if none), text = "<what> <path>: <strerror>" (one line).
 *                   Errors after SYNC_READY (create: fifo, startContainer hooks, seccomp,
 *                   execve) are also printed to stderr, since nobody may read the socket.
 *                   exec mode: a failed execve sends SYNC_ERROR before exiting 127/126.
 *     Runtime -> P:
 *       SYNC_CONTINUE  (OP_AWAIT_GO) the container's cgroups exist; go on
 *     Runtime -> C:
 *       SYNC_CONTINUE
 *
 * Container paths: before OP_PIVOT, every container path in a record is resolved
 * inside the rootfs with openat2(RESOLVE_IN_ROOT) so a symlink in the rootfs can never
 * redirect a mount, mknod or write outside it (CVE-2021-30465 family); mounts are done
 * onto /proc/self/fd/<O_PATH fd of the resolved target>. After OP_PIVOT they are
 * resolved from "/" of the new root the same way. Both need a procfs at /proc of the
 * current root (the host's before OP_PIVOT, the container's after; the exec fifo is
 * reopened through it too), so a plan mounts /proc before any op after OP_PIVOT that
 * resolves a path. Directories created for a record
 * (MOUNT_EXTRA_MKDIR, parents of devices/symlinks/files) are made one component at a
 * time with mkdirat under a resolved parent; a dangling symlink on the way is followed
 * (its target is created, inside the root), as the final resolution would follow it.
 *
 * Validation: unknown ops, records whose int/string counts do not match the op, a
 * global or singleton op given twice, and a plan without OP_MODE, OP_SYNC_FD or
 * OP_ARGS are rejected with SYNC_ERROR (EINVAL) before anything runs.
 */
#ifndef SKIFF_PLAN_H
#define SKIFF_PLAN_H

#include <stdint.h>

#define PLAN_MAGIC 0x534b4950u /* "PIKS" read as little endian -> 'S''K''I''P' */
#define PLAN_VERSION 3u /* 2: OP_AWAIT_GO, OP_FILE_LABEL, OP_EXEC_LABEL, OP_MASK's tmpfs data; 3: MOUNT_EXTRA_COPYUP, OP_MOUNT_SETATTR */

struct plan_header {
    uint32_t magic;
    uint32_t version;
    uint32_t count;
    uint32_t reserved;
};

struct plan_record {
    uint32_t op;
    uint32_t nints;
    uint32_t nstrs;
    uint32_t size;
};

enum sync_type {
    SYNC_PID = 1,
    SYNC_HOOKS = 2,
    SYNC_READY = 3,
    SYNC_ERROR = 4,
    SYNC_CONTINUE = 5,
    SYNC_SECCOMP_LISTENER = 6,
};

struct sync_msg {
    uint32_t type;
    int32_t value;
    char text[504];
}; /* 512 bytes */

/* ints: [i0, i1, ...]; strs: (s0, s1, ...). */
enum plan_op {
    /* ---- global, read before anything runs ---- */
    OP_MODE = 1,            /* [mode] 0 = create (container init), 1 = exec (join a running container) */
    OP_SYNC_FD = 2,         /* [fd] the sync socket */
    OP_PRESERVE_FDS = 3,    /* [n] fds 3..3+n-1 survive into the container (everything else >= 3 is closed) */
    OP_AWAIT_GO = 4,        /* P waits for one SYNC_CONTINUE before the cgroup ops: the runtime creates the
                               cgroups while skiff-init starts and loads the plan. EOF instead means the
                               runtime gave up: P _exits(1) quietly, nothing has happened yet. */

    /* ---- executed by P, in this order of kinds regardless of record order:
       CGROUP_PROCS, OOM_SCORE_ADJ, JOIN_NS (record order), TIME_OFFSETS, clone, maps ---- */
    OP_CGROUP_PROCS = 10,   /* (path) a v1 `tasks` file: P writes "0" (itself) to it; or a cgroup.procs file: P
                               writes its pid. "0" to `tasks` moves only the calling thread, which is all of
                               single-threaded P, and lets the kernel skip the global threadgroup rwsem whose
                               write side waits for an RCU grace period: ~20 ms per container start here. */
    OP_JOIN_NS = 11,        /* [clone_flag] (path) setns(open(path), clone_flag) */
    OP_CLONE_FLAGS = 12,    /* [flags] CLONE_NEW* namespaces created by the clone (never CLONE_NEWTIME) */
    OP_TIME_OFFSETS = 13,   /* [mono_secs, mono_nanos, boot_secs, boot_nanos] new time namespace */
    OP_UID_MAP = 14,        /* (contents) written to /proc/C/uid_map, e.g. "0 100000 65536\n" */
    OP_GID_MAP = 15,        /* (contents) written to /proc/C/gid_map */
    OP_SETGROUPS_DENY = 16, /* write "deny" to /proc/C/setgroups (rootless only: it disables setgroups(2)) */
    OP_CGROUP_CLONE_INTO = 17, /* (cgroup2 directory) C is cloned straight into it with CLONE_INTO_CGROUP: no
                               migration, so no threadgroup-rwsem grace period either. If the kernel refuses
                               (older than 5.7), P writes its pid to <dir>/cgroup.procs and clones normally. */

    /* ---- executed by C, in record order ---- */
    OP_ROOTFS = 20,         /* [flags: bit0 = no_pivot] [propagation MS_* flags or 0] (host path of rootfs)
                               mount("", "/", MS_REC|(propagation ? propagation : MS_SLAVE)),
                               then bind-mount the rootfs onto itself (MS_BIND|MS_REC) so pivot_root can use it.
                               With MS_SHARED, that bind is made private and bound once more, because
                               pivot_root refuses a new root whose parent mount is shared.
                               MS_UNBINDABLE is applied as MS_PRIVATE here (an unbindable "/" refuses
                               the bind); with MS_SHARED or MS_UNBINDABLE, OP_PIVOT then sets the
                               container's "/" to it (MS_REC), so the container's root really has it */
    OP_MOUNT = 21,          /* [mount flags MS_*, propagation MS_* (applied after, with MS_REC if requested), extra]
                               (source, container dest, fstype, data)
                               extra bits: */
#define MOUNT_EXTRA_MKDIR      0x1u /* create the destination directory (and parents) inside the root */
#define MOUNT_EXTRA_MKFILE     0x2u /* create the destination as an empty file (bind of a non-directory) */
#define MOUNT_EXTRA_REMOUNT    0x4u /* after mounting, remount with MS_REMOUNT|MS_BIND|flags (read-only/nosuid/... binds) */
#define MOUNT_EXTRA_SRC_IN_ROOT 0x8u /* source is a container path (resolved like dest), not a host path */
#define MOUNT_EXTRA_PROPAGATION_REC 0x10u /* apply propagation with MS_REC */
#define MOUNT_EXTRA_COPYUP     0x20u /* runc's tmpcopyup: copy what the destination directory held (files, directories,
                                        symlinks, nodes with owner, mode and times; the directory's own owner and
                                        mode too) into the new mount, through an fd opened before mounting */
    OP_DEVICE = 22,         /* [mode (S_IFCHR/S_IFBLK/S_IFIFO | perm), major, minor, uid, gid, flags bit0 = bind]
                               (container path, host path to bind from)
                               mknod, then chown uid:gid and chmod the perm bits (umask trims mknod's);
                               EEXIST leaves the existing node alone (runc); with bind, or when mknod
                               fails with EPERM, bind-mount host path onto an empty file instead */
    OP_SYMLINK = 23,        /* (target, container link path) ; EEXIST is not an error */
    OP_HOOKS = 24,          /* sync point: send SYNC_HOOKS, wait for SYNC_CONTINUE */
    OP_PIVOT = 25,          /* pivot_root into the rootfs (or MS_MOVE + chroot when OP_ROOTFS had no_pivot),
                               detach the old root, chdir("/"), then apply OP_ROOTFS's propagation (if
                               non-zero) to the new "/" (the bind it pivoted into is private until then) */
    OP_MASK = 26,           /* (container path, tmpfs data) directory -> read-only tmpfs mounted with that data
                               (the SELinux context= option, or ""); otherwise bind the container's
                               /dev/null (so after the devices); ENOENT skipped */
    OP_READONLY = 27,       /* (container path) bind onto itself, remount read-only keeping its nosuid/nodev/
                               noexec/atime flags; ENOENT skipped */
    OP_REMOUNT_RO = 28,     /* (container path) remount an existing mount read-only, keeping its other flags
                               (used for "/" with root.readonly) */
    OP_SYSCTL = 29,         /* (key with dots, value) write /proc/sys/<key with '.'->'/'>, opened beneath
                               /proc/sys without following symlinks; must come before OP_READONLY /proc/sys */
    OP_HOSTNAME = 30,       /* (name) sethostname */
    OP_DOMAINNAME = 31,     /* (name) setdomainname */
    OP_CONSOLE = 32,        /* [console socket fd, rows, cols] open /dev/ptmx in the container, unlockpt, send the
                               master with SCM_RIGHTS on the socket with the slave's name ("/dev/pts/N") as the
                               message data (runc's protocol, what podman/conmon and containerd expect), set the
                               window size when rows/cols are non-zero, setsid, TIOCSCTTY, dup2 the slave to
                               0/1/2; in create mode also bind the slave over /dev/console (created if missing) */
    OP_SETSID = 33,         /* setsid() (container init without a terminal); EPERM (already a leader) ignored */
    OP_RLIMIT = 34,         /* [resource, soft, hard] setrlimit */
    OP_OOM_SCORE_ADJ = 35,  /* [value as int64] write /proc/self/oom_score_adj. Executed by P (after the
                               cgroups, before setns; C inherits it): C is non-dumpable until execve, and in a
                               user namespace its own /proc files then belong to the host root */
    OP_IOPRIO = 36,         /* [class, level] ioprio_set(IOPRIO_WHO_PROCESS, 0, ...) */
    OP_SCHEDULER = 37,      /* [policy, priority, nice, flags, runtime, deadline, period] sched_setattr */
    OP_PERSONALITY = 38,    /* [persona] personality() */
    OP_CWD = 39,            /* (dir) chdir inside the container; done before the identity switch. Create
                               mode: a missing dir is created first (mkdir -p in the root, as runc does) */
    OP_HOOK = 40,           /* [timeout_secs (0 = none), nargs, nenv] (path, stdin text, args..., env...)
                               fork+exec a hook inside the container (startContainer), stdin = text; non-zero
                               exit or timeout (SIGKILL) is an error. NOT run in record order: recorded and
                               run in the fixed tail after the exec fifo (OCI: startContainer hooks run after
                               `start`, before the program), in record order among themselves, with the
                               container's identity (as runc). nargs = 0 means argv = {path}. */
    OP_FILE_LABEL = 41,     /* (container path, SELinux context) setxattr security.selinux on the resolved path
                               (an mqueue mount point: its superblock refuses a context= mount option) */
    OP_MOUNT_SETATTR = 42,  /* [MOUNT_ATTR_* to set, MOUNT_ATTR_* to clear] (container path) mount_setattr with
                               AT_RECURSIVE on the mount there: runc's recursive options (rro, rnosuid, ...) */

    /* ---- values used by the fixed tail of C (recorded, applied at OP_EXEC) ---- */
    OP_USER = 50,           /* [uid, gid, umask (any value > 07777, e.g. ~0 = leave), additional gids...]
                               setgroups(additional) is always called (host groups must not leak), except
                               with OP_SETGROUPS_DENY and no additional gids */
    OP_CAPS = 51,           /* [bounding, effective, permitted, inheritable, ambient] bit masks; absent = keep all */
    OP_NO_NEW_PRIVS = 52,   /* prctl(PR_SET_NO_NEW_PRIVS, 1) */
    OP_SECCOMP = 53,        /* [flags, then one int per struct sock_filter (code | jt<<16 | jf<<24 | k<<32)]
                               1..4096 instructions; flags 0 -> prctl(PR_SET_SECCOMP), else seccomp(2) with
                               them. With SECCOMP_FILTER_FLAG_NEW_LISTENER the filter is loaded at tail step 2
                               even with no_new_privs (the runtime must still be listening: create has not
                               returned yet), and its fd is sent back with SYNC_SECCOMP_LISTENER */
    OP_ENV = 54,            /* (KEY=VALUE...) the environment of the program */
    OP_ARGS = 55,           /* (argv0, argv...) argv[0] is looked up in PATH of OP_ENV (inside the container)
                               unless it contains a '/'; ENOENT/EACCES there is reported before SYNC_READY */
    OP_EXEC_FIFO = 56,      /* [fd] O_PATH fd of the exec fifo; create mode only. It is reopened for writing
                               after the identity switch, so the fifo must be writable by the container's
                               user (runc: mode 0622, owned by the container's root) */
    OP_EXEC_LABEL = 57,     /* (attr, legacy attr or "", value) write value to /proc/thread-self/attr/<attr>;
                               when that file does not exist (ENOENT) and legacy is not "", to
                               /proc/thread-self/attr/<legacy> instead. The file must be on procfs
                               (fstatfs), so a mount over the container's /proc cannot swallow the label
                               (CVE-2019-16884). The LSM applies it at the next execve: the program's.
                               AppArmor: ("apparmor/exec", "exec", "exec PROFILE"); SELinux: ("exec", "",
                               LABEL). Recorded; written at tail step 6b. */

    /* The fixed tail, run when the record list is exhausted (order matters, see each why):
     *  1. resolve argv[0] (inside the new root, with the container's PATH)          -> ENOENT/EACCES early
     *  2. without no_new_privs: load seccomp now. Loading then needs CAP_SYS_ADMIN in the effective set,
     *     which the uid switch (step 4) already clears; the filter must allow steps 3..10 (as for runc).
     *     A filter with a listener is loaded here too, whatever no_new_privs says, and its fd handed to
     *     the runtime (SYNC_SECCOMP_LISTENER, then wait for SYNC_CONTINUE); it must then allow sendmsg/recv
     *  3. drop capabilities outside OP_CAPS.bounding with PR_CAPBSET_DROP            (needs CAP_SETPCAP: before setuid)
     *  4. PR_SET_KEEPCAPS 1 (only with OP_CAPS); setgroups(additional); setresgid; setresuid; KEEPCAPS 0; umask
     *  5. capset(effective, permitted, inheritable); clear ambient; PR_CAP_AMBIENT_RAISE each ambient cap
     *  6. close_range(3 + preserve_fds, ~0, CLOSE_RANGE_CLOEXEC) so nothing of the runtime leaks (CVE-2024-21626)
 * 6b. OP_EXEC_LABEL writes, in record order: the last step before `start` (runc too), so a label the
 *     LSM refuses fails create; the startContainer hooks (step 8) take the labels, as runc's do. A
 *     filter loaded at step 2 must allow open/fstatfs/write for it (Docker's profile does)
     *  7. create mode: SYNC_READY, then open /proc/self/fd/<fifo> O_WRONLY (blocks until `start` opens it for
     *     reading), write one byte "0", close the fifo and its O_PATH fd
     *  8. OP_HOOK records (startContainer hooks), in record order
     *  9. no_new_privs; with no_new_privs (and no listener), seccomp here: as late as possible, only execve follows (runc)
     * 10. execve(resolved path, argv, env); on failure print "skiff-init: exec <path>: <strerror>" to stderr
     *     and _exit(127 for ENOENT, 126 otherwise)
     */
};

#endif
