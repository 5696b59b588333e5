//! Facts about this machine and this user: ids, names, XDG directories, the environment and the
//! Xauthority file. Parsers are pure ([`parse_display`], [`parse_xauthority`]); probing is thin and
//! reads only what the profile needs.

mod audio;
mod display;
mod fs;
pub mod gpu;
pub mod landlock;
mod xauth;
mod xserver;

pub use audio::{find_pulse_server, PulseServer, PulseServerError};
pub use display::{parse_display, Display, DisplayError};
pub use fs::{push_parts, FakeFs, FileKind, HostFs, RealFs};
pub use gpu::GpuHost;
pub use xauth::{
    find_cookie, parse_xauthority, wildcard_copy, write_xauthority, XauthEntry, XauthError,
    FAMILY_LOCAL, FAMILY_WILD, MIT_MAGIC_COOKIE,
};
pub use xserver::{abstract_displays, libxcb};

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot find user {uid} in the user database")]
    NoUser { uid: u32 },
    #[error("cannot find the home directory: HOME must be an absolute path other than /, without . or .. (and the user database has none)")]
    NoHome,
}

/// The Xauthority file as found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XauthorityFile {
    pub path: PathBuf,
    /// Its bytes, or why it could not be read.
    pub contents: Result<Vec<u8>, String>,
}

/// What the planner may know of the host, besides its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub group: String,
    pub home: PathBuf,
    pub shell: String,
    pub hostname: String,
    pub data_home: PathBuf,
    pub config_home: PathBuf,
    /// The caller's environment.
    pub env: BTreeMap<String, String>,
    /// Read only for profiles that share the host display.
    pub xauthority: Option<XauthorityFile>,
    /// Whether Landlock can scope abstract Unix sockets and signals (ABI 6 and later).
    pub landlock_scopes: bool,
    /// The kernel's Landlock ABI version (0 without Landlock): which file rights it can enforce.
    pub landlock_abi: u32,
    /// The host monitor's size, or why it could not be asked; read only for a nested display that
    /// fits the screen.
    pub monitor: Option<Result<(u16, u16), String>>,
    /// Display numbers with an abstract socket in the host's network namespace; read only for a
    /// nested display that shares the network.
    pub abstract_displays: Vec<u32>,
    /// The host's graphics devices and driver files; read only for a profile with a GPU mode.
    pub gpu: Option<gpu::GpuHost>,
    /// The running nestbox, which no sandbox may write.
    pub exe: Option<PathBuf>,
    /// The host's memory (MemTotal), in bytes, where /proc/meminfo says.
    pub memory: Option<u64>,
    /// Whether RLIMIT_NPROC counts a user namespace's processes on their own (Linux 5.14 and
    /// later); before, it counts every process of the user's, the host's included.
    pub nproc_per_namespace: bool,
}

/// MemTotal of /proc/meminfo's text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let n: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(n * 1024)
}

/// The running kernel's release (uname -r).
fn kernel_release() -> String {
    // SAFETY: utsname is plain data, filled by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: uname NUL-terminates the field.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Whether a kernel release ("6.1.0-18-amd64") is `major.minor` or later.
pub fn release_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let a: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let b: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (a, b) >= (major, minor)
}

/// A home the sandbox can mount its own over: absolute, normal, and not the root itself.
fn usable_home(p: &std::path::Path) -> bool {
    use std::path::Component;
    p.is_absolute()
        && p.components().count() > 1
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        && !p.to_string_lossy().contains("/./")
}

impl HostFacts {
    /// Look at this process's user and environment.
    pub fn probe() -> Result<HostFacts, HostError> {
        use nix::unistd::{getgid, getuid, Group, User};
        let (uid, gid) = (getuid(), getgid());
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let user = User::from_uid(uid)
            .ok()
            .flatten()
            .ok_or(HostError::NoUser { uid: uid.as_raw() })?;
        let group = Group::from_gid(gid)
            .ok()
            .flatten()
            .map_or_else(|| gid.to_string(), |g| g.name);
        let home = env
            .get("HOME")
            .map(PathBuf::from)
            .filter(|p| usable_home(p))
            .or_else(|| Some(user.dir.clone()).filter(|p| usable_home(p)))
            .ok_or(HostError::NoHome)?;
        let xdg = |var: &str, default: &str| {
            env.get(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        let landlock_abi = landlock::abi();
        let hostname = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default();
        Ok(HostFacts {
            uid: uid.as_raw(),
            gid: gid.as_raw(),
            user: user.name,
            group,
            data_home: xdg("XDG_DATA_HOME", ".local/share"),
            config_home: xdg("XDG_CONFIG_HOME", ".config"),
            shell: user.shell.to_string_lossy().into_owned(),
            home,
            hostname,
            env,
            xauthority: None,
            landlock_scopes: landlock_abi >= landlock::SCOPES_ABI,
            landlock_abi,
            monitor: None,
            abstract_displays: Vec::new(),
            gpu: None,
            exe: std::env::current_exe().ok(),
            memory: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|t| parse_meminfo(&t)),
            nproc_per_namespace: release_at_least(&kernel_release(), 5, 14),
        })
    }

    /// Ask the host's X server (`$DISPLAY`) for its monitor's size.
    pub fn read_monitor(&mut self) {
        let result = match self.env.get("DISPLAY").filter(|d| !d.is_empty()) {
            Some(d) => xserver::monitor_size(d)
                .map_err(|e| format!("cannot ask display {d} for its size: {e}")),
            None => Err("DISPLAY is not set".into()),
        };
        self.monitor = Some(result);
    }

    /// Read the abstract X sockets of the host's network namespace.
    pub fn read_abstract_displays(&mut self) {
        let text = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
        self.abstract_displays = xserver::abstract_displays(&text);
    }

    /// Read `$XAUTHORITY` (or `~/.Xauthority`) into the facts.
    pub fn read_xauthority(&mut self) {
        let path = self
            .env
            .get("XAUTHORITY")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.join(".Xauthority"));
        let contents = std::fs::read(&path).map_err(|e| e.to_string());
        self.xauthority = Some(XauthorityFile { path, contents });
    }
}
