//! PID 1 and the processes it starts. PID 1 forks the window manager (when the plan has one) and
//! the app, then only reaps zombies and forwards signals to the app, and exits with the app's status
//! when it ends (which takes every other process of the sandbox with it). Each process drops every
//! privilege and takes on the Landlock scopes on its way to exec.

use super::child::fail;
use super::frozen::{Confined, Exec, Frozen};
use super::sys;
use super::Stage;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, RawFd};

/// The signals nestbox forwards; all are blocked in nestbox and in PID 1 and waited for.
pub const FORWARDED: &[libc::c_int] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

/// The set of FORWARDED plus SIGCHLD.
pub fn waited_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initializes the set before any use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for &s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

pub fn run(frozen: &Frozen, err: RawFd, parent_mask: &libc::sigset_t) -> ! {
    // The file rules name paths inside: added here, once the root is the sandbox's, for every
    // process that restricts itself with the ruleset below.
    if let Err((i, e)) = add_landlock_rules(&frozen.confined) {
        fail(err, Stage::Landlock, i, e);
    }
    if let Some(wm) = &frozen.window_manager {
        // SAFETY: the process is single-threaded (a fresh clone of a single-threaded nestbox).
        match unsafe { libc::fork() } {
            0 => exec_window_manager(frozen, wm, err, parent_mask),
            pid if pid < 0 => fail(err, Stage::Fork, 1, Errno::last()),
            _ => {}
        }
    }
    // SAFETY: as above.
    let app = unsafe { libc::fork() };
    if app < 0 {
        fail(err, Stage::Fork, 0, Errno::last());
    }
    if app == 0 {
        exec_app(frozen, err, parent_mask);
    }
    // PID 1 keeps nothing of the error pipe: the parent sees EOF once the app has exec'd.
    // SAFETY: err is our copy of the pipe's write end.
    unsafe { libc::close(err) };
    reap(app)
}

/// Add the file rules to the ruleset, once inside the sandbox's root; on failure, the index of
/// the rule that failed.
pub fn add_landlock_rules(c: &Confined) -> Result<(), (usize, Errno)> {
    let Some(ruleset) = &c.landlock else {
        return Ok(());
    };
    for (i, r) in c.landlock_rules.iter().enumerate() {
        sys::landlock_allow(ruleset.as_raw_fd(), &r.path, r.dir_access, r.file_access)
            .map_err(|e| (i, e))?;
    }
    // The app's stdin, stdout and stderr are the caller's (a terminal, a file): reopening them by
    // /dev/stdout or /proc/self/fd/N must keep working, though they lie outside.
    if let Some(stdio) = c.landlock_rules.first().map(|r| r.stdio_access) {
        for fd in 0..3 {
            sys::landlock_allow_fd(ruleset.as_raw_fd(), fd, stdio)
                .map_err(|e| (c.landlock_rules.len() + fd as usize, e))?;
        }
    }
    Ok(())
}

/// A wait status as a shell reports it: the exit code, or 128+N for a process signal N ended.
pub fn exit_code(status: libc::c_int) -> libc::c_int {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

fn reap(app: libc::pid_t) -> ! {
    let set = waited_set();
    loop {
        // SAFETY: set is a valid sigset; a null info pointer is allowed.
        let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            // SAFETY: plain kill of our own child.
            unsafe { libc::kill(app, sig) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: status is a valid out-pointer.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == app {
                let code = exit_code(status);
                // SAFETY: _exit ends PID 1, and with it every process left in the namespace.
                unsafe { libc::_exit(code) };
            }
        }
    }
}

/// The app: whatever fails on its way to exec is nestbox's error line.
fn exec_app(frozen: &Frozen, err: RawFd, parent_mask: &libc::sigset_t) -> ! {
    let Err((stage, errno)) = exec(&frozen.confined, &frozen.app, parent_mask, true);
    fail(err, stage, 0, errno)
}

/// The window manager: its failure must not pass for the app's (which goes on without it), so it
/// leaves the error pipe alone and says so on stderr.
fn exec_window_manager(frozen: &Frozen, wm: &Exec, err: RawFd, parent_mask: &libc::sigset_t) -> ! {
    // SAFETY: err is this process's copy of the pipe's write end.
    unsafe { libc::close(err) };
    let _ = exec(&frozen.confined, wm, parent_mask, true);
    let msg = b"nestbox: cannot start the window manager; the app runs without one\n";
    // SAFETY: writing a static buffer to stderr, then leaving without running any destructor.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}

/// A new session (unless `new_session` is false: `nestbox enter` keeps the caller's terminal),
/// every capability gone, no_new_privs, the Landlock rules and scopes, the seccomp filters last,
/// then exec. Returns only on failure, with the stage that failed.
pub fn exec(
    c: &Confined,
    program: &Exec,
    parent_mask: &libc::sigset_t,
    new_session: bool,
) -> Result<std::convert::Infallible, (Stage, Errno)> {
    let at = |stage| move |e| (stage, e);
    // Rust starts with SIGPIPE ignored, and exec keeps ignored signals ignored: give it back.
    sys::default_action(libc::SIGPIPE).map_err(at(Stage::Prepare))?;
    sys::set_sigmask(parent_mask).map_err(at(Stage::Prepare))?;
    if new_session {
        sys::setsid().map_err(at(Stage::Prepare))?;
    }
    sys::chdir(&c.cwd).map_err(at(Stage::Cwd))?;
    drop_capabilities().map_err(at(Stage::Capabilities))?;
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(at(Stage::NoNewPrivs))?;
    if let Some(ruleset) = &c.landlock {
        sys::landlock_restrict_self(ruleset.as_raw_fd()).map_err(at(Stage::Landlock))?;
    }
    sys::cloexec_from(3).map_err(at(Stage::Fds))?;
    for program in &c.seccomp {
        sys::seccomp_filter(program).map_err(at(Stage::Seccomp))?;
    }
    Err((
        Stage::Exec,
        sys::execve(&program.program, &program.argv_ptrs, &c.envp_ptrs),
    ))
}

fn drop_capabilities() -> Result<(), Errno> {
    use caps::CapSet;
    let to_errno = |_| Errno::EPERM;
    // The bounding set first: dropping from it needs CAP_SETPCAP, which the last steps remove.
    for set in [
        CapSet::Bounding,
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(to_errno)?;
    }
    Ok(())
}
