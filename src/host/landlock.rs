//! What this kernel's Landlock can do for nestbox: its ABI version, and a ruleset that handles the
//! filesystem rights that ABI knows (for the plan's file rules) and, where asked, the
//! abstract-Unix-socket and signal scopes (ABI 6, Linux 6.12), which keep a sandbox that shares the
//! host's network from connecting to the host's abstract sockets (an X server's
//! @/tmp/.X11-unix/XN among them) and from signalling processes outside it.

use landlock::{Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, Scope, ABI};
use std::os::fd::OwnedFd;

/// The Landlock ABI version of the running kernel; 0 without Landlock.
pub fn abi() -> u32 {
    // SAFETY: landlock_create_ruleset with a null attribute, size 0 and the VERSION flag only
    // reports the ABI version.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    u32::try_from(v).unwrap_or(0)
}

/// The landlock crate's name for ABI `v` (the newest it knows at most).
fn crate_abi(v: u32) -> ABI {
    match v {
        0 => ABI::Unsupported,
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        _ => ABI::V6,
    }
}

/// The filesystem rights ABI `abi` handles, and of those the read-only ones, as bits.
pub fn fs_rights(abi: u32) -> (u64, u64) {
    let a = crate_abi(abi);
    (AccessFs::from_all(a).bits(), AccessFs::from_read(a).bits())
}

/// The rights that apply to a file (not a directory) beneath which a rule is added.
pub fn file_rights(abi: u32) -> u64 {
    AccessFs::from_file(crate_abi(abi)).bits()
}

/// A ruleset handling every filesystem right of ABI `fs_abi` (none for 0) and, with `scopes`,
/// the abstract-socket and signal scopes; an error when the kernel cannot do what is asked.
pub fn ruleset(fs_abi: u32, scopes: bool) -> Result<OwnedFd, String> {
    let mut r = Ruleset::default().set_compatibility(CompatLevel::HardRequirement);
    if fs_abi > 0 {
        r = r
            .handle_access(AccessFs::from_all(crate_abi(fs_abi)))
            .map_err(|e| e.to_string())?;
    }
    if scopes {
        r = r
            .scope(Scope::AbstractUnixSocket | Scope::Signal)
            .map_err(|e| e.to_string())?;
    }
    let created = r.create().map_err(|e| e.to_string())?;
    Option::<OwnedFd>::from(created).ok_or_else(|| "Landlock gave no ruleset".to_string())
}

/// The first ABI with the abstract-Unix-socket and signal scopes.
pub const SCOPES_ABI: u32 = 6;
