//! The plan: a pure, deterministic function of a [`Profile`], the [`HostFacts`] and a view of the host's
//! files. All the thinking of a launch happens here; `sandbox` only applies the result, and
//! `nestbox explain` prints it.

mod build;
mod error;
mod explain;
mod program;
mod x11;

pub use build::build;
pub use error::PlanError;
pub use explain::{describe_step_for_error, explain_text};

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which namespaces the sandbox gets. User, mount, PID, IPC, UTS and cgroup are always new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespaces {
    pub user: bool,
    pub mount: bool,
    pub pid: bool,
    pub ipc: bool,
    pub uts: bool,
    pub cgroup: bool,
    pub net: bool,
}

/// One line of /proc/PID/uid_map or gid_map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// Bytes to write into the sandbox, with a description safe to print (cookies are never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileContents {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub describe: String,
}

/// How a bind is made. Read-only binds are read-only all the way down (recursively).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BindKind {
    ReadOnly,
    ReadWrite,
    Device,
}

/// One step in building the sandbox's root, applied in order. Destinations are paths inside the
/// sandbox; sources are host paths. Missing parent directories of a destination are made (0755).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Mount {
    /// A new tmpfs; `/` is the sandbox's root itself.
    Tmpfs {
        dst: PathBuf,
        mode: u32,
    },
    Bind {
        src: PathBuf,
        dst: PathBuf,
        kind: BindKind,
    },
    Proc {
        dst: PathBuf,
    },
    /// A new devpts instance with its own ptmx.
    Devpts {
        dst: PathBuf,
    },
    Symlink {
        target: PathBuf,
        dst: PathBuf,
    },
    File {
        dst: PathBuf,
        mode: u32,
        contents: FileContents,
    },
    /// Bind a path already inside the sandbox onto itself, read-only (skipped when missing).
    Protect {
        dst: PathBuf,
    },
    /// Make one mount read-only (not its submounts).
    ReadOnly {
        dst: PathBuf,
    },
}

/// A change on the host made before the launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum HostStep {
    /// Create a directory (and its parents) owned by the user, mode 0700, if missing.
    CreateDir { path: PathBuf },
}

/// What the process inside is and how it is started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// The resolved program, as a path inside the sandbox.
    pub program: PathBuf,
    /// argv, argv[0] as the user wrote it.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
}

/// How the display is reached, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum DisplayPlan {
    None,
    Host {
        display: String,
        socket: PathBuf,
        xauthority: PathBuf,
    },
}

/// Everything a launch does, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub profile: String,
    pub source: PathBuf,
    pub namespaces: Namespaces,
    pub uid_map: IdMap,
    pub gid_map: IdMap,
    pub hostname: String,
    pub home: PathBuf,
    /// The host directory behind the home, or none for a tmpfs home.
    pub home_backing: Option<PathBuf>,
    pub host_steps: Vec<HostStep>,
    pub mounts: Vec<Mount>,
    pub display: DisplayPlan,
    pub process: Process,
}

impl Mount {
    /// The path inside the sandbox this step makes.
    pub fn dst(&self) -> &std::path::Path {
        match self {
            Mount::Tmpfs { dst, .. }
            | Mount::Bind { dst, .. }
            | Mount::Proc { dst }
            | Mount::Devpts { dst }
            | Mount::Symlink { dst, .. }
            | Mount::File { dst, .. }
            | Mount::Protect { dst }
            | Mount::ReadOnly { dst } => dst,
        }
    }
}

#[cfg(test)]
mod tests;
