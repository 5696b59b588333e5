//! PID 1 and PID 2. PID 1 forks the app, then only reaps zombies and forwards signals to it, and
//! exits with the app's status when it ends (which takes every other process of the sandbox with
//! it). The app drops every privilege on its way to exec.

use super::child::{check, fail};
use super::frozen::Frozen;
use super::sys;
use super::Stage;
use nix::errno::Errno;
use std::os::fd::RawFd;

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
    // SAFETY: the process is single-threaded (a fresh clone of a single-threaded nestbox).
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

/// PID 2: a new session, every capability gone, no_new_privs, then exec.
fn exec_app(frozen: &Frozen, err: RawFd, parent_mask: &libc::sigset_t) -> ! {
    // Rust starts with SIGPIPE ignored, and exec keeps ignored signals ignored: give it back.
    check(sys::default_action(libc::SIGPIPE), err, Stage::Prepare);
    check(sys::set_sigmask(parent_mask), err, Stage::Prepare);
    check(sys::setsid(), err, Stage::Prepare);
    check(sys::chdir(&frozen.cwd), err, Stage::Cwd);
    check(drop_capabilities(), err, Stage::Capabilities);
    check(
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1),
        err,
        Stage::NoNewPrivs,
    );
    check(sys::cloexec_from(3), err, Stage::Fds);
    let e = sys::execve(&frozen.program, &frozen.argv_ptrs, &frozen.envp_ptrs);
    fail(err, Stage::Exec, 0, e)
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
