//! The plan turned into what the child needs, built before clone: C strings with the /oldroot and
//! /newroot prefixes already applied, argv and envp pointer arrays, the id map lines.

use crate::plan::{BindKind, Mount, Plan};
use libc::c_char;
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Where the host's root is seen while the new root is built.
pub const OLD_ROOT: &CStr = c"/oldroot";
/// Where the new root is built.
pub const NEW_ROOT: &CStr = c"/newroot";

pub enum Step {
    Tmpfs {
        dst: CString,
        data: CString,
    },
    Bind {
        src: CString,
        dst: CString,
        attrs: u64,
    },
    Proc {
        dst: CString,
    },
    Devpts {
        dst: CString,
    },
    Dir {
        dst: CString,
        mode: u32,
    },
    Symlink {
        target: CString,
        dst: CString,
    },
    File {
        dst: CString,
        mode: u32,
        bytes: Vec<u8>,
    },
    Protect {
        dst: CString,
    },
    ReadOnly {
        dst: CString,
    },
}

pub struct Frozen {
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
    pub steps: Vec<Step>,
    pub hostname: CString,
    /// A new network namespace, whose loopback interface must be brought up.
    pub new_network: bool,
    pub cwd: CString,
    pub program: CString,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    pub argv_ptrs: Vec<*const c_char>,
    pub envp_ptrs: Vec<*const c_char>,
}

#[derive(Debug, thiserror::Error)]
#[error("{what} {value:?} contains a NUL byte")]
pub struct NulError {
    what: &'static str,
    value: String,
}

fn cstr(what: &'static str, bytes: &[u8]) -> Result<CString, NulError> {
    CString::new(bytes).map_err(|_| NulError {
        what,
        value: String::from_utf8_lossy(bytes).into_owned(),
    })
}

fn under(prefix: &CStr, path: &Path) -> Result<CString, NulError> {
    let rel = path.as_os_str().as_bytes();
    let rel = rel.strip_prefix(b"/").unwrap_or(rel);
    let mut full = prefix.to_bytes().to_vec();
    if !rel.is_empty() {
        full.push(b'/');
        full.extend_from_slice(rel);
    }
    cstr("path", &full)
}

fn new(path: &Path) -> Result<CString, NulError> {
    under(NEW_ROOT, path)
}

impl Frozen {
    pub fn new(plan: &Plan) -> Result<Frozen, NulError> {
        use crate::sandbox::sys::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
        let mut steps = Vec::with_capacity(plan.mounts.len());
        for m in &plan.mounts {
            steps.push(match m {
                Mount::Tmpfs { dst, mode } => Step::Tmpfs {
                    dst: new(dst)?,
                    data: cstr("mode", format!("mode={mode:04o}").as_bytes())?,
                },
                Mount::Bind { src, dst, kind } => Step::Bind {
                    src: under(OLD_ROOT, src)?,
                    dst: new(dst)?,
                    attrs: match kind {
                        BindKind::ReadOnly => {
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
                        }
                        BindKind::ReadWrite => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                        BindKind::Device => MOUNT_ATTR_NOSUID,
                    },
                },
                Mount::Proc { dst } => Step::Proc { dst: new(dst)? },
                Mount::Devpts { dst } => Step::Devpts { dst: new(dst)? },
                Mount::Dir { dst, mode } => Step::Dir {
                    dst: new(dst)?,
                    mode: *mode,
                },
                Mount::Symlink { target, dst } => Step::Symlink {
                    target: cstr("symlink target", target.as_os_str().as_bytes())?,
                    dst: new(dst)?,
                },
                Mount::File {
                    dst,
                    mode,
                    contents,
                } => Step::File {
                    dst: new(dst)?,
                    mode: *mode,
                    bytes: contents.bytes.clone(),
                },
                Mount::Protect { dst } => Step::Protect { dst: new(dst)? },
                Mount::ReadOnly { dst } => Step::ReadOnly { dst: new(dst)? },
            });
        }
        let p = &plan.process;
        let argv: Vec<CString> = p
            .argv
            .iter()
            .map(|a| cstr("argument", a.as_bytes()))
            .collect::<Result<_, _>>()?;
        let envp: Vec<CString> = p
            .env
            .iter()
            .map(|(k, v)| cstr("environment variable", format!("{k}={v}").as_bytes()))
            .collect::<Result<_, _>>()?;
        let ptrs = |v: &[CString]| {
            v.iter()
                .map(|c| c.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        Ok(Frozen {
            uid_map: format!(
                "{} {} {}\n",
                plan.uid_map.inside, plan.uid_map.outside, plan.uid_map.count
            )
            .into_bytes(),
            gid_map: format!(
                "{} {} {}\n",
                plan.gid_map.inside, plan.gid_map.outside, plan.gid_map.count
            )
            .into_bytes(),
            steps,
            hostname: cstr("host name", plan.hostname.as_bytes())?,
            new_network: plan.namespaces.net,
            cwd: cstr("working directory", p.cwd.as_os_str().as_bytes())?,
            program: cstr("program", p.program.as_os_str().as_bytes())?,
            argv_ptrs: ptrs(&argv),
            envp_ptrs: ptrs(&envp),
            _argv: argv,
            _envp: envp,
        })
    }
}
