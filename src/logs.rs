//! What an app prints, kept per sandbox for `nestbox logs`: nestbox puts a pipe in front of its
//! own stdout and stderr (where they are not terminals: a terminal keeps the app's output
//! interactive), and a small process copies what comes through to where it went before and to
//! `$XDG_RUNTIME_DIR/nestbox/logs/NAME.log`. A log is bounded: past [`LIMIT`] bytes it becomes
//! `NAME.log.1` (replacing the one before) and a new one starts, so a sandbox keeps at most twice
//! that.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
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

/// stdout and stderr routed through the log while it lives, copied by a process of their own
/// (nestbox must stay single-threaded: it clones, and a joining nestbox enters namespaces).
pub struct Tee {
    /// (the fd routed, where it went before).
    routed: Vec<(RawFd, OwnedFd)>,
    copier: libc::pid_t,
}

impl Tee {
    /// Route stdout and stderr, those that are not terminals, through pipes to a copying
    /// process; none when both are terminals.
    pub fn start(path: &Path) -> std::io::Result<Option<Tee>> {
        let fds: Vec<RawFd> = [1, 2]
            .into_iter()
            // SAFETY: isatty and fcntl on our own standard fds.
            .filter(|&fd| unsafe { libc::isatty(fd) == 0 && libc::fcntl(fd, libc::F_GETFD) >= 0 })
            .collect();
        if fds.is_empty() {
            return Ok(None);
        }
        let mut log = Log::open(path)?;
        let mut routes = Vec::new();
        for &fd in &fds {
            // SAFETY: F_DUPFD_CLOEXEC of our own open fd.
            let saved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if saved < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: the kernel just gave us this fd.
            let saved = unsafe { OwnedFd::from_raw_fd(saved) };
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            routes.push((fd, saved, r, w));
        }
        // SAFETY: nestbox is single-threaded; the child only copies and leaves with _exit.
        let copier = unsafe { libc::fork() };
        if copier < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if copier == 0 {
            // Keep no write end, or the copy never ends; let the signals meant for the app
            // (Ctrl-C reaches the whole process group) pass this process by.
            for sig in crate::sandbox::FORWARDED {
                // SAFETY: ignoring a signal in this single-threaded child.
                unsafe { libc::signal(*sig, libc::SIG_IGN) };
            }
            let ends: Vec<(OwnedFd, RawFd)> = routes
                .into_iter()
                .map(|(_, saved, r, w)| {
                    drop(w);
                    let to = saved.as_raw_fd();
                    std::mem::forget(saved);
                    (r, to)
                })
                .collect();
            // Nor anything else of nestbox's: the registry's lock above all, which must go
            // when nestbox goes.
            let keep: Vec<RawFd> = ends
                .iter()
                .flat_map(|(r, to)| [r.as_raw_fd(), *to])
                .chain([log.file.as_raw_fd()])
                .collect();
            close_all_but(&keep);
            copy(ends, &mut log);
            // SAFETY: leave without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        let mut routed = Vec::new();
        for (fd, saved, r, w) in routes {
            drop(r);
            // SAFETY: dup2 onto our own standard fd; the copy is not close-on-exec, so the
            // sandbox's processes inherit it.
            unsafe { libc::dup2(w.as_raw_fd(), fd) };
            routed.push((fd, saved));
        }
        Ok(Some(Tee { routed, copier }))
    }
}

impl Drop for Tee {
    /// Put stdout and stderr back; let the copier drain what the sandbox wrote last, for a
    /// moment. A process that outlived the launch and still holds a pipe does not hold nestbox
    /// up: the copier goes on until it lets go.
    fn drop(&mut self) {
        for (fd, saved) in &self.routed {
            // SAFETY: dup2 of our own saved fd back onto the standard fd.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            // SAFETY: reaping our own child, without waiting.
            if unsafe { libc::waitpid(self.copier, std::ptr::null_mut(), libc::WNOHANG) } != 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Close every fd from 3 up but those in `keep`.
fn close_all_but(keep: &[RawFd]) {
    let open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in open {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing an fd of this process that nothing here uses.
            unsafe { libc::close(fd) };
        }
    }
}

/// Copy each pipe to its fd and to the log until every pipe is closed on the writing side.
fn copy(mut ends: Vec<(OwnedFd, RawFd)>, log: &mut Log) {
    let mut buf = [0u8; 16 * 1024];
    while !ends.is_empty() {
        let mut polls: Vec<libc::pollfd> = ends
            .iter()
            .map(|(r, _)| libc::pollfd {
                fd: r.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, -1) };
        if n < 0 {
            if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                continue;
            }
            return;
        }
        let mut closed = Vec::new();
        for (i, p) in polls.iter().enumerate() {
            if p.revents == 0 {
                continue;
            }
            match nix::unistd::read(&ends[i].0, &mut buf) {
                Ok(0) | Err(_) => closed.push(i),
                Ok(n) => {
                    write_fd(ends[i].1, &buf[..n]);
                    log.write(&buf[..n]);
                }
            }
        }
        for i in closed.into_iter().rev() {
            ends.remove(i);
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
