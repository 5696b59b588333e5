//! Files and mounts beneath the new root. Paths inside it are never walked by name from the
//! outside: they are resolved beneath an fd of the root with openat2(RESOLVE_IN_ROOT), so a
//! symlink the sandbox planted in its persistent home resolves inside the sandbox, never into the
//! host. Mounts are attached to such fds with the new mount API (open_tree, fsopen/fsmount,
//! mount_setattr, move_mount).

use super::{check, check_fd, file_type, Fd, SysResult};
use libc::{c_char, c_int, c_ulong};
use nix::errno::Errno;
use std::ffi::CStr;
use std::ptr;

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
pub(super) fn openat2(dirfd: c_int, path: &CStr, flags: c_int, resolve: u64) -> Result<Fd, Errno> {
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
