//! The running sandboxes, for any front end: listed from the registry with what /proc says of
//! them now, and stopped (SIGTERM to the sandbox's PID 1, which passes it to the app; SIGKILL
//! after a while).

use crate::registry::{Entry, Registry};
use crate::sandbox::Pid1;
use std::collections::HashMap;
use std::ffi::OsString;
use std::time::Duration;

/// A running sandbox: its registry entry and how many processes are inside now.
#[derive(Debug)]
pub struct Running {
    pub entry: Entry,
    pub processes: usize,
}

/// The running sandboxes, with their process counts (one pass over /proc for all of them).
pub fn list(registry: &Registry) -> Vec<Running> {
    let counts = processes_by_pid_namespace();
    registry
        .list()
        .into_iter()
        .map(|entry| Running {
            processes: pid_namespace(entry.pid1)
                .and_then(|ns| counts.get(&ns).copied())
                .unwrap_or(0),
            entry,
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error(transparent)]
    NotRunning(#[from] crate::registry::RegistryError),
    #[error("cannot signal {name}: {}", errno.desc().to_lowercase())]
    Signal { name: String, errno: nix::Error },
}

/// How a sandbox ended when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It ended within the time given after SIGTERM (or was already gone).
    Ended,
    /// It did not, and was killed.
    Killed,
}

/// Stop the sandbox `name`: SIGTERM to its PID 1 (which passes it on to the app; when the app
/// ends, the sandbox ends), SIGKILL if it still runs after `timeout`; then wait until its
/// nestbox has let go of the name, so a listing no longer shows it.
pub fn stop(registry: &Registry, name: &str, timeout: Duration) -> Result<Stopped, StopError> {
    let entry = registry
        .get(name)
        .ok_or_else(|| crate::registry::RegistryError::NotRunning(name.into()))?;
    // Gone between the look and now: stopped all the same.
    let Some(pid1) = Pid1::open(entry.pid1, entry.pid1_start) else {
        return Ok(Stopped::Ended);
    };
    pid1.signal(libc::SIGTERM)
        .map_err(|errno| StopError::Signal {
            name: name.into(),
            errno,
        })?;
    let mut how = Stopped::Ended;
    if !pid1.wait_gone(timeout) {
        let _ = pid1.signal(libc::SIGKILL);
        pid1.wait_gone(Duration::from_secs(5));
        how = Stopped::Killed;
    }
    for _ in 0..200 {
        if !registry.held(name) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(how)
}

/// How long a sandbox has run, as people read it: 42s, 5m, 3h12m, 2d4h.
pub fn uptime(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// The PID namespace of process `pid` (its /proc link's target, "pid:[4026532]").
fn pid_namespace(pid: i32) -> Option<OsString> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.into_os_string())
}

/// How many of the user's processes each PID namespace holds.
fn processes_by_pid_namespace() -> HashMap<OsString, usize> {
    let mut counts = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return counts;
    };
    for e in dir.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(ns) = pid_namespace(pid) {
            *counts.entry(ns).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes_read_well() {
        assert_eq!(uptime(5), "5s");
        assert_eq!(uptime(600), "10m");
        assert_eq!(uptime(3725), "1h2m");
        assert_eq!(uptime(90061), "1d1h");
    }
}
