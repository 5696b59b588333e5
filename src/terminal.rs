//! The user's terminal, kept out of every sandbox. When nestbox's stdin, stdout or stderr is a
//! terminal, the sandbox gets a pseudo-terminal of nestbox's making in its place, and nestbox
//! relays between the two while it waits (as `machinectl shell`, `systemd-run --pty` and
//! `podman exec -t` do): nothing inside ever holds a descriptor of the user's terminal, so nothing
//! left running inside can read what is typed at the user's shell later, or write to it once
//! nestbox is gone.
//!
//! - Input is read from the user's terminal only while nestbox is its foreground job, with the
//!   terminal in raw mode so that every key reaches the program inside as typed (Ctrl-C becomes
//!   the pseudo-terminal's interrupt, for the program in its foreground). A background nestbox
//!   never reads it: what is typed then is the shell's.
//! - `run`: the terminal's suspend key (Ctrl-Z) stops nestbox and the sandbox's processes with
//!   it, and gives the terminal back to the shell; `fg` and `bg` continue both. `enter` passes it
//!   to the shell inside, whose jobs it is for.
//! - Window size changes are passed on (the kernel tells the program inside with SIGWINCH).
//!
//! The relay lives in nestbox's wait loop (no thread: nestbox stays single-threaded).

use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// What the terminal's suspend key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspendKey {
    /// Stops nestbox and the processes it started inside (`run`).
    StopsTheSandbox,
    /// Reaches the program inside (`enter`: a shell's job control).
    PassedOn,
}

pub struct Relay {
    master: Option<OwnedFd>,
    /// A copy of the user's terminal as stdin, when it was.
    input: Option<OwnedFd>,
    /// A copy of the user's terminal for output.
    output: OwnedFd,
    /// Its modes before nestbox touched them.
    modes: libc::termios,
    raw: bool,
    suspend_char: Option<u8>,
    /// The process whose tree stops with nestbox, and whether it stops itself (a sandbox's PID 1
    /// does not: only what it started).
    stop_root: Option<(libc::pid_t, bool)>,
    /// The standard descriptors given the pseudo-terminal, and what they were.
    routed: Vec<(RawFd, OwnedFd)>,
    /// Typed, not yet taken by the pseudo-terminal (its input queue is full: the program inside
    /// does not read). nestbox reads no more until it is gone, and never waits on it.
    pending: Vec<u8>,
}

/// The standard descriptors given the pseudo-terminal so far, put back if making the relay
/// fails half-way.
struct Routed(Vec<(RawFd, OwnedFd)>);

impl Drop for Routed {
    fn drop(&mut self) {
        for (fd, saved) in &self.0 {
            // SAFETY: dup2 of our saved copy back onto our own standard descriptor.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
    }
}

impl Relay {
    /// Give the standard descriptors that are terminals a pseudo-terminal instead; none when
    /// none is a terminal.
    pub fn start(suspend: SuspendKey) -> std::io::Result<Option<Relay>> {
        // SAFETY: isatty on our own standard descriptors.
        let ttys: Vec<RawFd> = (0..3)
            .filter(|&fd| unsafe { libc::isatty(fd) } == 1)
            .collect();
        let Some(&first) = ttys.first() else {
            return Ok(None);
        };
        let modes = get_modes(first)?;
        let (master, slave) = open_pty()?;
        // The pseudo-terminal starts in the kernel's sane modes (what the user's terminal is in
        // right now may be a shell's line editor's, about to change), at the terminal's size.
        copy_size(first, master.as_raw_fd());
        let mut routed = Routed(Vec::new());
        for &fd in &ttys {
            let saved = dup_cloexec(fd)?;
            // SAFETY: dup2 onto our own standard descriptor; the copy is not close-on-exec, so
            // the sandbox's processes get the pseudo-terminal there.
            if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
            routed.0.push((fd, saved));
        }
        let copy = |fd: RawFd| {
            routed
                .0
                .iter()
                .find(|(f, _)| *f == fd)
                .map(|(_, saved)| saved.try_clone())
                .transpose()
        };
        let input = copy(0)?;
        let output = match copy(1)? {
            Some(o) => o,
            None => match copy(2)? {
                Some(o) => o,
                None => dup_cloexec(routed.0[0].1.as_raw_fd())?,
            },
        };
        let suspend_char = match suspend {
            SuspendKey::StopsTheSandbox => {
                let c = modes.c_cc[libc::VSUSP];
                // _POSIX_VDISABLE: no suspend key on this terminal.
                (c != 0).then_some(c)
            }
            SuspendKey::PassedOn => None,
        };
        // Raw mode waits for nestbox's wait loop (`tick`), where it can always be undone.
        Ok(Some(Relay {
            master: Some(master),
            input,
            output,
            modes,
            raw: false,
            suspend_char,
            stop_root: None,
            routed: std::mem::take(&mut routed.0),
            pending: Vec::new(),
        }))
    }

    /// The sandbox's processes have their copies of the pseudo-terminal: nestbox's own standard
    /// descriptors go back to what they were (so that the pseudo-terminal ends when the last
    /// process inside lets go of it, and nothing nestbox says can fill it). `pid`'s tree stops
    /// with nestbox on the suspend key: the sandbox's PID 1 (not itself) for a launch, the
    /// joined process (itself too) for a join.
    pub fn handed_over(&mut self, pid: libc::pid_t, itself: bool) {
        self.stop_root = Some((pid, itself));
        for (fd, saved) in &self.routed {
            // SAFETY: dup2 of our saved copy back onto our own standard descriptor.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
    }

    /// Descriptors to watch now: the pseudo-terminal, and the user's terminal while nestbox is
    /// its foreground job.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self.master.iter().map(|m| m.as_raw_fd()).collect();
        if let Some(input) = &self.input {
            if self.raw && self.pending.is_empty() {
                fds.push(input.as_raw_fd());
            }
        }
        fds
    }

    /// Serve `fd`; false when it is not the relay's (or is closed for good).
    pub fn readable(&mut self, fd: RawFd) -> bool {
        let mut buf = [0u8; 16 * 1024];
        if self.master.as_ref().is_some_and(|m| m.as_raw_fd() == fd) {
            return match read(fd, &mut buf) {
                Ok(0) | Err(Errno::EIO) => {
                    // Every process inside has let go of the pseudo-terminal.
                    self.master = None;
                    false
                }
                Ok(n) => {
                    write_all(self.output.as_raw_fd(), &buf[..n]);
                    true
                }
                Err(_) => true,
            };
        }
        let Some(input) = self.input.as_ref().map(|i| i.as_raw_fd()) else {
            return false;
        };
        if fd != input {
            return false;
        }
        match read(input, &mut buf) {
            Ok(0) | Err(Errno::EIO) => {
                self.input = None;
                false
            }
            Ok(n) => {
                self.pass_input(&buf[..n]);
                true
            }
            Err(_) => true,
        }
    }

    /// Every descriptor of the user's terminal and of the relay's end of the pseudo-terminal that
    /// nestbox holds: none may stay in a process of the sandbox.
    pub fn private_fds(&self) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self.routed.iter().map(|(_, s)| s.as_raw_fd()).collect();
        fds.extend(self.master.iter().map(|m| m.as_raw_fd()));
        fds.extend(self.input.iter().map(|i| i.as_raw_fd()));
        fds.push(self.output.as_raw_fd());
        fds
    }

    /// Whether `fd` is one the relay serves.
    pub fn owns(&self, fd: RawFd) -> bool {
        self.master.as_ref().is_some_and(|m| m.as_raw_fd() == fd)
            || self.input.as_ref().is_some_and(|i| i.as_raw_fd() == fd)
    }

    fn pass_input(&mut self, data: &[u8]) {
        match self
            .suspend_char
            .and_then(|c| data.iter().position(|&b| b == c))
        {
            None => self.offer(data),
            Some(at) => {
                self.offer(&data[..at]);
                self.suspend();
                self.pass_input(&data[at + 1..]);
            }
        }
    }

    /// Give the pseudo-terminal what it takes of `data` now; keep the rest for later.
    fn offer(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        self.flush_pending();
    }

    fn flush_pending(&mut self) {
        let Some(master) = self.master.as_ref().map(|m| m.as_raw_fd()) else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            // SAFETY: pending is valid for its length; the master is non-blocking.
            let n =
                unsafe { libc::write(master, self.pending.as_ptr().cast(), self.pending.len()) };
            if n > 0 {
                self.pending.drain(..n as usize);
            } else if n < 0 && Errno::last() == Errno::EINTR {
                continue;
            } else if n < 0 && Errno::last() == Errno::EAGAIN {
                return;
            } else {
                // The pseudo-terminal is gone.
                self.pending.clear();
                return;
            }
        }
    }

    /// A signal came for nestbox; whether the relay took care of it (it is not passed on then).
    pub fn signal(&mut self, sig: libc::c_int) -> bool {
        match sig {
            libc::SIGWINCH => {
                copy_size(self.output.as_raw_fd(), self.master_fd());
                true
            }
            libc::SIGTSTP => {
                self.suspend();
                true
            }
            libc::SIGCONT => {
                // Brought back, perhaps to the foreground (`fg`), perhaps not (`bg`).
                self.sync_mode();
                copy_size(self.output.as_raw_fd(), self.master_fd());
                false
            }
            _ => false,
        }
    }

    /// While nestbox is a background job that may be brought to the foreground, how often to
    /// look (`fg` of a running job sends no signal).
    /// Also while typed input waits for the program inside to read.
    pub fn tick_every(&self) -> Option<std::time::Duration> {
        if !self.pending.is_empty() {
            Some(std::time::Duration::from_millis(20))
        } else {
            (self.input.is_some() && !self.raw).then_some(std::time::Duration::from_millis(200))
        }
    }

    /// Look whether nestbox has become the foreground job (or stopped being it), and pass on
    /// input that waits.
    pub fn tick(&mut self) {
        if self.input.is_some() {
            self.sync_mode();
        }
        self.flush_pending();
    }

    fn master_fd(&self) -> RawFd {
        self.master.as_ref().map_or(-1, |m| m.as_raw_fd())
    }

    /// Stop the sandbox's processes and nestbox, giving the terminal back in its own modes; go on
    /// when continued.
    fn suspend(&mut self) {
        self.let_go();
        let stopped = self.stop_root.map(|(root, itself)| tree(root, itself));
        for &pid in stopped.iter().flatten() {
            // SAFETY: plain kill of a process of the user's, started by this nestbox.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
        }
        // SAFETY: stop ourselves as a job does; returns once continued.
        unsafe { libc::raise(libc::SIGSTOP) };
        for &pid in stopped.iter().flatten() {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
        self.sync_mode();
    }

    /// Raw mode while nestbox is the terminal's foreground job; the user's own modes otherwise.
    fn sync_mode(&mut self) {
        let Some(input) = self.input.as_ref().map(|i| i.as_raw_fd()) else {
            return;
        };
        // SAFETY: plain queries of our own descriptors.
        let foreground = unsafe { libc::tcgetpgrp(input) == libc::getpgrp() };
        if foreground && !self.raw {
            let mut raw = self.modes;
            // SAFETY: cfmakeraw edits the struct it is given.
            unsafe { libc::cfmakeraw(&mut raw) };
            self.raw = set_modes(input, &raw).is_ok();
        } else if !foreground {
            // Not ours to change from the background (the kernel would stop us for trying);
            // raw mode was given back when nestbox stopped.
            self.raw = false;
        }
    }

    /// Give the terminal its own modes back.
    fn let_go(&mut self) {
        if self.raw {
            if let Some(input) = &self.input {
                let _ = set_modes(input.as_raw_fd(), &self.modes);
            }
            self.raw = false;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // What the pseudo-terminal still holds, then the user's terminal as it was.
        if let Some(master) = self.master.take() {
            let mut buf = [0u8; 16 * 1024];
            for _ in 0..64 {
                match read(master.as_raw_fd(), &mut buf) {
                    Ok(n) if n > 0 => write_all(self.output.as_raw_fd(), &buf[..n]),
                    _ => break,
                }
            }
        }
        self.let_go();
        for (fd, saved) in &self.routed {
            // SAFETY: dup2 of our saved copy back onto our own standard descriptor.
            unsafe { libc::dup2(saved.as_raw_fd(), *fd) };
        }
    }
}

/// `root` and every process below it (by their parents in /proc), `root` itself only when
/// `itself`.
fn tree(root: libc::pid_t, itself: bool) -> Vec<libc::pid_t> {
    let mut parents = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(ppid) = parent_of(pid) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    if !itself {
        found.remove(0);
    }
    found
}

fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn open_pty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let err = std::io::Error::last_os_error;
    // SAFETY: plain calls on the descriptor posix_openpt gives; checked one by one.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if m < 0 {
            return Err(err());
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err(err());
        }
        let mut name = [0 as libc::c_char; 64];
        if libc::ptsname_r(m, name.as_mut_ptr(), name.len()) != 0 {
            return Err(err());
        }
        let s = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if s < 0 {
            return Err(err());
        }
        let flags = libc::fcntl(m, libc::F_GETFL);
        libc::fcntl(m, libc::F_SETFL, flags | libc::O_NONBLOCK);
        Ok((master, OwnedFd::from_raw_fd(s)))
    }
}

fn get_modes(fd: RawFd) -> std::io::Result<libc::termios> {
    // SAFETY: termios is plain data, filled by tcgetattr.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(t)
}

fn set_modes(fd: RawFd, t: &libc::termios) -> std::io::Result<()> {
    // SAFETY: a valid termios for our own descriptor.
    if unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, t) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The window size of terminal `from`, given to the pseudo-terminal `to`.
fn copy_size(from: RawFd, to: RawFd) {
    // SAFETY: winsize is plain data; the ioctls read and write it.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &size);
        }
    }
}

fn dup_cloexec(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC of an open descriptor.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if d < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(d) })
}

fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        if Errno::last() != Errno::EINTR {
            return Err(Errno::last());
        }
    }
}

/// Write all of `data` to where the user sees output (a terminal, a pipe, a file), waiting where
/// the descriptor is full (a stopped terminal, a slow reader); gives up on an error (a closed
/// terminal must not stop nestbox).
pub fn write_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: data is valid for its length.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n > 0 {
            data = &data[n as usize..];
            continue;
        }
        match Errno::last() {
            Errno::EINTR => continue,
            Errno::EAGAIN => {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut p, 1, 1000) };
            }
            _ => return,
        }
    }
}
