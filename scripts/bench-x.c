/* Probes for scripts/bench-display, in C so that they cost next to nothing themselves.
 *   bench-x connect            connect to $DISPLAY (cookie from $XAUTHORITY) and exit 0, or 1
 *   bench-x xephyr ARGV...     start ARGV (Xephyr and its arguments) with -displayfd, connect to
 *                              the display it reports (with the cookie in $NESTED_XAUTHORITY;
 *                              Xephyr itself uses $XAUTHORITY for the host display), stop it with
 *                              SIGTERM and wait for it: a nested X server alone, with no sandbox. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xcb/xcb.h>

static int connect_to(const char *display) {
    xcb_connection_t *c = xcb_connect(display, NULL);
    int bad = xcb_connection_has_error(c);
    xcb_disconnect(c);
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "connect") == 0)
        return connect_to(NULL);
    if (argc < 3 || strcmp(argv[1], "xephyr") != 0) {
        fprintf(stderr, "usage: bench-x connect | bench-x xephyr XEPHYR [ARGS...]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    char fd_arg[16];
    snprintf(fd_arg, sizeof fd_arg, "%d", fds[1]);
    char **args = calloc(argc + 2, sizeof *args);
    for (int i = 2; i < argc; i++)
        args[i - 2] = argv[i];
    args[argc - 2] = "-displayfd";
    args[argc - 1] = fd_arg;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        execv(args[0], args);
        _exit(127);
    }
    close(fds[1]);
    char buf[16] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    int bad = 1;
    if (n > 0) {
        char display[24];
        snprintf(display, sizeof display, ":%d", atoi(buf));
        const char *nested = getenv("NESTED_XAUTHORITY");
        if (nested)
            setenv("XAUTHORITY", nested, 1);
        bad = connect_to(display);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return bad;
}
