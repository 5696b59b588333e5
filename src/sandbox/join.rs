//! Joining a running sandbox: `nestbox enter` and a second launch of a running profile. nestbox
//! enters the namespaces of the sandbox's PID 1 through a pidfd (all at once, the user namespace
//! first), finds the program inside, and starts it as its child: the first process it makes after
//! entering lands in the sandbox's PID namespace. The child takes on what the app took on (the
//! environment, the Landlock rules and scopes, the seccomp filter, no capabilities, no_new_privs),
//! from the registry's host-side copy; nestbox waits for it and passes signals on, as `run` does.

use super::failure::read_failure;
use super::frozen::{Confined, Exec};
use super::wait::{wait_forwarding, Blocked};
use super::{
    ensure_single_threaded, init, namespace_flags, sys, Failure, LaunchError, Stage, Watch,
};
use crate::plan::Inside;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// A running sandbox's PID 1, held by a pidfd: signals reach it and no process that took its pid
/// since.
pub struct Pid1 {
    fd: OwnedFd,
}

impl Pid1 {
    /// PID 1 of a sandbox, if process `pid` is still the one that started at `start_time` (clock
    /// ticks after boot, /proc/PID/stat's 22nd field).
    pub fn open(pid: libc::pid_t, start_time: u64) -> Option<Pid1> {
        let fd = sys::pidfd_open(pid).ok()?;
        // Checked after the pidfd is open: it cannot come to mean another process now.
        (process_start_time(pid) == Some(start_time)).then_some(Pid1 { fd })
    }

    pub fn signal(&self, sig: libc::c_int) -> Result<(), Errno> {
        sys::pidfd_send_signal(self.fd.as_raw_fd(), sig)
    }

    /// Wait up to `timeout` for it to end; whether it has.
    pub fn wait_gone(&self, timeout: std::time::Duration) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let ms = left.as_millis().min(i32::MAX as u128) as libc::c_int;
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
            if r > 0 {
                return true;
            }
            if r == 0 || (r < 0 && Errno::last() != Errno::EINTR) {
                return false;
            }
        }
    }
}

/// Device and inode of what `path` names inside the sandbox whose PID 1 is `pid1`, resolved as
/// the sandbox resolves it (its links lead within its own root, never to the host's).
pub fn seen_inside(pid1: libc::pid_t, path: &Path) -> Option<(u64, u64)> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let root = CString::new(format!("/proc/{pid1}/root")).ok()?;
    let root = sys::open_dir(&root).ok()?;
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = CString::new(rel.as_os_str().as_bytes()).ok()?;
    let fd = sys::resolve(&root, &rel, false).ok()?;
    sys::dev_ino(&fd).ok()
}

/// When process `pid` started, in clock ticks after boot (against a pid taken again).
pub fn process_start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: count fields after its last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// How a joining process starts.
pub struct JoinArgs<'a> {
    /// argv; argv[0] is looked up in the sandbox's PATH unless it holds a '/'. It leads a new
    /// session, as the app does.
    pub argv: &'a [String],
}

/// Enter the sandbox `pid1` is PID 1 of and run `args` in it, confined by `inside`; the
/// process's exit status (128+N for signal N).
pub fn join(
    pid1: &Pid1,
    inside: &Inside,
    args: JoinArgs,
    watch: &mut dyn Watch,
) -> Result<i32, LaunchError> {
    let confined = Confined::new(inside)?;
    let os = |what| move |errno| LaunchError::Os { what, errno };
    ensure_single_threaded("join a sandbox")?;
    sys::setns(pid1.fd.as_raw_fd(), namespace_flags(&inside.namespaces))
        .map_err(os("cannot enter the sandbox's namespaces"))?;
    // Now in the sandbox's mount namespace, at its root: the program is looked up in there.
    let program = find_program(&args.argv[0], inside.env.get("PATH").map(String::as_str))
        .ok_or_else(|| LaunchError::Child {
            message: format!(
                "program {:?} not found inside the sandbox (searched {})",
                args.argv[0],
                inside.env.get("PATH").map_or("no PATH", String::as_str)
            ),
            code: 127,
        })?;
    let exec = Exec::new(&program, args.argv)?;
    // Paths inside a sandbox its app has been changing: no link is followed.
    init::add_landlock_rules(&confined, true).map_err(|(_, e)| LaunchError::Os {
        what: "cannot add the Landlock rules",
        errno: e,
    })?;
    let (err_r, err_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("cannot make a pipe"))?;
    let blocked = Blocked::new()?;
    // SAFETY: nestbox is single-threaded here (checked above; setns into a user namespace
    // demands it too).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(os("cannot start a process in the sandbox")(Errno::last()));
    }
    if pid == 0 {
        let Err((stage, errno)) = die_with_joiner()
            .map_err(|e| (Stage::Prepare, e))
            .and_then(|()| init::exec(&confined, &exec, &blocked.old_mask, true));
        let f = Failure {
            stage: stage as u32,
            index: 0,
            errno: errno as i32,
        };
        let b = f.to_bytes();
        // SAFETY: writing a local buffer to our pipe, then leaving without destructors.
        unsafe {
            libc::write(err_w.as_raw_fd(), b.as_ptr().cast(), b.len());
            libc::_exit(127)
        }
    }
    drop(err_w);
    watch.cloned(pid);
    let failure = read_failure(&err_r);
    let status = wait_forwarding(pid, &blocked, None, watch);
    match failure {
        None => Ok(status),
        Some(f) => {
            let errno = Errno::from_raw(f.errno);
            let why = errno.desc().to_lowercase();
            let (message, code) = match Stage::from_u32(f.stage) {
                Some(Stage::Exec) => (
                    format!("cannot run {} inside the sandbox: {why}", program.display()),
                    if errno == Errno::ENOENT { 127 } else { 126 },
                ),
                Some(Stage::Cwd) => (
                    format!(
                        "cannot enter {} in the sandbox: {why}",
                        inside.cwd.display()
                    ),
                    125,
                ),
                _ => (
                    format!("cannot confine the process in the sandbox: {why}"),
                    125,
                ),
            };
            Err(LaunchError::Child { message, code })
        }
    }
}

/// In the joined process: die with the nestbox that started it, as the app dies with its own
/// (SIGKILL when the parent goes). A nestbox that died before the request was made is caught
/// too: its child was handed to the sandbox's PID 1 then. While the parent lives it sits
/// outside the sandbox's PID namespace, where getppid() reads 0.
fn die_with_joiner() -> Result<(), Errno> {
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)?;
    // SAFETY: getppid cannot fail.
    if unsafe { libc::getppid() } != 0 {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

/// `name` as the sandbox's shell would find it: itself when it holds a '/', else the first
/// executable file of that name in `path`.
fn find_program(name: &str, path: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    path?
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| Path::new(d).join(name))
        .find(|p| runnable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_start_time() {
        let me = std::process::id() as libc::pid_t;
        assert!(process_start_time(me).is_some());
        assert_eq!(process_start_time(-5), None);
    }

    #[test]
    fn programs_are_found_on_the_path() {
        assert_eq!(
            find_program("sh", Some("/nonexistent:/usr/bin:/bin")),
            Some(PathBuf::from("/usr/bin/sh"))
        );
        assert_eq!(find_program("no-such-program-here", Some("/usr/bin")), None);
        assert_eq!(
            find_program("./x", None),
            Some(PathBuf::from("./x")),
            "a path is taken as it is"
        );
    }
}
