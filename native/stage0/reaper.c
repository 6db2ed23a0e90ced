/*
 * reaper.c - `skiff-init --init -- PROGRAM [ARGS...]`: the minimal init that `skiff run --init`
 * puts at pid 1 (bind-mounted from the host into the container, like docker's tini).
 *
 * Why: a program that is pid 1 gets no default signal actions (SIGTERM from `skiff stop`
 * is ignored unless it installs a handler) and inherits every orphan in the container,
 * which most programs never wait for, so zombies pile up. This init runs PROGRAM as its
 * child, forwards every catchable signal to it, reaps every child that exits, and exits
 * with PROGRAM's status (128+signal when it was killed), as tini does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage0.h"

static int status_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int reaper_main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--") != 0) {
        dprintf(2, "usage: skiff-init --init -- PROGRAM [ARGS...]\n");
        return 2;
    }
    sigset_t all, previous;
    sigfillset(&all);
    /* Faults must still kill us rather than loop on a blocked synchronous signal. */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGABRT);
    sigdelset(&all, SIGTRAP);
    sigdelset(&all, SIGSYS);
    if (sigprocmask(SIG_SETMASK, &all, &previous) < 0) {
        dprintf(2, "skiff-init: sigprocmask: %s\n", strerror(errno));
        return 1;
    }

    pid_t child = fork();
    if (child < 0) {
        dprintf(2, "skiff-init: fork: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &previous, NULL);
        execvp(argv[2], argv + 2);
        int e = errno;
        dprintf(2, "skiff-init: exec %s: %s\n", argv[2], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }

    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            dprintf(2, "skiff-init: sigwaitinfo: %s\n", strerror(errno));
            return 1;
        }
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        /* One SIGCHLD may stand for several exits: reap until none is left. */
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                break;
            if (pid == child)
                return status_code(status);
        }
    }
}
