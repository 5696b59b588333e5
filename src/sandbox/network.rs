//! The sandbox's network namespace, made beside the sandbox rather than in its way. Making a
//! network namespace is the costliest namespace of a launch (the kernel registers a loopback
//! device and every protocol's tables and sysctls for it); the child would otherwise spend that
//! time before it even starts mounting. So nestbox clones the sandbox without CLONE_NEWNET and,
//! while the child builds its root, a helper process it forks enters the sandbox's user
//! namespace, makes the network namespace there (owned by that user namespace, exactly as if the
//! child had made it), brings its loopback interface up and hands the child a descriptor of it
//! over a socket pair. The child joins it once its root is built. On a machine with a second core the
//! two run side by side; on one core nothing is lost but a fork.
//!
//! The namespace is new and private to the sandbox as before: only the helper (which exits at
//! once) and the sandbox are ever in it.

use super::sys;
use super::LaunchError;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// What went wrong in the helper, as the index of a [`super::Failure`] at the Network stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum NetStep {
    /// Entering the sandbox's user namespace, or making the network namespace.
    Make = 0,
    LoopbackUp = 1,
    /// The child receiving the namespace from the helper.
    Receive = 2,
    Join = 3,
}

impl NetStep {
    pub fn words(index: u32) -> &'static str {
        match index {
            0 => "make the sandbox's network namespace",
            1 => "bring up the loopback interface",
            2 => "receive the sandbox's network namespace",
            _ => "join the sandbox's network namespace",
        }
    }
}

/// The two ends of the socket pair the namespace travels over.
pub struct Channel {
    /// Kept by the sandbox's first process, which receives the namespace on it.
    pub child: OwnedFd,
    helper: OwnedFd,
}

impl Channel {
    pub fn new() -> Result<Channel, LaunchError> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: fds has room for the two descriptors socketpair writes.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if r != 0 {
            return Err(LaunchError::Os {
                what: "cannot make a socket pair",
                errno: Errno::last(),
            });
        }
        // SAFETY: the kernel just gave us these two descriptors.
        let (child, helper) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Channel { child, helper })
    }

    /// The helper's end, as the raw descriptor the cloned child closes first thing (its copy
    /// must not keep the channel open once the helper is gone).
    pub fn helper_fd(&self) -> RawFd {
        self.helper.as_raw_fd()
    }
}

/// Fork the helper for the sandbox whose first process is `pid1` (a child of this
/// single-threaded process); returns its pid, to be reaped with [`reap`].
pub fn start_helper(pid1: libc::pid_t, channel: Channel) -> Result<libc::pid_t, LaunchError> {
    let os = |what| move |errno| LaunchError::Os { what, errno };
    let target = sys::pidfd_open(pid1).map_err(os("cannot open the sandbox's first process"))?;
    let Channel { child, helper } = channel;
    drop(child);
    // SAFETY: nestbox is single-threaded (launch checked it); the child makes system calls only.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(os("cannot start the network helper")(Errno::last()));
    }
    if pid == 0 {
        helper_main(target.as_raw_fd(), helper.as_raw_fd());
    }
    Ok(pid)
}

/// Wait for the helper to end (it sends one message and leaves, so this is short).
pub fn reap(helper: libc::pid_t) {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer; helper is our child.
    while unsafe { libc::waitpid(helper, &mut status, 0) } < 0 && Errno::last() == Errno::EINTR {}
}

/// The helper: die with nestbox, enter the sandbox's user namespace, make a network namespace
/// there with its loopback up, and send a descriptor of it (or the errno that stopped it).
fn helper_main(target: RawFd, channel: RawFd) -> ! {
    let result = (|| {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
            .map_err(|e| (NetStep::Make, e))?;
        sys::setns(target, libc::CLONE_NEWUSER).map_err(|e| (NetStep::Make, e))?;
        // SAFETY: plain system call.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err((NetStep::Make, Errno::last()));
        }
        sys::loopback_up().map_err(|e| (NetStep::LoopbackUp, e))?;
        // SAFETY: a NUL-terminated path; the descriptor is ours to send.
        let ns = unsafe {
            libc::open(
                c"/proc/self/ns/net".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if ns < 0 {
            return Err((NetStep::Make, Errno::last()));
        }
        Ok(ns)
    })();
    let sent = match result {
        Ok(ns) => send(channel, [0, 0], Some(ns)).map_err(|e| (NetStep::Make, e)),
        Err(failure) => Err(failure),
    };
    if let Err((step, errno)) = sent {
        let _ = send(channel, [step as u32, errno as i32 as u32], None);
    }
    // SAFETY: leave without running anything of nestbox's.
    unsafe { libc::_exit(0) }
}

/// One message: two words (step, errno; zeros for success) and, on success, the namespace.
fn send(channel: RawFd, words: [u32; 2], fd: Option<RawFd>) -> Result<(), Errno> {
    let mut data = [0u8; 8];
    data[..4].copy_from_slice(&words[0].to_ne_bytes());
    data[4..].copy_from_slice(&words[1].to_ne_bytes());
    let mut iov = iovec(&mut data);
    let mut control = ControlBuffer::new();
    let mut msg = message(&mut iov);
    if let Some(fd) = fd {
        msg.msg_control = control.bytes.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE only computes a size.
        msg.msg_controllen =
            unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        // SAFETY: the control buffer holds one cmsg with room for one descriptor.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        }
    }
    // SAFETY: msg describes valid buffers.
    if unsafe { libc::sendmsg(channel, &msg, libc::MSG_NOSIGNAL) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// The message's one buffer.
fn iovec(data: &mut [u8; 8]) -> libc::iovec {
    libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    }
}

/// A message of the one buffer `iov` (which must outlive its use), no control data yet.
fn message(iov: &mut libc::iovec) -> libc::msghdr {
    // SAFETY: msghdr is plain data; zeroed is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg
}

/// Room for one control message carrying one descriptor, aligned for cmsghdr.
#[repr(C)]
struct ControlBuffer {
    _align: [libc::cmsghdr; 0],
    bytes: [u8; 64],
}

impl ControlBuffer {
    fn new() -> ControlBuffer {
        ControlBuffer {
            _align: [],
            bytes: [0; 64],
        }
    }
}

/// In the sandbox's first process: receive the namespace from the helper and join it. No
/// allocation (this runs after clone). On failure, the step and errno.
pub fn join_from_helper(channel: RawFd) -> Result<(), (NetStep, Errno)> {
    let mut data = [0u8; 8];
    let mut iov = iovec(&mut data);
    let mut control = ControlBuffer::new();
    let mut msg = message(&mut iov);
    msg.msg_control = control.bytes.as_mut_ptr().cast();
    msg.msg_controllen = control.bytes.len();
    // SAFETY: plain system call on our own descriptor (closed on every way out below).
    let close_channel = || unsafe {
        libc::close(channel);
    };
    let got = loop {
        // SAFETY: msg describes valid buffers.
        let n = unsafe { libc::recvmsg(channel, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 || Errno::last() != Errno::EINTR {
            break n;
        }
    };
    if got < 0 {
        let e = Errno::last();
        close_channel();
        return Err((NetStep::Receive, e));
    }
    if got as usize != data.len() {
        // The helper died before it could say anything.
        close_channel();
        return Err((NetStep::Receive, Errno::ECONNRESET));
    }
    let step = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
    let errno = u32::from_ne_bytes([data[4], data[5], data[6], data[7]]) as i32;
    if errno != 0 {
        close_channel();
        let step = if step == NetStep::LoopbackUp as u32 {
            NetStep::LoopbackUp
        } else {
            NetStep::Make
        };
        return Err((step, Errno::from_raw(errno)));
    }
    // SAFETY: the kernel filled the control buffer; CMSG_FIRSTHDR checks its length, and the
    // message's own length is checked before its descriptor is read.
    let ns = unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        let whole = msg.msg_flags & libc::MSG_CTRUNC == 0;
        if !whole
            || cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
            || (*cmsg).cmsg_len < libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize
        {
            close_channel();
            return Err((NetStep::Receive, Errno::EBADMSG));
        }
        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>())
    };
    // SAFETY: plain system calls on the descriptor just received, closed after.
    let joined = unsafe { libc::setns(ns, libc::CLONE_NEWNET) };
    let errno = Errno::last();
    // SAFETY: as above.
    unsafe {
        libc::close(ns);
        libc::close(channel);
    }
    if joined != 0 {
        return Err((NetStep::Join, errno));
    }
    Ok(())
}
