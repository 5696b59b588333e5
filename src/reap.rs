//! Waiting for the helper processes nestbox starts (the nested X server, the sound helper) once
//! they have been told to stop.

use std::process::Child;
use std::time::{Duration, Instant};

/// Wait up to `timeout` for `child`, already told to stop, then kill it; reaped either way.
pub(crate) fn wait_or_kill(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            _ => return,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
