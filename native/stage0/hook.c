/*
 * hook.c - the two ways hooks meet skiff-init:
 *   OP_HOOKS  a sync point: the runtime runs host-side hooks (prestart,
 *             createRuntime, createContainer) while C waits here.
 *   OP_HOOK   a hook C itself runs inside the container (startContainer): fork, exec
 *             with the state JSON on stdin, wait with a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "stage0.h"

void op_hooks_sync(void)
{
    sync_send(SYNC_HOOKS, 0, NULL);
    struct sync_msg m;
    int rc = sync_recv(&m);
    if (rc == 0)
        _exit(1); /* the runtime gave up on us (a hook failed and it reported that) */
    if (rc < 0 || m.type != SYNC_CONTINUE)
        fail_raw(EPROTO, "sync: expected continue after hooks, got type %u", rc > 0 ? m.type : 0);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Write without SIGPIPE (the hook may exit without reading its stdin): block it for
 * the write only, and consume the one a closed pipe left pending, so the mask and
 * pending set the container inherits stay empty. */
static ssize_t write_nosigpipe(int fd, const char *buf, size_t len)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, buf, len);
    int e = errno;
    if (n < 0 && e == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return n;
}

void run_hook(const struct rec *r)
{
    uint64_t timeout = rec_int(r, 0);
    uint32_t nargs = (uint32_t)rec_int(r, 1); /* env: the rest of the strings */
    const char *path = r->strs[0], *input = r->strs[1];
    char *fallback_argv[2] = {(char *)path, NULL};
    /* argv and envp are NULL-terminated slices of the record's string array; the
     * array's own NULL ends envp, argv is copied to get its terminator. */
    char **argv = fallback_argv;
    if (nargs) {
        argv = calloc(nargs + 1, sizeof(char *));
        if (!argv)
            fail(ENOMEM, "hook %s", path);
        memcpy(argv, r->strs + 2, nargs * sizeof(char *));
    }
    char **envp = (char **)r->strs + 2 + nargs;

    int in[2], err[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        fail(errno, "hook %s: pipe", path);
    pid_t pid = fork();
    if (pid < 0)
        fail(errno, "hook %s: fork", path);
    if (pid == 0) {
        if (dup2(in[0], 0) < 0)
            _exit(127);
        execve(path, argv, envp);
        int e = errno; /* tell the parent why over the CLOEXEC pipe */
        if (write(err[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    close(in[0]);
    close(err[1]);

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        fail(errno, "hook %s: pidfd_open", path);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    size_t left = strlen(input);
    if (!left) {
        close(in[1]);
        in[1] = -1;
    }
    long deadline = timeout ? now_ms() + (long)timeout * 1000 : 0;
    for (;;) {
        struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = in[1], .events = POLLOUT}};
        int wait_ms = -1;
        if (deadline) {
            long rem = deadline - now_ms();
            wait_ms = rem > 0 ? (int)rem : 0;
        }
        int n = poll(pf, in[1] >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(errno, "hook %s: poll", path);
        if (n == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_raw(ETIMEDOUT, "hook %s timed out after %llu s", path, (unsigned long long)timeout);
        }
        if (pf[0].revents)
            break;
        if (in[1] >= 0 && pf[1].revents) {
            ssize_t w = write_nosigpipe(in[1], input, left);
            if (w > 0) {
                input += w;
                left -= w;
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || left == 0) {
                close(in[1]); /* EPIPE: the hook does not read its stdin; not our error */
                in[1] = -1;
            }
        }
    }
    if (in[1] >= 0)
        close(in[1]);
    close(pidfd);

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            fail(errno, "hook %s: wait", path);
    int e = 0;
    if (read(err[0], &e, sizeof(e)) == (ssize_t)sizeof(e))
        fail(e, "hook %s: exec", path);
    close(err[0]);
    if (WIFSIGNALED(status))
        fail_raw(0, "hook %s killed by signal %d", path, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        fail_raw(0, "hook %s exited with status %d", path, WEXITSTATUS(status));
    if (argv != fallback_argv)
        free(argv);
}
