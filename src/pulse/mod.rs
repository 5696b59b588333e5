//! The host side of a sandbox's sound: a `module-native-protocol-unix` socket of its own on the
//! user's PulseAudio server, loaded for the sandbox's lifetime and unloaded when it ends. What the
//! sandbox sees of it (a bind of the socket, PULSE_SERVER) is left to the plan and the sandbox.
//!
//! libpulse pulls some thirty libraries into a process (codecs among them), which would cost every
//! launch milliseconds: so this runs in its own small program, `nestbox-pulse`, that nestbox starts
//! only for a sandbox with sound ([`helper`]). It also outlives a SIGKILLed nestbox just long enough
//! to unload the socket.

pub mod helper;

use std::cell::{Cell, RefCell};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use libpulse_binding::callbacks::ListResult;
use libpulse_binding::context::{Context, FlagSet, State};
use libpulse_binding::def::INVALID_INDEX;
use libpulse_binding::error::PAErr;
use libpulse_binding::mainloop::standard::Mainloop;
use libpulse_binding::time::MicroSeconds;

const MODULE: &str = "module-native-protocol-unix";
/// Connecting, sweeping and loading together get this long.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);
/// Unloading on drop gets this long.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum PulseError {
    #[error("cannot reach the PulseAudio server at {}: {reason}", server.display())]
    Connect { server: PathBuf, reason: String },
    #[error("the PulseAudio server at {} refused to load {MODULE}: {reason}", server.display())]
    Refused { server: PathBuf, reason: String },
    #[error("the PulseAudio server at {} did not answer in time (waiting to {what})", server.display())]
    Timeout { server: PathBuf, what: &'static str },
    #[error("cannot create the PulseAudio socket directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot use {} as a PulseAudio socket path: {why}", path.display())]
    BadPath { path: PathBuf, why: &'static str },
}

impl PulseError {
    /// The server was reached but would not give us a socket: the caller may fall back to
    /// binding the main socket.
    pub fn refused(&self) -> bool {
        matches!(self, PulseError::Refused { .. })
    }
}

/// A client connection driven by hand: a standard mainloop that only this code iterates.
struct Connection {
    // Declared before the mainloop so that it is dropped first.
    context: Context,
    mainloop: Mainloop,
    server: PathBuf,
}

impl Connection {
    /// Connect to `unix:<server>` without autospawn, and wait until the context is ready.
    fn open(server: &Path, deadline: Instant) -> Result<Connection, PulseError> {
        let address = format!("unix:{}", text(server)?);
        let setup = || PulseError::Connect {
            server: server.into(),
            reason: "cannot create a client context".into(),
        };
        let mainloop = Mainloop::new().ok_or_else(setup)?;
        let context = Context::new(&mainloop, "nestbox").ok_or_else(setup)?;
        let mut conn = Connection {
            context,
            mainloop,
            server: server.into(),
        };
        // On a synchronous failure the call returns -1; the reason is in the context's errno.
        let (server_address, flags) = (Some(address.as_str()), FlagSet::NOAUTOSPAWN);
        if conn.context.connect(server_address, flags, None).is_err() {
            return Err(conn.lost(conn.context.errno()));
        }
        conn.wait(deadline, "connect", |c| {
            (c.context.get_state() == State::Ready).then_some(())
        })?;
        Ok(conn)
    }

    fn lost(&self, e: PAErr) -> PulseError {
        PulseError::Connect {
            server: self.server.clone(),
            reason: format!("{e}"),
        }
    }

    /// Iterate the mainloop until `done` gives a value, the connection fails or `deadline` passes.
    fn wait<T>(
        &mut self,
        deadline: Instant,
        what: &'static str,
        mut done: impl FnMut(&Connection) -> Option<T>,
    ) -> Result<T, PulseError> {
        loop {
            if let Some(value) = done(self) {
                return Ok(value);
            }
            if matches!(self.context.get_state(), State::Failed | State::Terminated) {
                return Err(self.lost(self.context.errno()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PulseError::Timeout {
                    server: self.server.clone(),
                    what,
                });
            }
            let micros = MicroSeconds(left.as_micros().min(i32::MAX as u128) as u64);
            let step = self.mainloop.prepare(Some(micros)).and_then(|()| {
                self.mainloop.poll()?;
                self.mainloop.dispatch()
            });
            if let Err(e) = step {
                return Err(self.lost(e));
            }
        }
    }

    /// Operations need a ready context (libpulse-binding panics on the NULL operation otherwise).
    fn ready(&self) -> Result<(), PulseError> {
        match self.context.get_state() {
            State::Ready => Ok(()),
            _ => Err(self.lost(self.context.errno())),
        }
    }

    /// Load the module with `argument`; the server's index, or why it refused.
    fn load(&mut self, argument: &str, deadline: Instant) -> Result<u32, PulseError> {
        self.ready()?;
        let reply = Rc::new(Cell::new(None));
        let slot = reply.clone();
        let mut introspect = self.context.introspect();
        let _op = introspect.load_module(MODULE, argument, move |i| slot.set(Some(i)));
        let index = self.wait(deadline, "load", |_| reply.take())?;
        if index == INVALID_INDEX {
            return Err(PulseError::Refused {
                server: self.server.clone(),
                reason: format!("{}", self.context.errno()),
            });
        }
        Ok(index)
    }

    /// Unload module `index`; whether the server says it did.
    fn unload(&mut self, index: u32, deadline: Instant) -> Result<bool, PulseError> {
        self.ready()?;
        let reply = Rc::new(Cell::new(None));
        let slot = reply.clone();
        let mut introspect = self.context.introspect();
        let _op = introspect.unload_module(index, move |ok| slot.set(Some(ok)));
        self.wait(deadline, "unload", |_| reply.take())
    }

    /// Unload the modules of launches under `base` whose nestbox is gone, and remove their
    /// directories; how many modules were unloaded.
    fn sweep(&mut self, base: &Path, deadline: Instant) -> Result<usize, PulseError> {
        self.ready()?;
        let stale = Rc::new(RefCell::new(Vec::new()));
        let finished = Rc::new(Cell::new(false));
        let (list, end, owned) = (stale.clone(), finished.clone(), base.to_path_buf());
        let _op = self
            .context
            .introspect()
            .get_module_info_list(move |item| match item {
                ListResult::Item(m) if m.name.as_deref() == Some(MODULE) => {
                    let socket = m.argument.as_deref().and_then(socket_argument);
                    if socket.is_some_and(|s| dead_launch(Path::new(s), &owned)) {
                        list.borrow_mut().push(m.index);
                    }
                }
                ListResult::Item(_) => {}
                ListResult::End | ListResult::Error => end.set(true),
            });
        self.wait(deadline, "list modules", |_| finished.get().then_some(()))?;
        let mut unloaded = 0;
        for index in stale.take() {
            if self.unload(index, deadline)? {
                tracing::debug!("unloaded stale PulseAudio module {index}");
                unloaded += 1;
            }
        }
        for entry in fs::read_dir(base).into_iter().flatten().flatten() {
            let dir = entry.path();
            if dead_launch(&dir.join("native"), base) {
                remove_socket_dir(&dir);
            }
        }
        Ok(unloaded)
    }
}

/// Whether `base` holds the directory of a launch whose nestbox is gone.
fn has_dead_launch(base: &Path) -> bool {
    fs::read_dir(base)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| dead_launch(&e.path().join("native"), base))
}

/// A per-sandbox socket on the user's PulseAudio server; dropping it unloads the module and
/// removes the socket and its directory.
///
/// The client connection stays open for the socket's lifetime, so that dropping it is one round
/// trip. Its fds are close-on-exec (libpulse opens them so), and nothing touches it in a child
/// cloned for the sandbox.
pub struct SandboxSocket {
    conn: Connection,
    dir: PathBuf,
    path: PathBuf,
    index: u32,
    /// `<dir>/lock`, locked while this socket lives: how a later launch tells a live launch's
    /// directory from a dead one's, whatever PID namespace either runs in.
    _lock: fs::File,
}

impl SandboxSocket {
    /// Connect to the server listening on `server` (a Unix socket path on the host), sweep the
    /// modules of earlier launches whose nestbox died (their directories are `dir`'s siblings,
    /// named `<pid>-<profile>`), make `dir` (mode 0700, and its missing parents too), and load
    /// module-native-protocol-unix with `socket=<dir>/native auth-anonymous=1`. Returns once the
    /// module is loaded and the socket exists; all of it within 3 s.
    pub fn open(server: &Path, dir: &Path) -> Result<SandboxSocket, PulseError> {
        let deadline = Instant::now() + OPEN_TIMEOUT;
        let path = dir.join("native");
        let argument = format!("socket={} auth-anonymous=1", text(&path)?);
        let mut conn = Connection::open(server, deadline)?;
        // Launches clean up after themselves, even killed (their helper does): a module is left
        // only where its directory is too, and the server is asked only then.
        if let Some(base) = dir.parent().filter(|b| has_dead_launch(b)) {
            let swept = conn.sweep(base, deadline)?;
            tracing::debug!("unloaded {swept} module(s) of earlier launches");
        }
        make_private_dir(dir)?;
        let lock = lock_dir(dir)?;
        let _ = fs::remove_file(&path);
        let index = match conn.load(&argument, deadline) {
            Ok(index) => index,
            Err(e) => {
                remove_socket_dir(dir);
                return Err(e);
            }
        };
        tracing::debug!("loaded {MODULE} as module {index} on {}", path.display());
        let socket = SandboxSocket {
            conn,
            dir: dir.into(),
            path,
            index,
            _lock: lock,
        };
        // The module binds the socket in its init, before the server replies to the load; if
        // it is not there, dropping `socket` unloads the module again.
        if !socket.path.exists() {
            return Err(PulseError::Refused {
                server: server.into(),
                reason: format!("{} did not appear", socket.path.display()),
            });
        }
        Ok(socket)
    }

    /// The sandbox's socket, `<dir>/native`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The module's index on the server.
    pub fn module_index(&self) -> u32 {
        self.index
    }
}

impl Drop for SandboxSocket {
    fn drop(&mut self) {
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        match self.conn.unload(self.index, deadline) {
            Ok(true) => tracing::debug!("unloaded PulseAudio module {}", self.index),
            Ok(false) => tracing::debug!("the server would not unload module {}", self.index),
            Err(e) => tracing::debug!("cannot unload module {}: {e}", self.index),
        }
        self.conn.context.disconnect();
        remove_socket_dir(&self.dir);
    }
}

/// `path` as text for a module argument or server address: libpulse splits both at whitespace,
/// and libpulse-binding panics on a NUL.
fn text(path: &Path) -> Result<&str, PulseError> {
    let bad = |why| PulseError::BadPath {
        path: path.into(),
        why,
    };
    let unsafe_char = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '\0');
    let text = path
        .to_str()
        .filter(|s| !s.contains(unsafe_char))
        .ok_or_else(|| bad("it must be UTF-8 without spaces, quotes or NUL bytes"))?;
    // sun_path holds 108 bytes with the NUL; the server would truncate a longer one.
    if text.len() > 107 {
        return Err(bad("it is longer than a Unix socket address (107 bytes)"));
    }
    Ok(text)
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

/// Remove a socket left after its module (the server removes it a moment after the unload)
/// and then its directory.
fn remove_socket_dir(dir: &Path) {
    let _ = fs::remove_file(dir.join("native"));
    let _ = fs::remove_file(dir.join(LOCK));
    if let Err(e) = fs::remove_dir(dir) {
        tracing::debug!("cannot remove {}: {e}", dir.display());
    }
}

/// The value of `socket=` in a module argument (unquoted, as [`SandboxSocket::open`] writes it).
fn socket_argument(argument: &str) -> Option<&str> {
    argument
        .split_whitespace()
        .find_map(|word| word.strip_prefix("socket="))
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
    fn socket_argument_finds_the_path() {
        let plain = "socket=/run/a/1-x/native auth-anonymous=1";
        assert_eq!(socket_argument(plain), Some("/run/a/1-x/native"));
        let other = "auth-anonymous=1 socket=/run/b/2-y/native";
        assert_eq!(socket_argument(other), Some("/run/b/2-y/native"));
        assert_eq!(socket_argument("xsocket=/a"), None);
        assert_eq!(socket_argument("auth-anonymous=1"), None);
    }

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
