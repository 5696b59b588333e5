//! The nested X server of `x11 = "nested"`: start Xephyr on the host display with a fresh cookie,
//! wait until it accepts connections, stop it when the sandbox is done.
//!
//! Nothing is left behind. The cookie lives in a memfd that Xephyr reads as `/proc/self/fd/N`, so
//! it never touches a disk; Xephyr gets SIGTERM when nestbox dies (even by SIGKILL) and removes its
//! own socket then; it runs in a session of its own, so a Ctrl-C in nestbox's
//! terminal reaches the app (through nestbox) and not the display under it.

pub mod clipboard;

use crate::plan::NestedServer;
use nix::errno::Errno;
use std::fs::File;
use std::io::{Read, Seek};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Xephyr may take to open its window and sockets.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long Xephyr may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum XephyrError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: nestbox runs more than one thread and cannot fork the clipboard bridge safely")]
    Threaded,
    #[error("cannot prepare the nested display: {what}: {errno}")]
    Os { what: &'static str, errno: Errno },
    #[error("Xephyr could not open a nested display on {host}: {reason}")]
    Failed { host: String, reason: String },
    #[error("Xephyr did not open a nested display on {host} within {} s", START_TIMEOUT.as_secs())]
    Timeout { host: String },
}

/// A running Xephyr; dropping it stops it.
pub struct Server {
    child: Child,
    /// Its display number on the host.
    pub number: u32,
    pub cookie: [u8; 16],
}

impl Server {
    /// Its socket on the host.
    pub fn socket(&self) -> PathBuf {
        format!("/tmp/.X11-unix/X{}", self.number).into()
    }
    pub fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        self.remove_stale_socket();
    }
}

impl Server {
    fn stop(&mut self) {
        // SAFETY: a plain kill of our own child, which is not reaped before this wait (nestbox
        // only peeks at it with WNOWAIT), so its pid cannot have been reused.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        crate::reap::wait_or_kill(&mut self.child, STOP_TIMEOUT);
    }

    /// Xephyr removes its socket when it stops on SIGTERM, but not when it dies of a lost host
    /// connection (its window closed): remove the socket then, if nothing listens on it any more
    /// (the check X servers make of a socket left behind).
    fn remove_stale_socket(&self) {
        let socket = self.socket();
        if let Err(e) = std::os::unix::net::UnixStream::connect(&socket) {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                let _ = std::fs::remove_file(&socket);
            }
        }
    }
}

fn os(what: &'static str) -> impl Fn(Errno) -> XephyrError {
    move |errno| XephyrError::Os { what, errno }
}

/// A memfd holding `bytes`, read from offset 0 by whoever opens /proc/self/fd/N.
pub(crate) fn memfd(name: &std::ffi::CStr, bytes: &[u8]) -> Result<File, XephyrError> {
    // SAFETY: name is a valid C string; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(os("memfd_create")(Errno::last()));
    }
    // SAFETY: fd is a new descriptor that nothing else owns.
    let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    std::io::Write::write_all(&mut file, bytes).map_err(|e| XephyrError::Os {
        what: "write the cookie",
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    Ok(file)
}

fn random_cookie() -> Result<[u8; 16], XephyrError> {
    let mut cookie = [0u8; 16];
    // SAFETY: the buffer is valid for its length.
    let n = unsafe { libc::getrandom(cookie.as_mut_ptr().cast(), cookie.len(), 0) };
    if n != cookie.len() as isize {
        return Err(os("getrandom")(Errno::last()));
    }
    Ok(cookie)
}

/// Start Xephyr as the plan says and wait until it listens.
pub fn start(plan: &NestedServer) -> Result<Server, XephyrError> {
    let cookie = random_cookie()?;
    let entry = crate::host::XauthEntry {
        family: crate::host::FAMILY_WILD,
        address: Vec::new(),
        number: Vec::new(),
        name: crate::host::MIT_MAGIC_COOKIE.to_vec(),
        data: cookie.to_vec(),
    };
    let auth = memfd(
        c"nestbox-xephyr-auth",
        &crate::host::write_xauthority(&[entry]),
    )?;
    let log = memfd(c"nestbox-xephyr-log", b"")?;
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("pipe2"))?;
    let (auth_fd, ready_fd) = (auth.as_raw_fd(), ready_w.as_raw_fd());
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    let mut command = Command::new(&plan.command.program);
    crate::spawn::clean_environment(&mut command);
    command
        .arg0(&plan.command.argv[0])
        .args(&plan.command.argv[1..])
        .arg("-displayfd")
        .arg(ready_fd.to_string())
        .arg("-auth")
        .arg(format!("/proc/self/fd/{auth_fd}"))
        .env("DISPLAY", &plan.host_display)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone().map_err(|e| XephyrError::Os {
            what: "dup",
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            crate::spawn::cloexec_other_fds(&[auth_fd, ready_fd])?;
            for fd in [auth_fd, ready_fd] {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::setsid() < 0 || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // nestbox died before the death signal was armed.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(|source| XephyrError::Spawn {
        program: plan.command.program.display().to_string(),
        source,
    })?;
    drop(ready_w);
    drop(auth);
    let mut server = Server {
        child,
        number: 0,
        cookie,
    };
    match read_number(&ready_r) {
        Ok(n) => {
            server.number = n;
            Ok(server)
        }
        Err(None) => Err(XephyrError::Timeout {
            host: plan.host_display.clone(),
        }),
        Err(Some(())) => {
            drop(server);
            Err(XephyrError::Failed {
                host: plan.host_display.clone(),
                reason: reason_from_log(log),
            })
        }
    }
}

/// The display number Xephyr writes to its -displayfd once it listens. `Err(None)` when it took
/// too long, `Err(Some(()))` when it closed the pipe without one (it exited).
fn read_number(fd: &OwnedFd) -> Result<u32, Option<()>> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut text = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [nix::poll::PollFd::new(
            fd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, ms) {
            Ok(0) if left.is_zero() => return Err(None),
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return Err(Some(())),
        }
        let mut buf = [0u8; 16];
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => return Err(Some(())),
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(_) => return Err(Some(())),
        }
        if let Some(end) = text.iter().position(|&b| b == b'\n') {
            return std::str::from_utf8(&text[..end])
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or(Some(()));
        }
    }
}

/// What Xephyr said on its way out, on one line: its own complaint ("cannot open host display"),
/// after the host server's reason when there is one ("Authorization required...").
fn reason_from_log(mut log: File) -> String {
    let mut text = String::new();
    let _ = log.rewind();
    let _ = log.read_to_string(&mut text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("_XSERVTrans"))
        .collect();
    let says = |l: &&&str| l.contains("cannot") || l.contains("Cannot") || l.starts_with("(EE)");
    let host_reason = lines
        .iter()
        .find(|l| l.contains("uthoriz") || l.contains("MIT-MAGIC-COOKIE"));
    match (host_reason, lines.iter().find(says).or(lines.last())) {
        (Some(r), Some(l)) if r != l => format!("{r} ({l})"),
        (_, Some(l)) => l.to_string(),
        (_, None) => "it exited without a word".into(),
    }
}
