//! Sharing the host's X display: find its socket and cookie, and make the sandbox's Xauthority with
//! that cookie under the wildcard family, so it matches whatever the sandbox's host name is.

use super::PlanError;
use crate::host::{
    find_cookie, parse_display, parse_xauthority, wildcard_copy, write_xauthority, Display,
    FileKind, HostFacts, HostFs,
};

/// Where the sandbox's Xauthority lives: in the root tmpfs, which ends read-only.
pub const XAUTHORITY: &str = "/run/nestbox/Xauthority";

pub struct HostDisplay {
    pub display: Display,
    pub xauthority: Vec<u8>,
    pub describe: String,
}

pub fn host_display(facts: &HostFacts, fs: &dyn HostFs) -> Result<HostDisplay, PlanError> {
    let value = facts
        .env
        .get("DISPLAY")
        .filter(|d| !d.is_empty())
        .ok_or(PlanError::NoDisplay)?;
    let display = parse_display(value)?;
    let socket = display.socket();
    if fs.stat(&socket) != FileKind::Socket {
        return Err(PlanError::NoSocket {
            display: value.clone(),
            socket,
        });
    }
    let file = facts.xauthority.as_ref().ok_or(PlanError::NoCookie {
        display: value.clone(),
        path: facts.home.join(".Xauthority"),
    })?;
    let bytes = file
        .contents
        .as_ref()
        .map_err(|reason| PlanError::XauthorityUnreadable {
            path: file.path.clone(),
            reason: reason.clone(),
        })?;
    let entries = parse_xauthority(bytes).map_err(|source| PlanError::XauthorityDamaged {
        path: file.path.clone(),
        source,
    })?;
    let cookie = find_cookie(&entries, display.number, &facts.hostname).ok_or_else(|| {
        PlanError::NoCookie {
            display: value.clone(),
            path: file.path.clone(),
        }
    })?;
    let entry = wildcard_copy(cookie, display.number);
    Ok(HostDisplay {
        display,
        xauthority: write_xauthority(&[entry]),
        describe: format!(
            "the cookie of display :{} from {}, wildcard family",
            display.number,
            file.path.display()
        ),
    })
}
