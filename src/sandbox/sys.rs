//! Each system call the child makes, wrapped once. These take C strings built before clone and
//! allocate nothing, so they are safe to call between clone and exec.
//!
//! Paths inside the new root are never walked by name from the outside: they are resolved beneath
//! an fd of the root with openat2(RESOLVE_IN_ROOT), so a symlink the sandbox planted in its
//! persistent home resolves inside the sandbox, never into the host. Mounts are attached to such
//! fds with the new mount API (open_tree, fsopen/fsmount, mount_setattr, move_mount).

use libc::{c_char, c_int, c_ulong};
use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;
use std::ptr;

pub type SysResult = Result<(), Errno>;

fn check(ret: c_int) -> SysResult {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

fn check_fd(ret: libc::c_long) -> Result<Fd, Errno> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(Fd(ret as c_int))
    }
}

/// An fd closed on drop.
pub struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.0) };
    }
}

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const OPEN_TREE_CLONE: c_int = 1;
const MOVE_MOUNT_F_EMPTY_PATH: c_int = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: c_int = 0x40;
const FSOPEN_CLOEXEC: c_int = 1;
const FSCONFIG_SET_STRING: c_int = 1;
const FSCONFIG_CMD_CREATE: c_int = 6;
const FSMOUNT_CLOEXEC: c_int = 1;
const EMPTY: &CStr = c"";

pub fn mount(
    src: Option<&CStr>,
    dst: &CStr,
    fstype: Option<&CStr>,
    flags: c_ulong,
    data: Option<&CStr>,
) -> SysResult {
    let p = |s: Option<&CStr>| s.map_or(ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is a valid NUL-terminated string or null, as mount(2) allows.
    check(unsafe { libc::mount(p(src), dst.as_ptr(), p(fstype), flags, p(data).cast()) })
}

pub fn umount_detach(path: &CStr) -> SysResult {
    // SAFETY: path is a valid C string.
    check(unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) })
}

pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> SysResult {
    // SAFETY: both are valid C strings.
    check(unsafe {
        libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) as c_int
    })
}

pub fn chdir(path: &CStr) -> SysResult {
    // SAFETY: path is a valid C string.
    check(unsafe { libc::chdir(path.as_ptr()) })
}

pub fn fchdir(dir: &Fd) -> SysResult {
    // SAFETY: dir is an open descriptor.
    check(unsafe { libc::fchdir(dir.0) })
}

/// A directory, opened O_PATH (for the new root itself).
pub fn open_dir(path: &CStr) -> Result<Fd, Errno> {
    // SAFETY: path is a valid C string.
    check_fd(
        unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        }
        .into(),
    )
}

/// `path` (relative, or "." for the root itself) resolved beneath `root` as if `root` were `/`:
/// symlinks and `..` cannot leave it. O_PATH: nothing is read, a FIFO does not block.
pub fn resolve(root: &Fd, path: &CStr, directory: bool) -> Result<Fd, Errno> {
    let flags = libc::O_PATH | libc::O_CLOEXEC | if directory { libc::O_DIRECTORY } else { 0 };
    resolve_with(root, path, flags)
}

/// As `resolve`, but a link at the end of `path` is the entry itself, not what it leads to.
pub fn resolve_entry(root: &Fd, path: &CStr) -> Result<Fd, Errno> {
    resolve_with(
        root,
        path,
        libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW,
    )
}

fn resolve_with(root: &Fd, path: &CStr, flags: c_int) -> Result<Fd, Errno> {
    openat2(
        root.0,
        path,
        flags,
        libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    )
}

/// openat2(2): `path` from `dirfd` with `flags`, resolved as `resolve` says.
fn openat2(dirfd: c_int, path: &CStr, flags: c_int, resolve: u64) -> Result<Fd, Errno> {
    // SAFETY: open_how is plain data; zeroed is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = resolve;
    // SAFETY: how lives across the call and its size is passed; path is a valid C string.
    check_fd(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

/// Device and inode of the file `fd` refers to.
pub fn dev_ino(fd: &Fd) -> Result<(u64, u64), Errno> {
    // SAFETY: stat is plain data, filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid fd and out-pointer.
    check(unsafe { libc::fstat(fd.0, &mut st) })?;
    Ok((st.st_dev, st.st_ino))
}

/// mkdirat; an existing entry counts as success (resolving it later says whether it is a directory).
pub fn mkdir_in(dir: Option<&Fd>, name: &CStr, mode: u32) -> SysResult {
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.0);
    // SAFETY: name is a valid C string, dirfd an open directory or AT_FDCWD.
    match check(unsafe { libc::mkdirat(dirfd, name.as_ptr(), mode) }) {
        Err(Errno::EEXIST) => Ok(()),
        r => r,
    }
}

/// An empty file to mount over at `path` beneath `root` (its parent resolved as `resolve` does),
/// unless something is there already. Never follows a symlink at the end and never opens what
/// is there (a FIFO would block).
pub fn create_mount_file(root: &Fd, path: &CStr) -> SysResult {
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    // SAFETY: open_how is plain data; zeroed is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.mode = 0o644;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: how lives across the call and its size is passed; path is a valid C string.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.0,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    match check_fd(fd) {
        // Closed on drop.
        Ok(_) => Ok(()),
        Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Write a new file `name` in `dir` (it must not exist) with `mode`.
pub fn write_new_file(dir: &Fd, name: &CStr, mode: u32, data: &[u8]) -> SysResult {
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    // SAFETY: name is a valid C string.
    let fd = unsafe { libc::openat(dir.0, name.as_ptr(), flags, mode) };
    check(fd)?;
    let fd = Fd(fd);
    write_all(fd.0, data)
}

/// Write `data` to an existing file, as for /proc/self/uid_map.
pub fn write_existing(path: &CStr, data: &[u8]) -> SysResult {
    // SAFETY: path is a valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd)?;
    let fd = Fd(fd);
    write_all(fd.0, data)
}

pub fn write_all(fd: c_int, mut data: &[u8]) -> SysResult {
    while !data.is_empty() {
        // SAFETY: data points at data.len() readable bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            return Err(Errno::last());
        }
        data = &data[n as usize..];
    }
    Ok(())
}

pub fn symlink_in(target: &CStr, dir: &Fd, name: &CStr) -> SysResult {
    // SAFETY: both are valid C strings; dir is an open directory.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.0, name.as_ptr()) })
}

/// Whether `path` (followed) is a directory.
pub fn is_dir(fd: &Fd) -> Result<bool, Errno> {
    Ok(file_type(fd.0)? == libc::S_IFDIR)
}

/// A bind's source (a host path, which the plan made free of symlinks), opened
/// without following any: a link planted there since the plan was made fails the launch (ELOOP)
/// instead of steering the bind elsewhere.
pub fn open_source(path: &CStr) -> Result<Fd, Errno> {
    openat2(
        libc::AT_FDCWD,
        path,
        libc::O_PATH | libc::O_CLOEXEC,
        libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
    )
}

/// A detached copy of the mount tree at `path` (a host path), or at `fd` when
/// `path` is empty.
pub fn clone_tree(fd: Option<&Fd>, path: &CStr) -> Result<Fd, Errno> {
    let (dirfd, empty) = match fd {
        Some(f) => (f.0, libc::AT_EMPTY_PATH),
        None => (libc::AT_FDCWD, 0),
    };
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC | libc::AT_RECURSIVE | empty;
    // SAFETY: path is a valid C string; dirfd an open fd or AT_FDCWD.
    check_fd(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) })
}

/// Add `attrs` to the mount `fd` refers to, and to every mount below it when `recursive`.
pub fn set_attrs(fd: &Fd, attrs: u64, recursive: bool) -> SysResult {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: attr lives across the call and its size is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.0,
            EMPTY.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(ret as c_int)
}

/// A new, detached filesystem of `fstype` with string options `options`.
pub fn new_fs(fstype: &CStr, options: &[(&CStr, &CStr)], attrs: u64) -> Result<Fd, Errno> {
    // SAFETY: fstype is a valid C string.
    let ctx =
        check_fd(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })?;
    for (key, value) in options {
        // SAFETY: key and value are valid C strings; ctx is an fs context.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                ctx.0,
                FSCONFIG_SET_STRING,
                key.as_ptr(),
                value.as_ptr(),
                0,
            )
        };
        check(ret as c_int)?;
    }
    // SAFETY: plain fsconfig command on our context.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.0,
            FSCONFIG_CMD_CREATE,
            ptr::null::<c_char>(),
            ptr::null::<c_char>(),
            0,
        )
    };
    check(ret as c_int)?;
    // SAFETY: plain fsmount of our context.
    check_fd(unsafe { libc::syscall(libc::SYS_fsmount, ctx.0, FSMOUNT_CLOEXEC, attrs) })
}

/// Attach the detached mount `tree` on the path `target` refers to.
pub fn attach(tree: &Fd, target: &Fd) -> SysResult {
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both fds are open; the paths are empty strings.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.0,
            EMPTY.as_ptr(),
            target.0,
            EMPTY.as_ptr(),
            flags,
        )
    };
    check(ret as c_int)
}

pub fn sethostname(name: &CStr) -> SysResult {
    // SAFETY: name points at name.len() bytes.
    check(unsafe { libc::sethostname(name.as_ptr(), name.to_bytes().len()) })
}

pub fn prctl(option: c_int, arg: c_ulong) -> SysResult {
    // SAFETY: the prctl options used here take one integer argument.
    check(unsafe { libc::prctl(option, arg, 0, 0, 0) })
}

pub fn clear_ambient_capabilities() -> SysResult {
    // SAFETY: PR_CAP_AMBIENT_CLEAR_ALL takes no further arguments.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    })
}

/// Empty the effective, permitted and inheritable sets (capset, version 3: two 32-bit words).
pub fn clear_capabilities() -> SysResult {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let none = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: a version-3 header and the two data words it asks for, both valid for the call.
    check(unsafe { libc::syscall(libc::SYS_capset, &header, none.as_ptr()) } as c_int)
}

/// Whether this process has one thread: only then may it clone, fork or enter a user
/// namespace and go on in the child as nestbox does (a second thread may hold a lock the child
/// then waits on forever, and setns into a user namespace refuses a threaded caller).
pub fn single_threaded() -> bool {
    // Each thread is a directory in /proc/self/task: ".", ".." and one more.
    std::fs::read_dir("/proc/self/task").is_ok_and(|d| d.take(2).count() == 1)
}

/// Make the first of stdin, stdout and stderr that is a terminal this session's controlling
/// terminal; nothing when none is (or it is another session's already).
pub fn take_terminal() {
    for fd in 0..3 {
        // SAFETY: isatty and TIOCSCTTY (argument 0: never steal) on our own descriptors.
        unsafe {
            if libc::isatty(fd) == 1 {
                libc::ioctl(fd, libc::TIOCSCTTY, 0);
                return;
            }
        }
    }
}

/// At most `n` processes and threads (RLIMIT_NPROC, soft and hard; never above the hard limit
/// this process has).
pub fn limit_processes(n: u64) -> SysResult {
    // SAFETY: rlimit is plain data, filled by getrlimit.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut r) })?;
    let n = n.min(r.rlim_max);
    let limit = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: a valid rlimit.
    check(unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &limit) })
}

pub fn setsid() -> SysResult {
    // SAFETY: no arguments.
    check(unsafe { libc::setsid() })
}

/// Restrict this process (and what it starts) with a Landlock ruleset; needs no_new_privs.
pub fn landlock_restrict_self(ruleset: RawFd) -> SysResult {
    // SAFETY: the ruleset fd is valid; flags 0.
    check(unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) as c_int })
}

/// Add a Landlock path-beneath rule: `access` beneath (or on) the file open as `fd`.
fn landlock_add_rule(ruleset: RawFd, fd: c_int, access: u64) -> SysResult {
    #[repr(C, packed)]
    struct PathBeneath {
        allowed_access: u64,
        parent_fd: i32,
    }
    let attr = PathBeneath {
        allowed_access: access,
        parent_fd: fd,
    };
    // SAFETY: attr lives across the call; rule type 1 is LANDLOCK_RULE_PATH_BENEATH.
    check(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset,
            1u32,
            &attr as *const PathBeneath,
            0u32,
        ) as c_int
    })
}

/// The file type bits (S_IFMT) of what `fd` is open on.
fn file_type(fd: c_int) -> Result<u32, Errno> {
    // SAFETY: st is plain data filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st.st_mode & libc::S_IFMT)
}

/// Allow `dir_access` beneath directory `path` (or `file_access` on it, when it is no directory)
/// in the Landlock ruleset `ruleset`. A path that is not there is skipped.
/// `no_links`: resolve `path` without following any symbolic link, and add no rule where one is
/// met (a process joining a running sandbox, whose app may have replaced a directory above a
/// writable place with a link elsewhere: no rule is less access, never more).
pub fn landlock_allow(
    ruleset: RawFd,
    path: &CStr,
    dir_access: u64,
    file_access: u64,
    no_links: bool,
) -> SysResult {
    let resolve = if no_links {
        libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS
    } else {
        0
    };
    let fd = match openat2(
        libc::AT_FDCWD,
        path,
        libc::O_PATH | libc::O_CLOEXEC,
        resolve,
    ) {
        Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::ELOOP) if no_links => return Ok(()),
        r => r?,
    };
    let access = if is_dir(&fd)? {
        dir_access
    } else {
        file_access
    };
    landlock_add_rule(ruleset, fd.0, access)
}

/// Allow `access` on the file open as `fd` (a terminal, a file), so that it can be reopened by
/// path; pipes and sockets, which Landlock does not govern and takes no rule for, are skipped.
pub fn landlock_allow_fd(ruleset: RawFd, fd: c_int, access: u64) -> SysResult {
    // A closed fd has nothing to reopen.
    let Ok(kind) = file_type(fd) else {
        return Ok(());
    };
    if kind == libc::S_IFIFO || kind == libc::S_IFSOCK || kind == libc::S_IFDIR {
        return Ok(());
    }
    match landlock_add_rule(ruleset, fd, access) {
        // An anonymous inode (an eventfd, say) has no path to reopen it by.
        Err(Errno::EBADFD) | Err(Errno::EINVAL) => Ok(()),
        r => r,
    }
}

/// Install a seccomp filter on this thread (no_new_privs must be set).
pub fn seccomp_filter(program: &[seccompiler::sock_filter]) -> SysResult {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        // The two types are the kernel's struct sock_filter, field for field.
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points to `program`, which outlives the call; the kernel copies it.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0u32,
            &prog as *const libc::sock_fprog,
        ) as c_int
    })
}

/// Mark every fd from `first` on close-on-exec.
pub fn cloexec_from(first: u32) -> SysResult {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes fd flags.
    check(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) as c_int
    })
}

pub fn set_sigmask(mask: &libc::sigset_t) -> SysResult {
    // SAFETY: mask is a valid sigset.
    check(unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, ptr::null_mut()) })
}

/// Give `sig` its default action back (exec keeps ignored signals ignored).
pub fn default_action(sig: c_int) -> SysResult {
    // SAFETY: installing SIG_DFL is async-signal-safe.
    if unsafe { libc::signal(sig, libc::SIG_DFL) } == libc::SIG_ERR {
        return Err(Errno::last());
    }
    Ok(())
}

/// execve; returns only on failure.
pub fn execve(program: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    // SAFETY: argv and envp are NULL-terminated arrays of pointers into CStrings that outlive the call.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Errno::last()
}

/// Bring the loopback interface of this network namespace up (a new one starts with it down).
pub fn loopback_up() -> SysResult {
    // SAFETY: a plain datagram socket, closed on drop.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    let fd = Fd(fd);
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as c_char;
    }
    // SAFETY: req names the interface; SIOCGIFFLAGS fills ifru_flags.
    check(unsafe { libc::ioctl(fd.0, libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: ifru_flags was just filled by the kernel.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
    // SAFETY: as above; SIOCSIFFLAGS reads the flags back.
    check(unsafe { libc::ioctl(fd.0, libc::SIOCSIFFLAGS, &req) })
}

/// A pidfd for process `pid` (close-on-exec, as pidfds always are).
pub fn pidfd_open(pid: libc::pid_t) -> Result<std::os::fd::OwnedFd, Errno> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain system call; flags 0.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this fd.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as c_int) })
}

/// Send `sig` to the process `pidfd` refers to (never to a process that took its pid since).
pub fn pidfd_send_signal(pidfd: RawFd, sig: c_int) -> SysResult {
    // SAFETY: plain system call; no siginfo, flags 0.
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        ) as c_int
    })
}

/// Enter the namespaces `flags` names of the process `pidfd` refers to, all at once.
pub fn setns(pidfd: RawFd, flags: c_int) -> SysResult {
    // SAFETY: plain system call on an open fd.
    check(unsafe { libc::setns(pidfd, flags) })
}
