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
    if let Err((i, e)) = add_landlock_rules(&frozen.confined, false) {
        fail(err, Stage::Landlock, i, e);
    }
    if let Some((bus, socket)) = &frozen.session_bus {
        // SAFETY: the process is single-threaded (a fresh clone of a single-threaded nestbox).
        match unsafe { libc::fork() } {
            0 => exec_helper(frozen, bus, err, parent_mask, HELPER_BUS),
            pid if pid < 0 => fail(err, Stage::Fork, 2, Errno::last()),
            _ => wait_for_socket(socket),
        }
    }
    if let Some(wm) = &frozen.window_manager {
        // SAFETY: the process is single-threaded (a fresh clone of a single-threaded nestbox).
        match unsafe { libc::fork() } {
            0 => exec_helper(frozen, wm, err, parent_mask, HELPER_WM),
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
pub fn add_landlock_rules(c: &Confined, no_links: bool) -> Result<(), (usize, Errno)> {
    let Some(ruleset) = &c.landlock else {
        return Ok(());
    };
    for (i, r) in c.landlock_rules.iter().enumerate() {
        sys::landlock_allow(
            ruleset.as_raw_fd(),
            &r.path,
            r.dir_access,
            r.file_access,
            no_links,
        )
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

/// Reap, and pass signals on to the app. When the app ends, the sandbox ends with it, unless a
/// process started into it later (by a second launch or `nestbox enter`) still runs: then it lives
/// on until the last of those ends, or until a signal that ends things (SIGTERM, SIGINT, SIGHUP,
/// SIGQUIT: `nestbox stop`) comes; either way PID 1 leaves with the app's status, and every
/// process left in the namespace goes with it.
fn reap(app: libc::pid_t) -> ! {
    let set = waited_set();
    let mut app_status: Option<libc::c_int> = None;
    let mut ending = false;
    let leave = |code: libc::c_int| -> ! {
        // SAFETY: _exit ends PID 1, and with it every process left in the namespace.
        unsafe { libc::_exit(code) }
    };
    loop {
        let sig = match app_status {
            // SAFETY: set is a valid sigset; a null info pointer is allowed.
            None => unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) },
            Some(code) => {
                if ending || !joined_process_left() {
                    leave(code);
                }
                // Joined processes are not ours to wait for: look again in a while.
                let wait = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 200_000_000,
                };
                // SAFETY: set and wait are valid; a null info pointer is allowed.
                unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &wait) }
            }
        };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            if matches!(
                sig,
                libc::SIGTERM | libc::SIGINT | libc::SIGHUP | libc::SIGQUIT
            ) {
                ending = true;
            }
            if app_status.is_none() {
                // SAFETY: plain kill of our own child.
                unsafe { libc::kill(app, sig) };
            }
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
                app_status = Some(exit_code(status));
            }
        }
    }
}

/// Whether a process started into the sandbox from outside still runs: one whose parent is
/// outside the PID namespace (its parent pid reads 0 here), that is, a joining nestbox's child.
/// A scan of /proc with fixed buffers (PID 1 allocates nothing).
fn joined_process_left() -> bool {
    // SAFETY: opening /proc read-only as a directory; closed below.
    let dir = unsafe {
        libc::open(
            c"/proc".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return false;
    }
    let mut buf = [0u8; 4096];
    let mut found = false;
    'scan: loop {
        // SAFETY: buf is valid for its length; getdents64 fills it with whole records.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), buf.len()) };
        if n <= 0 {
            break;
        }
        let mut at = 0usize;
        while at < n as usize {
            // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name (NUL-ended).
            let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            at += reclen;
            let Some(pid) = parse_u32(name) else {
                continue;
            };
            if pid > 1 && parent_is_outside(pid) {
                found = true;
                break 'scan;
            }
        }
    }
    // SAFETY: our own fd.
    unsafe { libc::close(dir) };
    found
}

/// Whether process `pid` (as numbered here) is alive and its parent lies outside the namespace.
fn parent_is_outside(pid: u32) -> bool {
    let mut path = *b"/proc/0000000000/stat\0";
    let mut digits = [0u8; 10];
    let mut len = 0;
    let mut v = pid;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut i = 6;
    for d in digits[..len].iter().rev() {
        path[i] = *d;
        i += 1;
    }
    path[i..i + 6].copy_from_slice(b"/stat\0");
    // SAFETY: path is NUL-terminated; the fd is closed below.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let mut stat = [0u8; 512];
    // SAFETY: reading into a valid buffer from our own fd.
    let n = unsafe { libc::read(fd, stat.as_mut_ptr().cast(), stat.len()) };
    // SAFETY: our own fd.
    unsafe { libc::close(fd) };
    if n <= 0 {
        return false;
    }
    let stat = &stat[..n as usize];
    // After the command name's last ')': " STATE PPID ...".
    let Some(close) = stat.iter().rposition(|&b| b == b')') else {
        return false;
    };
    let mut fields = stat[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty());
    let state = fields.next();
    let ppid = fields.next().and_then(parse_u32);
    state != Some(b"Z") && ppid == Some(0)
}

fn parse_u32(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0u32, |v, &d| {
        d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0'))
    })
}

/// The app: whatever fails on its way to exec is nestbox's error line.
fn exec_app(frozen: &Frozen, err: RawFd, parent_mask: &libc::sigset_t) -> ! {
    let Err((stage, errno)) = exec(&frozen.confined, &frozen.app, parent_mask, true);
    fail(err, stage, 0, errno)
}

const HELPER_WM: &[u8] = b"nestbox: cannot start the window manager; the app runs without one\n";
const HELPER_BUS: &[u8] =
    b"nestbox: cannot start the sandbox's session bus; the app runs without one\n";

/// A helper started before the app (the window manager, the session bus): its failure must not
/// pass for the app's (which goes on without it), so it leaves the error pipe alone and says
/// `message` on stderr.
fn exec_helper(
    frozen: &Frozen,
    helper: &Exec,
    err: RawFd,
    parent_mask: &libc::sigset_t,
    message: &[u8],
) -> ! {
    // SAFETY: err is this process's copy of the pipe's write end.
    unsafe { libc::close(err) };
    let _ = exec(&frozen.confined, helper, parent_mask, false);
    // SAFETY: writing a static buffer to stderr, then leaving without running any destructor.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(127)
    }
}

/// Wait, up to two seconds, for the session bus to listen at `socket`, so the app finds it.
fn wait_for_socket(socket: &std::ffi::CStr) {
    for _ in 0..400 {
        // SAFETY: socket is NUL-terminated; F_OK only asks whether it exists.
        if unsafe { libc::access(socket.as_ptr(), libc::F_OK) } == 0 {
            return;
        }
        let pause = libc::timespec {
            tv_sec: 0,
            tv_nsec: 5_000_000,
        };
        // SAFETY: a valid timespec; a null remainder is allowed.
        unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
    }
}

/// A new session (with the pseudo-terminal nestbox made for it, if any, as its controlling
/// terminal when `take_terminal`: the app and a joined process, not the helpers started before
/// the app), every capability gone, no_new_privs, the Landlock rules and scopes, the seccomp
/// filter last, then exec. Returns only on failure, with the stage that failed.
pub fn exec(
    c: &Confined,
    program: &Exec,
    parent_mask: &libc::sigset_t,
    take_terminal: bool,
) -> Result<std::convert::Infallible, (Stage, Errno)> {
    let at = |stage| move |e| (stage, e);
    // Rust starts with SIGPIPE ignored, and exec keeps ignored signals ignored: give it back.
    sys::default_action(libc::SIGPIPE).map_err(at(Stage::Prepare))?;
    sys::set_sigmask(parent_mask).map_err(at(Stage::Prepare))?;
    sys::setsid().map_err(at(Stage::Prepare))?;
    if take_terminal {
        // Only ever nestbox's pseudo-terminal (the user's terminal never reaches a sandbox).
        sys::take_terminal();
    }
    sys::chdir(&c.cwd).map_err(at(Stage::Cwd))?;
    if let Some(n) = c.max_processes {
        sys::limit_processes(n).map_err(at(Stage::Prepare))?;
    }
    drop_capabilities(c.last_capability).map_err(at(Stage::Capabilities))?;
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(at(Stage::NoNewPrivs))?;
    if let Some(ruleset) = &c.landlock {
        sys::landlock_restrict_self(ruleset.as_raw_fd()).map_err(at(Stage::Landlock))?;
    }
    sys::cloexec_from(3).map_err(at(Stage::Fds))?;
    if !c.seccomp.is_empty() {
        sys::seccomp_filter(&c.seccomp).map_err(at(Stage::Seccomp))?;
    }
    Err((
        Stage::Exec,
        sys::execve(&program.program, &program.argv_ptrs, &c.envp_ptrs),
    ))
}

/// Every capability gone, by system calls alone (this runs after clone and fork: nothing here
/// may allocate). The bounding set first: dropping from it needs CAP_SETPCAP, which the capset
/// at the end removes.
fn drop_capabilities(last: u32) -> Result<(), Errno> {
    for cap in 0..=last {
        match sys::prctl(libc::PR_CAPBSET_DROP, cap.into()) {
            // A number past the kernel's own: nothing left to drop.
            Err(Errno::EINVAL) => break,
            r => r?,
        }
    }
    sys::clear_ambient_capabilities()?;
    sys::clear_capabilities()
}
