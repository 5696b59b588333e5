//! The child after clone: a straight-line applier of a frozen plan. It runs as PID 1 of the new PID
//! namespace, builds the root, then forks the app as PID 2 and becomes its reaper (`init`).
//! No parsing, no allocation, no logging: a failure leaves as a [`Failure`] record on the error pipe.

use super::frozen::{Dst, Frozen, Step};
use super::init;
use super::sys::{self, Fd, SysResult};
use super::{Failure, Stage};
use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

const SETGROUPS: &CStr = c"/proc/self/setgroups";
const UID_MAP: &CStr = c"/proc/self/uid_map";
const GID_MAP: &CStr = c"/proc/self/gid_map";
const SLASH: &CStr = c"/";
const DOT: &CStr = c".";

pub struct Fds<'a> {
    /// Write end of the error pipe (close-on-exec).
    pub error: RawFd,
    /// Read end of a pipe whose write end only the parent holds: it hangs up when the parent dies.
    pub alive: RawFd,
    /// With a network namespace of its own: this end of the channel its helper sends it over,
    /// and the helper's end (closed here first thing).
    pub network: Option<(RawFd, RawFd)>,
    /// nestbox's own descriptors no process of the sandbox may keep.
    pub private: &'a [RawFd],
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
    for &fd in fds.private {
        // SAFETY: our copy of a descriptor of nestbox's that the sandbox must not hold.
        unsafe { libc::close(fd) };
    }
    if let Some((_, helper)) = fds.network {
        // SAFETY: our copy of the helper's end: the channel must close when the helper goes.
        unsafe { libc::close(helper) };
    }
    check(die_with_parent(fds.alive), err, Stage::Prepare);
    check(sys::setsid(), err, Stage::Prepare);
    check(map_ids(frozen), err, Stage::IdMaps);
    let root = new_root(frozen).unwrap_or_else(|e| fail(err, Stage::BaseRoot, 0, e));
    build_root(frozen, &root, err);
    check(enter_new_root(&root), err, Stage::PivotRoot);
    check(sys::sethostname(&frozen.hostname), err, Stage::Hostname);
    if let Some((channel, _)) = fds.network {
        if let Err((step, e)) = super::network::join_from_helper(channel) {
            fail(err, Stage::Network, step as usize, e);
        }
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

/// Stop mount events flowing back to the host, and make the new root: a tmpfs stacked on the
/// host's root. This process's root stays the host's (a lookup never enters a mount stacked on
/// the root it starts from), so bind sources are the host's paths as they are, while the new
/// root is reached only through the descriptor returned. One pivot_root and one unmount follow,
/// where a scratch root in between (bubblewrap's way) costs one more of each: each pivot walks
/// every process of the machine, each unmount waits for an RCU grace period.
fn new_root(frozen: &Frozen) -> Result<Fd, Errno> {
    let Some(Step::Root { mode, size }) = frozen.steps.first() else {
        return Err(Errno::EINVAL);
    };
    sys::mount(None, SLASH, None, libc::MS_SLAVE | libc::MS_REC, None)?;
    let root = sys::new_fs(
        c"tmpfs",
        &[(c"mode", mode), (c"size", size)],
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
    )?;
    sys::attach(&root, &sys::open_dir(SLASH)?)?;
    Ok(root)
}

/// Apply every step beneath the new root (the first, the root itself, is made already).
fn build_root(frozen: &Frozen, root: &Fd, err: RawFd) {
    for (i, step) in frozen.steps.iter().enumerate() {
        if let Err(e) = apply(root, step) {
            fail(err, Stage::Mount, i, e);
        }
    }
}

/// Make the new root this process's root, and let go of the host's (stacked on top of it by
/// pivot_root, then unmounted).
fn enter_new_root(root: &Fd) -> SysResult {
    sys::fchdir(root)?;
    sys::pivot_root(DOT, DOT)?;
    sys::umount_detach(DOT)?;
    sys::chdir(SLASH)
}

/// Make the ancestors of `dst` beneath `root` that no earlier step made.
fn make_ancestors(root: &Fd, dst: &Dst) -> SysResult {
    let ancestors = dst.parts.len().checked_sub(1).ok_or(Errno::EINVAL)?;
    for (above, dir) in dst.parts[..ancestors].iter().skip(dst.made) {
        sys::mkdir_in(Some(&sys::resolve(root, above, true)?), dir, 0o755)?;
    }
    Ok(())
}

/// Make every missing ancestor of `dst` beneath `root`, and open the last one.
fn parent_of<'d>(root: &Fd, dst: &'d Dst) -> Result<(Fd, &'d CStr), Errno> {
    make_ancestors(root, dst)?;
    let (parent, name) = dst.parts.last().ok_or(Errno::EINVAL)?;
    Ok((sys::resolve(root, parent, true)?, name))
}

/// `dst` as a directory to mount on, made if missing.
fn dir_target(root: &Fd, dst: &Dst) -> Result<Fd, Errno> {
    if !dst.parts.is_empty() && dst.made < dst.parts.len() {
        let (parent, name) = parent_of(root, dst)?;
        sys::mkdir_in(Some(&parent), name, 0o755)?;
    }
    sys::resolve(root, &dst.path, true)
}

/// `dst` as a file to mount on, made if missing.
fn file_target(root: &Fd, dst: &Dst) -> Result<Fd, Errno> {
    make_ancestors(root, dst)?;
    sys::create_mount_file(root, &dst.path)?;
    sys::resolve(root, &dst.path, false)
}

fn apply(root: &Fd, step: &Step) -> SysResult {
    use sys::{
        MOUNT_ATTR_NODEV as NODEV, MOUNT_ATTR_NOEXEC as NOEXEC, MOUNT_ATTR_NOSUID as NOSUID,
        MOUNT_ATTR_RDONLY as RDONLY,
    };
    match step {
        // Made by `new_root`, which gave the root's fd.
        Step::Root { .. } => Ok(()),
        Step::Tmpfs { dst, mode, size } => sys::attach(
            &sys::new_fs(
                c"tmpfs",
                &[(c"mode", mode), (c"size", size)],
                NOSUID | NODEV,
            )?,
            &dir_target(root, dst)?,
        ),
        Step::Bind { src, dst, attrs } => {
            let source = sys::open_source(src)?;
            let target = if sys::is_dir(&source)? {
                dir_target(root, dst)?
            } else {
                file_target(root, dst)?
            };
            let tree = sys::clone_tree(Some(&source), c"")?;
            sys::set_attrs(&tree, *attrs, true)?;
            sys::attach(&tree, &target)
        }
        Step::Proc { dst } => sys::attach(
            &sys::new_fs(c"proc", &[], NOSUID | NODEV | NOEXEC)?,
            &dir_target(root, dst)?,
        ),
        Step::Devpts { dst } => {
            let options = [(c"ptmxmode", c"0666"), (c"mode", c"0620")];
            sys::attach(
                &sys::new_fs(c"devpts", &options, NOSUID | NOEXEC)?,
                &dir_target(root, dst)?,
            )
        }
        Step::Symlink { target, dst } => {
            let (parent, name) = parent_of(root, dst)?;
            sys::symlink_in(target, &parent, name)
        }
        Step::File { dst, mode, bytes } => {
            let (parent, name) = parent_of(root, dst)?;
            sys::write_new_file(&parent, name, *mode, bytes)
        }
        Step::Protect { dst } => {
            // A link is pinned where it is (it cannot be replaced), not followed.
            let target = match sys::resolve_entry(root, &dst.path) {
                Err(Errno::ENOENT) => return Ok(()),
                r => r?,
            };
            let tree = sys::clone_tree(Some(&target), c"")?;
            sys::set_attrs(&tree, RDONLY | NOSUID | NODEV, true)?;
            sys::attach(&tree, &target)
        }
        Step::ReadOnly { dst } => {
            sys::set_attrs(&sys::resolve(root, &dst.path, true)?, RDONLY, false)
        }
    }
}
