//! The calls that confine a process on its way to exec: capabilities, no_new_privs, its process
//! limit, Landlock, seccomp.

use super::mount::{is_dir, openat2};
use super::{check, file_type, SysResult};
use libc::{c_int, c_ulong};
use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::RawFd;

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
