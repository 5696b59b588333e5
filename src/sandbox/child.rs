//! The child after clone: a straight-line applier of a frozen plan. It runs as PID 1 of the new PID
//! namespace, builds the root, then forks the app as PID 2 and becomes its reaper (`init`).
//! No parsing, no allocation, no logging: a failure leaves as a [`Failure`] record on the error pipe.

use super::frozen::{Frozen, Step, NEW_ROOT, OLD_ROOT};
use super::init;
use super::sys::{self, SysResult};
use super::{Failure, Stage};
use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

const SETGROUPS: &CStr = c"/proc/self/setgroups";
const UID_MAP: &CStr = c"/proc/self/uid_map";
const GID_MAP: &CStr = c"/proc/self/gid_map";
const BASE: &CStr = c"/tmp";
const SLASH: &CStr = c"/";
const DOT: &CStr = c".";
const NEW_ROOT_C: &CStr = c"newroot";
const OLD_ROOT_C: &CStr = c"oldroot";
const TMPFS: &CStr = c"tmpfs";

pub struct Fds {
    /// Write end of the error pipe (close-on-exec).
    pub error: RawFd,
    /// Read end of a pipe whose write end only the parent holds: it hangs up when the parent dies.
    pub alive: RawFd,
}

/// Report a failure and exit. Never returns.
pub fn fail(fd: RawFd, stage: Stage, index: usize, errno: Errno) -> ! {
    let record = Failure {
        stage: stage as u32,
        index: index as u32,
        errno: errno as i32,
    };
    let _ = sys::write_all(fd, &record.to_bytes());
    // SAFETY: _exit is always safe; it skips destructors and atexit handlers of the parent's copy.
    unsafe { libc::_exit(125) }
}

/// Go on, or report `stage` failed and exit.
pub fn check(result: SysResult, err: RawFd, stage: Stage) {
    if let Err(e) = result {
        fail(err, stage, 0, e);
    }
}

/// Entry point of the cloned child.
pub fn main(frozen: &Frozen, fds: Fds, parent_mask: &libc::sigset_t) -> ! {
    let err = fds.error;
    check(die_with_parent(fds.alive), err, Stage::Prepare);
    check(sys::setsid(), err, Stage::Prepare);
    check(map_ids(frozen), err, Stage::IdMaps);
    check(enter_base(), err, Stage::BaseRoot);
    for (i, step) in frozen.steps.iter().enumerate() {
        if let Err(e) = apply(step) {
            fail(err, Stage::Mount, i, e);
        }
    }
    check(enter_new_root(), err, Stage::PivotRoot);
    check(sys::sethostname(&frozen.hostname), err, Stage::Hostname);
    if frozen.new_network {
        check(sys::loopback_up(), err, Stage::Loopback);
    }
    init::run(frozen, err, parent_mask)
}

/// Die with the parent (SIGKILL), and catch a parent that died before the request was made.
fn die_with_parent(alive: RawFd) -> SysResult {
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)?;
    let mut pfd = libc::pollfd {
        fd: alive,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: pfd is one valid pollfd; a zero timeout only checks.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    if n != 0 {
        // The write end is gone: the parent is dead (or the fd is broken).
        return Err(Errno::ESRCH);
    }
    // SAFETY: alive is our copy of the pipe's read end; nothing else uses it.
    unsafe { libc::close(alive) };
    Ok(())
}

/// The same uid and gid inside as outside; setgroups denied, as an unprivileged map requires.
fn map_ids(frozen: &Frozen) -> SysResult {
    sys::write_existing(SETGROUPS, b"deny")?;
    sys::write_existing(UID_MAP, &frozen.uid_map)?;
    sys::write_existing(GID_MAP, &frozen.gid_map)
}

/// Stop mount events flowing back to the host, then pivot into a scratch tmpfs that holds the old
/// root at /oldroot and an empty /newroot (the bubblewrap way: sources stay reachable under /oldroot).
fn enter_base() -> SysResult {
    sys::mount(None, SLASH, None, libc::MS_SLAVE | libc::MS_REC, None)?;
    sys::mount(
        Some(TMPFS),
        BASE,
        Some(TMPFS),
        libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )?;
    sys::chdir(BASE)?;
    sys::mkdir(NEW_ROOT_C, 0o755)?;
    sys::mkdir(OLD_ROOT_C, 0o755)?;
    sys::pivot_root(DOT, OLD_ROOT_C)?;
    sys::chdir(SLASH)
}

/// Let go of the host's root and make /newroot the root.
fn enter_new_root() -> SysResult {
    sys::umount_detach(OLD_ROOT)?;
    sys::chdir(NEW_ROOT)?;
    sys::pivot_root(DOT, DOT)?;
    sys::umount_detach(DOT)?;
    sys::chdir(SLASH)
}

fn apply(step: &Step) -> SysResult {
    let flags = libc::MS_NOSUID | libc::MS_NODEV;
    match step {
        Step::Tmpfs { dst, data } => {
            sys::make_parents(dst, true)?;
            sys::mount(Some(TMPFS), dst, Some(TMPFS), flags, Some(data))
        }
        Step::Bind { src, dst, attrs } => {
            if sys::is_dir(src)? {
                sys::make_parents(dst, true)?;
            } else {
                sys::make_parents(dst, false)?;
                sys::touch(dst)?;
            }
            sys::mount(Some(src), dst, None, libc::MS_BIND | libc::MS_REC, None)?;
            sys::mount_setattr(dst, *attrs, true)
        }
        Step::Proc { dst } => {
            sys::make_parents(dst, true)?;
            sys::mount(
                Some(c"proc"),
                dst,
                Some(c"proc"),
                flags | libc::MS_NOEXEC,
                None,
            )
        }
        Step::Devpts { dst } => {
            sys::make_parents(dst, true)?;
            let data = c"newinstance,ptmxmode=0666,mode=620";
            sys::mount(
                Some(c"devpts"),
                dst,
                Some(c"devpts"),
                libc::MS_NOSUID | libc::MS_NOEXEC,
                Some(data),
            )
        }
        Step::Dir { dst, mode } => {
            sys::make_parents(dst, false)?;
            sys::mkdir(dst, *mode)
        }
        Step::Symlink { target, dst } => {
            sys::make_parents(dst, false)?;
            sys::symlink(target, dst)
        }
        Step::File { dst, mode, bytes } => {
            sys::make_parents(dst, false)?;
            sys::write_new_file(dst, *mode, bytes)
        }
        Step::Protect { dst } => {
            if !sys::exists(dst) {
                return Ok(());
            }
            sys::mount(Some(dst), dst, None, libc::MS_BIND | libc::MS_REC, None)?;
            sys::mount_setattr(
                dst,
                sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
                true,
            )
        }
        Step::ReadOnly { dst } => sys::mount_setattr(dst, sys::MOUNT_ATTR_RDONLY, false),
    }
}
