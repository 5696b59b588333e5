//! The host side of a sandbox's sound: a socket of the sandbox's own, served by nestbox's proxy
//! to the user's PulseAudio server (or PipeWire's pulse server), which forwards what a player
//! needs for its own streams and refuses the rest ([`filter`]). What the sandbox sees of it (a
//! bind of the socket, PULSE_SERVER) is left to the plan and the sandbox.
//!
//! nestbox makes the socket ([`SandboxSocket::open`]: a few system calls) and hands it to a small
//! program of its own, `nestbox-pulse` ([`helper`]), that serves it: threads have no place in
//! nestbox, which clones the sandbox from a single-threaded process, and the helper outlives a
//! SIGKILLed nestbox just long enough to remove the socket. The launch never waits for the
//! helper: connections wait in the socket's backlog until it accepts them. The proxy speaks the
//! protocol itself ([`wire`]): libpulse is not loaded anywhere.

pub mod filter;
pub mod helper;
pub mod proxy;
pub mod wire;

pub use filter::Grants;

use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PulseError {
    #[error("cannot reach the PulseAudio server at {}: {source}", server.display())]
    Connect {
        server: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create the PulseAudio socket directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot listen on {}: {source}", path.display())]
    Listen {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot use {} as a PulseAudio socket path: it is longer than a Unix socket address (107 bytes)", path.display())]
    BadPath { path: PathBuf },
}

/// A per-sandbox socket relayed to the user's PulseAudio server; dropping it removes the socket
/// and its directory (the relayed connections end with the process that serves them).
pub struct SandboxSocket {
    listener: UnixListener,
    server: PathBuf,
    grants: Grants,
    dir: PathBuf,
    path: PathBuf,
    /// `<dir>/lock`, locked while this socket lives: how a later launch tells a live launch's
    /// directory from a dead one's, whatever PID namespace either runs in.
    lock: fs::File,
    /// Whether dropping it removes the directory (not once [`SandboxSocket::release`]d).
    remove_on_drop: bool,
}

impl SandboxSocket {
    /// Check that the server listening on `server` (a Unix socket path on the host) takes a
    /// connection, remove the directories of earlier launches whose helper died (`dir`'s
    /// siblings, named `<pid>-<profile>`), make `dir` (mode 0700, and its missing parents too)
    /// and listen on `<dir>/native`. Connections are relayed once [`SandboxSocket::serve`] runs.
    pub fn open(server: &Path, dir: &Path, grants: Grants) -> Result<SandboxSocket, PulseError> {
        let path = dir.join("native");
        // sun_path holds 108 bytes with the NUL.
        if path.as_os_str().len() > 107 {
            return Err(PulseError::BadPath { path });
        }
        UnixStream::connect(server).map_err(|source| PulseError::Connect {
            server: server.into(),
            source,
        })?;
        if let Some(base) = dir.parent() {
            for entry in fs::read_dir(base).into_iter().flatten().flatten() {
                let dead = entry.path();
                if dead_launch(&dead.join("native"), base) {
                    remove_socket_dir(&dead);
                }
            }
        }
        make_private_dir(dir)?;
        let lock = lock_dir(dir)?;
        let _ = fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(|source| {
            remove_socket_dir(dir);
            PulseError::Listen {
                path: path.clone(),
                source,
            }
        })?;
        Ok(SandboxSocket {
            listener,
            server: server.into(),
            grants,
            dir: dir.into(),
            path,
            lock,
            remove_on_drop: true,
        })
    }

    /// A socket opened by another process (nestbox) and inherited: its listening socket and its
    /// locked lock file, for the server at `server`, in `dir`.
    pub fn inherited(
        listener: OwnedFd,
        lock: OwnedFd,
        server: &Path,
        dir: &Path,
        grants: Grants,
    ) -> SandboxSocket {
        SandboxSocket {
            listener: UnixListener::from(listener),
            server: server.into(),
            grants,
            dir: dir.into(),
            path: dir.join("native"),
            lock: fs::File::from(lock),
            remove_on_drop: true,
        }
    }

    /// The listening socket and the lock file, to hand to the process that serves them.
    pub fn descriptors(&self) -> [BorrowedFd<'_>; 2] {
        [self.listener.as_fd(), self.lock.as_fd()]
    }

    /// Close this process's descriptors of the socket (a helper holds its own) without removing
    /// it; the directory, for [`remove_socket_dir`] once the helper is done.
    pub fn release(mut self) -> PathBuf {
        self.remove_on_drop = false;
        self.dir.clone()
    }

    /// The server's socket and what the sandbox may ask of it.
    pub fn upstream(&self) -> (&Path, Grants) {
        (&self.server, self.grants)
    }

    /// The socket's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sandbox's socket, `<dir>/native`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Relay every connection to the socket until `stop` is readable or closed, authenticating to
    /// the server with the user's cookie.
    pub fn serve(&self, stop: BorrowedFd<'_>) {
        let relay = proxy::Relay::new(&self.server, self.grants, proxy::user_cookie());
        proxy::serve(&self.listener, stop, &relay);
    }
}

impl Drop for SandboxSocket {
    fn drop(&mut self) {
        if self.remove_on_drop {
            remove_socket_dir(&self.dir);
        }
    }
}

/// Make `dir` and its missing parents with mode 0700, and make sure `dir` is a 0700 directory.
fn make_private_dir(dir: &Path) -> Result<(), PulseError> {
    let fail = |source| PulseError::Dir {
        path: dir.into(),
        source,
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(fail)?;
    if !fs::symlink_metadata(dir).map_err(fail)?.is_dir() {
        return Err(fail(io::Error::from(io::ErrorKind::NotADirectory)));
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(fail)
}

/// Remove a socket directory: the socket, the lock and the directory.
pub fn remove_socket_dir(dir: &Path) {
    let _ = fs::remove_file(dir.join("native"));
    let _ = fs::remove_file(dir.join(LOCK));
    if let Err(e) = fs::remove_dir(dir) {
        tracing::debug!("cannot remove {}: {e}", dir.display());
    }
}

/// The lock file in a socket directory.
const LOCK: &str = "lock";

/// Create and lock `<dir>/lock` for as long as the returned file is open.
fn lock_dir(dir: &Path) -> Result<fs::File, PulseError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(LOCK);
    let fail = |source| PulseError::Dir {
        path: path.clone(),
        source,
    };
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(fail)?;
    if !try_lock(&file) {
        return Err(fail(io::Error::from(io::ErrorKind::WouldBlock)));
    }
    Ok(file)
}

/// flock(LOCK_EX | LOCK_NB): whether the lock was taken (it goes with the file).
fn try_lock(file: &fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Whether `socket` is `<base>/<pid>-<name>/<file>` of a launch that is gone. Only directories
/// this process can see are judged (a nestbox in another mount namespace has its own): dead when
/// their lock can be taken, or, with no lock file (made by an older nestbox, or caught between
/// mkdir and lock), when process `<pid>` is gone.
fn dead_launch(socket: &Path, base: &Path) -> bool {
    let Some(dir) = socket.parent().filter(|d| d.parent() == Some(base)) else {
        return false;
    };
    if !dir.is_dir() {
        return false;
    }
    match fs::OpenOptions::new().read(true).open(dir.join(LOCK)) {
        Ok(file) => try_lock(&file),
        Err(_) => {
            let pid = dir.file_name().and_then(|n| n.to_str()?.split_once('-'));
            match pid.and_then(|(pid, _)| pid.parse::<u32>().ok()) {
                Some(pid) if pid > 0 => !Path::new(&format!("/proc/{pid}")).exists(),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_launch_needs_base_and_dead_pid_or_a_free_lock() {
        let base = std::env::temp_dir().join(format!("nestbox-dead-{}", std::process::id()));
        let me = format!("{}-a", std::process::id());
        for d in [
            "999999999-a",
            "x-a",
            "0-a",
            "999999999",
            "999999998-locked",
            &me,
        ] {
            fs::create_dir_all(base.join(d)).unwrap();
        }
        let dead = |socket: &str| dead_launch(&base.join(socket), &base);
        assert!(dead("999999999-a/native"));
        assert!(!dead(&format!("{me}/native")));
        assert!(!dead("x-a/native") && !dead("0-a/native") && !dead("999999999/native"));
        // Not seen here (another mount namespace's, say): not judged.
        assert!(!dead("999999997-gone/native"));
        let elsewhere = Path::new("/elsewhere/999999999-a/native");
        assert!(!dead_launch(elsewhere, &base));
        // A held lock says alive whatever the pid; a free one says dead.
        let held = lock_dir(&base.join("999999998-locked")).unwrap();
        assert!(!dead("999999998-locked/native"));
        drop(held);
        assert!(dead("999999998-locked/native"));
        let mine = lock_dir(&base.join(&me)).unwrap();
        drop(mine);
        assert!(
            dead(&format!("{me}/native")),
            "a free lock beats a live pid (reused)"
        );
        fs::remove_dir_all(&base).unwrap();
    }
}
