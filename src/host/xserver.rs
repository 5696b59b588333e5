//! Facts about the host's X servers that a nested display needs: how big the user's monitor is
//! (asked over X with xcb), and which display numbers have an abstract socket on the host.

/// The size of the primary monitor of `display` (RandR 1.5), or of its root window when the
/// server has no monitor list. Uses the caller's XAUTHORITY, like any X client.
pub fn monitor_size(display: &str) -> Result<(u16, u16), String> {
    let (conn, screen) = quiet_connect(display)?;
    let root = conn
        .get_setup()
        .roots()
        .nth(usize::try_from(screen).unwrap_or(0))
        .ok_or("the server has no screens")?;
    let root_size = (root.width_in_pixels(), root.height_in_pixels());
    let cookie = conn.send_request(&xcb::randr::GetMonitors {
        window: root.root(),
        get_active: true,
    });
    let Ok(reply) = conn.wait_for_reply(cookie) else {
        return Ok(root_size);
    };
    let monitors: Vec<_> = reply.monitors().collect();
    Ok(monitors
        .iter()
        .find(|m| m.primary())
        .or(monitors.first())
        .map_or(root_size, |m| (m.width(), m.height())))
}

/// Whether libxcb can be loaded. nestbox opens it with dlopen, only when it talks to an X server
/// itself (a nested display's size and clipboard): every other launch, join and `ps` goes without
/// its five libraries. Without it, the xcb crate would panic at the first connection.
pub fn libxcb() -> Result<(), String> {
    // SAFETY: loading libxcb runs no initialisation code of its own beyond the C library's.
    unsafe { libloading::Library::new("libxcb.so.1") }
        .map(drop)
        .map_err(|_| "libxcb is not installed (apt install libxcb1)".to_string())
}

/// Connect to `display`. libxcb writes a refusing server's reason ("Authorization required...")
/// straight to fd 2; catch it in a memfd for the error line instead of letting it reach the user's
/// terminal. nestbox is single-threaded, so nothing else writes to fd 2 meanwhile.
fn quiet_connect(display: &str) -> Result<(xcb::Connection, i32), String> {
    use std::io::{Read, Seek};
    libxcb()?;
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: memfd_create with a valid name; dup and dup2 on valid descriptors, restored below.
    let (catcher, saved) = unsafe {
        let fd = libc::memfd_create(c"nestbox-xcb-stderr".as_ptr(), libc::MFD_CLOEXEC);
        let saved = libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3);
        if fd < 0 || saved < 0 {
            return xcb::Connection::connect(Some(display)).map_err(|e| e.to_string());
        }
        libc::dup2(fd, 2);
        (
            std::fs::File::from_raw_fd(fd),
            std::fs::File::from_raw_fd(saved),
        )
    };
    let result = xcb::Connection::connect(Some(display));
    // SAFETY: puts the original stderr back.
    unsafe { libc::dup2(saved.as_raw_fd(), 2) };
    result.map_err(|e| {
        let mut said = String::new();
        let mut catcher = catcher;
        let _ = catcher.rewind();
        let _ = catcher.read_to_string(&mut said);
        match said.trim() {
            "" => format!("cannot connect: {e}"),
            reason => format!("cannot connect: {reason}"),
        }
    })
}

/// The display numbers with an abstract socket `@/tmp/.X11-unix/XN`, from the text of
/// /proc/net/unix (which lists the sockets of the reader's network namespace).
pub fn abstract_displays(proc_net_unix: &str) -> Vec<u32> {
    let mut found: Vec<u32> = proc_net_unix
        .lines()
        .filter_map(|line| line.split_whitespace().nth(7))
        .filter_map(|name| name.strip_prefix("@/tmp/.X11-unix/X"))
        .filter_map(|n| n.parse().ok())
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstract_listeners_are_read_from_proc_net_unix() {
        let text = "\
Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 538143 /tmp/.X11-unix/X0
0000000000000000: 00000002 00000000 00010000 0001 01 538142 @/tmp/.X11-unix/X0
0000000000000000: 00000003 00000000 00000000 0001 03 539025 @/tmp/.X11-unix/X0
0000000000000000: 00000002 00000000 00010000 0001 01 538150 @/tmp/.X11-unix/X12
0000000000000000: 00000003 00000000 00000000 0001 03  1617
0000000000000000: 00000002 00000000 00010000 0001 01 538151 @/tmp/.X11-unix/Xfoo
0000000000000000: 00000002 00000000 00010000 0001 01 538152 @/tmp/.ICE-unix/44
";
        assert_eq!(abstract_displays(text), [0, 12]);
        assert_eq!(abstract_displays(""), Vec::<u32>::new());
    }
}
