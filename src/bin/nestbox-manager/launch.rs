//! Starting a sandbox: a `nestbox run NAME` process, which the manager waits for off the main
//! loop. nestbox's own failures (exit 125, 126, 127) come back as its one line on stderr.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The nestbox binary beside this one (installed together, or the same cargo build), else the
/// one on PATH.
pub fn nestbox_exe() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("nestbox")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("nestbox"))
}

/// How a launch ended.
#[derive(Debug, Clone)]
pub enum Ended {
    /// The app ran (and exited with whatever status it chose).
    Ran,
    /// nestbox did not start it: its line.
    Failed(String),
}

/// Run profile `name` and wait for it to end. The app's own output still reaches its log; this
/// keeps only nestbox's last line.
pub fn run(nestbox: &Path, name: &str) -> Ended {
    let child = Command::new(nestbox)
        .arg("run")
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Ended::Failed(format!("cannot start {}: {e}", nestbox.display())),
    };
    let mut last = None;
    if let Some(err) = child.stderr.take() {
        let mut reader = BufReader::new(err);
        let mut line = Vec::new();
        // Lines are read whole but kept only when nestbox wrote them, at most 4 KiB of each.
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line[..line.len().min(4096)]);
            if let Some(rest) = text.trim_end().strip_prefix("nestbox: ") {
                last = Some(rest.to_string());
            }
            line.clear();
        }
    }
    match child.wait().map(|s| s.code()) {
        Ok(Some(125..=127)) => {
            Ended::Failed(last.unwrap_or_else(|| "nestbox could not start it".to_string()))
        }
        Ok(_) => Ended::Ran,
        Err(e) => Ended::Failed(e.to_string()),
    }
}

/// The command line that runs `name`, for the profile page.
pub fn command_line(name: &str) -> String {
    format!("nestbox run {name}")
}
