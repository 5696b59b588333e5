//! Each system call the child makes, wrapped once. These take C strings built before clone and
//! allocate nothing, so they are safe to call between clone and exec.

use libc::{c_char, c_int, c_ulong};
use nix::errno::Errno;
use std::ffi::CStr;
use std::ptr;

pub type SysResult = Result<(), Errno>;

fn check(ret: c_int) -> SysResult {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

fn opt_ptr(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), CStr::as_ptr)
}

pub fn mount(
    src: Option<&CStr>,
    dst: &CStr,
    fstype: Option<&CStr>,
    flags: c_ulong,
    data: Option<&CStr>,
) -> SysResult {
    // SAFETY: every pointer is a valid NUL-terminated string or null, as mount(2) allows.
    check(unsafe {
        libc::mount(
            opt_ptr(src),
            dst.as_ptr(),
            opt_ptr(fstype),
            flags,
            opt_ptr(data).cast(),
        )
    })
}

pub fn umount_detach(path: &CStr) -> SysResult {
    // SAFETY: path is a valid C string.
    check(unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) })
}

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Add `attrs` to the mount at `path`, and to every mount below it when `recursive`.
/// Older kernels (before 5.12) fall back to a remount of that one mount.
pub fn mount_setattr(path: &CStr, attrs: u64, recursive: bool) -> SysResult {
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: attr lives across the call and its size is passed; path is a valid C string.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == 0 {
        return Ok(());
    }
    if Errno::last() != Errno::ENOSYS {
        return Err(Errno::last());
    }
    let mut flags = libc::MS_BIND | libc::MS_REMOUNT;
    for (attr, ms) in [
        (MOUNT_ATTR_RDONLY, libc::MS_RDONLY),
        (MOUNT_ATTR_NOSUID, libc::MS_NOSUID),
        (MOUNT_ATTR_NODEV, libc::MS_NODEV),
    ] {
        if attrs & attr != 0 {
            flags |= ms;
        }
    }
    // Keep the flags the kernel locked on this mount, or the remount is refused.
    // SAFETY: st is plain data filled by statvfs.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: path is a valid C string and st a valid out-pointer.
    check(unsafe { libc::statvfs(path.as_ptr(), &mut st) })?;
    for (st_flag, ms) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms;
        }
    }
    mount(None, path, None, flags, None)
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

/// mkdir, where an existing path counts as success.
pub fn mkdir(path: &CStr, mode: u32) -> SysResult {
    // SAFETY: path is a valid C string.
    match check(unsafe { libc::mkdir(path.as_ptr(), mode) }) {
        Err(Errno::EEXIST) => Ok(()),
        r => r,
    }
}

/// Make every missing directory above `path` (and `path` itself when `last`), 0755.
pub fn make_parents(path: &CStr, last: bool) -> SysResult {
    let bytes = path.to_bytes();
    let mut buf = [0u8; libc::PATH_MAX as usize];
    if bytes.len() >= buf.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    buf[..bytes.len()].copy_from_slice(bytes);
    for i in 1..=bytes.len() {
        let end = i == bytes.len();
        if (end && last) || (!end && bytes[i] == b'/') {
            let saved = buf[i];
            buf[i] = 0;
            let part = CStr::from_bytes_until_nul(&buf).map_err(|_| Errno::EINVAL)?;
            mkdir(part, 0o755)?;
            buf[i] = saved;
        }
    }
    Ok(())
}

/// Create an empty file to mount over, if nothing is there.
pub fn touch(path: &CStr) -> SysResult {
    // SAFETY: path is a valid C string; the fd is closed at once.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            0o644,
        )
    };
    check(fd)?;
    // SAFETY: fd was just opened by us.
    unsafe { libc::close(fd) };
    Ok(())
}

/// Write a new file (it must not exist) with `mode`.
pub fn write_new_file(path: &CStr, mode: u32, data: &[u8]) -> SysResult {
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    // SAFETY: path is a valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), flags, mode) };
    check(fd)?;
    let result = write_all(fd, data);
    // SAFETY: fd was opened above.
    unsafe { libc::close(fd) };
    result
}

/// Write `data` to an existing file, as for /proc/self/uid_map.
pub fn write_existing(path: &CStr, data: &[u8]) -> SysResult {
    // SAFETY: path is a valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd)?;
    let result = write_all(fd, data);
    // SAFETY: fd was opened above.
    unsafe { libc::close(fd) };
    result
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

pub fn symlink(target: &CStr, path: &CStr) -> SysResult {
    // SAFETY: both are valid C strings.
    check(unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) })
}

/// Whether `path` (followed) is a directory; Err when it cannot be looked at.
pub fn is_dir(path: &CStr) -> Result<bool, Errno> {
    // SAFETY: st is plain data filled by stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: path is a valid C string and st a valid out-pointer.
    check(unsafe { libc::stat(path.as_ptr(), &mut st) })?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

pub fn exists(path: &CStr) -> bool {
    // SAFETY: path is a valid C string.
    unsafe { libc::access(path.as_ptr(), libc::F_OK) == 0 }
}

pub fn sethostname(name: &CStr) -> SysResult {
    // SAFETY: name points at name.len() bytes.
    check(unsafe { libc::sethostname(name.as_ptr(), name.to_bytes().len()) })
}

pub fn prctl(option: c_int, arg: c_ulong) -> SysResult {
    // SAFETY: the prctl options used here take one integer argument.
    check(unsafe { libc::prctl(option, arg, 0, 0, 0) })
}

pub fn setsid() -> SysResult {
    // SAFETY: no arguments.
    check(unsafe { libc::setsid() })
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

/// execve; returns only on failure.
pub fn execve(program: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    // SAFETY: argv and envp are NULL-terminated arrays of pointers into CStrings that outlive the call.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Errno::last()
}

/// Bring the loopback interface of this network namespace up (a new one starts with it down).
pub fn loopback_up() -> SysResult {
    // SAFETY: a plain datagram socket, closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as c_char;
    }
    // SAFETY: req names the interface; SIOCGIFFLAGS fills ifru_flags.
    let mut result = check(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) });
    if result.is_ok() {
        // SAFETY: ifru_flags was just filled by the kernel.
        unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
        // SAFETY: as above; SIOCSIFFLAGS reads the flags back.
        result = check(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) });
    }
    // SAFETY: fd was opened above.
    unsafe { libc::close(fd) };
    result
}
