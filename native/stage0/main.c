/*
 * main.c - skiff-init: the stage-0 that executes a plan (see plan.h for the contract).
 *
 * `skiff-init <PLANFD>` runs as "P" in the host namespaces, prepares what must exist
 * before the container process is born (cgroups, joined namespaces, time namespace),
 * clones "C" with the new namespaces, writes C's id maps and leaves. C executes the
 * remaining records in order and the fixed tail (exec.c), ending in execve().
 *
 * Signals: the runtime posix_spawn()s us with default dispositions and an empty mask,
 * and whatever we leave behind is inherited by the container's program through
 * execve. So nothing here installs a handler or blocks a signal for longer than one
 * write (hook.c, exec.c); sends use MSG_NOSIGNAL instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

static void set_cloexec(int fd, const char *what)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        fail(errno, "%s fd %d", what, fd);
}

/* clone3 where available (it takes 64-bit flags and has no stack quirks), else clone.
 * Without CLONE_VM and with a NULL stack both behave like fork(): the child continues
 * here on a copy of our stack. */
static pid_t clone_child(uint64_t flags, int cgroup_fd)
{
    struct skiff_clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    if (cgroup_fd >= 0) {
        args.flags |= SK_CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    /* With CLONE_PARENT clone3 insists on exit_signal 0: the child inherits ours,
     * which is SIGCHLD since the runtime spawned us as an ordinary child. */
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0 && cgroup_fd >= 0 && (errno == EINVAL || errno == E2BIG || errno == ENOSYS))
        return -2; /* the caller falls back to migrating itself into the cgroup */
    if (pid < 0 && errno == ENOSYS) /* e.g. under a seccomp profile that hides clone3 */
        pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
    return (pid_t)pid;
}

static void write_map(pid_t pid, const char *file, const char *data)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    write_file(path, data, strlen(data), "write");
}

/* P, after the clone. */
static void run_parent(const struct plan *p, int release_fd, pid_t child)
{
    /* SYNC_PID first, right after the clone: C is the runtime's child (CLONE_PARENT),
     * so the runtime must learn its pid even if a step below fails, or it could never
     * reap it. It is still the first message on the socket: C sends nothing before
     * we release it. */
    sync_send(SYNC_PID, child, NULL);
    /* Maps before C does anything privileged: until they exist C's ids are the
     * overflow ids and files it created would be owned by nobody; C blocks on the
     * release pipe until we are done (and exits quietly if we die first: EOF). The
     * kernel requires setgroups to be written before gid_map. */
    if (p->clone_flags & CLONE_NEWUSER) {
        if (p->setgroups_deny)
            write_map(child, "setgroups", "deny");
        if (p->uid_map)
            write_map(child, "uid_map", p->uid_map->strs[0]);
        if (p->gid_map)
            write_map(child, "gid_map", p->gid_map->strs[0]);
    }
    char b = 0;
    if (write(release_fd, &b, 1) != 1)
        fail(errno, "release container process %d", (int)child);
    _exit(0);
}

static void wait_release(int release_fd)
{
    char b;
    ssize_t n;
    do
        n = read(release_fd, &b, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(1); /* P failed and already reported; die quietly */
    close(release_fd);
}

/* C: the container's init (create) or the exec'd process (exec). */
static _Noreturn void run_child(const struct plan *p)
{
    /* In a new or joined user namespace we start as the overflow id (the host id we
     * had is usually unmapped). Become the namespace's root so files created by the
     * mount/device steps are owned by the mapped root; EINVAL means 0 is unmapped
     * (rootless with a single-id map), where our own id is all we have. */
    int in_userns = (p->clone_flags & CLONE_NEWUSER) != 0;
    for (size_t i = 0; i < p->nrecs; i++)
        if (p->recs[i].op == OP_JOIN_NS && (rec_int(&p->recs[i], 0) & CLONE_NEWUSER))
            in_userns = 1;
    if (in_userns) {
        if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
            fail(errno, "setresgid 0");
        if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
            fail(errno, "setresuid 0");
    }
    /* Now that we sit in every container cgroup, a new cgroup namespace is rooted there. */
    if ((p->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        fail(errno, "unshare cgroup namespace");

    mounts_init_root();
    for (size_t i = 0; i < p->nrecs; i++) {
        const struct rec *r = &p->recs[i];
        switch (r->op) {
        case OP_ROOTFS: op_rootfs(r); break;
        case OP_MOUNT: op_mount(r); break;
        case OP_DEVICE: op_device(r); break;
        case OP_SYMLINK: op_symlink(r); break;
        case OP_HOOKS: op_hooks_sync(); break;
        case OP_PIVOT: op_pivot(); break;
        case OP_MASK: op_mask(r); break;
        case OP_FILE_LABEL: op_file_label(r); break;
        case OP_MOUNT_SETATTR: op_mount_setattr(r); break;
        case OP_READONLY: op_readonly(r); break;
        case OP_REMOUNT_RO: op_remount_ro(r); break;
        case OP_SYSCTL: op_sysctl(r); break;
        case OP_HOSTNAME:
            if (sethostname(r->strs[0], strlen(r->strs[0])) < 0)
                fail(errno, "sethostname %s", r->strs[0]);
            break;
        case OP_DOMAINNAME:
            if (setdomainname(r->strs[0], strlen(r->strs[0])) < 0)
                fail(errno, "setdomainname %s", r->strs[0]);
            break;
        case OP_CONSOLE: op_console(p, r); break;
        case OP_SETSID: op_setsid(); break;
        case OP_RLIMIT: op_rlimit(r); break;
        case OP_IOPRIO: op_ioprio(r); break;
        case OP_SCHEDULER: op_scheduler(r); break;
        case OP_PERSONALITY: op_personality(r); break;
        case OP_CWD: op_cwd(p, r); break;
        default: break; /* P's records, globals, and tail values (OP_HOOK runs in the tail) */
        }
    }
    run_tail(p);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--init") == 0)
        return reaper_main(argc - 1, argv + 1);
    if (argc != 2 || !argv[1][0] || strspn(argv[1], "0123456789") != strlen(argv[1])) {
        dprintf(2, "usage: skiff-init PLANFD (started by skiff-runtime, not by hand)\n");
        return 2;
    }
    int planfd = atoi(argv[1]);
    struct plan p;
    plan_load(planfd, &p);
    g_sync_fd = p.sync_fd;

    /* The runtime hands these over without FD_CLOEXEC (posix_spawn must keep them
     * open); we mark them so none of them can reach the container program. */
    set_cloexec(p.sync_fd, "sync socket");
    /* Non-dumpable until execve (which resets it): processes already in the container
     * (exec mode) must not ptrace us or open our /proc files while we hold host fds
     * and host paths (CVE-2016-9962). C inherits it across the clone. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail(errno, "prctl PR_SET_DUMPABLE");
    if (planfd >= 3 + p.preserve_fds)
        close(planfd); /* the plan was copied into memory */

    if (p.await_go) {
        struct sync_msg go;
        if (sync_recv(&go) != 1 || go.type != SYNC_CONTINUE)
            _exit(1);
    }

    /* Cgroups first: C must be born inside the container's cgroups (so no memory or
     * pids limit is escaped, and a new cgroup namespace is rooted there), and C inherits
     * P's cgroup at clone time. Before setns: after joining a user namespace we could
     * no longer write host cgroup files. */
    char pidbuf[24];
    int pidlen = snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
    for (size_t i = 0; i < p.nrecs; i++) {
        if (p.recs[i].op != OP_CGROUP_PROCS)
            continue;
        const char *file = p.recs[i].strs[0];
        size_t len = strlen(file);
        if (len >= 6 && strcmp(file + len - 6, "/tasks") == 0)
            write_file(file, "0", 1, "write cgroup");
        else
            write_file(file, pidbuf, pidlen, "write cgroup");
    }
    /* Opened now, in the host mount namespace: a joined mount namespace may not show it. */
    int cgroup_fd = -1;
    if (p.cgroup_clone_into) {
        cgroup_fd = open(p.cgroup_clone_into->strs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgroup_fd < 0)
            fail(errno, "open cgroup %s", p.cgroup_clone_into->strs[0]);
    }

    /* oom_score_adj is inherited by C. Written here, from the host namespaces: C may
     * run non-dumpable in a user namespace, where its own /proc/self files belong to
     * the host root and are not writable by it (runc writes it this early too). */
    for (size_t i = 0; i < p.nrecs; i++)
        if (p.recs[i].op == OP_OOM_SCORE_ADJ)
            op_oom_score_adj(&p.recs[i]);

    /* Join namespaces in record order: the runtime puts the user namespace first since
     * it owns the others (we need its capabilities to join them). A joined pid
     * namespace applies to our children only, which is exactly C. setns() of user/mnt
     * namespaces is refused to multithreaded callers: the reason this is C at all. */
    for (size_t i = 0; i < p.nrecs; i++) {
        const struct rec *r = &p.recs[i];
        if (r->op != OP_JOIN_NS)
            continue;
        int fd = open(r->strs[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fail(errno, "open namespace %s", r->strs[0]);
        if (setns(fd, (int)rec_int(r, 0)) < 0)
            fail(errno, "setns %s", r->strs[0]);
        close(fd);
    }

    /* A time namespace cannot be created by clone (CLONE_NEWTIME collides with
     * CSIGNAL in clone(2)); unshare makes it the namespace of our future children,
     * and its offsets can only be written before any process lives in it. */
    if (p.time_offsets) {
        if (unshare(SK_CLONE_NEWTIME) < 0)
            fail(errno, "unshare time namespace");
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "monotonic %" PRId64 " %" PRId64 "\nboottime %" PRId64 " %" PRId64 "\n",
                         (int64_t)rec_int(p.time_offsets, 0), (int64_t)rec_int(p.time_offsets, 1),
                         (int64_t)rec_int(p.time_offsets, 2), (int64_t)rec_int(p.time_offsets, 3));
        write_file("/proc/self/timens_offsets", buf, n, "write");
    }

    int rel[2];
    if (pipe2(rel, O_CLOEXEC) < 0)
        fail(errno, "pipe");
    /* CLONE_PARENT: C becomes the runtime's child (it waits on a pidfd for it), P can
     * exit right after the maps. A new cgroup namespace is not created by the clone but
     * by C itself (see run_child): with CLONE_INTO_CGROUP the namespace would be rooted
     * at P's cgroup instead of the container's. */
    uint64_t flags = (p.clone_flags & ~(uint64_t)CLONE_NEWCGROUP) | CLONE_PARENT;
    pid_t child = clone_child(flags, cgroup_fd);
    if (child == -2) {
        char procs[4096];
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", p.cgroup_clone_into->strs[0]);
        write_file(procs, pidbuf, pidlen, "write cgroup");
        child = clone_child(flags, -1);
    }
    if (child < 0)
        fail(errno, "clone flags 0x%llx", (unsigned long long)flags);
    if (child == 0) {
        close(rel[1]);
        wait_release(rel[0]);
        run_child(&p);
    }
    close(rel[0]);
    run_parent(&p, rel[1], child);
    return 0;
}
