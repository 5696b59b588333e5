//! Sound and graphics in the plan: the PulseAudio socket and client settings of `audio = "pulse"`,
//! and the device nodes, /sys entries and driver files of `gpu = ...`.

use super::build::Builder;
use super::{program, BindKind, LaunchSocket, Mount, Plan, PlanError};
use crate::host::{find_pulse_server, FileKind, GpuHost, PulseServer};
use crate::profile::{Audio, AudioAccess, Gpu};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The client configuration every sandbox gets: no shared memory (it does not cross PID
/// namespaces, the reason sound broke in other sandboxes), and never a daemon started inside.
pub const PULSE_CLIENT_CONF: &str = "/run/nestbox/pulse-client.conf";
const CLIENT_CONF_TEXT: &str =
    "# Written by nestbox.\nenable-shm = no\nenable-memfd = no\nautospawn = no\n";

/// How the sandbox reaches a sound server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum AudioPlan {
    None,
    /// `audio = "auto"` found no server: no sound, and why.
    Missing {
        reason: String,
    },
    Pulse {
        /// The user's server, as found on the host.
        server: PulseServer,
        /// Where per-sandbox socket directories go on the host (`$XDG_RUNTIME_DIR/nestbox/pulse`).
        sockets_dir: PathBuf,
        /// What the sandbox may ask beyond playing its own streams.
        access: AudioAccess,
        /// The socket's path inside.
        inside: PathBuf,
        /// `audio = "pulse"`: no sound stops the launch; with `"auto"` the app starts without.
        required: bool,
    },
}

/// The host directory of one launch's sound socket: `PID-NAME` in the sockets directory, the
/// profile's name cut short so that the socket's path fits a sockaddr_un (108 bytes) in any sane
/// runtime directory. `pid` is nestbox's, which the helper's sweep of dead launches reads back.
pub fn sound_dir(sockets_dir: &Path, pid: &str, profile: &str) -> PathBuf {
    let name: String = profile.chars().take(24).collect();
    sockets_dir.join(format!("{pid}-{name}"))
}

impl Plan {
    /// Give up the sound an `audio = "auto"` plan asked for: no socket, no PULSE_SERVER.
    pub fn drop_sound(&mut self, reason: String) {
        self.mounts.retain(|m| {
            !matches!(
                m,
                Mount::LaunchSocket {
                    of: LaunchSocket::Pulse,
                    ..
                }
            )
        });
        self.process.env.remove("PULSE_SERVER");
        self.audio = AudioPlan::Missing { reason };
    }
}

/// What a GPU mode found on the host and gives the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuPlan {
    pub mode: Gpu,
    /// What the host has.
    pub found: GpuHost,
    /// Device nodes bound (directories of nodes count as one).
    pub devices: Vec<PathBuf>,
    /// Read-only /sys entries bound for them.
    pub sys: Vec<PathBuf>,
    /// Driver files bound because the sandbox would not see them otherwise.
    pub driver_files: Vec<PathBuf>,
    /// Driver files the sandbox sees already (through /usr, say).
    pub driver_files_visible: usize,
}

impl Builder<'_> {
    /// `audio`: the socket placeholder, the client configuration and PULSE_SERVER; for `none`, the
    /// configuration alone, so a client fails with "Connection refused" instead of starting a
    /// daemon of its own inside.
    pub(super) fn audio(&mut self) -> Result<AudioPlan, PlanError> {
        self.file(
            PULSE_CLIENT_CONF,
            0o644,
            CLIENT_CONF_TEXT,
            "PulseAudio client settings: no shared memory, no autospawn",
        );
        self.env
            .insert("PULSE_CLIENTCONFIG".into(), PULSE_CLIENT_CONF.into());
        if self.profile.audio == Audio::None {
            return Ok(AudioPlan::None);
        }
        let f = self.facts;
        let missing = |reason: String| match self.profile.audio {
            Audio::Auto => Ok(AudioPlan::Missing { reason }),
            _ => Err(PlanError::NoAudio(reason)),
        };
        let server = match find_pulse_server(&f.env, &f.home, &f.config_home, self.fs) {
            Ok(s) => s,
            Err(e) => return missing(e.to_string()),
        };
        // The server's main socket would give the app the whole server: no sound instead.
        let Some(runtime) = f.env.get("XDG_RUNTIME_DIR").filter(|d| d.starts_with('/')) else {
            return missing(
                "XDG_RUNTIME_DIR is not set: no private place for the sandbox's sound socket"
                    .into(),
            );
        };
        let sockets_dir = self.resolve_for_creation(&Path::new(runtime).join("nestbox/pulse"));
        let inside = self.runtime_dir().join("pulse/native");
        self.push(Mount::LaunchSocket {
            dst: inside.clone(),
            of: LaunchSocket::Pulse,
        });
        self.env
            .insert("PULSE_SERVER".into(), format!("unix:{}", inside.display()));
        // Resolved on the host like every bind source (/var/run is a link to /run, say).
        let server = PulseServer {
            socket: self.fs.realpath(&server.socket).unwrap_or(server.socket),
            found_by: server.found_by,
        };
        Ok(AudioPlan::Pulse {
            server,
            sockets_dir,
            access: self.profile.audio_access,
            inside,
            required: self.profile.audio == Audio::Pulse,
        })
    }

    /// `gpu`: the device nodes the mode asks for, with what user space needs to drive them.
    pub(super) fn gpu(&mut self) -> Result<Option<GpuPlan>, PlanError> {
        let mode = self.profile.gpu;
        if mode == Gpu::None {
            return Ok(None);
        }
        let found = self.facts.gpu.clone().unwrap_or_default();
        let want_dri = matches!(mode, Gpu::Auto | Gpu::Dri);
        let want_nvidia = matches!(mode, Gpu::Auto | Gpu::Nvidia);
        if mode == Gpu::Dri && found.dri.is_empty() {
            return Err(PlanError::NoGpu(
                "gpu = \"dri\", but this host has no /dev/dri render or card nodes (is a DRM driver loaded?)".into(),
            ));
        }
        if mode == Gpu::Nvidia && found.nvidia.is_none() {
            return Err(PlanError::NoGpu(
                "gpu = \"nvidia\", but this host has no NVIDIA device (/dev/nvidiactl is missing: is the nvidia driver loaded?)".into(),
            ));
        }
        let mut plan = GpuPlan {
            mode,
            found: found.clone(),
            devices: Vec::new(),
            sys: Vec::new(),
            driver_files: Vec::new(),
            driver_files_visible: 0,
        };
        let mut sys = SysTree::default();
        if want_dri {
            for n in &found.dri {
                plan.devices.push(n.node.clone());
                if let (Some(link), Some(target)) = (&n.sys_char, &n.sys_node) {
                    sys.links.push((link.clone(), target.clone()));
                }
                sys.dirs.extend(n.device_dir.clone());
            }
        }
        if let Some(nv) = found.nvidia.as_ref().filter(|_| want_nvidia) {
            plan.devices.extend(nv.nodes.iter().cloned());
            plan.devices.extend(nv.caps.iter().cloned());
            sys.dirs.extend(nv.modules.iter().cloned());
        }
        for d in &plan.devices {
            self.push(Mount::Bind {
                src: d.clone(),
                dst: d.clone(),
                kind: BindKind::Device,
            });
        }
        plan.sys = self.sys_entries(sys);
        Ok(Some(plan))
    }

    /// The NVIDIA driver's files the sandbox would not see otherwise, bound read-only at their
    /// own paths; after the profile's binds, which may show some of them already (the `gpu`
    /// abstraction binds /etc/vulkan, say).
    pub(super) fn gpu_driver_files(&mut self, plan: &mut Option<GpuPlan>) {
        let Some(plan) = plan
            .as_mut()
            .filter(|p| matches!(p.mode, Gpu::Auto | Gpu::Nvidia))
        else {
            return;
        };
        let Some(nv) = plan.found.nvidia.clone() else {
            return;
        };
        // A file is seen inside when its directory is the host's own there (as under /usr), and
        // so on along its links (libGLX_nvidia.so.0 -> /etc/alternatives/...): asked once a
        // directory, since a driver has a hundred files in a handful of them.
        let mut seen_dirs: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for file in &nv.files {
            let mut path = file.clone();
            let mut seen = false;
            for _ in 0..40 {
                let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
                let dir_seen = *seen_dirs.entry(dir.clone()).or_insert_with(|| {
                    let inside = program::host_behind(&self.mounts, self.fs, &dir);
                    inside.is_some() && inside == self.fs.realpath(&dir)
                });
                if !dir_seen {
                    break;
                }
                match self.fs.lstat(&path) {
                    FileKind::Symlink(target) => path = dir.join(target),
                    FileKind::Missing => break,
                    _ => {
                        seen = true;
                        break;
                    }
                }
            }
            if seen {
                plan.driver_files_visible += 1;
            } else if self.bind(file, file.clone(), BindKind::ReadOnly) {
                plan.driver_files.push(file.clone());
            }
        }
    }

    /// The /sys a GPU needs: nothing when the profile shares the whole of /sys; otherwise a
    /// read-only tmpfs holding the device directories, the /sys/dev/char links libdrm starts from,
    /// and the empty bus directories their `subsystem` links resolve to (libdrm asks realpath).
    fn sys_entries(&mut self, mut sys: SysTree) -> Vec<PathBuf> {
        sys.dirs.sort();
        sys.dirs.dedup();
        if self.profile.sys || (sys.dirs.is_empty() && sys.links.is_empty()) {
            return Vec::new();
        }
        self.push(Mount::Tmpfs {
            dst: "/sys".into(),
            mode: 0o755,
        });
        let mut bound = Vec::new();
        let mut buses = Vec::new();
        for dir in &sys.dirs {
            if self.bind(dir, dir.clone(), BindKind::ReadOnly) {
                bound.push(dir.clone());
                buses.extend(
                    self.fs
                        .realpath(&dir.join("subsystem"))
                        .filter(|b| b.starts_with("/sys/bus") || b.starts_with("/sys/class")),
                );
            }
        }
        buses.sort();
        buses.dedup();
        for bus in buses {
            self.push(Mount::Tmpfs {
                dst: bus.clone(),
                mode: 0o755,
            });
            self.push(Mount::ReadOnly { dst: bus });
        }
        for (link, target) in sys.links {
            self.push(Mount::Symlink { target, dst: link });
        }
        self.push(Mount::ReadOnly { dst: "/sys".into() });
        bound
    }
}

/// /sys entries gathered before they are mounted.
#[derive(Default)]
struct SysTree {
    /// Directories bound read-only.
    dirs: Vec<PathBuf>,
    /// (link, absolute target) pairs.
    links: Vec<(PathBuf, PathBuf)>,
}

/// `explain`'s sound and graphics sections: what was found on the host, and what is bound.
pub(super) fn explain(w: &mut String, plan: &Plan) -> std::fmt::Result {
    match &plan.audio {
        AudioPlan::None => writeln!(
            w,
            "\nSound: none (no sound server socket, no /dev/snd; players fail to connect)"
        )?,
        AudioPlan::Missing { reason } => writeln!(
            w,
            "\nSound: none, since audio = \"auto\" found no server: {reason}"
        )?,
        AudioPlan::Pulse {
            server,
            sockets_dir,
            access,
            inside,
            required,
        } => {
            writeln!(
                w,
                "\nSound: the PulseAudio server at {}, found by {}",
                server.socket.display(),
                server.found_by
            )?;
            writeln!(
                w,
                "  through nestbox's filtering proxy, on a socket of the sandbox's own in {} (mode 0700),\n  removed when the sandbox ends; inside at {} (PULSE_SERVER)",
                sound_dir(sockets_dir, "PID", &plan.profile).display(),
                inside.display()
            )?;
            writeln!(
                w,
                "  allowed: playing, and the volume of its own streams; shared memory off, no autospawn ({PULSE_CLIENT_CONF})"
            )?;
            let yes_no = |b: bool| if b { "yes" } else { "no (an access error)" };
            writeln!(
                w,
                "  recording (microphones, and what other apps play): {}",
                yes_no(access.record)
            )?;
            writeln!(
                w,
                "  the volume of your sinks and sources: {}",
                yes_no(access.device_volume)
            )?;
            writeln!(
                w,
                "  refused: loading modules, defaults, other apps' streams and clients, cards and ports"
            )?;
            if !required {
                writeln!(
                    w,
                    "  audio = \"auto\": if the server cannot be reached at launch, no sound"
                )?;
            }
        }
    }
    let Some(g) = &plan.gpu else {
        return writeln!(
            w,
            "Graphics: no GPU device (gpu = \"none\"): software rendering"
        );
    };
    let mode = serde_json::to_value(g.mode).ok();
    let mode = mode.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
    writeln!(w, "Graphics (gpu = \"{mode}\"), found on the host:")?;
    if g.found.dri.is_empty() {
        writeln!(w, "  DRI: no /dev/dri nodes")?;
    }
    for n in &g.found.dri {
        writeln!(
            w,
            "  DRI: {}{}{}",
            n.node.display(),
            n.dev.map_or(String::new(), |(a, b)| format!(" ({a}:{b})")),
            n.device_dir
                .as_ref()
                .map_or(String::new(), |d| format!(", device {}", d.display()))
        )?;
    }
    match &g.found.nvidia {
        None => writeln!(w, "  NVIDIA: none (no /dev/nvidiactl)")?,
        Some(nv) => {
            let paths = |v: &[PathBuf]| {
                v.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            writeln!(
                w,
                "  NVIDIA: driver {}; {}{}",
                nv.version.as_deref().unwrap_or("of unknown version"),
                paths(&nv.nodes),
                nv.caps
                    .as_ref()
                    .map_or(String::new(), |c| format!(", {}", c.display()))
            )?;
            writeln!(w, "  NVIDIA modules: {}", paths(&nv.modules))?;
            writeln!(w, "  NVIDIA driver files: {}", nv.files.len())?;
        }
    }
    writeln!(
        w,
        "  bound: {} device node(s), {} /sys entr{} (read-only), {} driver file(s); {} driver file(s) seen already",
        g.devices.len(),
        g.sys.len(),
        if g.sys.len() == 1 { "y" } else { "ies" },
        g.driver_files.len(),
        g.driver_files_visible
    )
}
