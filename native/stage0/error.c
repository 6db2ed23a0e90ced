/*
 * error.c - reporting failures to the runtime.
 *
 * Every error becomes one SYNC_ERROR message: value = errno, text = one line
 * "<operation> <path or value>: <strerror>". The runtime turns it into a typed
 * exception; skiff-init itself never retries or interprets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stage0.h"

int g_sync_fd = -1;
int g_ready_sent;

int sync_send(uint32_t type, int32_t value, const char *text)
{
    struct sync_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.value = value;
    if (text)
        strncpy(m.text, text, sizeof(m.text) - 1);
    if (g_sync_fd < 0)
        return -1;
    /* MSG_NOSIGNAL: skiff-init keeps SIGPIPE at its default disposition (the container
     * inherits dispositions), so a closed socket must not kill us with SIGPIPE here. */
    ssize_t n;
    do
        n = send(g_sync_fd, &m, sizeof(m), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(m))
        return 0;
    if (type != SYNC_ERROR)
        fail(n < 0 ? errno : EIO, "send sync message %u", type);
    return -1;
}

int send_fd(int sock, int fd, const void *data, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int sync_recv(struct sync_msg *m)
{
    ssize_t n;
    do
        n = recv(g_sync_fd, m, sizeof(*m), 0);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(*m))
        return -1;
    return 1;
}

static _Noreturn void fail_v(int err, int with_strerror, const char *fmt, va_list ap)
{
    char text[sizeof(((struct sync_msg *)0)->text)];
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(text))
        n = sizeof(text) - 1;
    if (with_strerror && err)
        snprintf(text + n, sizeof(text) - n, ": %s", strerror(err));
    for (char *c = text; *c; c++) /* one line, whatever a path contained */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    /* Before SYNC_READY the runtime is reading the socket and reports the error. After
     * it (create mode: fifo, startContainer hooks, exec), `create` has returned and
     * nobody reads it: stderr (the container's) is the only witness left. */
    if (sync_send(SYNC_ERROR, err, text) < 0 || g_ready_sent)
        dprintf(2, "skiff-init: %s\n", text);
    _exit(1);
}

void fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(err, 1, fmt, ap);
}

void fail_raw(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(err, 0, fmt, ap);
}

/* Write a whole small file (proc/sys/cgroup knobs): one write(2), as the kernel expects. */
void write_file(const char *path, const char *data, size_t len, const char *what)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        fail(errno, "%s %s", what, path);
    ssize_t n = write(fd, data, len);
    if (n < 0)
        fail(errno, "%s %s", what, path);
    if ((size_t)n != len)
        fail_raw(EIO, "%s %s: short write", what, path);
    close(fd);
}
