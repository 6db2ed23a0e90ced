/*
 * process.c - per-process attributes of the container program: sysctls, rlimits,
 * oom score, io priority, scheduler, personality, session; and the identity switch
 * of the fixed tail (bounding set, uid/gid, capabilities, seccomp).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

void op_sysctl(const struct rec *r)
{
    const char *key = r->strs[0], *value = r->strs[1];
    char rel[4096];
    size_t n = strlen(key);
    if (n >= sizeof(rel))
        fail(ENAMETOOLONG, "sysctl %s", key);
    for (size_t i = 0; i <= n; i++)
        rel[i] = key[i] == '.' ? '/' : key[i];
    /* Beneath /proc/sys and without symlinks: a key is never a way out of it. */
    int dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        fail(errno, "sysctl %s: open /proc/sys", key);
    struct skiff_open_how how = {.flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
                                 .resolve = SK_RESOLVE_BENEATH | SK_RESOLVE_NO_SYMLINKS};
    int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));
    if (fd < 0)
        fail(errno, "sysctl %s", key);
    ssize_t w = write(fd, value, strlen(value));
    if (w < 0)
        fail(errno, "sysctl %s=%s", key, value);
    close(fd);
    close(dir);
}

static const char *const rlimit_names[] = {
    "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
    "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static void fmt_limit(char *buf, size_t len, uint64_t v)
{
    if (v == (uint64_t)RLIM_INFINITY)
        snprintf(buf, len, "unlimited");
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

void op_rlimit(const struct rec *r)
{
    uint64_t res = rec_int(r, 0);
    struct rlimit rl = {.rlim_cur = rec_int(r, 1), .rlim_max = rec_int(r, 2)};
    if (setrlimit((int)res, &rl) < 0) {
        int e = errno;
        char soft[24], hard[24], name[24];
        fmt_limit(soft, sizeof(soft), rl.rlim_cur);
        fmt_limit(hard, sizeof(hard), rl.rlim_max);
        if (res < sizeof(rlimit_names) / sizeof(rlimit_names[0]))
            snprintf(name, sizeof(name), "%s", rlimit_names[res]);
        else
            snprintf(name, sizeof(name), "%llu", (unsigned long long)res);
        fail(e, "setrlimit %s %s/%s", name, soft, hard);
    }
}

void op_oom_score_adj(const struct rec *r)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)(int64_t)rec_int(r, 0));
    char what[64];
    /* The kernel alone knows the lowest value allowed without CAP_SYS_RESOURCE: name the value asked for. */
    snprintf(what, sizeof(what), "set oom_score_adj to %s: write", buf);
    write_file("/proc/self/oom_score_adj", buf, n, what);
}

void op_ioprio(const struct rec *r)
{
    int prio = (int)((rec_int(r, 0) << SK_IOPRIO_CLASS_SHIFT) | rec_int(r, 1));
    if (syscall(SYS_ioprio_set, SK_IOPRIO_WHO_PROCESS, 0, prio) < 0)
        fail(errno, "ioprio_set class %llu level %llu", (unsigned long long)rec_int(r, 0),
             (unsigned long long)rec_int(r, 1));
}

void op_scheduler(const struct rec *r)
{
    struct skiff_sched_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.sched_policy = (uint32_t)rec_int(r, 0);
    a.sched_priority = (uint32_t)rec_int(r, 1);
    a.sched_nice = (int32_t)rec_int(r, 2);
    a.sched_flags = rec_int(r, 3);
    a.sched_runtime = rec_int(r, 4);
    a.sched_deadline = rec_int(r, 5);
    a.sched_period = rec_int(r, 6);
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        fail(errno, "sched_setattr policy %u priority %u", a.sched_policy, a.sched_priority);
}

void op_personality(const struct rec *r)
{
    if (personality((unsigned long)rec_int(r, 0)) < 0)
        fail(errno, "personality 0x%llx", (unsigned long long)rec_int(r, 0));
}

void op_setsid(void)
{
    /* EPERM: already a session leader (OP_CONSOLE made us one), which is the goal. */
    if (setsid() < 0 && errno != EPERM)
        fail(errno, "setsid");
}

int load_seccomp(const struct rec *r)
{
    uint32_t n = r->nints - 1;
    struct skiff_sock_filter *f = calloc(n, sizeof(*f));
    if (!f)
        fail(ENOMEM, "seccomp");
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = rec_int(r, i + 1);
        f[i].code = (uint16_t)v;
        f[i].jt = (uint8_t)(v >> 16);
        f[i].jf = (uint8_t)(v >> 24);
        f[i].k = (uint32_t)(v >> 32);
    }
    struct skiff_sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    uint64_t flags = rec_int(r, 0);
    long rc = flags ? syscall(SYS_seccomp, SK_SECCOMP_SET_MODE_FILTER, (unsigned long)flags, &prog)
                    : prctl(PR_SET_SECCOMP, SK_SECCOMP_MODE_FILTER, &prog, 0, 0);
    if (rc < 0)
        fail(errno, "seccomp filter of %u instructions flags 0x%llx", n, (unsigned long long)flags);
    free(f);
    return (flags & SK_SECCOMP_FILTER_FLAG_NEW_LISTENER) ? (int)rc : 0;
}

/* Drop what is outside the bounding set while we still have CAP_SETPCAP, i.e. before
 * the uid switch; afterwards nothing (not even a setuid binary) can regain them. */
void drop_bounding(const struct rec *caps)
{
    if (!caps)
        return;
    uint64_t keep = rec_int(caps, 0);
    for (int c = 0; c < 64; c++) {
        int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (in < 0)
            break; /* EINVAL: past the kernel's last capability */
        if (in && !(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            fail(errno, "drop capability %d from the bounding set", c);
    }
}

void switch_identity(const struct plan *p)
{
    const struct rec *u = p->user;
    if (!u)
        return;
    uid_t uid = (uid_t)rec_int(u, 0);
    gid_t gid = (gid_t)rec_int(u, 1);
    /* KEEPCAPS: setresuid() from 0 to non-zero clears the permitted set; we keep it so
     * the capset() below can still grant the configured capabilities to a non-root
     * user. Only when capabilities are configured, or a user would keep them all. */
    if (p->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        fail(errno, "prctl PR_SET_KEEPCAPS");
    size_t ngroups = u->nints - 3;
    /* With setgroups denied (rootless) only an empty list is acceptable, and then
     * there is nothing to change. Otherwise always call it: the host root's
     * supplementary groups must not leak into the container. */
    if (!(p->setgroups_deny && ngroups == 0)) {
        gid_t *groups = calloc(ngroups ? ngroups : 1, sizeof(gid_t));
        if (!groups)
            fail(ENOMEM, "setgroups");
        for (size_t i = 0; i < ngroups; i++)
            groups[i] = (gid_t)rec_int(u, 3 + i);
        if (setgroups(ngroups, groups) < 0)
            fail(errno, "setgroups of %zu groups", ngroups);
        free(groups);
    }
    if (setresgid(gid, gid, gid) < 0)
        fail(errno, "setresgid %u", (unsigned)gid);
    if (setresuid(uid, uid, uid) < 0)
        fail(errno, "setresuid %u", (unsigned)uid);
    if (p->caps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        fail(errno, "prctl PR_SET_KEEPCAPS");
    uint64_t mask = rec_int(u, 2);
    if (mask <= 07777)
        umask((mode_t)mask);
}

void apply_caps(const struct rec *caps)
{
    if (!caps)
        return;
    uint64_t eff = rec_int(caps, 1), perm = rec_int(caps, 2), inh = rec_int(caps, 3), amb = rec_int(caps, 4);
    struct skiff_cap_header h = {.version = SK_CAP_VERSION_3, .pid = 0};
    struct skiff_cap_data d[2] = {
        {(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
    };
    if (syscall(SYS_capset, &h, d) < 0)
        fail(errno, "capset effective 0x%llx permitted 0x%llx inheritable 0x%llx", (unsigned long long)eff,
             (unsigned long long)perm, (unsigned long long)inh);
    /* Ambient caps survive execve of a non-setuid program; raising needs each cap in
     * both permitted and inheritable, hence after capset. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail(errno, "clear ambient capabilities");
    for (int c = 0; c < 64; c++)
        if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            fail(errno, "raise ambient capability %d", c);
}
