//! `nestbox-pulse`, the program that serves a sandbox's sound socket, and nestbox's side of it.
//!
//! nestbox opens the [`SandboxSocket`] itself and starts `nestbox-pulse --inherited [--record]
//! [--device-volume] SERVER DIR` in a session of its own, with the listening socket as descriptor
//! 3, the locked lock file as descriptor 4, and a pipe on its stdin. The launch goes on at once.
//! The helper relays the sandbox's connections until its stdin closes, which happens when nestbox
//! is done with the sandbox or dies, even by SIGKILL (nestbox and the sandbox's PID 1 hold the only
//! write ends), and removes the socket's directory as it exits; the relayed connections close with
//! it.
//!
//! Without `--inherited` the helper opens the socket itself and says `ready` or `error REASON` on
//! its stdout first: for benchmarks, and for trying the proxy by hand.

use super::{Grants, SandboxSocket};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// The helper's file name, next to the `nestbox` binary.
pub const PROGRAM: &str = "nestbox-pulse";
/// How long the helper may take to exit once told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// Where the helper finds the inherited listening socket and lock file.
const LISTENER_FD: RawFd = 3;
const LOCK_FD: RawFd = 4;

#[derive(Debug, thiserror::Error)]
#[error("cannot start {}: {source}", path.display())]
pub struct HelperError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// A running helper serving the sandbox's socket; dropping it stops the helper and waits.
pub struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
}

/// Start the helper serving `socket`. It holds its own copies of the socket's descriptors, so
/// `socket` may be dropped when the helper is (the directory goes with whichever is last).
pub fn start(socket: &SandboxSocket) -> Result<Helper, HelperError> {
    let path = std::env::current_exe()
        .map(|exe| exe.with_file_name(PROGRAM))
        .unwrap_or_else(|_| PathBuf::from(PROGRAM));
    let mut command = Command::new(&path);
    crate::spawn::clean_environment(&mut command);
    let (server, grants) = socket.upstream();
    command.arg("--inherited");
    if grants.record {
        command.arg("--record");
    }
    if grants.device_volume {
        command.arg("--device-volume");
    }
    command
        .arg(server)
        .arg(socket.dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let [listener, lock] = socket.descriptors().map(|fd| fd.as_raw_fd());
    // SAFETY: only system calls between fork and exec. A session of its own keeps a Ctrl-C in
    // nestbox's terminal from ending the helper before it has removed the socket. The two
    // descriptors are first copied above 9 (so that neither is overwritten by the other's move),
    // then to 3 and 4 without close-on-exec; every other descriptor but the pipes is marked
    // close-on-exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let high = [listener, lock].map(|fd| libc::fcntl(fd, libc::F_DUPFD, 10));
            if high.iter().any(|&fd| fd < 0) {
                return Err(std::io::Error::last_os_error());
            }
            for (from, to) in high.into_iter().zip([LISTENER_FD, LOCK_FD]) {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            crate::spawn::cloexec_other_fds(&[LISTENER_FD, LOCK_FD])
        });
    }
    let mut child = command
        .spawn()
        .map_err(|source| HelperError { path, source })?;
    Ok(Helper {
        stdin: child.stdin.take(),
        child,
    })
}

impl Drop for Helper {
    fn drop(&mut self) {
        drop(self.stdin.take());
        crate::reap::wait_or_kill(&mut self.child, STOP_TIMEOUT);
    }
}

/// The helper program: `nestbox-pulse [--inherited] [--record] [--device-volume] SERVER DIR`.
/// Returns its exit status.
pub fn serve(args: &[String]) -> i32 {
    if let [flag] = args {
        if flag == "--version" {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
    }
    let mut grants = Grants::default();
    let mut inherited = false;
    let mut rest = args;
    while let [flag, tail @ ..] = rest {
        match flag.as_str() {
            "--inherited" => inherited = true,
            "--record" => grants.record = true,
            "--device-volume" => grants.device_volume = true,
            _ => break,
        }
        rest = tail;
    }
    let [server, dir] = rest else {
        eprintln!(
            "usage: {PROGRAM} [--inherited] [--record] [--device-volume] SERVER-SOCKET DIR (started by nestbox)"
        );
        return 2;
    };
    let (server, dir) = (Path::new(server), Path::new(dir));
    let socket = if inherited {
        // SAFETY: fcntl on a descriptor number, open or not.
        let open = |fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
        if !(open(LISTENER_FD) && open(LOCK_FD)) {
            eprintln!("{PROGRAM}: --inherited: no socket on descriptors 3 and 4");
            return 2;
        }
        // SAFETY: nestbox passes the listening socket and the lock file as descriptors 3 and 4
        // (open, checked above), owned by nothing else in this process.
        let (listener, lock) = unsafe {
            (
                OwnedFd::from_raw_fd(LISTENER_FD),
                OwnedFd::from_raw_fd(LOCK_FD),
            )
        };
        SandboxSocket::inherited(listener, lock, server, dir, grants)
    } else {
        let mut out = std::io::stdout();
        match SandboxSocket::open(server, dir, grants) {
            Ok(s) => {
                if writeln!(out, "ready").and_then(|()| out.flush()).is_err() {
                    return 1;
                }
                s
            }
            Err(e) => {
                let _ = writeln!(out, "error {e}");
                return 1;
            }
        }
    };
    // Until nestbox closes our stdin (or dies): then the directory goes with `socket`'s drop, and
    // the relayed connections with the process.
    let stdin = std::io::stdin();
    socket.serve(std::os::fd::AsFd::as_fd(&stdin));
    drop(socket);
    0
}
