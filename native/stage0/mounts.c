/*
 * mounts.c - the container's filesystem: rootfs, mounts, devices, symlinks, pivot,
 * masked and read-only paths.
 *
 * Every container path is resolved with openat2(RESOLVE_IN_ROOT) against the
 * container root (the rootfs before OP_PIVOT, "/" after), so a symlink planted in the
 * image can never send a mount, mknod or chown to the host (CVE-2021-30465 and
 * friends). Mounts then target /proc/self/fd/<O_PATH fd>, i.e. exactly the object we
 * resolved, not a path that could be swapped in between. Directories are created one
 * component at a time the same way, with mkdirat relative to a resolved parent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

#define PROPAGATION_MASK (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

static int g_root = -1; /* O_PATH fd of the container's root directory */
static int g_no_pivot;
static unsigned long g_root_prop; /* MS_SHARED or MS_UNBINDABLE: applied to "/" after the pivot */

struct fdpath {
    char s[32];
};

static struct fdpath fdpath(int fd)
{
    struct fdpath p;
    snprintf(p.s, sizeof(p.s), "/proc/self/fd/%d", fd);
    return p;
}

static void set_root(int fd)
{
    if (g_root >= 0)
        close(g_root);
    g_root = fd;
}

void mounts_init_root(void)
{
    /* exec mode (or a plan without OP_ROOTFS): our root already is the container's,
     * set by setns(CLONE_NEWNS) in P, which also moved the cwd there. */
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fail(errno, "open /");
    set_root(fd);
}

int resolve_in_root(const char *path, int flags)
{
    struct skiff_open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = O_PATH | O_CLOEXEC | flags;
    how.resolve = SK_RESOLVE_IN_ROOT | SK_RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, g_root, path, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN); /* a concurrent rename in the tree: retry, as the man page says */
    return (int)fd;
}

/* Split a path into its parent (or "/") and last component, both stored in buf
 * (PATH_MAX + 2 bytes); trailing slashes are ignored. "/" itself has no last part. */
static int split(const char *path, char *buf, const char **last)
{
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return errno = ENAMETOOLONG, -1;
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t s = n; /* start of the last component */
    while (s > 0 && path[s - 1] != '/')
        s--;
    if (s == n)
        return errno = EINVAL, -1;
    size_t plen = s;
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    if (plen == 0 || (plen == 1 && path[0] == '/')) {
        buf[0] = '/';
        plen = 1;
    } else {
        memcpy(buf, path, plen);
    }
    buf[plen] = 0;
    memcpy(buf + plen + 1, path + s, n - s);
    buf[plen + 1 + n - s] = 0;
    *last = buf + plen + 1;
    return 0;
}

/* mkdir -p inside the root: each missing component is created with mkdirat() under
 * its parent resolved in the root, so neither ".." nor symlinks lead outside. A
 * dangling symlink on the way (an image's /var/run -> /run without /run) is followed
 * the way the final openat2 will follow it: its target is created, inside the root. */
static int mkdir_depth(const char *path, int depth)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return errno = ENAMETOOLONG, -1;
    if (depth > 40)
        return errno = ELOOP, -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && buf[i] != '/')
            continue;
        if (i == 0 || buf[i - 1] == '/')
            continue; /* leading or repeated slash */
        char saved = buf[i];
        buf[i] = 0;
        int fd = resolve_in_root(buf, O_DIRECTORY);
        if (fd < 0) {
            if (errno != ENOENT)
                return -1;
            char parent[PATH_MAX + 2];
            const char *last;
            if (split(buf, parent, &last) < 0)
                return -1;
            int pfd = resolve_in_root(parent, O_DIRECTORY);
            if (pfd < 0)
                return -1;
            if (mkdirat(pfd, last, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(pfd);
                return errno = e, -1;
            }
            fd = resolve_in_root(buf, O_DIRECTORY);
            if (fd < 0 && errno == ENOENT) {
                /* EEXIST from a dangling symlink: continue at its target */
                char target[PATH_MAX], next[2 * PATH_MAX + 4];
                ssize_t tl = readlinkat(pfd, last, target, sizeof(target) - 1);
                close(pfd);
                if (tl < 0)
                    return errno = ENOENT, -1;
                target[tl] = 0;
                const char *rest = path + i;
                if (target[0] == '/')
                    snprintf(next, sizeof(next), "%s%s", target, rest);
                else
                    snprintf(next, sizeof(next), "%s/%s%s", parent, target, rest);
                return mkdir_depth(next, depth + 1);
            }
            close(pfd);
            if (fd < 0)
                return -1;
        }
        close(fd);
        buf[i] = saved;
    }
    return 0;
}

int mkdir_in_root(const char *path)
{
    /* Usually only the last component is missing (/dev/pts on the fresh /dev tmpfs,
     * /sys/fs/cgroup/cpu on the cgroup tmpfs): resolve the parent once and create it.
     * Anything else (missing parents, an existing name, a dangling symlink) takes the walk. */
    char parent[PATH_MAX + 2];
    const char *last;
    if (split(path, parent, &last) == 0) {
        int pfd = resolve_in_root(parent, O_DIRECTORY);
        if (pfd >= 0) {
            int made = mkdirat(pfd, last, 0755) == 0;
            close(pfd);
            if (made)
                return 0;
        }
    }
    return mkdir_depth(path, 0);
}

/* Create an empty regular file (a bind-mount target) and its parents inside the root. */
static int mkfile_in_root(const char *path)
{
    char parent[PATH_MAX + 2];
    const char *last;
    if (split(path, parent, &last) < 0 || mkdir_in_root(parent) < 0)
        return -1;
    int pfd = resolve_in_root(parent, O_DIRECTORY);
    if (pfd < 0)
        return -1;
    int fd = openat(pfd, last, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(pfd);
    if (fd < 0 && e != EEXIST) /* an existing file, dir or in-root symlink is resolved later */
        return errno = e, -1;
    if (fd >= 0)
        close(fd);
    return 0;
}

/* Resolve the parent of a container path (creating it) and hand back the last part. */
static int parent_in_root(const char *path, char *parent, const char **last)
{
    if (split(path, parent, last) < 0 || mkdir_in_root(parent) < 0)
        return -1;
    return resolve_in_root(parent, O_DIRECTORY);
}

/* Remount a bind mount with new flags. In a user namespace the kernel locks the
 * nodev/nosuid/noexec/rdonly (and atime) flags a mount had when it was propagated
 * to us and answers EPERM if a remount would clear them: retry keeping them, as runc
 * does. fd must refer to the root of the mount (reopen after mounting). */
static void remount(int fd, unsigned long flags, int keep_existing, const char *path)
{
    struct fdpath fp = fdpath(fd);
    struct statfs sf;
    /* Making a path read-only must not clear its nosuid/nodev/noexec: a remount sets
     * all per-mount flags at once. */
    if (keep_existing && fstatfs(fd, &sf) == 0)
        flags |= sf.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
    if (mount(NULL, fp.s, NULL, flags, NULL) == 0)
        return;
    int e = errno;
    if (e == EPERM && fstatfs(fd, &sf) == 0) {
        unsigned long locked = sf.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        if (!(flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)))
            locked |= sf.f_flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
        if ((flags | locked) != flags && mount(NULL, fp.s, NULL, flags | locked, NULL) == 0)
            return;
    }
    fail(e, "remount %s flags 0x%lx", path, flags);
}

void op_rootfs(const struct rec *r)
{
    const char *rootfs = r->strs[0];
    unsigned long prop = rec_int(r, 1) ? rec_int(r, 1) : MS_SLAVE;
    g_no_pivot = rec_int(r, 0) & 1;
    /* The container's own root gets shared/unbindable after the pivot (op_pivot): a root
     * that is only a copy of the host's peers would not be shared within the container,
     * and an unbindable "/" would refuse the rootfs bind below (EINVAL). Unbindable
     * implies private for the host copy. */
    g_root_prop = prop & (MS_SHARED | MS_UNBINDABLE);
    if (prop & MS_UNBINDABLE)
        prop = (prop & ~(unsigned long)MS_UNBINDABLE) | MS_PRIVATE;
    /* Our mount namespace is a copy of the host's, with the host's shared propagation:
     * make it a slave (by default) before mounting anything, so nothing we mount
     * propagates back to the host while host mounts still reach us. */
    if (mount("", "/", NULL, MS_REC | prop, NULL) < 0)
        fail(errno, "mount propagation 0x%lx on /", prop);
    /* pivot_root needs new_root to be a mount point: bind the rootfs onto itself. */
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(errno, "bind rootfs %s", rootfs);
    /* pivot_root also refuses a new root whose parent mount is shared (EINVAL). With
     * rshared asked for "/", make that first bind private and bind once more on top of
     * it: the root we pivot into then has a private parent, while the mounts below
     * it keep the propagation requested (runc makes the parent private instead). */
    if (prop & MS_SHARED) {
        if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
            fail(errno, "make rootfs %s private", rootfs);
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail(errno, "bind rootfs %s", rootfs);
    }
    int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC); /* after the bind: the new mount */
    if (fd < 0)
        fail(errno, "open rootfs %s", rootfs);
    set_root(fd);
}

/* One entry of a tmpcopyup: name in directory from, recreated in directory to with the owner,
 * mode and times of st. */
static void copy_tree(int from, int to, const char *dest);

static void copy_entry(int from, int to, const char *name, const struct stat *st, const char *dest)
{
    mode_t type = st->st_mode & S_IFMT;
    if (type == S_IFDIR) {
        if (mkdirat(to, name, 0700) < 0)
            fail(errno, "tmpcopyup %s: mkdir %s", dest, name);
        int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub_from < 0 || sub_to < 0)
            fail(errno, "tmpcopyup %s: open %s", dest, name);
        copy_tree(sub_from, sub_to, dest);
        close(sub_from);
        close(sub_to);
    } else if (type == S_IFREG) {
        int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (in < 0 || out < 0)
            fail(errno, "tmpcopyup %s: open %s", dest, name);
        for (off_t left = st->st_size; left > 0;) {
            ssize_t n = sendfile(out, in, NULL, left > 0x40000000 ? 0x40000000 : (size_t)left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                fail(errno, "tmpcopyup %s: copy %s", dest, name);
            if (n == 0)
                break; /* the file shrank meanwhile */
            left -= n;
        }
        close(in);
        close(out);
    } else if (type == S_IFLNK) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
        if (n < 0)
            fail(errno, "tmpcopyup %s: readlink %s", dest, name);
        target[n] = 0;
        if (symlinkat(target, to, name) < 0)
            fail(errno, "tmpcopyup %s: symlink %s", dest, name);
    } else if (mknodat(to, name, st->st_mode, st->st_rdev) < 0) {
        fail(errno, "tmpcopyup %s: mknod %s", dest, name);
    }
    /* Owner before mode: chown clears set-id bits. A symlink has no mode of its own. */
    if (fchownat(to, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        fail(errno, "tmpcopyup %s: chown %s", dest, name);
    if (type != S_IFLNK && fchmodat(to, name, st->st_mode & 07777, 0) < 0)
        fail(errno, "tmpcopyup %s: chmod %s", dest, name);
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (utimensat(to, name, times, AT_SYMLINK_NOFOLLOW) < 0)
        fail(errno, "tmpcopyup %s: set times of %s", dest, name);
}

static void copy_tree(int from, int to, const char *dest)
{
    int listing = dup(from);
    DIR *dir = listing < 0 ? NULL : fdopendir(listing);
    if (!dir)
        fail(errno, "tmpcopyup %s: list directory", dest);
    struct dirent *entry;
    while ((errno = 0, entry = readdir(dir)) != NULL) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(from, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            fail(errno, "tmpcopyup %s: stat %s", dest, entry->d_name);
        copy_entry(from, to, entry->d_name, &st, dest);
    }
    if (errno)
        fail(errno, "tmpcopyup %s: list directory", dest);
    closedir(dir);
}

/* tmpcopyup's last step: the new mount's root takes over the covered directory's contents,
 * owner and mode (runc also gives it the directory's mode). */
static void copy_up(int covered, const char *dest)
{
    int root = resolve_in_root(dest, O_DIRECTORY);
    int to = root < 0 ? -1 : openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (to < 0)
        fail(errno, "tmpcopyup %s: open the new mount", dest);
    close(root);
    copy_tree(covered, to, dest);
    struct stat st;
    if (fstat(covered, &st) < 0 || fchown(to, st.st_uid, st.st_gid) < 0 || fchmod(to, st.st_mode & 07777) < 0)
        fail(errno, "tmpcopyup %s: owner and mode", dest);
    close(to);
    close(covered);
}

void op_mount_setattr(const struct rec *r)
{
    const char *path = r->strs[0];
    int fd = resolve_in_root(path, 0);
    if (fd < 0)
        fail(errno, "mount_setattr %s", path);
    struct skiff_mount_attr attr = {.attr_set = rec_int(r, 0), .attr_clr = rec_int(r, 1)};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | SK_AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        fail(errno, "mount_setattr %s set 0x%llx clear 0x%llx", path, (unsigned long long)attr.attr_set,
             (unsigned long long)attr.attr_clr);
    close(fd);
}

void op_mount(const struct rec *r)
{
    unsigned long flags = rec_int(r, 0), prop = rec_int(r, 1), extra = rec_int(r, 2);
    const char *src = r->strs[0], *dest = r->strs[1], *fstype = r->strs[2], *data = r->strs[3];

    /* Most targets exist (/proc, /dev, /sys/fs/cgroup/cpu...): one resolution instead of one
     * per path component, which is what creating them costs. */
    int tfd = resolve_in_root(dest, 0);
    /* A mount point made here has nothing to copy up, and its mode is not the tmpfs's (runc: the same). */
    if (tfd < 0)
        extra &= ~(unsigned long)MOUNT_EXTRA_COPYUP;
    if (tfd < 0 && errno == ENOENT && (extra & (MOUNT_EXTRA_MKDIR | MOUNT_EXTRA_MKFILE))) {
        if ((extra & MOUNT_EXTRA_MKDIR) && mkdir_in_root(dest) < 0)
            fail(errno, "mkdir %s", dest);
        if ((extra & MOUNT_EXTRA_MKFILE) && mkfile_in_root(dest) < 0)
            fail(errno, "create %s", dest);
        tfd = resolve_in_root(dest, 0);
    }
    if (tfd < 0)
        fail(errno, "mount %s on %s", src, dest);

    /* A bind source is opened first too: the mount then takes exactly that object. */
    int sfd = -1;
    struct fdpath sp;
    const char *source = src;
    if ((flags & MS_BIND) || (extra & MOUNT_EXTRA_SRC_IN_ROOT)) {
        sfd = (extra & MOUNT_EXTRA_SRC_IN_ROOT) ? resolve_in_root(src, 0) : open(src, O_PATH | O_CLOEXEC);
        if (sfd < 0)
            fail(errno, "mount %s on %s", src, dest);
        sp = fdpath(sfd);
        source = sp.s;
    }
    /* Opened before the mount covers it: afterwards only this fd still reaches the old contents. */
    int covered = -1;
    if ((extra & MOUNT_EXTRA_COPYUP) && (covered = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        fail(errno, "tmpcopyup %s: open the mount point", dest);
    struct fdpath tp = fdpath(tfd);
    if (mount(source, tp.s, fstype[0] ? fstype : NULL, flags & ~(unsigned long)PROPAGATION_MASK,
              data[0] ? data : NULL) < 0)
        fail(errno, "mount %s on %s", src, dest);
    if (sfd >= 0)
        close(sfd);
    close(tfd);
    if (covered >= 0)
        copy_up(covered, dest);
    if (!(extra & MOUNT_EXTRA_REMOUNT) && !prop)
        return;

    /* The fd we mounted onto names the covered directory; remount and propagation
     * changes need the new mount's root, so resolve the path again. */
    tfd = resolve_in_root(dest, 0);
    if (tfd < 0)
        fail(errno, "reopen mount %s", dest);
    if (extra & MOUNT_EXTRA_REMOUNT)
        remount(tfd, MS_REMOUNT | MS_BIND | (flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT | PROPAGATION_MASK)), 0,
                dest);
    if (prop) {
        unsigned long pf = prop | ((extra & MOUNT_EXTRA_PROPAGATION_REC) ? MS_REC : 0);
        tp = fdpath(tfd);
        if (mount(NULL, tp.s, NULL, pf, NULL) < 0)
            fail(errno, "mount propagation 0x%lx on %s", pf, dest);
    }
    close(tfd);
}

static void bind_device(const char *path, const char *host)
{
    if (mkfile_in_root(path) < 0)
        fail(errno, "create %s", path);
    int tfd = resolve_in_root(path, 0);
    if (tfd < 0)
        fail(errno, "bind device %s on %s", host, path);
    int sfd = open(host, O_PATH | O_CLOEXEC);
    if (sfd < 0)
        fail(errno, "bind device %s on %s", host, path);
    struct fdpath sp = fdpath(sfd), tp = fdpath(tfd);
    if (mount(sp.s, tp.s, NULL, MS_BIND, NULL) < 0)
        fail(errno, "bind device %s on %s", host, path);
    close(sfd);
    close(tfd);
}

void op_device(const struct rec *r)
{
    mode_t mode = (mode_t)rec_int(r, 0);
    const char *path = r->strs[0], *host = r->strs[1];
    if (!(rec_int(r, 5) & 1)) {
        char parent[PATH_MAX + 2];
        const char *last;
        int pfd = parent_in_root(path, parent, &last);
        if (pfd < 0)
            fail(errno, "mknod %s", path);
        if (mknodat(pfd, last, mode, makedev(rec_int(r, 1), rec_int(r, 2))) == 0) {
            /* chown to the configured owner; chmod because our umask trimmed the mode */
            int nfd = openat(pfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (nfd < 0)
                fail(errno, "open device %s", path);
            if (fchownat(nfd, "", (uid_t)rec_int(r, 3), (gid_t)rec_int(r, 4), AT_EMPTY_PATH) < 0)
                fail(errno, "chown device %s %llu:%llu", path, (unsigned long long)rec_int(r, 3),
                     (unsigned long long)rec_int(r, 4));
            struct fdpath np = fdpath(nfd);
            if (chmod(np.s, mode & 07777) < 0)
                fail(errno, "chmod device %s %o", path, (unsigned)(mode & 07777));
            close(nfd);
            close(pfd);
            return;
        }
        int e = errno;
        close(pfd);
        if (e == EEXIST)
            return; /* already there (an image or a bind provided it): leave it, as runc does */
        if (e != EPERM)
            fail(e, "mknod %s", path);
        /* EPERM: no CAP_MKNOD in a user namespace; bind the host's node instead. */
    }
    bind_device(path, host);
}

void op_symlink(const struct rec *r)
{
    const char *target = r->strs[0], *link = r->strs[1];
    char parent[PATH_MAX + 2];
    const char *last;
    int pfd = parent_in_root(link, parent, &last);
    if (pfd < 0)
        fail(errno, "symlink %s -> %s", link, target);
    if (symlinkat(target, pfd, last) < 0 && errno != EEXIST)
        fail(errno, "symlink %s -> %s", link, target);
    close(pfd);
}

void op_pivot(void)
{
    if (g_no_pivot) {
        /* No pivot_root (e.g. the rootfs lives on a ramfs): move the rootfs over "/"
         * and chroot into it. The old root stays reachable to a process that can
         * escape the chroot, which is why this is opt-in. */
        if (fchdir(g_root) < 0)
            fail(errno, "chdir rootfs");
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            fail(errno, "move rootfs to /");
        if (chroot(".") < 0)
            fail(errno, "chroot rootfs");
    } else {
        /* pivot_root(".", "."): stacks the old root on top of the new one, so no
         * put_old directory is needed in the image (runc's trick). Then detach the old
         * root, after making it a slave so the unmount cannot propagate to the host. */
        int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
        if (oldroot < 0)
            fail(errno, "open /");
        if (fchdir(g_root) < 0)
            fail(errno, "chdir rootfs");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
            fail(errno, "pivot_root");
        if (fchdir(oldroot) < 0)
            fail(errno, "chdir old root");
        if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
            fail(errno, "make old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
            fail(errno, "unmount old root");
        close(oldroot);
    }
    if (chdir("/") < 0)
        fail(errno, "chdir /");
    if (g_root_prop && mount("", "/", NULL, MS_REC | g_root_prop, NULL) < 0)
        fail(errno, "mount propagation 0x%lx on the container's /", g_root_prop);
    mounts_init_root();
}

void op_mask(const struct rec *r)
{
    const char *path = r->strs[0];
    int fd = resolve_in_root(path, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return;
        fail(errno, "mask %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        fail(errno, "mask %s", path);
    struct fdpath tp = fdpath(fd);
    if (S_ISDIR(st.st_mode)) {
        const char *data = r->strs[1];
        if (mount("tmpfs", tp.s, "tmpfs", MS_RDONLY, data[0] ? data : NULL) < 0)
            fail(errno, "mask %s", path);
    } else {
        int nfd = resolve_in_root("/dev/null", 0); /* the container's /dev/null */
        if (nfd < 0)
            fail(errno, "mask %s: open /dev/null", path);
        struct fdpath np = fdpath(nfd);
        if (mount(np.s, tp.s, NULL, MS_BIND, NULL) < 0)
            fail(errno, "mask %s", path);
        close(nfd);
    }
    close(fd);
}

void op_file_label(const struct rec *r)
{
    const char *path = r->strs[0], *label = r->strs[1];
    int fd = resolve_in_root(path, 0);
    if (fd < 0)
        fail(errno, "label %s", path);
    struct fdpath fp = fdpath(fd);
    /* setxattr, not lsetxattr: the magic link must be followed to the file itself. */
    if (setxattr(fp.s, "security.selinux", label, strlen(label), 0) < 0)
        fail(errno, "label %s as %s", path, label);
    close(fd);
}

void op_readonly(const struct rec *r)
{
    const char *path = r->strs[0];
    int fd = resolve_in_root(path, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return;
        fail(errno, "readonly %s", path);
    }
    struct fdpath tp = fdpath(fd);
    if (mount(tp.s, tp.s, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(errno, "readonly %s", path);
    close(fd);
    fd = resolve_in_root(path, 0);
    if (fd < 0)
        fail(errno, "readonly %s", path);
    remount(fd, MS_BIND | MS_REMOUNT | MS_RDONLY, 1, path);
    close(fd);
}

void op_remount_ro(const struct rec *r)
{
    const char *path = r->strs[0];
    int fd = resolve_in_root(path, 0);
    if (fd < 0)
        fail(errno, "remount read-only %s", path);
    remount(fd, MS_BIND | MS_REMOUNT | MS_RDONLY, 1, path);
    close(fd);
}

void op_cwd(const struct plan *p, const struct rec *r)
{
    const char *dir = r->strs[0];
    int fd = resolve_in_root(dir, O_DIRECTORY);
    /* create mode: a missing working directory is created (runc does the same), an
     * exec into a running container must not change its filesystem. */
    if (fd < 0 && errno == ENOENT && p->mode == MODE_CREATE) {
        if (mkdir_in_root(dir) < 0)
            fail(errno, "mkdir %s", dir);
        fd = resolve_in_root(dir, O_DIRECTORY);
    }
    if (fd < 0 || fchdir(fd) < 0)
        fail(errno, "chdir %s", dir);
    close(fd);
}
