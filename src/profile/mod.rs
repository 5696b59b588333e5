//! Profiles: read TOML files, resolve `extends`, validate, and hand out one merged [`Profile`].
//! This module touches nothing but the profile files; what the host has is `host`'s business.

mod edit;
mod error;
mod resolve;
mod schema;
mod validate;

pub use edit::{EditError, ProfileEdit};
pub use error::{Location, ProfileError};
pub use resolve::{ProfileEntry, SearchPath, SourceKind};
pub use schema::{Audio, Clipboard, Gpu, Home, Network, SessionBus, SharedFiles, X11};

#[cfg(test)]
#[test]
fn tmpfs_sizes_read_as_written() {
    assert_eq!(parse_tmpfs_size("512M"), Ok(TmpfsSize::Bytes(512 << 20)));
    assert_eq!(parse_tmpfs_size("2G"), Ok(TmpfsSize::Bytes(2 << 30)));
    assert_eq!(parse_tmpfs_size("10%"), Ok(TmpfsSize::Percent(10)));
    for bad in ["", "M", "1T", "0%", "101%", "12K", "-1G", "1.5G"] {
        assert!(parse_tmpfs_size(bad).is_err(), "{bad:?}");
    }
}
pub use validate::{managed_env, parse_size, NESTED_SIZE_RANGE};

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A path as a profile names it: absolute, or under the user's home (`~/...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfilePath {
    Absolute(PathBuf),
    /// Relative to the home directory; empty for `~` itself.
    Home(PathBuf),
}

impl std::fmt::Display for ProfilePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProfilePath::Absolute(p) => write!(f, "{}", p.display()),
            ProfilePath::Home(p) if p.as_os_str().is_empty() => write!(f, "~"),
            ProfilePath::Home(p) => write!(f, "~/{}", p.display()),
        }
    }
}

/// How a bind is mounted inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    ReadOnly,
    ReadWrite,
    /// Read-write with device nodes usable.
    Device,
}

/// The origin of the binds `--share-files` adds: files whose path nestbox walked without
/// following links a sandbox could have planted, bound as they are (never resolved again).
pub const SHARED_FILE_ORIGIN: &str = "--share-files";

/// One `[filesystem]` entry: `?src[:dst]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindSpec {
    pub src: ProfilePath,
    pub dst: ProfilePath,
    pub access: Access,
    /// Skipped when the source is missing (written with a leading `?`).
    pub optional: bool,
    /// Where the entry was written, `file:line:column`.
    #[serde(serialize_with = "serialize_display")]
    pub origin: Location,
}

impl BindSpec {
    /// Whether `--share-files` added it.
    pub fn is_shared_file(&self) -> bool {
        self.origin.path.as_os_str() == SHARED_FILE_ORIGIN
    }
}

fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The size of a nested display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NestedSize {
    /// Nine tenths of the host's (primary) monitor each way.
    #[default]
    Fit,
    Fixed {
        width: u16,
        height: u16,
    },
}

/// `[nested]`, merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Nested {
    pub size: NestedSize,
    /// Program and arguments of a window manager started inside before the app.
    pub window_manager: Option<Vec<String>>,
    pub clipboard: Clipboard,
}

/// `[seccomp]`, merged: a later file's `allow` takes a name off the earlier `deny`s, and the other
/// way round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Seccomp {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub user_namespaces: bool,
}

/// `[audio]`: what a sandbox with sound may ask beyond playing its own streams; both off unless a
/// profile says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AudioAccess {
    /// Record from any source, the monitors of sinks (what other apps play) included.
    pub record: bool,
    /// Change the volume and mute of the user's sinks and sources.
    pub device_volume: bool,
}

/// A profile with everything it extends merged in, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    /// The file this profile was loaded from.
    pub source: PathBuf,
    /// Every file merged into it, in the order applied (parents first, the profile's own last).
    pub files: Vec<PathBuf>,
    pub description: Option<String>,
    /// The file name of the app's installed desktop entry, which `nestbox desktop install` takes
    /// the launcher's name, icon and types from (instead of looking for one by program).
    pub desktop_entry: Option<String>,
    /// Program and fixed arguments; none for an abstraction.
    pub command: Option<Vec<String>>,
    pub cwd: Option<ProfilePath>,
    pub pass_env: Vec<String>,
    pub hostname: Option<String>,
    pub network: Network,
    pub x11: X11,
    /// The size and window manager of a nested display.
    pub nested: Nested,
    /// The host's Wayland socket bound in, WAYLAND_DISPLAY set.
    pub wayland: bool,
    /// Start even where Landlock cannot keep the host's abstract Unix sockets out of reach.
    pub allow_host_abstract_sockets: bool,
    pub audio: Audio,
    /// What a sandbox with sound may do beyond playing.
    pub audio_access: AudioAccess,
    pub gpu: Gpu,
    pub home: Home,
    pub session_bus: SessionBus,
    /// How files handed to a launch with --share-files are bound.
    pub shared_files: SharedFiles,
    /// Each tmpfs inside at most this big.
    pub tmpfs_size: TmpfsSize,
    /// Processes and threads the sandbox may have at once.
    pub max_processes: u64,
    pub sys: bool,
    pub opt: bool,
    pub binds: Vec<BindSpec>,
    pub env: BTreeMap<String, String>,
    pub seccomp: Seccomp,
}

impl Profile {
    /// The defaults every profile starts from: no network, no display, no sound, no GPU, a
    /// persistent home.
    pub fn empty(name: &str, source: PathBuf) -> Profile {
        Profile {
            name: name.to_string(),
            source,
            files: Vec::new(),
            description: None,
            desktop_entry: None,
            command: None,
            cwd: None,
            pass_env: Vec::new(),
            hostname: None,
            network: Network::None,
            x11: X11::None,
            nested: Nested::default(),
            wayland: false,
            allow_host_abstract_sockets: false,
            audio: Audio::None,
            audio_access: AudioAccess::default(),
            gpu: Gpu::None,
            home: Home::Persistent,
            session_bus: SessionBus::None,
            shared_files: SharedFiles::ReadOnly,
            tmpfs_size: TmpfsSize::default(),
            max_processes: DEFAULT_MAX_PROCESSES,
            sys: false,
            opt: false,
            binds: Vec::new(),
            env: BTreeMap::new(),
            seccomp: Seccomp::default(),
        }
    }
}

/// Whether `id` may name a desktop entry: a file name ending in `.desktop`, of letters, digits,
/// `-`, `_` and `.`, not hidden.
pub fn valid_desktop_id(id: &str) -> bool {
    id.len() > ".desktop".len()
        && id.len() <= 255
        && id.ends_with(".desktop")
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// How big each tmpfs inside may grow: a fixed size, or a share of the host's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TmpfsSize {
    Bytes(u64),
    /// Percent of the host's memory (MemTotal).
    Percent(u8),
}

impl Default for TmpfsSize {
    /// An eighth of the host's memory each: the four a sandbox can write (/tmp, /dev/shm,
    /// $XDG_RUNTIME_DIR, a tmpfs home) fill at most half of it together, where the kernel's
    /// default (half of it each) lets three of them exceed it.
    fn default() -> TmpfsSize {
        TmpfsSize::Percent(12)
    }
}

/// Processes and threads a sandbox may have by default: room for a browser with many tabs (each
/// renderer runs a few dozen threads), not for a fork bomb to use up the user's.
pub const DEFAULT_MAX_PROCESSES: u64 = 4096;

/// `tmpfs_size` as written: `N`, `NK`, `NM`, `NG` (powers of 1024) or `N%` of the host's memory.
pub fn parse_tmpfs_size(s: &str) -> Result<TmpfsSize, String> {
    let bad = || {
        format!("tmpfs_size {s:?} must be a size such as \"512M\" or \"2G\", or a share of memory such as \"10%\"")
    };
    let t = s.trim();
    if let Some(p) = t.strip_suffix('%') {
        let p: u8 = p.parse().map_err(|_| bad())?;
        return if (1..=100).contains(&p) {
            Ok(TmpfsSize::Percent(p))
        } else {
            Err(format!("tmpfs_size {s:?}: a share must be 1% to 100%"))
        };
    }
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let unit: u64 = match unit {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => return Err(bad()),
    };
    match n.checked_mul(unit) {
        Some(b) if b >= 1 << 20 => Ok(TmpfsSize::Bytes(b)),
        _ => Err(format!("tmpfs_size {s:?}: at least 1M")),
    }
}

/// Whether `name` may name a profile (it becomes a file name and a directory name, and a word on
/// a launcher's command line: never an option).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
pub(crate) mod tests;
