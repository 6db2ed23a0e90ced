/*
 * exec.c - the fixed tail of C (see OP_EXEC_FIFO in plan.h): resolve the program,
 * switch identity, close what must not leak, wait for `start`, execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_path(const struct plan *p)
{
    if (p->env)
        for (uint32_t i = 0; i < p->env->nstrs; i++)
            if (!strncmp(p->env->strs[i], "PATH=", 5))
                return p->env->strs[i] + 5;
    return DEFAULT_PATH;
}

/* 0 = executable regular file; EACCES = exists but is not one; else errno of stat. */
static int check_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
        return EACCES;
    return 0;
}

/* Look argv[0] up in the container (we are inside its root and cwd by now) so that
 * "not found" is reported before SYNC_READY instead of as exit status 127 later. */
static char *resolve_program(const struct plan *p)
{
    const char *arg0 = p->args->strs[0];
    if (!arg0[0])
        fail_raw(ENOENT, "exec: \"\": executable file not found in $PATH");
    if (strchr(arg0, '/')) {
        int e = check_executable(arg0);
        if (e == EACCES)
            fail_raw(e, "exec: \"%s\": permission denied", arg0);
        if (e)
            fail(e, "exec: \"%s\": stat %s", arg0, arg0);
        return (char *)arg0;
    }
    const char *path = env_path(p);
    int saw_eacces = 0;
    static char buf[PATH_MAX];
    for (const char *dir = path;; dir++) {
        const char *end = strchr(dir, ':');
        size_t dlen = end ? (size_t)(end - dir) : strlen(dir);
        int n = dlen ? snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, dir, arg0)
                     : snprintf(buf, sizeof(buf), "./%s", arg0); /* empty element = cwd */
        if (n > 0 && (size_t)n < sizeof(buf)) {
            int e = check_executable(buf);
            if (e == 0)
                return buf;
            if (e == EACCES)
                saw_eacces = 1;
        }
        if (!end)
            break;
        dir = end;
    }
    if (saw_eacces)
        fail_raw(EACCES, "exec: \"%s\": permission denied", arg0);
    fail_raw(ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

/* Everything from 3 + preserve_fds up becomes close-on-exec: the runtime's
 * descriptors (a host directory fd let a container escape in CVE-2024-21626) must not
 * reach the program, while the sync socket and fifo stay usable until execve. */
static void cloexec_from(int first)
{
    if (syscall(SYS_close_range, (unsigned)first, ~0U, SK_CLOSE_RANGE_CLOEXEC) == 0)
        return;
    struct rlimit rl; /* kernels before 5.11 */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        rl.rlim_cur = 65536;
    for (int fd = first; fd < (int)rl.rlim_cur; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
}

/* create: the barrier between `create` and `start`. Opening a fifo for writing blocks
 * until someone opens it for reading, which is what `start` does. We reopen our O_PATH
 * fd through /proc/self/fd since the fifo's path is on the host and not reachable. */
static void wait_for_start(const struct plan *p)
{
    sync_send(SYNC_READY, 0, NULL);
    g_ready_sent = 1;
    if (!p->exec_fifo)
        return;
    int pfd = (int)rec_int(p->exec_fifo, 0);
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
    int fd;
    do
        fd = open(path, O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        fail(errno, "open exec fifo as uid %u (it must be writable by the container user)", (unsigned)getuid());
    /* Block SIGPIPE for the write: if `start` went away we want an error, not death by
     * a signal; consume a pending one so nothing leaks into the program's mask. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, &old);
    ssize_t n = write(fd, "0", 1);
    int e = errno;
    if (n < 0 && e == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&set, NULL, &zero);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (n != 1)
        fail(n < 0 ? e : EIO, "write exec fifo");
    close(fd);
    /* Close the O_PATH fd before execve: it names a host file (runc does the same). */
    close(pfd);
}

/* The filter's notify fd goes to the runtime, which forwards it to linux.seccomp.listenerPath;
 * we wait for its answer so the listener holds the fd before anything can block on it. */
static void hand_over_listener(int listener)
{
    struct sync_msg m;
    memset(&m, 0, sizeof(m));
    m.type = SYNC_SECCOMP_LISTENER;
    if (send_fd(g_sync_fd, listener, &m, sizeof(m)) < 0)
        fail(errno, "send seccomp listener fd");
    if (sync_recv(&m) != 1 || m.type != SYNC_CONTINUE)
        fail_raw(EPIPE, "the runtime did not take the seccomp listener fd");
    close(listener);
}

/* OP_EXEC_LABEL: the LSM attribute that labels our next execve. Anything but procfs at the
 * path (a bind over the container's /proc) would take the write and leave the program
 * unconfined, so that is an error (CVE-2019-16884). */
static void write_exec_label(const struct rec *r)
{
    const char *attr = r->strs[0], *legacy = r->strs[1], *value = r->strs[2];
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "/proc/thread-self/attr/%s", attr) >= (int)sizeof(path))
        fail_raw(ENAMETOOLONG, "exec label attr %.64s...: name too long", attr);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && legacy[0]) {
        if (snprintf(path, sizeof(path), "/proc/thread-self/attr/%s", legacy) >= (int)sizeof(path))
            fail_raw(ENAMETOOLONG, "exec label attr %.64s...: name too long", legacy);
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        fail(errno, "open %s to set \"%s\"", path, value);
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        fail(errno, "fstatfs %s", path);
    if (sf.f_type != SK_PROC_SUPER_MAGIC)
        fail_raw(EPERM, "set \"%s\": %s is not on procfs (is something mounted over the container's /proc?)", value,
                 path);
    ssize_t n;
    do
        n = write(fd, value, strlen(value));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        fail(errno, "write \"%s\" to %s", value, path);
    close(fd);
}

void run_tail(const struct plan *p)
{
    /* 1. The program, looked up while we can still report it as a create error. */
    char *prog = resolve_program(p);

    /* 2. Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the uid
     * switch and capset below take away: load it first (runc does the same). The
     * filter then also sees setgroups/setresuid/capset/execve, so profiles must allow
     * them, as they must for runc. */
    int listener_filter = p->seccomp && (rec_int(p->seccomp, 0) & SK_SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (p->seccomp && (!p->no_new_privs || listener_filter)) {
        int listener = load_seccomp(p->seccomp);
        if (listener_filter)
            hand_over_listener(listener);
    }

    /* 3. Bounding set while we hold CAP_SETPCAP (before the uid switch). */
    drop_bounding(p->caps);
    /* 4. groups, gid, uid (KEEPCAPS inside), umask. */
    switch_identity(p);
    /* 5. The final capability sets, then ambient (needs permitted+inheritable). */
    apply_caps(p->caps);

    /* 6. Nothing of the runtime's fds beyond stdio and preserved ones may survive. */
    cloexec_from(3 + p->preserve_fds);

    /* 6b. The program's labels, last before `start` like runc: a profile the module refuses
     * (not loaded, malformed) is then an error of create, not of the program's start.
     * startContainer hooks, executed by us after this, take them too, as runc's do. */
    for (size_t i = 0; i < p->nrecs; i++)
        if (p->recs[i].op == OP_EXEC_LABEL)
            write_exec_label(&p->recs[i]);

    /* 7. create: tell the runtime we are ready and block until `start`. exec: no
     * message; the sync socket closing at execve (CLOEXEC) tells the runtime. */
    if (p->mode == MODE_CREATE)
        wait_for_start(p);

    /* 8. startContainer hooks: after `start`, before the program (OCI runtime spec,
     * "startContainer"); they run with the container's identity like runc's. */
    for (size_t i = 0; i < p->nrecs; i++)
        if (p->recs[i].op == OP_HOOK)
            run_hook(&p->recs[i]);

    /* 9. no_new_privs and the filter as late as possible: after it, only execve. */
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(errno, "prctl PR_SET_NO_NEW_PRIVS");
    if (p->seccomp && p->no_new_privs && !listener_filter)
        load_seccomp(p->seccomp);

    /* 10. The program. */
    char *const *argv = (char *const *)p->args->strs;
    static char *empty_env[] = {NULL};
    char *const *envp = p->env ? (char *const *)p->env->strs : empty_env;
    execve(prog, argv, envp);
    int e = errno;
    dprintf(2, "skiff-init: exec %s: %s\n", prog, strerror(e));
    /* exec mode: the runtime is still reading the socket; tell it why. */
    if (!g_ready_sent) {
        char text[sizeof(((struct sync_msg *)0)->text)];
        snprintf(text, sizeof(text), "exec %.400s: %s", prog, strerror(e));
        sync_send(SYNC_ERROR, e, text);
    }
    _exit(e == ENOENT ? 127 : 126);
}
