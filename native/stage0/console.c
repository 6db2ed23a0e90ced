/*
 * console.c - OP_CONSOLE: a pseudo-terminal created inside the container and handed
 * to whoever listens on the console socket (runc's protocol: the master fd travels
 * with SCM_RIGHTS, the message data is the slave's name).
 *
 * The pty must come from the container's devpts instance (hence after /dev/pts is
 * mounted and, in create mode, after the pivot): a host pty would be visible in the
 * host's /dev/pts and its slave path would not exist inside the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

void op_console(const struct plan *p, const struct rec *r)
{
    int sock = (int)rec_int(r, 0);
    unsigned short rows = (unsigned short)rec_int(r, 1), cols = (unsigned short)rec_int(r, 2);

    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        fail(errno, "open console /dev/ptmx");
    int unlock = 0, ptn = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        fail(errno, "unlockpt /dev/ptmx");
    if (ioctl(master, TIOCGPTN, &ptn) < 0)
        fail(errno, "ptsname /dev/ptmx");
    char name[32];
    snprintf(name, sizeof(name), "/dev/pts/%d", ptn);
    /* TIOCGPTPEER opens the slave through the master, no path lookup to race; fall
     * back to the name on kernels before 4.13. */
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        fail(errno, "open console %s", name);
    if (rows || cols) {
        struct winsize ws = {.ws_row = rows, .ws_col = cols};
        if (ioctl(master, TIOCSWINSZ, &ws) < 0)
            fail(errno, "set console size %ux%u", rows, cols);
    }

    if (p->mode == MODE_CREATE) {
        /* /dev/console is what init systems and `docker attach` tools look for. */
        int tfd = resolve_in_root("/dev/console", 0);
        if (tfd < 0 && errno == ENOENT) {
            int fd = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd >= 0)
                close(fd);
            tfd = resolve_in_root("/dev/console", 0);
        }
        if (tfd < 0)
            fail(errno, "create /dev/console");
        char src[32], dst[32];
        snprintf(src, sizeof(src), "/proc/self/fd/%d", slave);
        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", tfd);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
            fail(errno, "bind %s on /dev/console", name);
        close(tfd);
    }

    if (send_fd(sock, master, name, strlen(name)) < 0)
        fail(errno, "send console master to socket fd %d", sock);
    close(master); /* the listener owns it now */
    close(sock);

    /* A new session whose controlling terminal is the slave, on stdio. */
    if (setsid() < 0 && errno != EPERM)
        fail(errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        fail(errno, "set controlling terminal %s", name);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) /* dup2 clears FD_CLOEXEC on the copies */
            fail(errno, "dup2 %s to %d", name, fd);
    if (slave > 2)
        close(slave);
}
