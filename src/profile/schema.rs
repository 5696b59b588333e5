//! The TOML schema of one profile file, as written by a person. Nothing here is merged or checked
//! against other files; `validate` checks what one file can get wrong on its own.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One profile file, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub description: Option<String>,
    /// The app's installed desktop entry (`firefox-esr.desktop`), for `nestbox desktop install`.
    pub desktop_entry: Option<Spanned<String>>,
    #[serde(default)]
    pub extends: Vec<Spanned<String>>,
    #[serde(default)]
    pub run: RawRun,
    #[serde(default)]
    pub sandbox: RawSandbox,
    #[serde(default)]
    pub nested: RawNested,
    #[serde(default)]
    pub audio: RawAudio,
    #[serde(default)]
    pub filesystem: RawFilesystem,
    #[serde(default)]
    pub seccomp: RawSeccomp,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub command: Option<Spanned<Vec<String>>>,
    pub cwd: Option<Spanned<String>>,
    #[serde(default)]
    pub pass_env: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    pub hostname: Option<Spanned<String>>,
    pub network: Option<Network>,
    pub x11: Option<X11>,
    pub wayland: Option<bool>,
    pub allow_host_abstract_sockets: Option<bool>,
    pub audio: Option<Audio>,
    pub gpu: Option<Gpu>,
    /// Never granted: read only to say so where it was written.
    pub capabilities: Option<Spanned<toml::Value>>,
    pub home: Option<Home>,
    pub session_bus: Option<SessionBus>,
    pub shared_files: Option<SharedFiles>,
    /// Each tmpfs inside at most this big: "512M", "2G", or a share of the host's memory, "10%".
    pub tmpfs_size: Option<Spanned<String>>,
    /// Processes (and threads) the sandbox may have at once.
    pub max_processes: Option<Spanned<u64>>,
    pub sys: Option<bool>,
    pub opt: Option<bool>,
}

/// `[audio]`: what a sandbox with sound may ask of the sound server beyond playing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudio {
    /// Record from any source: microphones, and the monitors of sinks (what other apps play).
    pub record: Option<bool>,
    /// Change the volume and mute of the user's sinks and sources, not only of its own streams.
    pub device_volume: Option<bool>,
}

/// `[nested]`: the Xephyr display of `x11 = "nested"`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNested {
    /// `"WIDTHxHEIGHT"` or `"fit"`.
    pub size: Option<Spanned<String>>,
    /// A window manager run inside, on the nested display, before the app.
    pub window_manager: Option<Spanned<Vec<String>>>,
    pub clipboard: Option<Clipboard>,
}

/// Which way text copied to the CLIPBOARD crosses between the host display and a nested one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clipboard {
    /// Not at all: the nested display's clipboard is its own.
    #[default]
    None,
    /// From the host into the sandbox (paste in).
    In,
    /// From the sandbox to the host (copy out).
    Out,
    Both,
}

/// `[seccomp]`: changes to the system calls refused by default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeccomp {
    /// System calls to allow although refused by default.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// More system calls to refuse.
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// Let the app make new user namespaces (browsers build their own sandboxes with them).
    pub user_namespaces: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilesystem {
    #[serde(default)]
    pub ro: Vec<Spanned<String>>,
    #[serde(default)]
    pub rw: Vec<Spanned<String>>,
    #[serde(default)]
    pub dev: Vec<Spanned<String>>,
}

/// Whether the sandbox shares the host's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The host's network: interfaces, routes, and abstract Unix sockets.
    Shared,
    /// A new network namespace with only a loopback interface.
    None,
}

/// How the sandbox reaches an X11 display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum X11 {
    /// The host's $DISPLAY: its socket bound read-only and a wildcard cookie.
    Host,
    /// A Xephyr window on the host display, with a server and cookie of the sandbox's own.
    Nested,
    /// No X socket and no DISPLAY.
    None,
}

/// Whether the sandbox can play and record sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audio {
    /// The user's PulseAudio server (PipeWire's counts), through a socket of the sandbox's own;
    /// the launch stops when there is none.
    Pulse,
    /// The same when a server runs; otherwise no sound, and the app starts anyway.
    Auto,
    /// No sound server socket and no sound devices.
    None,
}

/// Which graphics devices the sandbox gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gpu {
    /// Whatever the host has: its DRI nodes and its NVIDIA devices, none when it has none.
    Auto,
    /// The DRI render and card nodes, with the /sys entries Mesa reads.
    Dri,
    /// The NVIDIA device nodes, /sys/module/nvidia*, and driver files the sandbox would not see.
    Nvidia,
    /// No graphics device: software rendering only.
    None,
}

/// "a, b or c".
fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `FromStr` for a mode the command line can override, by the names the profile uses.
macro_rules! from_str_by_serde_name {
    ($ty:ty, $what:literal, [$($name:literal => $v:expr),+]) => {
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<$ty, String> {
                match s {
                    $($name => Ok($v),)+
                    _ => Err(format!(concat!("{:?} is not ", $what, " ({})"), s, one_of(&[$($name),+]))),
                }
            }
        }
    };
}
from_str_by_serde_name!(X11, "an X11 mode", ["host" => X11::Host, "nested" => X11::Nested, "none" => X11::None]);
from_str_by_serde_name!(Audio, "an audio mode", ["pulse" => Audio::Pulse, "auto" => Audio::Auto, "none" => Audio::None]);
from_str_by_serde_name!(Gpu, "a GPU mode", ["auto" => Gpu::Auto, "dri" => Gpu::Dri, "nvidia" => Gpu::Nvidia, "none" => Gpu::None]);

/// The D-Bus session bus inside the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionBus {
    /// None: DBUS_SESSION_BUS_ADDRESS says "disabled:".
    None,
    /// A dbus-daemon of the sandbox's own, started before the app: single-instance apps (Firefox,
    /// GTK apps) find their running instance there, never one of the host's.
    Private,
}

/// How a file handed to a launch (`--share-files`, as desktop launchers pass documents) is
/// bound into the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SharedFiles {
    /// The app can read it (viewers, players): a document opened from a launcher cannot be
    /// changed by the app that opens it.
    ReadOnly,
    /// The app can save it too (editors).
    ReadWrite,
}

/// What backs the sandbox's home directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Home {
    /// `$XDG_DATA_HOME/nestbox/homes/PROFILE`, kept between launches.
    Persistent,
    /// A fresh tmpfs, gone when the sandbox ends.
    Tmpfs,
}
