//! The plan turned into what the child needs, built before clone: C strings, destinations split
//! into their parts, argv and envp pointer arrays, the id map lines. The child allocates nothing.

use crate::plan::{BindKind, Inside, Mount, Plan};
use crate::sandbox::sys::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
use libc::c_char;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// A path inside the new root, relative to it ("." for the root itself), with every component as
/// (parent, name) so that missing directories can be made beneath the root's fd.
pub struct Dst {
    pub path: CString,
    pub parts: Vec<(CString, CString)>,
    /// How many of the leading parts an earlier step has made a directory already (and no
    /// later mount has covered since): the child makes only the rest.
    pub made: usize,
}

pub enum Step {
    /// The tmpfs that becomes the root (the plan's first step).
    Root {
        mode: CString,
        size: CString,
    },
    Tmpfs {
        dst: Dst,
        mode: CString,
        size: CString,
    },
    Bind {
        src: CString,
        dst: Dst,
        attrs: u64,
    },
    Proc {
        dst: Dst,
    },
    Devpts {
        dst: Dst,
    },
    Symlink {
        target: CString,
        dst: Dst,
    },
    File {
        dst: Dst,
        mode: u32,
        bytes: Vec<u8>,
    },
    Protect {
        dst: Dst,
    },
    ReadOnly {
        dst: Dst,
    },
}

/// A program ready for execve.
pub struct Exec {
    pub program: CString,
    _argv: Vec<CString>,
    pub argv_ptrs: Vec<*const c_char>,
}

pub struct Frozen {
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
    pub steps: Vec<Step>,
    pub hostname: CString,
    pub app: Exec,
    /// Started before the app, with the same environment and confinement.
    pub window_manager: Option<Exec>,
    /// The sandbox's own session bus, started first; the app waits for its socket.
    pub session_bus: Option<(Exec, CString)>,
    pub confined: Confined,
}

/// Where every process started inside begins, with what environment, and how it is confined:
/// the app, the window manager, and any process that joins the sandbox later.
pub struct Confined {
    pub cwd: CString,
    _envp: Vec<CString>,
    pub envp_ptrs: Vec<*const c_char>,
    /// The Landlock ruleset every process started inside restricts itself with.
    pub landlock: Option<OwnedFd>,
    /// The file rules added to the Landlock ruleset once inside, paths inside.
    pub landlock_rules: Vec<LandlockRule>,
    /// The seccomp filter every process started inside installs last (empty: none).
    pub seccomp: seccompiler::BpfProgram,
    /// RLIMIT_NPROC of every process started inside, if any.
    pub max_processes: Option<u64>,
    /// The highest capability number this kernel knows: every one up to it leaves the bounding
    /// set.
    pub last_capability: u32,
}

impl Confined {
    pub fn new(inside: &Inside) -> Result<Confined, FreezeError> {
        let envp: Vec<CString> = inside
            .env
            .iter()
            .map(|(k, v)| cstr("environment variable", format!("{k}={v}").as_bytes()))
            .collect::<Result<_, _>>()?;
        let c = &inside.confinement;
        let landlock = if c.landlock_scopes || c.landlock_abi > 0 {
            Some(
                crate::host::landlock::ruleset(c.landlock_abi, c.landlock_scopes)
                    .map_err(FreezeError::Landlock)?,
            )
        } else {
            None
        };
        Ok(Confined {
            cwd: cstr("working directory", inside.cwd.as_os_str().as_bytes())?,
            envp_ptrs: pointers(&envp),
            _envp: envp,
            landlock,
            landlock_rules: landlock_rules(c)?,
            seccomp: crate::seccomp::compile(&inside.seccomp)?,
            last_capability: last_capability(),
            max_processes: inside.max_processes,
        })
    }
}

/// The kernel's highest capability number (/proc/sys/kernel/cap_last_cap), or, where that cannot
/// be read, the highest the bounding set answers for (the caps crate asks it, capability by
/// capability).
fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            caps::runtime::thread_all_supported()
                .iter()
                .map(|c| u32::from(c.index()))
                .max()
                .unwrap_or(63)
        })
}

/// One Landlock rule: `path` and what may be done beneath it, for a directory or for a file.
pub struct LandlockRule {
    pub path: CString,
    pub dir_access: u64,
    pub file_access: u64,
    /// What the app may do with the caller's stdin, stdout and stderr when it reopens them.
    pub stdio_access: u64,
}

/// Read (and execute) everything from `/`, write beneath the plan's writable places; none when
/// the kernel has no Landlock.
fn landlock_rules(c: &crate::plan::Confinement) -> Result<Vec<LandlockRule>, FreezeError> {
    if c.landlock_abi == 0 {
        return Ok(Vec::new());
    }
    let (all, read) = crate::host::landlock::fs_rights(c.landlock_abi);
    let file = crate::host::landlock::file_rights(c.landlock_abi);
    let rule = |path: &std::path::Path, access: u64| {
        Ok(LandlockRule {
            path: cstr("path", path.as_os_str().as_bytes())?,
            dir_access: access,
            file_access: access & file,
            stdio_access: all & file,
        })
    };
    std::iter::once(rule(std::path::Path::new("/"), read))
        .chain(c.writable.iter().map(|p| rule(p, all)))
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum FreezeError {
    #[error("{what} {value:?} contains a NUL byte")]
    Nul { what: &'static str, value: String },
    #[error("internal error: the nested display was not attached to the plan before the launch")]
    Unattached,
    #[error("cannot make the Landlock ruleset the plan asks for: {0}")]
    Landlock(String),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
}

fn cstr(what: &'static str, bytes: &[u8]) -> Result<CString, FreezeError> {
    CString::new(bytes).map_err(|_| FreezeError::Nul {
        what,
        value: String::from_utf8_lossy(bytes).into_owned(),
    })
}

fn pointers(v: &[CString]) -> Vec<*const c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

impl Exec {
    pub fn new(program: &Path, argv: &[String]) -> Result<Exec, FreezeError> {
        let argv: Vec<CString> = argv
            .iter()
            .map(|a| cstr("argument", a.as_bytes()))
            .collect::<Result<_, _>>()?;
        Ok(Exec {
            program: cstr("program", program.as_os_str().as_bytes())?,
            argv_ptrs: pointers(&argv),
            _argv: argv,
        })
    }
}

impl Dst {
    fn new(path: &Path) -> Result<Dst, FreezeError> {
        let names: Vec<&[u8]> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.as_bytes()),
                _ => None,
            })
            .collect();
        let mut parts = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let parent = if i == 0 {
                b".".to_vec()
            } else {
                names[..i].join(&b'/')
            };
            parts.push((cstr("path", &parent)?, cstr("path", name)?));
        }
        let path = if names.is_empty() {
            b".".to_vec()
        } else {
            names.join(&b'/')
        };
        Ok(Dst {
            path: cstr("path", &path)?,
            parts,
            made: 0,
        })
    }
}

/// Which directories each step finds made by the steps before it, so that the child (where
/// system calls are the whole cost) neither makes them again nor opens each ancestor to try. A
/// step that mounts something at a path covers whatever was known beneath it.
fn mark_made_directories(steps: &mut [Step]) {
    let mut made: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    for step in steps.iter_mut() {
        let (dst, mounts_dir) = match step {
            Step::Root { .. } => continue,
            Step::Tmpfs { dst, .. } | Step::Proc { dst } | Step::Devpts { dst } => (dst, true),
            Step::Bind { dst, .. } => (dst, false),
            Step::Symlink { dst, .. } | Step::File { dst, .. } => (dst, false),
            Step::Protect { .. } | Step::ReadOnly { .. } => continue,
        };
        let full = |(parent, name): &(CString, CString)| -> Vec<u8> {
            if parent.as_bytes() == b"." {
                name.as_bytes().to_vec()
            } else {
                [parent.as_bytes(), b"/", name.as_bytes()].concat()
            }
        };
        dst.made = dst
            .parts
            .iter()
            .take_while(|part| made.contains(&full(part)))
            .count();
        let ancestors = dst.parts.len().saturating_sub(1);
        for part in &dst.parts[..ancestors] {
            made.insert(full(part));
        }
        let here = dst.path.as_bytes().to_vec();
        let mounts_here = !matches!(step, Step::Symlink { .. } | Step::File { .. });
        if mounts_here {
            let below = [here.as_slice(), b"/"].concat();
            made.retain(|p| !p.starts_with(&below));
        }
        if mounts_dir {
            made.insert(here);
        }
    }
}

/// A host path as the child sees it: as it is (the child's root is the host's until it pivots).
fn host(path: &Path) -> Result<CString, FreezeError> {
    cstr("path", path.as_os_str().as_bytes())
}

/// The plan's mount step `m`; every tmpfs `tmpfs_size` bytes at most.
fn step(m: &Mount, tmpfs_size: u64) -> Result<Step, FreezeError> {
    let mode = |mode: &u32| cstr("mode", format!("{mode:04o}").as_bytes());
    let size = || cstr("size", format!("{}k", tmpfs_size.div_ceil(1024)).as_bytes());
    Ok(match m {
        Mount::Tmpfs { dst, mode: m } if dst == Path::new("/") => Step::Root {
            mode: mode(m)?,
            size: size()?,
        },
        Mount::Tmpfs { dst, mode: m } => Step::Tmpfs {
            dst: Dst::new(dst)?,
            mode: mode(m)?,
            size: size()?,
        },
        Mount::Bind { src, dst, kind } => Step::Bind {
            src: host(src)?,
            dst: Dst::new(dst)?,
            attrs: match kind {
                BindKind::ReadOnly => MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                BindKind::ReadWrite => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                BindKind::Device => MOUNT_ATTR_NOSUID,
            },
        },
        Mount::Proc { dst } => Step::Proc {
            dst: Dst::new(dst)?,
        },
        Mount::Devpts { dst } => Step::Devpts {
            dst: Dst::new(dst)?,
        },
        Mount::Symlink { target, dst } => Step::Symlink {
            target: cstr("symlink target", target.as_os_str().as_bytes())?,
            dst: Dst::new(dst)?,
        },
        Mount::File {
            dst,
            mode,
            contents,
        } => Step::File {
            dst: Dst::new(dst)?,
            mode: *mode,
            bytes: contents.bytes.clone(),
        },
        Mount::Protect { dst } => Step::Protect {
            dst: Dst::new(dst)?,
        },
        Mount::ReadOnly { dst } => Step::ReadOnly {
            dst: Dst::new(dst)?,
        },
        Mount::LaunchSocket { .. } | Mount::NestedXauthority { .. } => {
            return Err(FreezeError::Unattached)
        }
    })
}

impl Frozen {
    pub fn new(plan: &Plan) -> Result<Frozen, FreezeError> {
        let size = plan.limits.tmpfs_size;
        let mut steps: Vec<Step> = plan
            .mounts
            .iter()
            .map(|m| step(m, size))
            .collect::<Result<_, _>>()?;
        mark_made_directories(&mut steps);
        let p = &plan.process;
        let map = |m: crate::plan::IdMap| {
            format!("{} {} {}\n", m.inside, m.outside, m.count).into_bytes()
        };
        Ok(Frozen {
            uid_map: map(plan.uid_map),
            gid_map: map(plan.gid_map),
            steps,
            hostname: cstr("host name", plan.hostname.as_bytes())?,
            app: Exec::new(&p.program, &p.argv)?,
            window_manager: plan
                .window_manager()
                .map(|wm| Exec::new(&wm.program, &wm.argv))
                .transpose()?,
            session_bus: plan
                .session_bus
                .as_ref()
                .map(|bus| -> Result<_, FreezeError> {
                    let address = p
                        .env
                        .get("DBUS_SESSION_BUS_ADDRESS")
                        .map_or("", String::as_str);
                    let socket = address.strip_prefix("unix:path=").unwrap_or(address);
                    Ok((
                        Exec::new(&bus.program, &bus.argv)?,
                        cstr("path", socket.as_bytes())?,
                    ))
                })
                .transpose()?,
            confined: Confined::new(&plan.inside())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_split_ahead() {
        let d = Dst::new(Path::new("/home/ann/.config")).unwrap();
        assert_eq!(d.path.to_bytes(), b"home/ann/.config");
        let parts: Vec<(&[u8], &[u8])> = d
            .parts
            .iter()
            .map(|(p, n)| (p.to_bytes(), n.to_bytes()))
            .collect();
        assert_eq!(
            parts,
            [
                (&b"."[..], &b"home"[..]),
                (b"home", b"ann"),
                (b"home/ann", b".config")
            ]
        );
        let root = Dst::new(Path::new("/")).unwrap();
        assert_eq!((root.path.to_bytes(), root.parts.len()), (&b"."[..], 0));
    }

    #[test]
    fn directories_made_by_earlier_steps_are_known_until_covered() {
        let dst = |p: &str| Dst::new(Path::new(p)).unwrap();
        let tmpfs = |p: &str| Step::Tmpfs {
            dst: dst(p),
            mode: c"0755".into(),
            size: c"1024k".into(),
        };
        let file = |p: &str| Step::File {
            dst: dst(p),
            mode: 0o644,
            bytes: Vec::new(),
        };
        let mut steps = vec![
            file("/etc/passwd"),
            file("/etc/group"),
            tmpfs("/run/user/1000"),
            file("/run/user/1000/x"),
            tmpfs("/run"),
            file("/run/user/1000/y"),
        ];
        mark_made_directories(&mut steps);
        let made: Vec<usize> = steps
            .iter()
            .map(|s| match s {
                Step::Tmpfs { dst, .. } | Step::File { dst, .. } => dst.made,
                _ => unreachable!(),
            })
            .collect();
        // /etc made by the first; /run/user/1000 is a directory once mounted; a tmpfs on /run
        // covers /run/user, which the last step must make again.
        assert_eq!(made, [0, 1, 0, 3, 1, 1]);
    }
}
