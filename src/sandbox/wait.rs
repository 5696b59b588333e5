//! nestbox's side while a sandbox runs: the signals it blocks and takes through a signalfd, and
//! the loop that waits for PID 1 (or a joined process), passes signals on and serves what the
//! caller watches (the app's output, a terminal relay).

use super::{init, sys, LaunchError};
use nix::errno::Errno;
use std::os::fd::{AsRawFd, OwnedFd};

/// How long the app has to exit after its display went away, before the sandbox is killed.
const DISPLAY_GONE_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// What the caller of [`launch`] does at two moments of it, given the host pid of the sandbox's
/// PID 1.
pub trait Watch {
    /// Right after the clone, before the sandbox is ready: nestbox's signals are blocked by now, so
    /// threads it starts here do not take them.
    fn cloned(&mut self, _pid1: libc::pid_t) {}
    /// The app runs (its exec succeeded).
    fn running(&mut self, _pid1: libc::pid_t) {}
    /// Descriptors to serve while nestbox waits (the app's output, for its log).
    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        Vec::new()
    }
    /// `fd` is readable; false once it is closed for good (it is no longer watched then).
    fn readable(&mut self, _fd: std::os::fd::RawFd) -> bool {
        false
    }
    /// Descriptors of nestbox's own that no process of the sandbox may keep (the user's
    /// terminal behind a relay): the sandbox's first process closes them first thing (it never
    /// execs, so close-on-exec does not).
    fn private_fds(&self) -> Vec<std::os::fd::RawFd> {
        Vec::new()
    }
    /// How long nestbox may wait without calling [`Watch::tick`] (none: as long as it likes).
    fn tick_every(&self) -> Option<std::time::Duration> {
        None
    }
    /// Called after every wake-up of the wait loop (a background job brought to the
    /// foreground gets no signal: a terminal relay looks).
    fn tick(&mut self) {}
    /// Signal `sig` came for nestbox; whether the watcher took care of it (the terminal relay:
    /// a window size change, a suspend). Otherwise it is passed on to the sandbox (SIGTSTP:
    /// nestbox stops, as a job does).
    fn signal(&mut self, _sig: libc::c_int) -> bool {
        false
    }
}

impl Watch for () {}

/// The signals nestbox forwards (and SIGCHLD), blocked so that they queue for a signalfd (and,
/// in PID 1, for sigwaitinfo); the mask from before, for the processes started inside.
pub(super) struct Blocked {
    pub(super) old_mask: libc::sigset_t,
    signals: OwnedFd,
}

impl Blocked {
    pub(super) fn new() -> Result<Blocked, LaunchError> {
        let os = |what| move |errno| LaunchError::Os { what, errno };
        // A caller that ignores SIGCHLD (exec keeps that) would make the kernel reap PID 1 and
        // the app behind our backs, and waitpid would never see them.
        sys::default_action(libc::SIGCHLD).map_err(os("cannot reset SIGCHLD"))?;
        // SIGTSTP too: a terminal relay gives the terminal back before nestbox stops.
        let mut waited = init::waited_set();
        // SAFETY: waited is an initialized set.
        unsafe { libc::sigaddset(&mut waited, libc::SIGTSTP) };
        // SAFETY: sigset_t is plain data, filled by sigprocmask below.
        let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sets.
        if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &waited, &mut old_mask) } != 0 {
            return Err(os("cannot block signals")(Errno::last()));
        }
        // SAFETY: waited is a valid sigset; its signals are blocked now.
        let fd = unsafe { libc::signalfd(-1, &waited, libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(os("cannot make a signalfd")(Errno::last()));
        }
        Ok(Blocked {
            old_mask,
            // SAFETY: the kernel just gave us this fd.
            signals: unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) },
        })
    }
}

/// Wait for PID 1 (or a joined process), passing on every forwarded signal; its exit code is
/// the app's. When the display server exits first, end the sandbox: SIGTERM to the app, SIGKILL
/// to PID 1 after a grace period. Meanwhile the descriptors `watch` names are served as they
/// become readable (the app's output, copied to its log): one poll over them and a signalfd of
/// the blocked signals, in this one thread.
pub(super) fn wait_forwarding(
    pid: libc::pid_t,
    blocked: &Blocked,
    display_server: Option<libc::pid_t>,
    watch: &mut dyn Watch,
) -> i32 {
    let sfd = &blocked.signals;
    let mut kill_at: Option<std::time::Instant> = None;
    let mut check_server = display_server.is_some();
    let mut closed: Vec<std::os::fd::RawFd> = Vec::new();
    // The first look before the first wait (a terminal relay goes raw here, once nestbox's
    // signals are blocked and the sandbox is up).
    watch.tick();
    loop {
        // Asked anew each time: what is watched may change (a terminal relay reads the user's
        // terminal only while nestbox is in the foreground).
        let mut served: Vec<std::os::fd::RawFd> = watch.fds();
        served.retain(|fd| !closed.contains(fd));
        if check_server && display_server.is_some_and(has_exited) {
            check_server = false;
            tracing::debug!("the display server is gone; ending the sandbox");
            // SAFETY: plain kill of our child, PID 1, which passes SIGTERM on to the app.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            kill_at = Some(std::time::Instant::now() + DISPLAY_GONE_GRACE);
        }
        let until_kill = kill_at.map(|at| at.saturating_duration_since(std::time::Instant::now()));
        let timeout = match (until_kill, watch.tick_every()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as libc::c_int);
        let mut polls: Vec<libc::pollfd> = std::iter::once(sfd.as_raw_fd())
            .chain(served.iter().copied())
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout) };
        watch.tick();
        if n == 0 {
            if kill_at.is_some_and(|at| std::time::Instant::now() >= at) {
                // SAFETY: plain kill of our child; the PID namespace goes with it.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                kill_at = None;
            }
            continue;
        }
        if n < 0 {
            continue;
        }
        for p in &polls[1..] {
            if p.revents != 0 && !watch.readable(p.fd) {
                closed.push(p.fd);
                served.retain(|&fd| fd != p.fd);
            }
        }
        if polls[0].revents == 0 {
            continue;
        }
        // SAFETY: signalfd_siginfo is plain data, filled by read.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reading one record into a buffer of its size.
        let got = unsafe {
            libc::read(
                sfd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        if got != size as isize {
            continue;
        }
        let sig = info.ssi_signo as libc::c_int;
        if sig == libc::SIGCHLD {
            let mut status = 0;
            // SAFETY: status is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                drain(&served, watch);
                return init::exit_code(status);
            }
            if r < 0 && Errno::last() == Errno::ECHILD {
                return 125;
            }
        } else if watch.signal(sig) {
            // Taken care of (the terminal relay).
        } else if sig == libc::SIGTSTP {
            // Stop as a job does; the sandbox goes on (a terminal relay stops it too).
            // SAFETY: stops this process until SIGCONT.
            unsafe { libc::raise(libc::SIGSTOP) };
        } else {
            // SAFETY: plain kill of our child (PID 1 of the sandbox, which waits for these signals).
            unsafe { libc::kill(pid, sig) };
        }
    }
}

/// Serve what the watched descriptors hold now, before nestbox goes on to stop its helpers
/// (which may hold the same pipes, and block writing to a full one).
fn drain(fds: &[std::os::fd::RawFd], watch: &mut dyn Watch) {
    for &fd in fds {
        for _ in 0..1024 {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; no waiting.
            if unsafe { libc::poll(&mut p, 1, 0) } <= 0 || !watch.readable(fd) {
                break;
            }
        }
    }
}

/// Whether our child `pid` has exited, without reaping it (its owner does that).
fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain data, filled by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer; WNOWAIT leaves the child waitable.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: si_pid is set by waitid (0 when no child has changed state).
    r == 0 && unsafe { info.si_pid() } != 0
}
