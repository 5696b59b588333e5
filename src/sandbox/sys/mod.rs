//! Each system call the child makes, wrapped once. These take C strings built before clone and
//! allocate nothing, so they are safe to call between clone and exec. Files and mounts are in
//! `mount`, the calls that confine a process (capabilities, Landlock, seccomp, limits) in
//! `confine`; processes, signals and namespaces here.

mod confine;
mod mount;

pub use confine::*;
pub use mount::*;

use libc::{c_char, c_int};
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

pub fn sethostname(name: &CStr) -> SysResult {
    // SAFETY: name points at name.len() bytes.
    check(unsafe { libc::sethostname(name.as_ptr(), name.to_bytes().len()) })
}

/// The file type bits (S_IFMT) of what `fd` is open on.
fn file_type(fd: c_int) -> Result<u32, Errno> {
    // SAFETY: st is plain data filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st.st_mode & libc::S_IFMT)
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
