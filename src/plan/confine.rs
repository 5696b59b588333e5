//! The kernel's walls behind the mounts, as a plan decides them: which Landlock scopes apply
//! and whether the host's abstract sockets are out of reach, the ABI the file rules use and where
//! they allow writing, and the system calls the filter refuses.

use super::{AbstractSockets, BindKind, Confinement, Mount, PlanError};
use crate::host::HostFacts;
use crate::profile::{Network, Profile, X11};
use std::path::{Path, PathBuf};

/// Which Landlock scopes apply, and whether the host's abstract sockets are out of reach. Every
/// sandbox gets the scopes where the kernel has them (the host display included: the sandbox
/// sees it under a number without an abstract listener, see `x11::inside_number`); where the
/// kernel lacks them and the network is shared, a sandbox on the host display reaches them as
/// before (the display is shared anyway, and explain says so), and any other is refused unless
/// the profile accepts the risk.
pub(super) fn confinement(profile: &Profile, facts: &HostFacts) -> Result<Confinement, PlanError> {
    let private_net = profile.network == Network::None;
    let abstract_sockets = match (private_net, facts.landlock_scopes) {
        (true, _) => AbstractSockets::PrivateNetwork,
        (false, true) => AbstractSockets::Scoped,
        (false, false) if profile.x11 == X11::Host => AbstractSockets::SharedWithHostDisplay,
        (false, false) if profile.allow_host_abstract_sockets => AbstractSockets::AcceptedByProfile,
        (false, false) => {
            return Err(PlanError::AbstractSocketsOpen {
                mode: if profile.x11 == X11::Nested {
                    "its nested display"
                } else {
                    "x11 = \"none\""
                },
            })
        }
    };
    Ok(Confinement {
        landlock_scopes: facts.landlock_scopes,
        abstract_sockets,
        landlock_abi: file_rules_abi(facts.landlock_abi),
        writable: Vec::new(),
    })
}

/// The Landlock ABI the file rules use: none below 2, whose missing Refer right makes the kernel
/// refuse every rename and link across directories (EXDEV), which apps do not expect.
fn file_rules_abi(abi: u32) -> u32 {
    if abi >= 2 {
        abi
    } else {
        0
    }
}

/// Where the mounts let the app write: beneath these, Landlock's file rules allow writing too;
/// everywhere else they allow reading only, whatever a mount would allow.
pub(super) fn writable(mounts: &[Mount]) -> Vec<PathBuf> {
    let all: Vec<PathBuf> = mounts
        .iter()
        .filter_map(|m| match m {
            Mount::Tmpfs { dst, .. } if dst != Path::new("/") => Some(dst.clone()),
            Mount::Bind {
                dst,
                kind: BindKind::ReadWrite | BindKind::Device,
                ..
            }
            | Mount::Devpts { dst }
            | Mount::Proc { dst } => Some(dst.clone()),
            _ => None,
        })
        .collect();
    // One rule covers everything beneath its path: each rule costs the launch a few calls.
    let mut top: Vec<PathBuf> = all
        .iter()
        .filter(|p| !all.iter().any(|q| q != *p && p.starts_with(q)))
        .cloned()
        .collect();
    top.dedup();
    top
}

/// The default refusals, less what the profile allows, plus what it denies.
pub(super) fn seccomp(profile: &Profile) -> crate::seccomp::SeccompPlan {
    let s = &profile.seccomp;
    let mut deny: Vec<String> = crate::seccomp::DEFAULT_DENY
        .iter()
        .map(|n| n.to_string())
        .chain(s.deny.iter().cloned())
        .filter(|n| !s.allow.contains(n))
        .collect();
    deny.sort();
    deny.dedup();
    crate::seccomp::SeccompPlan {
        deny,
        user_namespaces: s.user_namespaces,
        architectures: crate::seccomp::native_architectures(),
    }
}
