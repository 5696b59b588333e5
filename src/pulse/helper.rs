//! `nestbox-pulse`, the program that holds a sandbox's PulseAudio socket, and nestbox's side of it.
//!
//! nestbox starts `nestbox-pulse [--record] [--device-volume] SERVER DIR` in a session of its own
//! with two pipes. The helper opens a [`SandboxSocket`](super::SandboxSocket) and answers one line
//! on its stdout: `ready` or `error REASON`. Then it relays the sandbox's connections until its
//! stdin closes, which happens when nestbox is done with the sandbox or dies, even by SIGKILL
//! (nestbox and the sandbox's PID 1 hold the only write ends), and removes the socket as it exits;
//! the relayed connections close with it.

use super::Grants;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// The helper's file name, next to the `nestbox` binary.
pub const PROGRAM: &str = "nestbox-pulse";
/// How long the helper may take to remove the socket and exit once told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("cannot start {}: {source}", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
}

/// A running helper serving the sandbox's socket; dropping it stops the helper and waits.
pub struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    socket: PathBuf,
}

impl Helper {
    /// The socket on the host: `DIR/native`.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

/// A helper started and not yet asked for its answer: it works meanwhile.
pub struct Pending {
    child: Child,
    dir: PathBuf,
}

/// Start the helper for the server at `server`, with the socket in `dir` and what `grants` allows;
/// [`Pending::answer`] waits for what it could do.
pub fn start(server: &Path, dir: &Path, grants: Grants) -> Result<Pending, HelperError> {
    let path = std::env::current_exe()
        .map(|exe| exe.with_file_name(PROGRAM))
        .unwrap_or_else(|_| PathBuf::from(PROGRAM));
    let mut command = Command::new(&path);
    crate::spawn::clean_environment(&mut command);
    if grants.record {
        command.arg("--record");
    }
    if grants.device_volume {
        command.arg("--device-volume");
    }
    command
        .arg(server)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: setsid and close_range are system calls. A session of its own keeps a Ctrl-C in
    // nestbox's terminal from ending the helper before it has removed the socket; it keeps no
    // descriptor but its pipes.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            crate::spawn::cloexec_other_fds(&[])
        });
    }
    let child = command
        .spawn()
        .map_err(|source| HelperError::Spawn { path, source })?;
    Ok(Pending {
        child,
        dir: dir.to_path_buf(),
    })
}

impl Pending {
    /// Wait for the helper's answer: the helper serving the socket.
    pub fn answer(mut self) -> Result<Helper, HelperError> {
        let stdin = self.child.stdin.take();
        let mut line = String::new();
        if let Some(out) = self.child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let helper = Helper {
            child: self.child,
            stdin,
            socket: self.dir.join("native"),
        };
        parse_answer(line.trim_end(), helper)
    }
}

fn parse_answer(line: &str, helper: Helper) -> Result<Helper, HelperError> {
    match line.split_once(' ').unwrap_or((line, "")) {
        ("ready", _) => Ok(helper),
        ("error", reason) => Err(HelperError::Failed(reason.to_string())),
        _ => Err(HelperError::Failed(format!(
            "{PROGRAM} ended without an answer (it is installed next to nestbox, and must match it)"
        ))),
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        drop(self.stdin.take());
        crate::reap::wait_or_kill(&mut self.child, STOP_TIMEOUT);
    }
}

/// The helper program: `nestbox-pulse [--record] [--device-volume] SERVER DIR`. Returns its exit
/// status.
pub fn serve(args: &[String]) -> i32 {
    if let [flag] = args {
        if flag == "--version" {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
    }
    let mut grants = Grants::default();
    let mut rest = args;
    while let [flag, tail @ ..] = rest {
        match flag.as_str() {
            "--record" => grants.record = true,
            "--device-volume" => grants.device_volume = true,
            _ => break,
        }
        rest = tail;
    }
    let [server, dir] = rest else {
        eprintln!(
            "usage: {PROGRAM} [--record] [--device-volume] SERVER-SOCKET DIR (started by nestbox)"
        );
        return 2;
    };
    let mut out = std::io::stdout();
    let socket = match super::SandboxSocket::open(Path::new(server), Path::new(dir), grants) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "error {e}");
            return 1;
        }
    };
    if writeln!(out, "ready").and_then(|()| out.flush()).is_err() {
        return 1;
    }
    // Until nestbox closes our stdin (or dies): then the socket goes with `socket`'s drop, and
    // the relayed connections with the process.
    let stdin = std::io::stdin();
    socket.serve(std::os::fd::AsFd::as_fd(&stdin));
    drop(socket);
    0
}
