/* The escape battery: run inside a sandbox, it tries known ways out of one and prints one line
 * for each: "NAME: ERRNO" when the attempt failed (the errno's name), "NAME: ALLOWED" when it
 * worked. tests/escape.rs compiles it, runs it in sandboxes and compares every line with what
 * nestbox must answer. Each attempt is harmless where it is refused, and pointless where it
 * succeeds (no real mount, key or module is asked for). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ENOTTY: return "ENOTTY";
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return strerror(e);
    }
}

/* Report a raw result: negative (or -1 with errno) is refused. */
static void report(const char *name, long r) {
    if (r < 0)
        printf("%s: %s\n", name, errname(errno));
    else
        printf("%s: ALLOWED\n", name);
    fflush(stdout);
}

#define TRY(name, call) do { errno = 0; report(name, (long)(call)); } while (0)

int main(void) {
    char c = 'x';
    /* Never outside a sandbox: there, some of these would work (and a few would matter). A
     * fresh PID namespace numbers its processes from 1; the host's are far past 20. */
    if (getpid() > 20 || !getenv("NESTBOX_ESCAPE_BATTERY")) {
        fprintf(stderr, "escape: run only as a sandbox's app, by tests/escape.rs or "
                        "scripts/compare-security\n");
        return 2;
    }
    {
        /* Descriptors the app was given beyond 0, 1 and 2 (the directory listing's own aside). */
        char found[256] = "";
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int fd = atoi(e->d_name);
            if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
            snprintf(found + strlen(found), sizeof found - strlen(found), " %d", fd);
        }
        if (d) closedir(d);
        printf("leaked-fds: %s\n", found[0] ? found + 1 : "NONE");
    }
    /* A terminal of the battery's own, made its controlling terminal (the app leads a session of
     * its own), so that the kernel itself would let TIOCSTI through: only a filter stops it. */
    int tty = -1;
    setsid(); /* where the sandbox did not make the app a session leader already */
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
        char *name = ptsname(master);
        if (name) tty = open(name, O_RDWR);
    }
    printf("controlling-terminal: %s\n", tty >= 0 && tcgetsid(tty) == getsid(0) ? "YES" : "NO");
    /* Typing into a terminal: the request compared in its low 32 bits only, both forms. */
    TRY("tiocsti", syscall(SYS_ioctl, tty, (unsigned long)TIOCSTI, &c));
    TRY("tiocsti-high-bits", syscall(SYS_ioctl, tty, (unsigned long)TIOCSTI | 0x100000000UL, &c));
    TRY("tioclinux", syscall(SYS_ioctl, tty, (unsigned long)TIOCLINUX, &c));
    /* New user namespaces, three ways. */
    {
        /* In a child: where it works, it would change what the next attempts meet. */
        int fds[2];
        int e = 0;
        if (pipe(fds) == 0 && fork() == 0) {
            int r = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
            (void)!write(fds[1], &r, sizeof r);
            _exit(0);
        }
        (void)!read(fds[0], &e, sizeof e);
        wait(0);
        errno = e;
        report("unshare-user", e ? -1 : 0);
    }
    {
        errno = 0;
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid(pid, 0, 0);
        report("clone-newuser", pid);
    }
    {
        uint64_t args[11] = {0};
        args[0] = CLONE_NEWUSER;
        args[4] = SIGCHLD; /* exit_signal */
        errno = 0;
        long pid = syscall(SYS_clone3, args, sizeof args);
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid(pid, 0, 0);
        report("clone3", pid);
    }
    /* Mounts, old API and new. */
    TRY("mount", mount("none", "/tmp", "tmpfs", 0, 0));
    TRY("umount2", umount2("/tmp", MNT_DETACH));
    TRY("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
    TRY("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    TRY("fspick", syscall(SYS_fspick, AT_FDCWD, "/tmp", 0));
    TRY("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */));
    /* Linux 6.15; the same number on every architecture. */
    TRY("open_tree_attr", syscall(467, AT_FDCWD, "/tmp", 1, NULL, 0));
    TRY("move_mount", syscall(SYS_move_mount, -1, "", AT_FDCWD, "/tmp", 0));
    TRY("mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/tmp", 0, 0, 0));
    /* Kernel attack surface. */
    TRY("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    TRY("keyctl-x32", syscall(SYS_keyctl | 0x40000000, 0, -3, 0));
    TRY("add_key", syscall(SYS_add_key, "user", "nestbox", "x", 1, -3));
    TRY("request_key", syscall(SYS_request_key, "user", "nestbox", 0, 0));
    TRY("bpf", syscall(SYS_bpf, 0, 0, 0));
    TRY("perf_event_open", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
    TRY("userfaultfd", syscall(SYS_userfaultfd, 0));
    TRY("io_uring_setup", syscall(SYS_io_uring_setup, 1, 0));
    TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, 0, 0));
    TRY("init_module", syscall(SYS_init_module, 0, 0, ""));
    TRY("finit_module", syscall(SYS_finit_module, -1, "", 0));
    TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
    TRY("acct", syscall(SYS_acct, 0));
    TRY("swapon", syscall(SYS_swapon, "/nonexistent", 0));
    TRY("reboot", syscall(SYS_reboot, 0, 0, 0, 0));
    TRY("settimeofday", syscall(SYS_settimeofday, 0, 0));
    TRY("clock_settime", syscall(SYS_clock_settime, 0, 0));
    /* By syscall(): glibc's personality() hands some errors back as values, without errno. */
    TRY("personality-exec", syscall(SYS_personality, READ_IMPLIES_EXEC));
    TRY("personality-query", syscall(SYS_personality, 0xffffffff));
    {
        /* SEIZE attaches without stopping PID 1 (a stopped init would hang the sandbox where the
         * attempt works); detach at once if it did. */
        errno = 0;
        long r = ptrace(PTRACE_SEIZE, 1, 0, 0);
        if (r == 0) {
            report("ptrace-pid1", r);
            ptrace(PTRACE_DETACH, 1, 0, 0);
        } else {
            report("ptrace-pid1", r);
        }
    }
    /* Calls the kernel itself allows here (on this process, or a child tracing itself): only the
     * filter refuses them. */
    {
        char buf[8], src[8] = "nestbox";
        struct iovec local = {buf, sizeof buf}, remote = {src, sizeof src};
        TRY("process_vm_readv-self", syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0));
        TRY("kcmp-self", syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 1, 1));
        /* Taking a descriptor from another process (an `enter`ed one, on a kernel without
         * Landlock): on itself the kernel allows it. Numbered 438 on x86_64 and i386 alike. */
        {
            long self = syscall(434 /* pidfd_open */, getpid(), 0);
            errno = 0;
            long got = syscall(438 /* pidfd_getfd */, self, 1, 0);
            report("pidfd_getfd-self", got);
            if (got >= 0)
                close(got);
            if (self >= 0)
                close(self);
        }
        int fds[2];
        int e = 0;
        if (pipe(fds) == 0 && fork() == 0) {
            int r = ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 ? errno : 0;
            (void)!write(fds[1], &r, sizeof r);
            _exit(0);
        }
        (void)!read(fds[0], &e, sizeof e);
        wait(0);
        errno = e;
        report("ptrace-traceme", e ? -1 : 0);
    }
    /* Writes the kernel would take from root only, and the host's files. */
    TRY("write-proc-sys", open("/proc/sys/kernel/hostname", O_WRONLY));
    TRY("write-proc-1-exe", open("/proc/1/exe", O_WRONLY));
    TRY("read-etc-shadow", open("/etc/shadow", O_RDONLY));
    TRY("write-usr", open("/usr/nestbox-escape", O_WRONLY | O_CREAT, 0600));
    /* The nestbox binary, by the path the caller gives. */
    if (getenv("NESTBOX_ESCAPE_NESTBOX"))
        TRY("write-nestbox", open(getenv("NESTBOX_ESCAPE_NESTBOX"), O_WRONLY));
    /* A setuid-root program (passwd, installed everywhere) must run with the user's rights.
     * They are read from /proc while it is a zombie, before it is reaped. */
    {
        const char *prog = "/usr/bin/passwd";
        const char *answer = "NOGAIN";
        struct stat st;
        if (stat(prog, &st) != 0 || !(st.st_mode & S_ISUID) || st.st_uid == getuid()) {
            answer = "NO-SETUID-PROGRAM";
        } else {
            pid_t pid = fork();
            if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0), dup2(null, 1), dup2(null, 2);
                execl(prog, prog, (char *)0);
                _exit(127);
            }
            siginfo_t info;
            waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
            char path[64], line[256];
            unsigned real = 0, effective = 0, saved = 0;
            int ran = 0;
            snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
            FILE *f = fopen(path, "r");
            while (f && fgets(line, sizeof line, f)) {
                if (!strcmp(line, "Name:\tpasswd\n")) ran = 1;
                sscanf(line, "Uid:\t%u\t%u\t%u", &real, &effective, &saved);
            }
            if (f) fclose(f);
            waitpid(pid, 0, 0);
            if (!ran) answer = "NOT-RUN";
            else if (effective != getuid() || saved != getuid()) answer = "GAINED";
        }
        printf("setuid-program: %s\n", answer);
    }
    /* The caller's processes: the test passes its own pid (a host pid). */
    {
        const char *p = getenv("NESTBOX_ESCAPE_HOST_PID");
        long host = p ? atol(p) : 0;
        TRY("kill-host-process", kill(host, 0));
        TRY("pidfd-host-process", syscall(SYS_pidfd_open, host, 0));
        TRY("ptrace-host-process", ptrace(PTRACE_SEIZE, (pid_t)host, 0, 0));
    }
    /* An X server's abstract socket on the host (the test listens at one, say
     * @/tmp/.X11-unix/X4711): another network namespace has none; on the host's network only
     * Landlock's scope keeps the app from it. */
    if (getenv("NESTBOX_ESCAPE_ABSTRACT")) {
        const char *name = getenv("NESTBOX_ESCAPE_ABSTRACT");
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        size_t n = strlen(name);
        if (n > sizeof a.sun_path - 1) n = sizeof a.sun_path - 1;
        memcpy(a.sun_path + 1, name, n);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        TRY("connect-host-abstract-x11",
            connect(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + n));
    }
    /* The host's session bus, by its usual path. */
    {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "/run/user/%d/bus", (int)getuid());
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        TRY("connect-session-bus", connect(s, (struct sockaddr *)&a, sizeof a));
    }
    /* The user's secrets and start-up files: the home inside is the sandbox's own, so these
     * land there (ALLOWED) or nowhere; the test checks the host's files are untouched. */
    {
        char path[512];
        const char *home = getenv("HOME");
        snprintf(path, sizeof path, "%s/.ssh/id_ed25519", home);
        TRY("read-host-ssh-key", open(path, O_RDONLY));
        snprintf(path, sizeof path, "%s/.bashrc", home);
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (fd >= 0) (void)!write(fd, "echo escaped\n", 13);
        report("append-bashrc", fd);
        snprintf(path, sizeof path, "%s/.config", home);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/.config/autostart", home);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/.config/autostart/escape.desktop", home);
        TRY("write-autostart", open(path, O_WRONLY | O_CREAT, 0644));
    }
    return 0;
}
