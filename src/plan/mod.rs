//! The plan: a pure, deterministic function of a [`Profile`], the [`HostFacts`] and a view of the host's
//! files. All the thinking of a launch happens here; `sandbox` only applies the result, and
//! `nestbox explain` prints it.

mod build;
mod confine;
mod error;
mod explain;
mod media;
mod prepare;
mod program;
mod protect;
mod x11;

pub use build::{argv, build};
pub use error::PlanError;
pub use explain::{describe_step_for_error, explain_text};
pub use media::{sound_dir, AudioPlan, GpuPlan, PULSE_CLIENT_CONF};
pub use prepare::prepare;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which namespaces the sandbox gets. User, mount, PID, IPC, UTS and cgroup are always new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Bind a path already inside the sandbox onto itself, read-only (skipped when missing). A
    /// link is bound as the link, so it cannot be removed or replaced.
    Protect {
        dst: PathBuf,
    },
    /// Make one mount read-only (not its submounts).
    ReadOnly {
        dst: PathBuf,
    },
    /// The socket of a server nestbox starts or opens at launch: a read-only bind once known.
    LaunchSocket {
        dst: PathBuf,
        of: LaunchSocket,
    },
    /// An Xauthority (mode 0600) with the nested server's cookie, made fresh at launch.
    NestedXauthority {
        dst: PathBuf,
    },
}

/// Whose socket a [`Mount::LaunchSocket`] binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LaunchSocket {
    /// The nested X server's.
    NestedX,
    /// The sandbox's own socket on the user's PulseAudio server (or, where the server refuses to
    /// make one, its main socket).
    Pulse,
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

/// A program and its arguments, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    pub program: PathBuf,
    pub argv: Vec<String>,
}

/// The X server nestbox starts for a nested display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NestedServer {
    /// Xephyr and its arguments; the launch adds `-displayfd` and `-auth`.
    pub command: Command,
    /// The host display its window goes on.
    pub host_display: String,
    pub width: u16,
    pub height: u16,
    pub title: String,
    /// What crosses between the host's CLIPBOARD and the nested one.
    pub clipboard: crate::profile::Clipboard,
}

/// How the display is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum DisplayPlan {
    None,
    Host {
        /// The host's display.
        display: String,
        /// The display as the sandbox names it: on the host's network, a number with no abstract
        /// socket on the host.
        inside: String,
        socket: PathBuf,
        xauthority: PathBuf,
    },
    Nested {
        server: NestedServer,
        /// The display as the sandbox names it: a number with no abstract socket on the host.
        inside: String,
        xauthority: PathBuf,
        /// Started inside, on the nested display, before the app.
        window_manager: Option<Command>,
    },
}

/// Whether a process inside can connect to the host's abstract Unix sockets (an X server's
/// @/tmp/.X11-unix/XN among them), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbstractSockets {
    /// A new network namespace has its own abstract namespace.
    PrivateNetwork,
    /// Landlock's abstract-Unix-socket scope refuses them.
    Scoped,
    /// Reachable: this kernel cannot scope them, and x11 = "host" shares the whole display anyway.
    SharedWithHostDisplay,
    /// Reachable: the kernel cannot scope them and the profile accepts that.
    AcceptedByProfile,
}

/// The kernel-enforced limits on the app beyond namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// Apply Landlock's abstract-Unix-socket and signal scopes to the app.
    pub landlock_scopes: bool,
    pub abstract_sockets: AbstractSockets,
    /// The Landlock ABI whose file rights the rules below use; 0 when the kernel has none.
    pub landlock_abi: u32,
    /// Landlock's file rules, a second wall behind the mounts: the app may read everything it
    /// sees and write only beneath these paths (inside).
    pub writable: Vec<PathBuf>,
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
    /// The host's Wayland socket, when shared.
    pub wayland: Option<PathBuf>,
    pub audio: AudioPlan,
    /// Graphics devices, unless `gpu = "none"`.
    pub gpu: Option<GpuPlan>,
    pub confinement: Confinement,
    /// The system calls the app may not make.
    pub seccomp: crate::seccomp::SeccompPlan,
    /// Paths inside that a read-write bind would show but that are kept read-only: nestbox's own
    /// files, launchers, autostart entries, shell start-up files.
    pub protected: Vec<PathBuf>,
    /// A D-Bus session bus of the sandbox's own, started by PID 1 before the app.
    pub session_bus: Option<Command>,
    /// How files handed to a launch with --share-files are bound.
    pub shared_files: crate::profile::SharedFiles,
    /// What the sandbox may take of the host's memory and processes.
    pub limits: Limits,
    /// What the plan left out and why (an optional bind through a link nestbox will not
    /// follow): said on stderr at launch, and by explain.
    pub notes: Vec<String>,
    pub process: Process,
}

/// What every process started in a sandbox takes on, the app and any process that joins it
/// later (`nestbox enter`, a second launch): kept by the registry on the host side, so a joining
/// process never takes it from a file the sandbox could have written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inside {
    pub namespaces: Namespaces,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub confinement: Confinement,
    pub seccomp: crate::seccomp::SeccompPlan,
    /// RLIMIT_NPROC of every process started inside (none where the kernel would count the
    /// user's processes outside too).
    #[serde(default)]
    pub max_processes: Option<u64>,
}

/// What a sandbox may take of the host, without cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// The size of every tmpfs inside, in bytes (a tmpfs uses memory as it fills).
    pub tmpfs_size: u64,
    /// Processes and threads at once (RLIMIT_NPROC, which Linux 5.14 and later counts per user
    /// namespace: the user's processes outside do not count against it, and the sandbox cannot
    /// take more than this many of the user's); none on an older kernel.
    pub max_processes: Option<u64>,
}

impl Limits {
    /// From the profile's settings and the host's memory (8 GiB stands in for memory nestbox
    /// could not learn).
    pub fn new(profile: &crate::profile::Profile, facts: &crate::host::HostFacts) -> Limits {
        use crate::profile::TmpfsSize;
        let tmpfs_size = match profile.tmpfs_size {
            TmpfsSize::Bytes(b) => b,
            TmpfsSize::Percent(p) => {
                let share = facts.memory.unwrap_or(8 << 30) / 100 * u64::from(p);
                // Whole mebibytes, at least 64 of them.
                (share >> 20).max(64) << 20
            }
        };
        Limits {
            tmpfs_size,
            max_processes: facts.nproc_per_namespace.then_some(profile.max_processes),
        }
    }
}

impl Plan {
    /// What a process joining this sandbox takes on.
    pub fn inside(&self) -> Inside {
        Inside {
            namespaces: self.namespaces.clone(),
            env: self.process.env.clone(),
            cwd: self.process.cwd.clone(),
            confinement: self.confinement.clone(),
            seccomp: self.seccomp.clone(),
            max_processes: self.limits.max_processes,
        }
    }
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
            | Mount::ReadOnly { dst }
            | Mount::LaunchSocket { dst, .. }
            | Mount::NestedXauthority { dst } => dst,
        }
    }
}

impl Plan {
    /// The window manager to start before the app, if any.
    pub fn window_manager(&self) -> Option<&Command> {
        match &self.display {
            DisplayPlan::Nested { window_manager, .. } => window_manager.as_ref(),
            _ => None,
        }
    }

    /// Fill in the socket of a server opened at launch: its placeholder becomes an ordinary
    /// read-only bind.
    pub fn attach_socket(&mut self, of: LaunchSocket, socket: &std::path::Path) {
        for m in &mut self.mounts {
            if let Mount::LaunchSocket { dst, of: o } = m {
                if *o == of {
                    *m = Mount::Bind {
                        src: socket.to_path_buf(),
                        dst: dst.clone(),
                        kind: BindKind::ReadOnly,
                    }
                }
            }
        }
    }

    /// Fill in what only the launch knows of a nested display: the socket of the server it
    /// started and its cookie. The placeholders become an ordinary read-only bind and a file with
    /// the cookie under the wildcard family, for the display number the sandbox uses.
    pub fn attach_nested(&mut self, socket: &std::path::Path, cookie: &[u8]) {
        self.attach_socket(LaunchSocket::NestedX, socket);
        let DisplayPlan::Nested { inside, .. } = &self.display else {
            return;
        };
        let number = inside.trim_start_matches(':').to_string();
        let entry = crate::host::XauthEntry {
            family: crate::host::FAMILY_WILD,
            address: Vec::new(),
            number: number.into_bytes(),
            name: crate::host::MIT_MAGIC_COOKIE.to_vec(),
            data: cookie.to_vec(),
        };
        for m in &mut self.mounts {
            if let Mount::NestedXauthority { dst } = m {
                *m = Mount::File {
                    dst: dst.clone(),
                    mode: 0o600,
                    contents: FileContents {
                        bytes: crate::host::write_xauthority(std::slice::from_ref(&entry)),
                        describe: format!(
                            "the nested display's cookie for {inside}, wildcard family"
                        ),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
