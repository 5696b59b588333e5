//! Where the user's PulseAudio server listens, found the way libpulse finds it: `PULSE_SERVER`,
//! then `default-server` in client.conf, then the per-user socket in the runtime directory, then
//! the system-wide one. PipeWire's pulse server listens at the same places and counts the same.
//! Pure over [`HostFs`]: the caller's environment and files are all it reads.
//!
//! Not read: the `PULSE_SERVER` property some desktops put on the X root window (it names the same
//! per-user socket there). Network servers (`tcp:host:4713`) are not passed into a sandbox.

use super::HostFs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// libpulse's system-wide socket (`--system` daemons).
const SYSTEM_SOCKET: &str = "/var/run/pulse/native";

/// A PulseAudio server on a Unix socket, and how it was found (for `explain`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PulseServer {
    pub socket: PathBuf,
    pub found_by: String,
}

/// Why no server could be used; the text completes "audio = \"pulse\": ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PulseServerError {
    #[error("{source_name} names {servers:?}, but no entry is a Unix socket that exists here (nestbox passes only a local unix: server into a sandbox)")]
    NoLocalEntry {
        source_name: String,
        servers: String,
    },
    #[error("no PulseAudio server is running: nothing listens at {} (and PULSE_SERVER and client.conf name no server)", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" or "))]
    NotRunning { tried: Vec<PathBuf> },
}

/// Find the server as a client of the caller's would.
pub fn find_pulse_server(
    env: &BTreeMap<String, String>,
    home: &Path,
    config_home: &Path,
    fs: &dyn HostFs,
) -> Result<PulseServer, PulseServerError> {
    let named = env
        .get("PULSE_SERVER")
        .filter(|s| !s.trim().is_empty())
        .map(|s| (s.clone(), "PULSE_SERVER".to_string()))
        .or_else(|| configured_server(env, home, config_home, fs));
    if let Some((servers, source_name)) = named {
        return first_local(&servers, fs)
            .map(|socket| PulseServer {
                socket,
                found_by: format!("{source_name} ({servers})"),
            })
            .ok_or(PulseServerError::NoLocalEntry {
                source_name,
                servers,
            });
    }
    let runtime = env
        .get("PULSE_RUNTIME_PATH")
        .filter(|p| p.starts_with('/'))
        .map(PathBuf::from)
        .or_else(|| {
            env.get("XDG_RUNTIME_DIR")
                .filter(|p| p.starts_with('/'))
                .map(|p| Path::new(p).join("pulse"))
        });
    let tried: Vec<PathBuf> = runtime
        .map(|r| r.join("native"))
        .into_iter()
        .chain([PathBuf::from(SYSTEM_SOCKET)])
        .collect();
    tried
        .iter()
        .find(|p| fs.stat(p) == super::FileKind::Socket)
        .map(|socket| PulseServer {
            socket: socket.clone(),
            found_by: if socket.as_path() == Path::new(SYSTEM_SOCKET) {
                "the system-wide socket".into()
            } else {
                "the runtime directory".into()
            },
        })
        .ok_or(PulseServerError::NotRunning { tried })
}

/// `default-server` from the client configuration libpulse would read: `$PULSE_CLIENTCONFIG`, else
/// the user's file, else the system's, each followed by its `.d` directory's `*.conf` files.
fn configured_server(
    env: &BTreeMap<String, String>,
    home: &Path,
    config_home: &Path,
    fs: &dyn HostFs,
) -> Option<(String, String)> {
    let candidates: Vec<PathBuf> = match env.get("PULSE_CLIENTCONFIG") {
        Some(p) if p.starts_with('/') => vec![PathBuf::from(p)],
        _ => vec![
            config_home.join("pulse/client.conf"),
            home.join(".pulse/client.conf"),
            PathBuf::from("/etc/pulse/client.conf"),
        ],
    };
    let file = candidates.into_iter().find(|p| fs.stat(p).exists())?;
    let mut found = fs
        .read_text(&file)
        .and_then(|t| default_server(&t))
        .map(|s| (s, file.display().to_string()));
    let dir = PathBuf::from(format!("{}.d", file.display()));
    let mut drop_ins: Vec<PathBuf> = fs
        .list(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".conf"))
        .map(|n| dir.join(n))
        .collect();
    drop_ins.sort();
    for d in drop_ins {
        if let Some(s) = fs.read_text(&d).and_then(|t| default_server(&t)) {
            found = Some((s, d.display().to_string()));
        }
    }
    found
}

/// The last `default-server = ...` of a client.conf text.
fn default_server(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.starts_with(['#', ';']))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == "default-server")
        .map(|(_, v)| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// The first entry of a server list that is a Unix socket present here: `unix:/path` or
/// `/path`, each possibly after a `{machine}` prefix; `tcp:`, `tcp6:` and host names are skipped.
fn first_local(servers: &str, fs: &dyn HostFs) -> Option<PathBuf> {
    servers.split_whitespace().find_map(|entry| {
        let entry = match entry.strip_prefix('{') {
            Some(rest) => rest.split_once('}')?.1,
            None => entry,
        };
        let path = entry.strip_prefix("unix:").unwrap_or(entry);
        (path.starts_with('/') && fs.stat(Path::new(path)) == super::FileKind::Socket)
            .then(|| PathBuf::from(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{FakeFs, FileKind};

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
    fn find(e: &[(&str, &str)], fs: &FakeFs) -> Result<PulseServer, PulseServerError> {
        find_pulse_server(
            &env(e),
            Path::new("/home/ann"),
            Path::new("/home/ann/.config"),
            fs,
        )
    }
    const RT: (&str, &str) = ("XDG_RUNTIME_DIR", "/run/user/1000");

    #[test]
    fn the_runtime_directory_socket_by_default() {
        let fs = FakeFs::new().with("/run/user/1000/pulse/native", FileKind::Socket);
        let s = find(&[RT], &fs).unwrap();
        assert_eq!(s.socket, Path::new("/run/user/1000/pulse/native"));
        assert_eq!(s.found_by, "the runtime directory");
        // PULSE_RUNTIME_PATH moves it, as libpulse does.
        let fs = FakeFs::new().with("/srv/pa/native", FileKind::Socket);
        let s = find(&[RT, ("PULSE_RUNTIME_PATH", "/srv/pa")], &fs).unwrap();
        assert_eq!(s.socket, Path::new("/srv/pa/native"));
    }

    #[test]
    fn the_system_socket_last() {
        let fs = FakeFs::new().with("/var/run/pulse/native", FileKind::Socket);
        let s = find(&[RT], &fs).unwrap();
        assert_eq!(s.socket, Path::new("/var/run/pulse/native"));
        assert_eq!(s.found_by, "the system-wide socket");
    }

    #[test]
    fn nothing_running_names_the_paths_tried() {
        let fs = FakeFs::new().with("/run/user/1000/pulse/native", FileKind::File);
        let e = find(&[RT], &fs).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no PulseAudio server is running: nothing listens at /run/user/1000/pulse/native or \
             /var/run/pulse/native (and PULSE_SERVER and client.conf name no server)"
        );
    }

    #[test]
    fn pulse_server_first_local_entry_wins() {
        let fs = FakeFs::new()
            .with("/run/user/1000/pulse/native", FileKind::Socket)
            .with("/tmp/pa.sock", FileKind::Socket);
        let servers = "tcp:media:4713 {abc123}unix:/missing /tmp/pa.sock";
        let s = find(&[RT, ("PULSE_SERVER", servers)], &fs).unwrap();
        assert_eq!(s.socket, Path::new("/tmp/pa.sock"));
        assert_eq!(s.found_by, format!("PULSE_SERVER ({servers})"));
        let s = find(&[RT, ("PULSE_SERVER", "{m}unix:/tmp/pa.sock")], &fs).unwrap();
        assert_eq!(s.socket, Path::new("/tmp/pa.sock"));
    }

    #[test]
    fn a_network_server_is_refused_with_its_source() {
        let fs = FakeFs::new().with("/run/user/1000/pulse/native", FileKind::Socket);
        let e = find(&[RT, ("PULSE_SERVER", "tcp:media:4713")], &fs).unwrap_err();
        assert_eq!(
            e.to_string(),
            "PULSE_SERVER names \"tcp:media:4713\", but no entry is a Unix socket that exists \
             here (nestbox passes only a local unix: server into a sandbox)"
        );
    }

    #[test]
    fn client_conf_user_file_over_system_file_and_drop_ins_last() {
        let sys = FakeFs::new()
            .with("/run/pa-a", FileKind::Socket)
            .with("/run/pa-b", FileKind::Socket)
            .with("/run/pa-c", FileKind::Socket)
            .with("/run/user/1000/pulse/native", FileKind::Socket)
            .with_text(
                "/etc/pulse/client.conf",
                "; comment\n# default-server = /run/pa-c\ndefault-server = unix:/run/pa-a\n",
            );
        let s = find(&[RT], &sys).unwrap();
        assert_eq!(s.socket, Path::new("/run/pa-a"));
        assert_eq!(s.found_by, "/etc/pulse/client.conf (unix:/run/pa-a)");

        let with_drop_in = sys
            .clone()
            .with_text(
                "/etc/pulse/client.conf.d/01-x.conf",
                "default-server=/run/pa-c",
            )
            .with_text(
                "/etc/pulse/client.conf.d/00-y.conf",
                "default-server=/run/pa-b",
            )
            .with_text("/etc/pulse/client.conf.d/99-z.txt", "default-server=/nope");
        let s = find(&[RT], &with_drop_in).unwrap();
        assert_eq!(s.socket, Path::new("/run/pa-c"));

        // The user's file replaces the system's (its own .d would follow it).
        let user = sys
            .clone()
            .with_text("/home/ann/.config/pulse/client.conf", "autospawn = no\n");
        let s = find(&[RT], &user).unwrap();
        assert_eq!(s.socket, Path::new("/run/user/1000/pulse/native"));

        // PULSE_CLIENTCONFIG replaces both; PULSE_SERVER beats any file.
        let s = find(
            &[RT, ("PULSE_CLIENTCONFIG", "/etc/pulse/client.conf")],
            &user,
        )
        .unwrap();
        assert_eq!(s.socket, Path::new("/run/pa-a"));
        let s = find(&[RT, ("PULSE_SERVER", "/run/pa-b")], &sys).unwrap();
        assert_eq!(s.socket, Path::new("/run/pa-b"));
    }
}
