//! `build`: profile + host facts + host files -> plan. Pure: no file is read except through `HostFs`.

use super::confine::{confinement, seccomp, writable};
use super::{
    program, x11, BindKind, Command, DisplayPlan, FileContents, HostStep, IdMap, LaunchSocket,
    Limits, Mount, Namespaces, Plan, PlanError, Process,
};
use crate::host::{FileKind, HostFacts, HostFs};
use crate::profile::{Access, Home, Network, Profile, ProfilePath, SessionBus, X11};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The PATH inside, unless the profile sets its own.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games";
/// Top-level names that are links into /usr on merged-/usr systems, or directories on others.
const ROOT_LINKS: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Device nodes every sandbox gets.
pub(super) const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];
/// Kernel interfaces in /proc made read-only (as bubblewrap does).
const PROC_PROTECT: &[&str] = &["sys", "sysrq-trigger", "irq", "bus"];

/// The argv of a launch: `command` (checked) in place of the profile's program when given, the
/// profile's command otherwise, `args` appended. Also what a launch joining a running sandbox
/// runs there.
pub fn argv(
    profile: &Profile,
    command: Option<&str>,
    args: &[String],
) -> Result<Vec<String>, PlanError> {
    if let Some(c) = command {
        if c.is_empty() || c.contains('\0') || (c.contains('/') && !c.starts_with('/')) {
            return Err(PlanError::BadCommand(c.to_string()));
        }
    }
    match (command, &profile.command) {
        (Some(c), _) => Ok(std::iter::once(c.to_string())
            .chain(args.iter().cloned())
            .collect()),
        (None, Some(cmd)) => Ok(cmd.iter().chain(args).cloned().collect()),
        (None, None) => Err(PlanError::NoCommand(profile.name.clone())),
    }
}

/// Make the plan for running `profile` (with `command` replacing its program when given, and
/// `args` appended) on this host.
pub fn build(
    profile: &Profile,
    facts: &HostFacts,
    fs: &dyn HostFs,
    command: Option<&str>,
    args: &[String],
) -> Result<Plan, PlanError> {
    let argv = argv(profile, command, args)?;
    let mut b = Builder {
        profile,
        facts,
        fs,
        hostname: hostname(profile),
        mounts: Vec::new(),
        env: BTreeMap::new(),
        notes: Vec::new(),
    };
    b.root();
    b.etc();
    b.proc_and_dev();
    b.tmp_and_run();
    let mut confinement = confinement(profile, facts)?;
    let mut display = b.display()?;
    let wayland = b.wayland()?;
    let audio = b.audio()?;
    let mut gpu = b.gpu()?;
    let (home_backing, host_steps) = b.home();
    if profile.session_bus == SessionBus::Private {
        // dbus-daemon and its clients want the machine's id.
        b.bind(
            Path::new("/etc/machine-id"),
            "/etc/machine-id".into(),
            BindKind::ReadOnly,
        );
    }
    b.profile_binds()?;
    b.gpu_driver_files(&mut gpu);
    let protected = b.protect_host_files();
    confinement.writable = writable(&b.mounts);
    b.mounts.push(Mount::ReadOnly { dst: "/".into() });
    b.environment();
    let env = std::mem::take(&mut b.env);
    let path_var = env.get("PATH").map_or(DEFAULT_PATH, String::as_str);
    let program_path = program::resolve(&b.mounts, fs, &argv[0], path_var)?;
    if let DisplayPlan::Nested { window_manager, .. } = &mut display {
        if let Some(wm) = &profile.nested.window_manager {
            *window_manager = Some(Command {
                program: program::resolve(&b.mounts, fs, &wm[0], path_var)?,
                argv: wm.clone(),
            });
        }
    }
    let session_bus = match profile.session_bus {
        SessionBus::None => None,
        SessionBus::Private => Some(Command {
            program: program::resolve(&b.mounts, fs, "dbus-daemon", path_var)
                .map_err(|_| PlanError::NoDbusDaemon)?,
            argv: vec![
                "dbus-daemon".into(),
                "--session".into(),
                "--nofork".into(),
                "--nopidfile".into(),
                format!(
                    "--address=unix:path={}",
                    session_bus_socket(facts).display()
                ),
            ],
        }),
    };
    let cwd = profile
        .cwd
        .as_ref()
        .map_or_else(|| facts.home.clone(), |p| b.path(p));
    Ok(Plan {
        profile: profile.name.clone(),
        source: profile.source.clone(),
        namespaces: Namespaces {
            user: true,
            mount: true,
            pid: true,
            ipc: true,
            uts: true,
            cgroup: true,
            net: profile.network == Network::None,
        },
        uid_map: IdMap {
            inside: facts.uid,
            outside: facts.uid,
            count: 1,
        },
        gid_map: IdMap {
            inside: facts.gid,
            outside: facts.gid,
            count: 1,
        },
        hostname: b.hostname,
        home: facts.home.clone(),
        home_backing,
        host_steps,
        mounts: b.mounts,
        display,
        wayland,
        audio,
        gpu,
        confinement,
        seccomp: seccomp(profile),
        protected,
        session_bus,
        shared_files: profile.shared_files,
        limits: Limits::new(profile, facts),
        notes: b.notes,
        process: Process {
            program: program_path,
            argv,
            cwd,
            env,
        },
    })
}

/// Where a private session bus listens, inside: the usual place, in the sandbox's own runtime
/// directory.
pub fn session_bus_socket(facts: &HostFacts) -> PathBuf {
    PathBuf::from(format!("/run/user/{}/bus", facts.uid))
}

/// The profile's host name, or one made from its name: profile names may hold `_` and run to 128
/// characters, host names may not.
fn hostname(profile: &Profile) -> String {
    if let Some(h) = &profile.hostname {
        return h.clone();
    }
    let mut h: String = profile
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    h = h.trim_matches('-').to_string();
    if h.is_empty() {
        "sandbox".into()
    } else {
        h
    }
}

/// The plan in the making; `media` adds its sound and graphics steps through it.
pub(super) struct Builder<'a> {
    pub(super) profile: &'a Profile,
    pub(super) facts: &'a HostFacts,
    pub(super) fs: &'a dyn HostFs,
    hostname: String,
    pub(super) mounts: Vec<Mount>,
    pub(super) env: BTreeMap<String, String>,
    /// What was left out, and why.
    notes: Vec<String>,
}

impl Builder<'_> {
    pub(super) fn push(&mut self, m: Mount) {
        self.mounts.push(m);
    }
    /// Bind host `src` at `dst`; the source is resolved on the host first (the child opens it
    /// without following any link, so a link planted later fails the launch). False when missing.
    pub(super) fn bind(&mut self, src: &Path, dst: PathBuf, kind: BindKind) -> bool {
        match self.fs.realpath(src) {
            Some(src) => {
                self.push(Mount::Bind { src, dst, kind });
                true
            }
            None => false,
        }
    }
    fn ro(&mut self, path: &str) {
        self.bind(Path::new(path), path.into(), BindKind::ReadOnly);
    }
    pub(super) fn file(&mut self, dst: &str, mode: u32, bytes: impl Into<Vec<u8>>, describe: &str) {
        let contents = FileContents {
            bytes: bytes.into(),
            describe: describe.to_string(),
        };
        self.push(Mount::File {
            dst: dst.into(),
            mode,
            contents,
        });
    }

    /// `path` with symlinks resolved in its longest existing ancestor, the rest appended.
    pub(super) fn resolve_for_creation(&self, path: &Path) -> PathBuf {
        let mut rest = Vec::new();
        let mut current = path;
        loop {
            if let Some(real) = self.fs.realpath(current) {
                return rest
                    .iter()
                    .rev()
                    .fold(real, |p: PathBuf, part| p.join(part));
            }
            match (current.parent(), current.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    current = parent;
                }
                _ => return path.to_path_buf(),
            }
        }
    }

    /// A path as written in a profile. The same on both sides: the sandbox's home is at the user's
    /// home path, so `~` means the same directory name inside and out.
    fn path(&self, p: &ProfilePath) -> PathBuf {
        match p {
            ProfilePath::Absolute(p) => p.clone(),
            ProfilePath::Home(rel) => self.facts.home.join(rel),
        }
    }

    /// A tmpfs root with the host's /usr, and /bin, /lib... as the host has them.
    fn root(&mut self) {
        self.push(Mount::Tmpfs {
            dst: "/".into(),
            mode: 0o755,
        });
        self.ro("/usr");
        for name in ROOT_LINKS {
            let path = PathBuf::from("/").join(name);
            match self.fs.lstat(&path) {
                FileKind::Symlink(target) => self.push(Mount::Symlink { target, dst: path }),
                FileKind::Dir => {
                    self.bind(&path, path.clone(), BindKind::ReadOnly);
                }
                _ => {}
            }
        }
        if self.profile.opt && self.fs.stat(Path::new("/opt")).is_dir() {
            self.ro("/opt");
        }
    }

    /// /etc holds only generated files and what the profile binds (fonts, certificates...), plus
    /// the name service files when the network is shared.
    fn etc(&mut self) {
        let f = self.facts;
        let passwd = format!(
            "{}:x:{}:{}::{}:{}\n",
            f.user,
            f.uid,
            f.gid,
            f.home.display(),
            f.shell
        );
        self.file("/etc/passwd", 0o644, passwd, "the user alone");
        self.file(
            "/etc/group",
            0o644,
            format!("{}:x:{}:\n", f.group, f.gid),
            "the user's group alone",
        );
        let hostname = self.hostname.clone();
        self.file(
            "/etc/hostname",
            0o644,
            format!("{hostname}\n"),
            "the sandbox's host name",
        );
        if self.profile.network == Network::Shared {
            for p in [
                "/etc/resolv.conf",
                "/etc/hosts",
                "/etc/nsswitch.conf",
                "/etc/host.conf",
                "/etc/gai.conf",
            ] {
                if self.fs.stat(Path::new(p)).exists() {
                    self.ro(p);
                }
            }
        } else {
            let hosts = format!("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{hostname}\n");
            self.file(
                "/etc/hosts",
                0o644,
                hosts,
                "localhost and the sandbox's host name",
            );
        }
    }

    fn proc_and_dev(&mut self) {
        self.push(Mount::Proc {
            dst: "/proc".into(),
        });
        for p in PROC_PROTECT {
            self.push(Mount::Protect {
                dst: Path::new("/proc").join(p),
            });
        }
        self.push(Mount::Tmpfs {
            dst: "/dev".into(),
            mode: 0o755,
        });
        for d in DEVICES {
            let path = Path::new("/dev").join(d);
            self.push(Mount::Bind {
                src: path.clone(),
                dst: path,
                kind: BindKind::Device,
            });
        }
        self.push(Mount::Devpts {
            dst: "/dev/pts".into(),
        });
        self.push(Mount::Symlink {
            target: "pts/ptmx".into(),
            dst: "/dev/ptmx".into(),
        });
        self.push(Mount::Tmpfs {
            dst: "/dev/shm".into(),
            mode: 0o1777,
        });
        for (link, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
            ("core", "/proc/kcore"),
        ] {
            self.push(Mount::Symlink {
                target: target.into(),
                dst: Path::new("/dev").join(link),
            });
        }
        if self.profile.sys {
            self.ro("/sys");
        }
    }

    fn tmp_and_run(&mut self) {
        self.push(Mount::Tmpfs {
            dst: "/tmp".into(),
            mode: 0o1777,
        });
        self.push(Mount::Tmpfs {
            dst: self.runtime_dir(),
            mode: 0o700,
        });
    }

    pub(super) fn runtime_dir(&self) -> PathBuf {
        format!("/run/user/{}", self.facts.uid).into()
    }

    fn display(&mut self) -> Result<DisplayPlan, PlanError> {
        match self.profile.x11 {
            X11::None => Ok(DisplayPlan::None),
            X11::Host => {
                // On the host's network, the socket is seen under a number no host server has an
                // abstract socket for: libxcb's abstract attempt then finds nothing (the scope
                // answers EPERM only where a listener is) and goes on to the bound path, so every
                // host abstract socket can be out of reach, the display's own included.
                let shared = self.profile.network == Network::Shared;
                let number = if shared {
                    x11::inside_number(true, &self.facts.abstract_displays)
                } else {
                    x11::host_number(self.facts)?
                };
                let host = x11::host_display(self.facts, self.fs, number)?;
                let socket = host.display.socket();
                self.x11_socket_dir(Mount::Bind {
                    src: socket.clone(),
                    dst: format!("/tmp/.X11-unix/X{number}").into(),
                    kind: BindKind::ReadOnly,
                });
                self.file(x11::XAUTHORITY, 0o600, host.xauthority, &host.describe);
                let inside = format!(":{number}");
                self.x11_env(&inside);
                Ok(DisplayPlan::Host {
                    display: host.display.to_string(),
                    inside,
                    socket,
                    xauthority: x11::XAUTHORITY.into(),
                })
            }
            X11::Nested => {
                let server = x11::nested_server(self.profile, self.facts, self.fs)?;
                let shared = self.profile.network == Network::Shared;
                let number = x11::inside_number(shared, &self.facts.abstract_displays);
                self.x11_socket_dir(Mount::LaunchSocket {
                    dst: format!("/tmp/.X11-unix/X{number}").into(),
                    of: LaunchSocket::NestedX,
                });
                self.push(Mount::NestedXauthority {
                    dst: x11::XAUTHORITY.into(),
                });
                let inside = format!(":{number}");
                self.x11_env(&inside);
                Ok(DisplayPlan::Nested {
                    server,
                    inside,
                    xauthority: x11::XAUTHORITY.into(),
                    window_manager: None,
                })
            }
        }
    }

    /// A read-only /tmp/.X11-unix holding one socket.
    fn x11_socket_dir(&mut self, socket: Mount) {
        self.push(Mount::Tmpfs {
            dst: "/tmp/.X11-unix".into(),
            mode: 0o755,
        });
        self.push(socket);
        self.push(Mount::ReadOnly {
            dst: "/tmp/.X11-unix".into(),
        });
    }

    fn x11_env(&mut self, display: &str) {
        self.env.insert("DISPLAY".into(), display.into());
        self.env.insert("XAUTHORITY".into(), x11::XAUTHORITY.into());
    }

    /// The compositor's socket, bound read-only into the runtime directory as `wayland-0`.
    fn wayland(&mut self) -> Result<Option<PathBuf>, PlanError> {
        if !self.profile.wayland {
            return Ok(None);
        }
        let env = &self.facts.env;
        let name = env
            .get("WAYLAND_DISPLAY")
            .filter(|n| !n.is_empty())
            .map_or("wayland-0", String::as_str);
        let socket = if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            let runtime = env
                .get("XDG_RUNTIME_DIR")
                .filter(|d| d.starts_with('/'))
                .ok_or_else(|| PlanError::NoWayland("XDG_RUNTIME_DIR is not set".into()))?;
            Path::new(runtime).join(name)
        };
        if self.fs.stat(&socket) != FileKind::Socket {
            return Err(PlanError::NoWayland(format!(
                "there is no compositor socket at {} (is a Wayland session running, and WAYLAND_DISPLAY right?)",
                socket.display()
            )));
        }
        let dst = self.runtime_dir().join("wayland-0");
        self.bind(&socket, dst, BindKind::ReadOnly);
        self.env
            .insert("WAYLAND_DISPLAY".into(), "wayland-0".into());
        Ok(Some(socket))
    }

    fn home(&mut self) -> (Option<PathBuf>, Vec<HostStep>) {
        let home = self.facts.home.clone();
        match self.profile.home {
            Home::Tmpfs => {
                self.push(Mount::Tmpfs {
                    dst: home,
                    mode: 0o700,
                });
                (None, Vec::new())
            }
            Home::Persistent => {
                let backing = self
                    .facts
                    .data_home
                    .join("nestbox/homes")
                    .join(&self.profile.name);
                // Resolved on the host like every bind source; it may not exist yet (created first).
                let src = self.resolve_for_creation(&backing);
                self.push(Mount::Bind {
                    src,
                    dst: home,
                    kind: BindKind::ReadWrite,
                });
                (
                    Some(backing.clone()),
                    vec![HostStep::CreateDir { path: backing }],
                )
            }
        }
    }

    fn profile_binds(&mut self) -> Result<(), PlanError> {
        for bind in &self.profile.binds {
            let src = self.path(&bind.src);
            let kind = match bind.access {
                Access::ReadOnly => BindKind::ReadOnly,
                Access::ReadWrite => BindKind::ReadWrite,
                Access::Device => BindKind::Device,
            };
            let dst = self.path(&bind.dst);
            if bind.is_shared_file() {
                self.shared_file(bind, src, dst, kind)?;
                continue;
            }
            if let Some(link) = self.planted_link(&src) {
                let e = PlanError::LinkInSource {
                    origin: bind.origin.clone(),
                    path: src,
                    link,
                };
                if bind.optional {
                    // An optional bind (an abstraction's ?~/.config/fontconfig, linked by a
                    // dotfile manager) is left out rather than stopping every app that has it.
                    self.notes.push(format!("{e}; left out"));
                    continue;
                }
                return Err(e);
            }
            if kind == BindKind::ReadWrite {
                let real = self.fs.realpath(&src).unwrap_or_else(|| src.clone());
                if let Some(exposure) = self.exposure(&real) {
                    return Err(PlanError::Exposes {
                        origin: bind.origin.clone(),
                        path: src,
                        exposure,
                    });
                }
            }
            if !self.bind(&src, dst, kind) && !bind.optional {
                return Err(PlanError::MissingSource {
                    origin: bind.origin.clone(),
                    path: src,
                });
            }
        }
        Ok(())
    }

    /// A file `--share-files` walked to without following a link a sandbox could have planted:
    /// bound at that path as it is, never resolved again (the child opens it without following
    /// any link, so one planted since fails the launch instead of steering the bind).
    fn shared_file(
        &mut self,
        bind: &crate::profile::BindSpec,
        src: PathBuf,
        dst: PathBuf,
        kind: BindKind,
    ) -> Result<(), PlanError> {
        if self.fs.lstat(&src) != FileKind::File {
            return Err(PlanError::MissingSource {
                origin: bind.origin.clone(),
                path: src,
            });
        }
        if kind == BindKind::ReadWrite {
            if let Some(exposure) = self.exposure(&src) {
                return Err(PlanError::Exposes {
                    origin: bind.origin.clone(),
                    path: src,
                    exposure,
                });
            }
        }
        self.push(Mount::Bind { src, dst, kind });
        Ok(())
    }

    /// The first symbolic link in `src` below the home that a sandbox given a directory of the
    /// home could have planted (`~/Downloads/music -> ~/.ssh`). The home's own entries may be
    /// links that leave it (`~/Downloads -> /data/Downloads`): those are followed, and what lies
    /// beneath their targets checked the same way. A link of the home's own that leads back
    /// into the home is refused too: a sandbox with the whole home could have made it.
    fn planted_link(&self, src: &Path) -> Option<PathBuf> {
        let home = &self.facts.home;
        let rest = src.strip_prefix(home).ok()?;
        let mut at = home.clone();
        for (depth, part) in rest.components().enumerate() {
            at.push(part);
            match self.fs.lstat(&at) {
                FileKind::Symlink(_) if depth > 0 => return Some(at),
                FileKind::Symlink(_) => {
                    let target = self.fs.realpath(&at)?;
                    if target.starts_with(home) {
                        return Some(at);
                    }
                    at = target;
                }
                FileKind::Missing => return None,
                _ => {}
            }
        }
        None
    }

    /// A clean, declared environment: nothing of the caller's leaks in but what is named.
    fn environment(&mut self) {
        let f = self.facts;
        let runtime = self.runtime_dir();
        let env = &mut self.env;
        env.insert("HOME".into(), f.home.display().to_string());
        env.insert("USER".into(), f.user.clone());
        env.insert("LOGNAME".into(), f.user.clone());
        env.insert("SHELL".into(), f.shell.clone());
        env.insert("PATH".into(), DEFAULT_PATH.into());
        env.insert(
            "LANG".into(),
            f.env
                .get("LANG")
                .cloned()
                .unwrap_or_else(|| "C.UTF-8".into()),
        );
        if let Some(term) = f.env.get("TERM") {
            env.insert("TERM".into(), term.clone());
        }
        env.insert("XDG_RUNTIME_DIR".into(), runtime.display().to_string());
        let bus = match self.profile.session_bus {
            SessionBus::None => "disabled:".to_string(),
            SessionBus::Private => format!("unix:path={}", session_bus_socket(f).display()),
        };
        env.insert("DBUS_SESSION_BUS_ADDRESS".into(), bus);
        for name in &self.profile.pass_env {
            if let Some(v) = f.env.get(name) {
                env.insert(name.clone(), v.clone());
            }
        }
        for (k, v) in &self.profile.env {
            env.insert(k.clone(), v.clone());
        }
    }
}
