//! Applying a [`Plan`]: the only code that calls clone, mount, pivot_root. It knows nothing of TOML
//! or X11. The launch lives here: make the host directories, freeze the plan, clone into new
//! namespaces (the network namespace from a helper beside the child: `network`); the child's
//! failure record and its one line are in `failure`, the wait for the sandbox in `wait`.

mod child;
mod failure;
mod frozen;
mod init;
mod join;
mod network;
mod sys;
mod wait;

pub use failure::{Failure, Stage};
pub use join::{join, process_start_time, seen_inside, JoinArgs, Pid1};
pub use wait::Watch;

use failure::{child_error, explain_clone_failure, read_failure};
use wait::{wait_forwarding, Blocked};

use crate::plan::{HostStep, Plan};
use nix::errno::Errno;
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

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
