//! What this kernel's Landlock can do for nestbox. Issue-3 scope: the abstract-Unix-socket and
//! signal scopes (Landlock ABI 6, Linux 6.12), which keep a sandbox that shares the host's network
//! from connecting to the host's abstract sockets (an X server's @/tmp/.X11-unix/XN among them) and
//! from signalling processes outside it.

use landlock::{CompatLevel, Compatible, Ruleset, RulesetAttr, Scope};
use std::os::fd::OwnedFd;

/// A Landlock ruleset that scopes abstract Unix sockets and signals, ready for
/// landlock_restrict_self(2) in the sandbox; an error when the kernel cannot enforce both.
pub fn scope_ruleset() -> Result<OwnedFd, String> {
    let created = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .and_then(|r| r.create())
        .map_err(|e| e.to_string())?;
    Option::<OwnedFd>::from(created).ok_or_else(|| "Landlock gave no ruleset".to_string())
}

/// Whether [`scope_ruleset`] works here.
pub fn can_scope() -> bool {
    scope_ruleset().is_ok()
}
