/*
 * plan.c - loading and validating the plan (layout in plan.h).
 *
 * Everything is bounds-checked before anything runs, so the executing code can index
 * ints and strings of a record without further checks: a record whose shape does not
 * match its op, an unknown op or a duplicated global is an error, never a guess.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

#define PLAN_MAX_BYTES (16u << 20)
#define ANY 0xffffffffu

/* Accepted shape per op: [min_ints, max_ints] ints and [min_strs, max_strs] strings.
 * OP_HOOK's string count depends on its ints and is checked separately. */
static const struct shape {
    uint32_t op, min_ints, max_ints, min_strs, max_strs, once;
} shapes[] = {
    {OP_MODE, 1, 1, 0, 0, 1},
    {OP_SYNC_FD, 1, 1, 0, 0, 1},
    {OP_PRESERVE_FDS, 1, 1, 0, 0, 1},
    {OP_AWAIT_GO, 0, 0, 0, 0, 1},
    {OP_CGROUP_PROCS, 0, 0, 1, 1, 0},
    {OP_CGROUP_CLONE_INTO, 0, 0, 1, 1, 1},
    {OP_JOIN_NS, 1, 1, 1, 1, 0},
    {OP_CLONE_FLAGS, 1, 1, 0, 0, 1},
    {OP_TIME_OFFSETS, 4, 4, 0, 0, 1},
    {OP_UID_MAP, 0, 0, 1, 1, 1},
    {OP_GID_MAP, 0, 0, 1, 1, 1},
    {OP_SETGROUPS_DENY, 0, 0, 0, 0, 1},
    {OP_ROOTFS, 2, 2, 1, 1, 1},
    {OP_MOUNT, 3, 3, 4, 4, 0},
    {OP_DEVICE, 6, 6, 2, 2, 0},
    {OP_SYMLINK, 0, 0, 2, 2, 0},
    {OP_HOOKS, 0, 0, 0, 0, 0},
    {OP_PIVOT, 0, 0, 0, 0, 1},
    {OP_MASK, 0, 0, 2, 2, 0},
    {OP_READONLY, 0, 0, 1, 1, 0},
    {OP_REMOUNT_RO, 0, 0, 1, 1, 0},
    {OP_SYSCTL, 0, 0, 2, 2, 0},
    {OP_HOSTNAME, 0, 0, 1, 1, 1},
    {OP_DOMAINNAME, 0, 0, 1, 1, 1},
    {OP_CONSOLE, 3, 3, 0, 0, 1},
    {OP_SETSID, 0, 0, 0, 0, 0},
    {OP_RLIMIT, 3, 3, 0, 0, 0},
    {OP_OOM_SCORE_ADJ, 1, 1, 0, 0, 1},
    {OP_IOPRIO, 2, 2, 0, 0, 1},
    {OP_SCHEDULER, 7, 7, 0, 0, 1},
    {OP_PERSONALITY, 1, 1, 0, 0, 1},
    {OP_CWD, 0, 0, 1, 1, 1},
    {OP_HOOK, 3, 3, 2, ANY, 0},
    {OP_FILE_LABEL, 0, 0, 2, 2, 0},
    {OP_MOUNT_SETATTR, 2, 2, 1, 1, 0},
    {OP_USER, 3, 3 + 65536, 0, 0, 1},
    {OP_CAPS, 5, 5, 0, 0, 1},
    {OP_NO_NEW_PRIVS, 0, 0, 0, 0, 1},
    {OP_SECCOMP, 2, 1 + SK_BPF_MAXINSNS, 0, 0, 1},
    {OP_ENV, 0, 0, 0, ANY, 1},
    {OP_ARGS, 0, 0, 1, ANY, 1},
    {OP_EXEC_FIFO, 1, 1, 0, 0, 1},
    {OP_EXEC_LABEL, 0, 0, 3, 3, 0},
};

uint64_t rec_int(const struct rec *r, uint32_t i)
{
    uint64_t v;
    memcpy(&v, r->ints + (size_t)i * 8, 8);
    return v;
}

static const struct shape *shape_of(uint32_t op)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (shapes[i].op == op)
            return &shapes[i];
    return NULL;
}

static unsigned char *read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        fail(errno, "read plan fd %d", fd);
    if (st.st_size < (off_t)sizeof(struct plan_header) || st.st_size > (off_t)PLAN_MAX_BYTES)
        fail_raw(EINVAL, "read plan fd %d: bad size %lld", fd, (long long)st.st_size);
    unsigned char *buf = malloc(st.st_size);
    if (!buf)
        fail(ENOMEM, "read plan");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + got, st.st_size - got, got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail(n < 0 ? errno : EIO, "read plan fd %d", fd);
        got += n;
    }
    *len = got;
    return buf;
}

static int to_fd(uint64_t v, const char *what)
{
    if (v > 0x7fffffff)
        fail_raw(EINVAL, "plan: %s %llu out of range", what, (unsigned long long)v);
    return (int)v;
}

void plan_load(int fd, struct plan *p)
{
    size_t len;
    unsigned char *buf = read_all(fd, &len); /* lives until execve */
    struct plan_header h;
    memcpy(&h, buf, sizeof(h));
    if (h.magic != PLAN_MAGIC)
        fail_raw(EINVAL, "plan: bad magic 0x%08x", h.magic);
    if (h.version != PLAN_VERSION)
        fail_raw(EINVAL, "plan: version %u, skiff-init speaks %u", h.version, PLAN_VERSION);
    if (h.count > len / sizeof(struct plan_record))
        fail_raw(EINVAL, "plan: count %u exceeds the plan size", h.count);

    memset(p, 0, sizeof(*p));
    p->sync_fd = -1;
    p->mode = -1;
    p->recs = calloc(h.count ? h.count : 1, sizeof(struct rec));
    if (!p->recs)
        fail(ENOMEM, "plan");
    p->nrecs = h.count;
    uint32_t seen[64] = {0}; /* bitmap of ops already seen, for `once` */

    size_t off = sizeof(h);
    for (uint32_t i = 0; i < h.count; i++) {
        struct plan_record pr;
        if (len - off < sizeof(pr))
            fail_raw(EINVAL, "plan: record %u truncated", i);
        memcpy(&pr, buf + off, sizeof(pr));
        if (pr.size < sizeof(pr) || pr.size % 8 || pr.size > len - off)
            fail_raw(EINVAL, "plan: record %u (op %u) has bad size %u", i, pr.op, pr.size);
        const struct shape *s = shape_of(pr.op);
        if (!s)
            fail_raw(EINVAL, "plan: record %u has unknown op %u", i, pr.op);
        if (pr.nints < s->min_ints || pr.nints > s->max_ints || pr.nstrs < s->min_strs ||
            (s->max_strs != ANY && pr.nstrs > s->max_strs))
            fail_raw(EINVAL, "plan: record %u (op %u) has %u ints and %u strings", i, pr.op, pr.nints,
                     pr.nstrs);
        if (s->once) {
            if (seen[pr.op / 32] & (1u << (pr.op % 32)))
                fail_raw(EINVAL, "plan: op %u appears twice", pr.op);
            seen[pr.op / 32] |= 1u << (pr.op % 32);
        }
        size_t body = pr.size - sizeof(pr);
        if ((size_t)pr.nints > body / 8)
            fail_raw(EINVAL, "plan: record %u (op %u) ints overflow the record", i, pr.op);

        struct rec *r = &p->recs[i];
        r->op = pr.op;
        r->nints = pr.nints;
        r->nstrs = pr.nstrs;
        r->ints = buf + off + sizeof(pr);
        /* strings: nstrs NUL-terminated strings back to back, all inside the record */
        const char *sp = (const char *)r->ints + (size_t)pr.nints * 8;
        const char *end = (const char *)buf + off + pr.size;
        if (pr.nstrs > (size_t)(end - sp))
            fail_raw(EINVAL, "plan: record %u (op %u) strings overflow the record", i, pr.op);
        r->strs = calloc(pr.nstrs + 1, sizeof(char *)); /* NULL-terminated: argv/envp ready */
        if (!r->strs)
            fail(ENOMEM, "plan");
        for (uint32_t k = 0; k < pr.nstrs; k++) {
            const char *nul = memchr(sp, 0, end - sp);
            if (!nul)
                fail_raw(EINVAL, "plan: record %u (op %u) string %u is not terminated", i, pr.op, k);
            r->strs[k] = sp;
            sp = nul + 1;
        }
        off += pr.size;

        switch (r->op) {
        case OP_MODE:
            if (rec_int(r, 0) > MODE_EXEC)
                fail_raw(EINVAL, "plan: mode %llu", (unsigned long long)rec_int(r, 0));
            p->mode = (int)rec_int(r, 0);
            break;
        case OP_SYNC_FD:
            p->sync_fd = to_fd(rec_int(r, 0), "sync fd");
            break;
        case OP_PRESERVE_FDS:
            if (rec_int(r, 0) > 0x10000)
                fail_raw(EINVAL, "plan: preserve_fds %llu", (unsigned long long)rec_int(r, 0));
            p->preserve_fds = (int)rec_int(r, 0);
            break;
        case OP_CLONE_FLAGS:
            p->clone_flags = rec_int(r, 0);
            if (p->clone_flags & ~(uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                             CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP))
                fail_raw(EINVAL, "plan: clone flags 0x%llx include more than CLONE_NEW* namespaces",
                         (unsigned long long)p->clone_flags);
            break;
        case OP_AWAIT_GO: p->await_go = 1; break;
        case OP_TIME_OFFSETS: p->time_offsets = r; break;
        case OP_CGROUP_CLONE_INTO: p->cgroup_clone_into = r; break;
        case OP_UID_MAP: p->uid_map = r; break;
        case OP_GID_MAP: p->gid_map = r; break;
        case OP_SETGROUPS_DENY: p->setgroups_deny = 1; break;
        case OP_ROOTFS: p->rootfs = r; break;
        case OP_USER: p->user = r; break;
        case OP_CAPS: p->caps = r; break;
        case OP_NO_NEW_PRIVS: p->no_new_privs = 1; break;
        case OP_SECCOMP: p->seccomp = r; break;
        case OP_ENV: p->env = r; break;
        case OP_ARGS: p->args = r; break;
        case OP_EXEC_FIFO: p->exec_fifo = r; break;
        case OP_HOOK:
            if (rec_int(r, 1) > r->nstrs || rec_int(r, 2) > r->nstrs ||
                2 + rec_int(r, 1) + rec_int(r, 2) != r->nstrs)
                fail_raw(EINVAL, "plan: record %u (hook) has %u strings for %llu args and %llu env", i, r->nstrs,
                         (unsigned long long)rec_int(r, 1), (unsigned long long)rec_int(r, 2));
            break;
        case OP_JOIN_NS:
        case OP_CONSOLE:
            if (r->op == OP_CONSOLE)
                to_fd(rec_int(r, 0), "console socket fd");
            break;
        default:
            break;
        }
        /* Once the sync socket is known, later validation errors reach the runtime. */
        if (p->sync_fd >= 0 && g_sync_fd < 0)
            g_sync_fd = p->sync_fd;
    }
    if (off != len)
        fail_raw(EINVAL, "plan: %zu trailing bytes after %u records", len - off, h.count);
    if (p->sync_fd < 0)
        fail_raw(EINVAL, "plan: no sync fd");
    if (p->mode < 0)
        fail_raw(EINVAL, "plan: no mode");
    if (!p->args)
        fail_raw(EINVAL, "plan: no args");
    if (p->mode == MODE_EXEC && p->rootfs)
        fail_raw(EINVAL, "plan: exec mode with a rootfs");
    if (p->exec_fifo)
        to_fd(rec_int(p->exec_fifo, 0), "exec fifo fd");
}
