//! X11 for the sandbox. Sharing the host's display: find its socket and cookie, and make the
//! sandbox's Xauthority with that cookie under the wildcard family, so it matches whatever the
//! sandbox's host name is. Nesting: the Xephyr to start and the number the sandbox sees it under.

use super::{Command, NestedServer, PlanError};
use crate::host::{
    find_cookie, parse_display, parse_xauthority, wildcard_copy, write_xauthority, Display,
    FileKind, HostFacts, HostFs,
};
use crate::profile::{NestedSize, Profile};
use std::path::Path;

/// Where the sandbox's Xauthority lives: in the root tmpfs, which ends read-only.
pub const XAUTHORITY: &str = "/run/nestbox/Xauthority";

pub struct HostDisplay {
    pub display: Display,
    pub xauthority: Vec<u8>,
    pub describe: String,
}

/// The number of the host's display (`$DISPLAY`).
pub fn host_number(facts: &HostFacts) -> Result<u32, PlanError> {
    let value = facts
        .env
        .get("DISPLAY")
        .filter(|d| !d.is_empty())
        .ok_or(PlanError::NoDisplay)?;
    Ok(parse_display(value)?.number)
}

/// The host's display, and an Xauthority with its cookie for display `inside` (the number the
/// sandbox knows it by), under the wildcard family.
pub fn host_display(
    facts: &HostFacts,
    fs: &dyn HostFs,
    inside: u32,
) -> Result<HostDisplay, PlanError> {
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
    let entry = wildcard_copy(cookie, inside);
    Ok(HostDisplay {
        display,
        xauthority: write_xauthority(&[entry]),
        describe: format!(
            "the cookie of display :{} from {}, as :{inside}, wildcard family",
            display.number,
            file.path.display()
        ),
    })
}

/// The lowest display number the sandbox may use for a display when it shares the host's
/// network: one with no abstract socket there (see [`inside_number`]).
const FIRST_SHARED_NUMBER: u32 = 100;

/// The number the sandbox knows its display by (nested, or the host's on the host's network). Under Landlock's abstract-socket scope,
/// libxcb tries `@/tmp/.X11-unix/XN` first and gives up on EPERM, which is what a host listener
/// gives; a number without one gets ECONNREFUSED and libxcb goes on to the bound socket. In a
/// network namespace of its own the sandbox has no listeners at all, and gets `:0`. Numbers from
/// 100 on keep clear of X servers started later (they take the lowest free number).
pub fn inside_number(shared_network: bool, host_abstract: &[u32]) -> u32 {
    if !shared_network {
        return 0;
    }
    (FIRST_SHARED_NUMBER..)
        .find(|n| !host_abstract.contains(n))
        .unwrap_or(FIRST_SHARED_NUMBER)
}

/// Xephyr for a nested display on the host's `$DISPLAY`, sized to the profile or the monitor.
pub fn nested_server(
    profile: &Profile,
    facts: &HostFacts,
    fs: &dyn HostFs,
) -> Result<NestedServer, PlanError> {
    let host_display = facts
        .env
        .get("DISPLAY")
        .filter(|d| !d.is_empty())
        .ok_or(PlanError::NoDisplay)?;
    let display = parse_display(host_display)?;
    let socket = display.socket();
    if fs.stat(&socket) != FileKind::Socket {
        return Err(PlanError::NoSocket {
            display: host_display.clone(),
            socket,
        });
    }
    let path_var = facts
        .env
        .get("PATH")
        .map_or(DEFAULT_HOST_PATH, String::as_str);
    let program = path_var
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| Path::new(d).join("Xephyr"))
        .find(|p| fs.stat(p) == FileKind::File && fs.executable(p))
        .ok_or(PlanError::NoXephyr)?;
    let (width, height) = match profile.nested.size {
        NestedSize::Fixed { width, height } => (width, height),
        NestedSize::Fit => {
            let (w, h) = match &facts.monitor {
                Some(Ok(size)) => *size,
                Some(Err(why)) => return Err(PlanError::MonitorSize(why.clone())),
                None => return Err(PlanError::MonitorSize("not asked".into())),
            };
            (fit(w), fit(h))
        }
    };
    let title = format!("nestbox: {}", profile.name);
    let argv = [
        program.display().to_string().as_str(),
        "-nolisten",
        "tcp",
        "-resizeable",
        "-noreset",
        "-title",
        &title,
        "-screen",
        &format!("{width}x{height}"),
    ]
    .map(String::from)
    .to_vec();
    Ok(NestedServer {
        command: Command { program, argv },
        host_display: display.to_string(),
        width,
        height,
        title,
        clipboard: profile.nested.clipboard,
    })
}

/// Nine tenths of a monitor's side, and never less than the smallest size a profile may ask.
fn fit(side: u16) -> u16 {
    let fitted = (u32::from(side) * 9 / 10) as u16;
    fitted.max(*crate::profile::NESTED_SIZE_RANGE.start())
}

/// Where nestbox looks for Xephyr when the caller has no PATH.
const DEFAULT_HOST_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
