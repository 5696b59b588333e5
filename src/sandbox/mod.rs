//! Applying a [`Plan`]: the only code that calls clone, mount, pivot_root. It knows nothing of TOML
//! or X11. The parent side lives here: make the host directories, freeze the plan, clone into new
//! namespaces, turn a child's failure record into one line, then wait and forward signals.

mod child;
mod frozen;
mod init;
mod join;
mod network;
mod sys;

pub use join::{join, process_start_time, seen_inside, JoinArgs, Pid1};

use crate::plan::{describe_step_for_error, HostStep, Plan};
use nix::errno::Errno;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// Where in the child a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Stage {
    Prepare = 1,
    IdMaps,
    BaseRoot,
    Mount,
    PivotRoot,
    Hostname,
    Network,
    Fork,
    Cwd,
    Capabilities,
    NoNewPrivs,
    Landlock,
    Fds,
    Seccomp,
    Exec,
}

impl Stage {
    /// Every stage, in discriminant order (1, 2, ...).
    const ALL: [Stage; 15] = [
        Stage::Prepare,
        Stage::IdMaps,
        Stage::BaseRoot,
        Stage::Mount,
        Stage::PivotRoot,
        Stage::Hostname,
        Stage::Network,
        Stage::Fork,
        Stage::Cwd,
        Stage::Capabilities,
        Stage::NoNewPrivs,
        Stage::Landlock,
        Stage::Fds,
        Stage::Seccomp,
        Stage::Exec,
    ];

    fn from_u32(v: u32) -> Option<Stage> {
        Stage::ALL.get((v as usize).checked_sub(1)?).copied()
    }
}

/// The fixed record a failing child writes on the error pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub stage: u32,
    pub index: u32,
    pub errno: i32,
}

impl Failure {
    const SIZE: usize = 12;
    fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[..4].copy_from_slice(&self.stage.to_ne_bytes());
        b[4..8].copy_from_slice(&self.index.to_ne_bytes());
        b[8..].copy_from_slice(&self.errno.to_ne_bytes());
        b
    }
    fn from_bytes(b: &[u8; Self::SIZE]) -> Failure {
        let word = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        Failure {
            stage: u32::from_ne_bytes(word(0)),
            index: u32::from_ne_bytes(word(4)),
            errno: i32::from_ne_bytes(word(8)),
        }
    }
}

#[cfg(test)]
#[test]
fn every_stage_decodes() {
    for (i, stage) in Stage::ALL.iter().enumerate() {
        assert_eq!(*stage as usize, i + 1);
        assert_eq!(Stage::from_u32(*stage as u32), Some(*stage));
    }
    assert_eq!(
        Stage::ALL.last(),
        Some(&Stage::Exec),
        "ALL must list every stage"
    );
    assert_eq!(Stage::from_u32(0), None);
    assert_eq!(Stage::from_u32(Stage::Exec as u32 + 1), None);
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot create {}: {source}", path.display())]
    HostDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Freeze(#[from] frozen::FreezeError),
    #[error("cannot create the sandbox's namespaces: {0}")]
    Clone(String),
    #[error("{message}")]
    Child { message: String, code: i32 },
    #[error("{what}: {errno}")]
    Os { what: &'static str, errno: Errno },
    #[error("internal error: nestbox runs more than one thread and cannot {what} safely")]
    Threaded { what: &'static str },
}

/// Whether this process has one thread, as it must to clone, fork or join a sandbox.
pub use sys::single_threaded;

/// Go on only in a single-threaded process: the child of a clone or fork runs on in nestbox's
/// memory, where another thread may have held a lock (the allocator's, stdio's) at that moment.
fn ensure_single_threaded(what: &'static str) -> Result<(), LaunchError> {
    if single_threaded() {
        Ok(())
    } else {
        Err(LaunchError::Threaded { what })
    }
}

impl LaunchError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Child { code, .. } => *code,
            _ => 125,
        }
    }
}

/// How long the app has to exit after its display went away, before the sandbox is killed.
const DISPLAY_GONE_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// What the caller of [`launch`] does at two moments of it, given the host pid of the sandbox's
/// PID 1.
pub trait Watch {
    /// Right after the clone, before the sandbox is ready: nestbox's signals are blocked by now, so
    /// threads it starts here do not take them.
    fn cloned(&mut self, _pid1: libc::pid_t) {}
    /// The app runs (its exec succeeded).
    fn running(&mut self, _pid1: libc::pid_t) {}
    /// Descriptors to serve while nestbox waits (the app's output, for its log).
    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        Vec::new()
    }
    /// `fd` is readable; false once it is closed for good (it is no longer watched then).
    fn readable(&mut self, _fd: std::os::fd::RawFd) -> bool {
        false
    }
    /// Descriptors of nestbox's own that no process of the sandbox may keep (the user's
    /// terminal behind a relay): the sandbox's first process closes them first thing (it never
    /// execs, so close-on-exec does not).
    fn private_fds(&self) -> Vec<std::os::fd::RawFd> {
        Vec::new()
    }
    /// How long nestbox may wait without calling [`Watch::tick`] (none: as long as it likes).
    fn tick_every(&self) -> Option<std::time::Duration> {
        None
    }
    /// Called after every wake-up of the wait loop (a background job brought to the
    /// foreground gets no signal: a terminal relay looks).
    fn tick(&mut self) {}
    /// Signal `sig` came for nestbox; whether the watcher took care of it (the terminal relay:
    /// a window size change, a suspend). Otherwise it is passed on to the sandbox (SIGTSTP:
    /// nestbox stops, as a job does).
    fn signal(&mut self, _sig: libc::c_int) -> bool {
        false
    }
}

impl Watch for () {}

/// Run the plan; returns the app's exit status (128+N when a signal N ended it). `display_server`
/// is a child of nestbox the sandbox depends on (the nested X server): when it exits, the app is
/// sent SIGTERM, and the sandbox is killed if still there after a grace period.
pub fn launch(
    plan: &Plan,
    display_server: Option<libc::pid_t>,
    watch: &mut dyn Watch,
) -> Result<i32, LaunchError> {
    ensure_single_threaded("start a sandbox")?;
    make_host_dirs(plan)?;
    let frozen = frozen::Frozen::new(plan)?;
    let os = |what| move |errno| LaunchError::Os { what, errno };
    let (err_r, err_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("cannot make a pipe"))?;
    let (alive_r, alive_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os("cannot make a pipe"))?;

    let blocked = Blocked::new()?;
    let old_mask = blocked.old_mask;
    // The network namespace is made beside the child, by a helper (network.rs).
    let channel = plan
        .namespaces
        .net
        .then(network::Channel::new)
        .transpose()?;

    let private = watch.private_fds();
    let flags = clone_flags(&plan.namespaces) & !libc::CLONE_NEWNET;
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack) of a single-threaded process. The child
    // runs only child::main, which never returns.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == 0 {
        drop(err_r);
        drop(alive_w);
        let fds = child::Fds {
            error: err_w.as_raw_fd(),
            alive: alive_r.as_raw_fd(),
            network: channel
                .as_ref()
                .map(|c| (c.child.as_raw_fd(), c.helper_fd())),
            private: &private,
        };
        std::mem::forget(err_w);
        std::mem::forget(alive_r);
        child::main(&frozen, fds, &old_mask);
    }
    if pid < 0 {
        return Err(LaunchError::Clone(explain_clone_failure(Errno::last())));
    }
    let pid = pid as libc::pid_t;
    drop(err_w);
    drop(alive_r);
    let helper = match channel.map(|c| network::start_helper(pid, c)) {
        Some(Err(e)) => {
            // SAFETY: plain kill of our child, which cannot go on without its network.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return Err(e);
        }
        Some(Ok(helper)) => Some(helper),
        None => None,
    };
    drop(frozen);
    watch.cloned(pid);
    let failure = read_failure(&err_r);
    drop(err_r);
    if let Some(helper) = helper {
        network::reap(helper);
    }
    if failure.is_none() {
        watch.running(pid);
    }
    let status = wait_forwarding(pid, &blocked, display_server, watch);
    // alive_w lives until here: the child's die-with-parent check needs it open.
    drop(alive_w);
    match failure {
        Some(f) => Err(child_error(plan, f)),
        None => Ok(status),
    }
}

/// The host directories the plan needs (the persistent home), made 0700 if missing.
fn make_host_dirs(plan: &Plan) -> Result<(), LaunchError> {
    for step in &plan.host_steps {
        let HostStep::CreateDir { path } = step;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|source| LaunchError::HostDir {
                path: path.clone(),
                source,
            })?;
    }
    Ok(())
}

/// clone(2) flags for the plan's namespaces; SIGCHLD tells nestbox when PID 1 ends.
fn clone_flags(ns: &crate::plan::Namespaces) -> libc::c_int {
    namespace_flags(ns) | libc::SIGCHLD
}

/// The CLONE_NEW* flags of the namespaces the sandbox makes of its own (for clone, and for
/// setns when joining it: the others are the host's, which a joiner has already).
fn namespace_flags(ns: &crate::plan::Namespaces) -> libc::c_int {
    [
        (ns.user, libc::CLONE_NEWUSER),
        (ns.mount, libc::CLONE_NEWNS),
        (ns.pid, libc::CLONE_NEWPID),
        (ns.ipc, libc::CLONE_NEWIPC),
        (ns.uts, libc::CLONE_NEWUTS),
        (ns.cgroup, libc::CLONE_NEWCGROUP),
        (ns.net, libc::CLONE_NEWNET),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(0, |flags, (_, flag)| flags | flag)
}

fn read_failure(fd: &OwnedFd) -> Option<Failure> {
    let mut buf = [0u8; Failure::SIZE];
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    (got == buf.len()).then(|| Failure::from_bytes(&buf))
}

/// The signals nestbox forwards (and SIGCHLD), blocked so that they queue for a signalfd (and,
/// in PID 1, for sigwaitinfo); the mask from before, for the processes started inside.
struct Blocked {
    old_mask: libc::sigset_t,
    signals: OwnedFd,
}

impl Blocked {
    fn new() -> Result<Blocked, LaunchError> {
        let os = |what| move |errno| LaunchError::Os { what, errno };
        // A caller that ignores SIGCHLD (exec keeps that) would make the kernel reap PID 1 and
        // the app behind our backs, and waitpid would never see them.
        sys::default_action(libc::SIGCHLD).map_err(os("cannot reset SIGCHLD"))?;
        // SIGTSTP too: a terminal relay gives the terminal back before nestbox stops.
        let mut waited = init::waited_set();
        // SAFETY: waited is an initialized set.
        unsafe { libc::sigaddset(&mut waited, libc::SIGTSTP) };
        // SAFETY: sigset_t is plain data, filled by sigprocmask below.
        let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sets.
        if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &waited, &mut old_mask) } != 0 {
            return Err(os("cannot block signals")(Errno::last()));
        }
        // SAFETY: waited is a valid sigset; its signals are blocked now.
        let fd = unsafe { libc::signalfd(-1, &waited, libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(os("cannot make a signalfd")(Errno::last()));
        }
        Ok(Blocked {
            old_mask,
            // SAFETY: the kernel just gave us this fd.
            signals: unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) },
        })
    }
}

/// Wait for PID 1 (or a joined process), passing on every forwarded signal; its exit code is
/// the app's. When the display server exits first, end the sandbox: SIGTERM to the app, SIGKILL
/// to PID 1 after a grace period. Meanwhile the descriptors `watch` names are served as they
/// become readable (the app's output, copied to its log): one poll over them and a signalfd of
/// the blocked signals, in this one thread.
fn wait_forwarding(
    pid: libc::pid_t,
    blocked: &Blocked,
    display_server: Option<libc::pid_t>,
    watch: &mut dyn Watch,
) -> i32 {
    let sfd = &blocked.signals;
    let mut kill_at: Option<std::time::Instant> = None;
    let mut check_server = display_server.is_some();
    let mut closed: Vec<std::os::fd::RawFd> = Vec::new();
    loop {
        // Asked anew each time: what is watched may change (a terminal relay reads the user's
        // terminal only while nestbox is in the foreground).
        let mut served: Vec<std::os::fd::RawFd> = watch.fds();
        served.retain(|fd| !closed.contains(fd));
        if check_server && display_server.is_some_and(has_exited) {
            check_server = false;
            tracing::debug!("the display server is gone; ending the sandbox");
            // SAFETY: plain kill of our child, PID 1, which passes SIGTERM on to the app.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            kill_at = Some(std::time::Instant::now() + DISPLAY_GONE_GRACE);
        }
        let until_kill = kill_at.map(|at| at.saturating_duration_since(std::time::Instant::now()));
        let timeout = match (until_kill, watch.tick_every()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as libc::c_int);
        let mut polls: Vec<libc::pollfd> = std::iter::once(sfd.as_raw_fd())
            .chain(served.iter().copied())
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout) };
        watch.tick();
        if n == 0 {
            if kill_at.is_some_and(|at| std::time::Instant::now() >= at) {
                // SAFETY: plain kill of our child; the PID namespace goes with it.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                kill_at = None;
            }
            continue;
        }
        if n < 0 {
            continue;
        }
        for p in &polls[1..] {
            if p.revents != 0 && !watch.readable(p.fd) {
                closed.push(p.fd);
                served.retain(|&fd| fd != p.fd);
            }
        }
        if polls[0].revents == 0 {
            continue;
        }
        // SAFETY: signalfd_siginfo is plain data, filled by read.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reading one record into a buffer of its size.
        let got = unsafe {
            libc::read(
                sfd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        if got != size as isize {
            continue;
        }
        let sig = info.ssi_signo as libc::c_int;
        if sig == libc::SIGCHLD {
            let mut status = 0;
            // SAFETY: status is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                drain(&served, watch);
                return init::exit_code(status);
            }
            if r < 0 && Errno::last() == Errno::ECHILD {
                return 125;
            }
        } else if watch.signal(sig) {
            // Taken care of (the terminal relay).
        } else if sig == libc::SIGTSTP {
            // Stop as a job does; the sandbox goes on (a terminal relay stops it too).
            // SAFETY: stops this process until SIGCONT.
            unsafe { libc::raise(libc::SIGSTOP) };
        } else {
            // SAFETY: plain kill of our child (PID 1 of the sandbox, which waits for these signals).
            unsafe { libc::kill(pid, sig) };
        }
    }
}

/// Serve what the watched descriptors hold now, before nestbox goes on to stop its helpers
/// (which may hold the same pipes, and block writing to a full one).
fn drain(fds: &[std::os::fd::RawFd], watch: &mut dyn Watch) {
    for &fd in fds {
        for _ in 0..1024 {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; no waiting.
            if unsafe { libc::poll(&mut p, 1, 0) } <= 0 || !watch.readable(fd) {
                break;
            }
        }
    }
}

/// Whether our child `pid` has exited, without reaping it (its owner does that).
fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain data, filled by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer; WNOWAIT leaves the child waitable.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: si_pid is set by waitid (0 when no child has changed state).
    r == 0 && unsafe { info.si_pid() } != 0
}

fn child_error(plan: &Plan, f: Failure) -> LaunchError {
    let errno = Errno::from_raw(f.errno);
    let why = errno.desc().to_lowercase();
    let program = plan.process.program.display();
    let (message, code) = match Stage::from_u32(f.stage) {
        Some(Stage::Exec) => (
            format!("cannot run {program} inside the sandbox: {why}"),
            if errno == Errno::ENOENT { 127 } else { 126 },
        ),
        Some(Stage::Mount) => {
            let what = plan
                .mounts
                .get(f.index as usize)
                .map_or_else(|| "mount".into(), describe_step_for_error);
            (format!("cannot {what}: {why}"), 125)
        }
        Some(Stage::IdMaps) if matches!(errno, Errno::EPERM | Errno::EACCES) => (
            format!(
                "cannot map the user and group ids into the sandbox: {why}; {}",
                userns_hint()
            ),
            125,
        ),
        Some(Stage::Network) => (
            format!("cannot {}: {why}", network::NetStep::words(f.index)),
            125,
        ),
        Some(Stage::Fork) if f.index == 1 => {
            (format!("cannot start the window manager: {why}"), 125)
        }
        Some(Stage::Fork) if f.index == 2 => (
            format!("cannot start the sandbox's session bus: {why}"),
            125,
        ),
        Some(stage) => (format!("cannot {}: {why}", stage_words(stage, plan)), 125),
        None => (format!("the sandbox failed to start: {why}"), 125),
    };
    LaunchError::Child { message, code }
}

fn stage_words(stage: Stage, plan: &Plan) -> String {
    match stage {
        Stage::Prepare => "prepare the sandbox's first process".into(),
        Stage::IdMaps => "map the user and group ids into the sandbox".into(),
        Stage::BaseRoot => "make the sandbox's root".into(),
        Stage::Mount => "mount".into(),
        Stage::PivotRoot => "switch to the sandbox's root".into(),
        Stage::Hostname => format!("set the host name {:?}", plan.hostname),
        Stage::Network => "set up the sandbox's network".into(),
        Stage::Fork => "start the app process".into(),
        Stage::Cwd => format!("enter the working directory {}", plan.process.cwd.display()),
        Stage::Capabilities => "drop capabilities".into(),
        Stage::NoNewPrivs => "set no_new_privs".into(),
        Stage::Landlock => "apply the Landlock rules and scopes".into(),
        Stage::Fds => "close inherited file descriptors".into(),
        Stage::Seccomp => "install the seccomp filter".into(),
        Stage::Exec => "run the program".into(),
    }
}

/// One line that says why a user namespace could not be made, and what to do.
fn explain_clone_failure(errno: Errno) -> String {
    format!("{}; {}", errno.desc().to_lowercase(), userns_hint())
}

/// What to do about user namespaces that are off or restricted, from the sysctls that say so.
fn userns_hint() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0); \
                enable them with: sudo sysctl -w kernel.unprivileged_userns_clone=1"
            .into();
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return "user namespaces are disabled (user.max_user_namespaces = 0); \
                enable them with: sudo sysctl -w user.max_user_namespaces=15000"
            .into();
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1); \
                allow nestbox with an AppArmor profile granting 'userns', or set the sysctl to 0"
            .into();
    }
    "unprivileged user namespaces may be restricted on this system (on Ubuntu 24.04 and later by AppArmor: \
     allow nestbox with an AppArmor profile granting 'userns')"
        .into()
}
