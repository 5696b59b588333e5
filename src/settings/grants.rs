//! What an app can see and do outside its sandbox, one line a grant, the risky ones marked: the
//! top of a profile's page and the columns of the manager's overview.

use crate::profile::{
    Access, Audio, Clipboard, Gpu, Home, Network, Profile, ProfilePath, SessionBus, X11,
};

/// One thing a profile lets its app reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The host's X display: it can read and type into every other window on it.
    HostDisplay,
    /// A nested display of its own, and which way text crosses the clipboard.
    NestedDisplay(Clipboard),
    Wayland,
    /// The host's network, its abstract sockets included.
    Network,
    /// The whole home folder.
    WholeHome {
        writable: bool,
    },
    /// Folders of the host, as the profile writes them.
    Folders {
        read_only: Vec<String>,
        writable: Vec<String>,
    },
    /// Playing sound (through nestbox's filtering proxy).
    Sound,
    /// Recording from microphones and what other apps play.
    Microphone,
    /// The volume of the user's speakers and microphones.
    DeviceVolume,
    Gpu,
    /// Making user namespaces (a browser's own sandbox; more of the kernel to attack).
    UserNamespaces,
    /// A session bus of its own inside.
    SessionBus,
    /// Its home is thrown away when it ends.
    ThrowAwayHome,
}

/// A grant, whether it is one to weigh, and the setting that grants it (for a link to its row:
/// a setting id, or `filesystem` for the folders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantLine {
    pub grant: Grant,
    pub risky: bool,
    pub setting: &'static str,
}

fn line(grant: Grant, risky: bool, setting: &'static str) -> GrantLine {
    GrantLine {
        grant,
        risky,
        setting,
    }
}

/// What `p` grants, the risky first.
pub fn grants(p: &Profile) -> Vec<GrantLine> {
    let mut out = Vec::new();
    match p.x11 {
        X11::Host => out.push(line(Grant::HostDisplay, true, "sandbox.x11")),
        X11::Nested => out.push(line(
            Grant::NestedDisplay(p.nested.clipboard),
            false,
            "sandbox.x11",
        )),
        X11::None => {}
    }
    let home = ProfilePath::Home(Default::default());
    let whole = p
        .binds
        .iter()
        .filter(|b| b.src == home && !b.is_shared_file())
        .map(|b| b.access != Access::ReadOnly)
        .reduce(|a, b| a || b);
    if let Some(writable) = whole {
        out.push(line(Grant::WholeHome { writable }, true, "filesystem"));
    }
    if p.network == Network::Shared {
        out.push(line(Grant::Network, true, "sandbox.network"));
    }
    if p.audio != Audio::None && p.audio_access.record {
        out.push(line(Grant::Microphone, true, "audio.record"));
    }
    if p.seccomp.user_namespaces {
        out.push(line(Grant::UserNamespaces, true, "seccomp.user_namespaces"));
    }
    if p.wayland {
        out.push(line(Grant::Wayland, false, "sandbox.wayland"));
    }
    let (mut read_only, mut writable) = (Vec::new(), Vec::new());
    for b in p
        .binds
        .iter()
        .filter(|b| b.src != home && !b.is_shared_file() && personal(&b.src))
    {
        match b.access {
            Access::ReadOnly => read_only.push(b.src.to_string()),
            Access::ReadWrite => writable.push(b.src.to_string()),
            // Device binds are the GPU's or the profile's own /dev entries.
            Access::Device => {}
        }
    }
    if !read_only.is_empty() || !writable.is_empty() {
        out.push(line(
            Grant::Folders {
                read_only,
                writable,
            },
            false,
            "filesystem",
        ));
    }
    if p.audio != Audio::None {
        out.push(line(Grant::Sound, false, "sandbox.audio"));
        if p.audio_access.device_volume {
            out.push(line(Grant::DeviceVolume, false, "audio.device_volume"));
        }
    }
    if p.gpu != Gpu::None {
        out.push(line(Grant::Gpu, false, "sandbox.gpu"));
    }
    if p.session_bus == SessionBus::Private {
        out.push(line(Grant::SessionBus, false, "sandbox.session_bus"));
    }
    if p.home == Home::Tmpfs {
        out.push(line(Grant::ThrowAwayHome, false, "sandbox.home"));
    }
    out
}

/// Whether a bound path is one of the user's folders or files rather than the system's or a
/// desktop's settings (fonts, themes, certificates): what a person weighs.
pub fn personal(path: &ProfilePath) -> bool {
    match path {
        ProfilePath::Home(rel) => !rel.to_string_lossy().starts_with('.'),
        ProfilePath::Absolute(abs) => ![
            "/etc", "/usr", "/var", "/opt", "/sys", "/proc", "/dev", "/run", "/tmp",
        ]
        .iter()
        .any(|sys| abs.starts_with(sys)),
    }
}
