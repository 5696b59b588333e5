//! The sandbox's sound socket: a listening socket in a private directory, each connection to it
//! relayed to the user's server through a [`Session`] that judges every frame.
//!
//! Two threads a connection, one each way, blocking on their reads: a frame is read whole
//! (bounded by [`super::wire::FRAME_MAX`]), judged and written on at once, so a relayed frame
//! costs at most one read and one write and no wake-up of another thread. Writes to the client
//! come from both threads (the server's frames and the proxy's own answers), each frame whole
//! under one lock.

use super::filter::{Grants, Session, Shared, ToServer, Violation, COOKIE_LEN};
use super::wire::CONTROL;
use super::wire::{Descriptor, DESCRIPTOR};
use std::io::{self, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Connections one sandbox may hold at once. Each is a client of the user's server, whose
/// native protocol module serves 64 at most (PulseAudio's MAX_CONNECTIONS): a sandbox must not
/// take them all from the desktop.
pub const CONNECTIONS_MAX: usize = 16;
/// The relay threads' stacks: frames live on the heap.
const STACK: usize = 128 * 1024;
/// Audio frames from the sandbox larger than this are copied through in pieces this big.
const CHUNK: usize = 64 * 1024;
/// Each direction reads through a buffer this big: a frame's descriptor and payload (and often the
/// next frames) come in one system call.
const READ_BUFFER: usize = 64 * 1024;
/// The largest control packet a sandbox may send. A request is a command and a few values (its
/// largest part a property list); the server's 16 MiB limit is for audio.
pub const CLIENT_CONTROL_MAX: u32 = 1024 * 1024;

/// What the relays of one sandbox share.
pub struct Relay {
    upstream: PathBuf,
    grants: Grants,
    cookie: [u8; COOKIE_LEN],
    open: Arc<AtomicUsize>,
    /// The clients and streams of all the sandbox's connections.
    sandbox: Shared,
}

impl Relay {
    pub fn new(upstream: &Path, grants: Grants, cookie: [u8; COOKIE_LEN]) -> Relay {
        Relay {
            upstream: upstream.into(),
            grants,
            cookie,
            open: Arc::new(AtomicUsize::new(0)),
            sandbox: Shared::default(),
        }
    }

    /// Relay `client` to a new connection to the server, on two threads of its own. Past
    /// [`CONNECTIONS_MAX`], or without a server, the client is closed at once.
    pub fn start(&self, client: UnixStream) {
        if self.open.load(Ordering::SeqCst) >= CONNECTIONS_MAX {
            tracing::debug!("refused a sound connection: {CONNECTIONS_MAX} are open");
            return;
        }
        let server = match UnixStream::connect(&self.upstream) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("cannot reach {}: {e}", self.upstream.display());
                return;
            }
        };
        let (Ok(server_w), Ok(conn)) = (server.try_clone(), self.connection(&client, &server))
        else {
            return;
        };
        let conn = Arc::new(conn);
        let on_failure = conn.clone();
        let up = {
            let conn = conn.clone();
            move || {
                if let Err(e) = to_server(client, server_w, &conn) {
                    tracing::debug!("sound connection ended: {e}");
                }
                conn.shutdown();
            }
        };
        let down = move || {
            if let Err(e) = to_client(server, &conn) {
                tracing::debug!("sound connection ended: {e}");
            }
            conn.shutdown();
        };
        let spawn =
            |f: Box<dyn FnOnce() + Send>| std::thread::Builder::new().stack_size(STACK).spawn(f);
        // Each thread shuts both sockets down when it ends, which ends the other; the connection
        // (and its place among the CONNECTIONS_MAX) goes when both have let go of it.
        if let Err(e) = spawn(Box::new(up)).and_then(|_| spawn(Box::new(down))) {
            tracing::debug!("cannot start a relay thread: {e}");
            on_failure.shutdown();
        }
    }

    fn connection(&self, client: &UnixStream, server: &UnixStream) -> io::Result<Connection> {
        Ok(Connection {
            session: Mutex::new(Session::new(self.grants, self.cookie, self.sandbox.clone())),
            client_w: Mutex::new(client.try_clone()?),
            client: client.try_clone()?,
            server: server.try_clone()?,
            _slot: Slot::take(&self.open),
        })
    }
}

/// One of the [`CONNECTIONS_MAX`] places, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Slot {
        open.fetch_add(1, Ordering::SeqCst);
        Slot(open.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What both threads of a connection share: its session, the client's socket for writing (both
/// write to it, each frame whole under the lock), both sockets for shutting down, and its place.
struct Connection {
    session: Mutex<Session>,
    client_w: Mutex<UnixStream>,
    client: UnixStream,
    server: UnixStream,
    _slot: Slot,
}

impl Connection {
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn to_client(&self, bytes: &[u8]) -> io::Result<()> {
        self.client_w
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(bytes)
    }

    /// End both directions of both sockets: whichever thread still reads wakes up and ends.
    fn shutdown(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

/// Why a relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the sandbox broke the protocol: {0}")]
    Client(#[from] Violation),
    #[error("the server broke the protocol: {0}")]
    Server(Violation),
}

/// Read a frame's descriptor; `None` at a clean end between frames.
fn read_descriptor(from: &mut impl Read) -> Result<Option<Descriptor>, RelayError> {
    let mut head = [0u8; DESCRIPTOR];
    let mut got = 0;
    while got < DESCRIPTOR {
        match from.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(Descriptor::parse(&head).map_err(Violation::from)?))
}

/// Read the payload of the frame `d` into `buf`, after its descriptor.
fn read_payload(from: &mut impl Read, d: &Descriptor, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    buf.extend_from_slice(&d.to_bytes());
    buf.resize(DESCRIPTOR + d.length as usize, 0);
    from.read_exact(&mut buf[DESCRIPTOR..])
}

/// Copy the frame `d` from `from` to `to` a chunk at a time (audio, which the proxy does not
/// read): a sandbox's large frames cost the helper no more memory than small ones.
fn copy_frame(
    from: &mut impl Read,
    to: &mut UnixStream,
    d: &Descriptor,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    to.write_all(&d.to_bytes())?;
    buf.resize(CHUNK, 0);
    let mut left = d.length as usize;
    while left > 0 {
        let n = left.min(CHUNK);
        from.read_exact(&mut buf[..n])?;
        to.write_all(&buf[..n])?;
        left -= n;
    }
    Ok(())
}

/// Send `frame` with the helper's credentials attached (SCM_CREDENTIALS), as libpulse sends its
/// AUTH: the server trusts a client of its own user by them, whatever the cookie. Without them
/// it would depend on whether the server had asked for credentials before the packet arrived.
fn send_with_credentials(to: &mut UnixStream, frame: &[u8]) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr, UnixCredentials};
    use std::os::fd::AsRawFd;
    let creds = UnixCredentials::new();
    let sent = sendmsg::<UnixAddr>(
        to.as_raw_fd(),
        &[io::IoSlice::new(frame)],
        &[ControlMessage::ScmCredentials(&creds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    to.write_all(&frame[sent..])
}

/// The sandbox's frames, judged, to the server (which only this thread writes to); refusals
/// answered to the sandbox.
fn to_server(
    client: UnixStream,
    mut server: UnixStream,
    conn: &Connection,
) -> Result<(), RelayError> {
    let mut client = BufReader::with_capacity(READ_BUFFER, client);
    let mut buf = Vec::new();
    loop {
        let Some(d) = read_descriptor(&mut client)? else {
            return Ok(());
        };
        if d.channel != CONTROL {
            conn.session().audio()?;
            if d.length as usize > CHUNK {
                copy_frame(&mut client, &mut server, &d, &mut buf)?;
            } else {
                read_payload(&mut client, &d, &mut buf)?;
                server.write_all(&buf)?;
            }
            continue;
        }
        if d.length > CLIENT_CONTROL_MAX {
            return Err(Violation::LargeControl(d.length).into());
        }
        read_payload(&mut client, &d, &mut buf)?;
        let verdict = conn.session().request(&buf[DESCRIPTOR..]);
        match verdict? {
            ToServer::Forward => server.write_all(&buf)?,
            ToServer::Authenticate(frame) => send_with_credentials(&mut server, &frame)?,
            ToServer::Answer(frame) => conn.to_client(&frame)?,
            ToServer::Drop => {}
        }
    }
}

/// The server's frames to the sandbox, noted on the way.
fn to_client(server: UnixStream, conn: &Connection) -> Result<(), RelayError> {
    let mut server = BufReader::with_capacity(READ_BUFFER, server);
    let mut buf = Vec::new();
    loop {
        let d = match read_descriptor(&mut server) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(()),
            Err(RelayError::Client(v)) => return Err(RelayError::Server(v)),
            Err(e) => return Err(e),
        };
        read_payload(&mut server, &d, &mut buf)?;
        let instead = conn
            .session()
            .from_server(&d, &mut buf[DESCRIPTOR..])
            .map_err(RelayError::Server)?;
        conn.to_client(instead.as_deref().unwrap_or(&buf))?;
    }
}

/// The user's cookie, where libpulse looks for it: `$PULSE_COOKIE`, `~/.config/pulse/cookie`
/// (`$XDG_CONFIG_HOME`), `~/.pulse-cookie`. None found: zeros (the server also trusts a client
/// of its own user by its socket credentials).
pub fn user_cookie() -> [u8; COOKIE_LEN] {
    let var = |n| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = var("HOME");
    let config = var("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
    let candidates = [
        var("PULSE_COOKIE"),
        config.map(|c| c.join("pulse/cookie")),
        home.map(|h| h.join(".pulse-cookie")),
    ];
    let mut cookie = [0u8; COOKIE_LEN];
    for path in candidates.into_iter().flatten() {
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        if file.read_exact(&mut cookie).is_ok() {
            break;
        }
        cookie = [0u8; COOKIE_LEN];
    }
    cookie
}

/// Accept on `listener` until `stop` is readable (or closed), relaying each connection.
pub fn serve(listener: &UnixListener, stop: std::os::fd::BorrowedFd<'_>, relay: &Relay) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop, PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return;
        }
        if let Ok((client, _)) = listener.accept() {
            relay.start(client);
        }
    }
}
