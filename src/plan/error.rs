//! Why a plan cannot be made. Each is a fault of the profile or the host found before anything is
//! mounted; `exit_code` says how nestbox reports it.

use super::protect::Exposure;
use crate::host::{DisplayError, XauthError};
use crate::profile::Location;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("NESTBOX_GPU_FACTS={path}: {message}")]
    GpuFacts { path: String, message: String },
    #[error("profile {0} is an abstraction with no command; give one with --command")]
    NoCommand(String),
    #[error("--command {0:?} must be a program name or an absolute path")]
    BadCommand(String),
    #[error("{origin}: cannot bind {}: no such file or directory (write ?{} to make it optional)", path.display(), path.display())]
    MissingSource { origin: Location, path: PathBuf },
    #[error("{origin}: will not bind {}: {} is a symbolic link inside your home, which a sandbox may have planted; bind the path it leads to instead", path.display(), link.display())]
    LinkInSource {
        origin: Location,
        path: PathBuf,
        link: PathBuf,
    },
    #[error("{origin}: will not bind {} read-write: {}", path.display(), exposure_text(exposure))]
    Exposes {
        origin: Location,
        path: PathBuf,
        exposure: Exposure,
    },
    #[error("program {program:?} not found inside the sandbox (searched {searched})")]
    ProgramNotFound { program: String, searched: String },
    #[error("program {} inside the sandbox is not an executable file", path.display())]
    NotExecutable { path: PathBuf },
    #[error("this profile puts its windows on the host display, but DISPLAY is not set")]
    NoDisplay,
    #[error("session_bus = \"private\" needs dbus-daemon, which is not installed (apt install dbus-daemon)")]
    NoDbusDaemon,
    #[error("x11 = \"nested\" needs Xephyr, which is not installed (apt install xserver-xephyr)")]
    NoXephyr,
    #[error("{0} (give [nested] size = \"WIDTHxHEIGHT\" to skip asking)")]
    MonitorSize(String),
    #[error("audio = \"pulse\": {0}")]
    NoAudio(String),
    #[error("{0}")]
    NoGpu(String),
    #[error("wayland = true, but {0}")]
    NoWayland(String),
    #[error("this kernel cannot keep the sandbox from the host's abstract Unix sockets (Landlock ABI 6, Linux 6.12, is needed), and the profile shares the network: an app inside could connect to the host's X server at @/tmp/.X11-unix/X* and around {mode}; set network = \"none\", or allow_host_abstract_sockets = true in [sandbox] to accept the risk")]
    AbstractSocketsOpen { mode: &'static str },
    #[error(transparent)]
    Display(#[from] DisplayError),
    #[error("display {display} has no socket at {}", socket.display())]
    NoSocket { display: String, socket: PathBuf },
    #[error("cannot read the X authority file {}: {reason}", path.display())]
    XauthorityUnreadable { path: PathBuf, reason: String },
    #[error("the X authority file {} is damaged: {source}", path.display())]
    XauthorityDamaged {
        path: PathBuf,
        #[source]
        source: XauthError,
    },
    #[error("no cookie for display {display} in {} (is the display running, and XAUTHORITY right?)", path.display())]
    NoCookie { display: String, path: PathBuf },
}

impl PlanError {
    /// 127 for a program that is not there, 126 for one that cannot run, 125 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            PlanError::ProgramNotFound { .. } => 127,
            PlanError::NotExecutable { .. } => 126,
            _ => 125,
        }
    }
}

fn exposure_text(exposure: &Exposure) -> String {
    match exposure {
        Exposure::Inside(p) => format!(
            "nestbox keeps {} from every sandbox; bind it read-only",
            p.display()
        ),
        Exposure::Creatable(p) => format!(
            "the sandbox could create {}, which nestbox keeps from every sandbox; bind a \
             directory inside it instead, or create {} yourself and it is kept read-only",
            p.display(),
            p.display()
        ),
    }
}
