//! Helpers nestbox starts on the host (Xephyr, `nestbox-pulse`) get a clean, declared
//! environment and only the descriptors they need: nothing of the caller's environment beyond
//! the names below, and no descriptor the caller leaked to nestbox without close-on-exec.

use std::os::fd::RawFd;

const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
use std::process::Command;

/// The variables a helper on the host may need, taken from nestbox's environment where set:
/// where things are (PATH, HOME, the XDG directories), the locale, the display and its cookie,
/// the sound server's settings, and nestbox's own log level.
const PASSED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DISPLAY",
    "XAUTHORITY",
    "PULSE_SERVER",
    "PULSE_COOKIE",
    "PULSE_CLIENTCONFIG",
    "NESTBOX_LOG",
];

/// Give `command` the helper environment: the names in [`PASSED`] that nestbox has, nothing
/// else (the caller adds what is the helper's own).
pub fn clean_environment(command: &mut Command) {
    command.env_clear();
    for name in PASSED {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
}

/// Mark every descriptor above stderr but those in `keep` close-on-exec, so that exec closes them
/// (between fork and exec: system calls only, no allocation; marked rather than closed, since
/// the standard library's own pipe that reports a failed exec must stay open until then).
pub fn cloexec_other_fds(keep: &[RawFd]) -> std::io::Result<()> {
    let mut from: libc::c_uint = 3;
    // `keep` is small: walk it in order, closing the gaps between its members.
    let mut last: Option<RawFd> = None;
    loop {
        let next = keep
            .iter()
            .copied()
            .filter(|&fd| fd >= 3 && last.is_none_or(|l| fd > l))
            .min();
        let to = match next {
            Some(fd) => fd as libc::c_uint,
            None => libc::c_uint::MAX,
        };
        if to > from {
            // SAFETY: close_range on our own descriptor table, marking only (Linux 5.11).
            let r =
                unsafe { libc::syscall(libc::SYS_close_range, from, to - 1, CLOSE_RANGE_CLOEXEC) };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        match next {
            Some(fd) => {
                from = fd as libc::c_uint + 1;
                last = Some(fd);
            }
            None => return Ok(()),
        }
    }
}
