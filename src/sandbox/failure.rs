//! The record a failing child leaves on the error pipe (the stage, the step, the errno), and the
//! one line nestbox makes of it.

use super::LaunchError;
use crate::plan::{describe_step_for_error, Plan};
use nix::errno::Errno;
use std::os::fd::OwnedFd;

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

    pub(super) fn from_u32(v: u32) -> Option<Stage> {
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
    pub(super) fn to_bytes(self) -> [u8; Self::SIZE] {
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

pub(super) fn read_failure(fd: &OwnedFd) -> Option<Failure> {
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

pub(super) fn child_error(plan: &Plan, f: Failure) -> LaunchError {
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
            format!("cannot {}: {why}", super::network::NetStep::words(f.index)),
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
pub(super) fn explain_clone_failure(errno: Errno) -> String {
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
