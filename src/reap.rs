//! Waiting for the helper processes nestbox starts (the nested X server, the sound helper) once
//! they have been told to stop.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::Child;
use std::time::{Duration, Instant};

/// Wait up to `timeout` for `child`, already told to stop, then kill it; reaped either way.
/// The wait sleeps on the child's pidfd, so a helper that exits at once costs no polling delay.
pub(crate) fn wait_or_kill(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let pidfd = pidfd_open(child.id());
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(None) => {}
            _ => return,
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match &pidfd {
            // Readable once the child has exited.
            Some(fd) => {
                use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
                let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                let _ = poll(
                    &mut fds,
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
                );
            }
            None => std::thread::sleep(Duration::from_millis(1).min(left)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A pidfd for process `pid` (Linux 5.3), or none.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: a system call with plain arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    // SAFETY: a non-negative result is a new descriptor (close-on-exec) that nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
