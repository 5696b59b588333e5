//! What an app prints, kept per sandbox for `nestbox logs`: nestbox puts a pipe in front of its
//! own stdout and stderr (where they are not terminals: a terminal keeps the app's output
//! interactive), copies what comes through to where it went before and to
//! `$XDG_RUNTIME_DIR/nestbox/logs/NAME.log`. A log is bounded: past [`LIMIT`] bytes it becomes
//! `NAME.log.1` (replacing the one before) and a new one starts, so a sandbox keeps at most twice
//! that.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// A log file, rotated at [`LIMIT`].
struct Log {
    path: PathBuf,
    file: File,
}

impl Log {
    fn open(path: &Path) -> std::io::Result<Log> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)?;
        Ok(Log {
            path: path.to_path_buf(),
            file,
        })
    }

    fn write(&mut self, data: &[u8]) {
        let _ = self.file.write_all(data);
        if self.file.metadata().is_ok_and(|m| m.len() >= LIMIT) {
            let _ = std::fs::rename(&self.path, older(&self.path));
            if let Ok(new) = Log::open(&self.path) {
                *self = new;
            }
        }
    }
}

/// stdout and stderr routed through the log while it lives.
pub struct Tee {
    /// (the fd routed, where it went before).
    routed: Vec<(RawFd, OwnedFd)>,
    /// The pipes' read ends, until the copies start.
    readers: Vec<(OwnedFd, RawFd)>,
    log: Arc<Mutex<Log>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Tee {
    /// Route stdout and stderr, those that are not terminals, through pipes; none when both are
    /// terminals. Nothing is copied until [`Tee::start`]: call it once signals are blocked, so
    /// that the copying threads never take one.
    pub fn prepare(path: &Path) -> std::io::Result<Option<Tee>> {
        let fds: Vec<RawFd> = [1, 2]
            .into_iter()
            // SAFETY: isatty on our own standard fds.
            .filter(|&fd| unsafe { libc::isatty(fd) } == 0)
            .collect();
        if fds.is_empty() {
            return Ok(None);
        }
        let log = Arc::new(Mutex::new(Log::open(path)?));
        let mut tee = Tee {
            routed: Vec::new(),
            readers: Vec::new(),
            log,
            threads: Vec::new(),
        };
        for fd in fds {
            // SAFETY: F_DUPFD_CLOEXEC of our own fd; a closed fd fails and is left alone.
            let saved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if saved < 0 {
                continue;
            }
            // SAFETY: the kernel just gave us this fd.
            let saved = unsafe { OwnedFd::from_raw_fd(saved) };
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            // SAFETY: dup2 onto our own standard fd; the copy is not close-on-exec, so the
            // sandbox's processes inherit it.
            if unsafe { libc::dup2(w.as_raw_fd(), fd) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
            drop(w);
            tee.readers.push((r, saved.as_raw_fd()));
            tee.routed.push((fd, saved));
        }
        Ok(Some(tee))
    }

    /// Start copying.
    pub fn start(&mut self) {
        for (reader, to) in self.readers.drain(..) {
            let log = Arc::clone(&self.log);
            self.threads
                .push(std::thread::spawn(move || copy(reader, to, &log)));
        }
    }
}

impl Drop for Tee {
    /// Put stdout and stderr back; let the copies drain (what the sandbox wrote last) for a
    /// moment. A process that outlived the launch and still holds the pipe does not hold
    /// nestbox up.
    fn drop(&mut self) {
        for (fd, saved) in &self.routed {
            // SAFETY: dup2 of our own saved fd back onto the standard fd.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
        // Never started (the launch failed first): what nestbox itself wrote is in the pipes,
        // whose write ends are all closed now.
        for (reader, to) in self.readers.drain(..) {
            copy(reader, to, &self.log);
        }
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        for t in self.threads.drain(..) {
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

fn copy(reader: OwnedFd, to: RawFd, log: &Mutex<Log>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(&reader, &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                write_fd(to, &buf[..n]);
                if let Ok(mut l) = log.lock() {
                    l.write(&buf[..n]);
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Write everything to `fd`, giving up on an error (a closed terminal must not stop the log).
fn write_fd(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: writing a valid buffer to an fd we hold (the saved copy lives in Tee).
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n <= 0 {
            if n < 0 && nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                continue;
            }
            return;
        }
        data = &data[n as usize..];
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
        let mut log = Log::open(&path).unwrap();
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
