//! What an app prints, kept per sandbox for `nestbox logs`: nestbox puts a pipe in front of its
//! own stdout and stderr (where they are not terminals: a terminal keeps the app's output
//! interactive), and copies what comes through, while it waits, to where it went before and to
//! `$XDG_RUNTIME_DIR/nestbox/logs/NAME.log`. A log is bounded: past [`LIMIT`] bytes it becomes
//! `NAME.log.1` (replacing the one before) and a new one starts, so a sandbox keeps at most twice
//! that.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The size past which a log is rotated.
pub const LIMIT: u64 = 1 << 20;

/// `$XDG_RUNTIME_DIR/nestbox/logs/NAME.log`, its directory made (0700) when missing.
pub fn path(env: &std::collections::BTreeMap<String, String>, name: &str) -> Option<PathBuf> {
    let dir = crate::registry::Registry::base(env)?.join("logs");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    Some(dir.join(format!("{name}.log")))
}

/// The log's earlier part, when it was rotated.
pub fn older(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

/// A log file, rotated at [`LIMIT`] by the nestbox that runs the sandbox. A nestbox joining it
/// never rotates: after entering the sandbox's mount namespace, a name would be resolved inside,
/// where the app decides what it means. It writes only to the file it opened before, and stops at
/// twice the limit.
struct Log {
    path: PathBuf,
    file: File,
    rotates: bool,
}

impl Log {
    fn open(path: &Path, rotates: bool) -> std::io::Result<Log> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)?;
        Ok(Log {
            path: path.to_path_buf(),
            file,
            rotates,
        })
    }

    fn write(&mut self, data: &[u8]) {
        let len = self.file.metadata().map_or(0, |m| m.len());
        if !self.rotates {
            if len < 2 * LIMIT {
                let _ = self.file.write_all(data);
            }
            return;
        }
        let _ = self.file.write_all(data);
        if len + data.len() as u64 >= LIMIT {
            let _ = std::fs::rename(&self.path, older(&self.path));
            if let Ok(new) = Log::open(&self.path, true) {
                *self = new;
            }
        }
    }
}

/// stdout and stderr routed through the log while it lives. nestbox copies what comes through
/// in the loop where it waits for the sandbox anyway ([`crate::sandbox::Watch`]): no thread (nestbox
/// must stay single-threaded: it clones, and a joining nestbox enters namespaces) and no process
/// of its own.
pub struct Tee {
    /// (the fd routed, where it went before).
    routed: Vec<(RawFd, OwnedFd)>,
    /// Each pipe's read end, and where what comes through goes besides the log.
    readers: Vec<(OwnedFd, RawFd)>,
    log: Log,
}

impl Tee {
    /// Route stdout and stderr, those that are not terminals, through pipes; none when both are
    /// terminals. `rotates`: this nestbox runs the sandbox (a joining one never rotates).
    pub fn start(path: &Path, rotates: bool) -> std::io::Result<Option<Tee>> {
        let fds: Vec<RawFd> = [1, 2]
            .into_iter()
            // SAFETY: isatty and fcntl on our own standard fds.
            .filter(|&fd| unsafe { libc::isatty(fd) == 0 && libc::fcntl(fd, libc::F_GETFD) >= 0 })
            .collect();
        if fds.is_empty() {
            return Ok(None);
        }
        let mut tee = Tee {
            routed: Vec::new(),
            readers: Vec::new(),
            log: Log::open(path, rotates)?,
        };
        for fd in fds {
            // SAFETY: F_DUPFD_CLOEXEC of our own open fd.
            let saved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if saved < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: the kernel just gave us this fd.
            let saved = unsafe { OwnedFd::from_raw_fd(saved) };
            let (r, w) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)?;
            // The write end blocks as a stdout should; only our read end does not.
            // SAFETY: fcntl on the fd we just made.
            unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFL, 0) };
            // SAFETY: dup2 onto our own standard fd; the copy is not close-on-exec, so the
            // sandbox's processes inherit it.
            unsafe { libc::dup2(w.as_raw_fd(), fd) };
            tee.readers.push((r, saved.as_raw_fd()));
            tee.routed.push((fd, saved));
        }
        Ok(Some(tee))
    }

    /// The pipes to watch.
    pub fn fds(&self) -> Vec<RawFd> {
        self.readers.iter().map(|(r, _)| r.as_raw_fd()).collect()
    }

    /// Copy what pipe `fd` holds; false once its writers are all gone.
    pub fn readable(&mut self, fd: RawFd) -> bool {
        let Some((r, to)) = self.readers.iter().find(|(r, _)| r.as_raw_fd() == fd) else {
            return false;
        };
        let mut buf = [0u8; 64 * 1024];
        match nix::unistd::read(r, &mut buf) {
            Ok(0) => false,
            Ok(n) => {
                crate::terminal::write_all(*to, &buf[..n]);
                self.log.write(&buf[..n]);
                true
            }
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => true,
            Err(_) => false,
        }
    }
}

impl Tee {
    /// Put stdout and stderr back and copy what is left in the pipes, then write `line` (nestbox's
    /// last word, which it prints on its own stderr after this) to the log alone.
    pub fn end_with(mut self, line: &str) {
        self.restore_and_drain();
        self.log.write(format!("{line}\n").as_bytes());
    }

    /// Once: the pipes are closed after it (and the saved fds, which the copies write to), so a
    /// second call does nothing.
    fn restore_and_drain(&mut self) {
        let routed = std::mem::take(&mut self.routed);
        for (fd, saved) in &routed {
            // SAFETY: dup2 of our own saved fd back onto the standard fd.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
        for fd in self.fds() {
            let mut rounds = 0;
            while self.readable(fd) && rounds < 1024 {
                rounds += 1;
                // Stop at an empty pipe that still has a writer.
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd, no wait.
                if unsafe { libc::poll(&mut p, 1, 0) } <= 0 {
                    break;
                }
            }
        }
        self.readers.clear();
        drop(routed);
    }
}

impl Drop for Tee {
    /// Put stdout and stderr back, and copy what is left in the pipes (what the sandbox wrote
    /// last, and nestbox's own last lines). A process that outlived the launch and still holds a
    /// pipe does not hold nestbox up: what it writes later is lost. After `end_with`, nothing.
    fn drop(&mut self) {
        self.restore_and_drain();
    }
}

/// Print the log of `path` (its rotated part first) to `out`; whether there was any.
pub fn print(path: &Path, out: &mut dyn Write) -> std::io::Result<bool> {
    let mut any = false;
    for p in [older(path), path.to_path_buf()] {
        if let Ok(mut f) = File::open(&p) {
            any = true;
            std::io::copy(&mut f, out)?;
        }
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_rotated_past_its_limit_and_kept_in_order() {
        let dir = std::env::temp_dir().join(format!("nestbox-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.log");
        let mut log = Log::open(&path, true).unwrap();
        let line = [b'a'; 1000];
        for _ in 0..(LIMIT / 1000 + 10) {
            log.write(&line);
        }
        log.write(b"last\n");
        let old = std::fs::metadata(older(&path)).unwrap().len();
        let new = std::fs::metadata(&path).unwrap().len();
        assert!((LIMIT..LIMIT + 1000).contains(&old), "{old}");
        assert!(new < 20_000, "{new}");
        let mut out = Vec::new();
        assert!(print(&path, &mut out).unwrap());
        assert_eq!(out.len() as u64, old + new);
        assert!(out.ends_with(b"last\n"));
        assert!(!print(&dir.join("none.log"), &mut Vec::new()).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
