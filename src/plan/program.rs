//! Find the program inside the sandbox before anything is mounted: look at each path through the
//! plan's mounts, as the sandbox will see it, following symlinks the way the kernel will there.

use super::{Mount, PlanError};
use crate::host::{FileKind, HostFs};
use std::path::{Path, PathBuf};

/// The program to exec: `name` if absolute, else the first executable `PATH` entry holding it.
pub fn resolve(
    mounts: &[Mount],
    fs: &dyn HostFs,
    name: &str,
    path_var: &str,
) -> Result<PathBuf, PlanError> {
    let view = View { mounts, fs };
    let candidates: Vec<PathBuf> = if name.starts_with('/') {
        vec![PathBuf::from(name)]
    } else {
        path_var
            .split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join(name))
            .collect()
    };
    let mut not_executable = None;
    for candidate in &candidates {
        match view.lookup(candidate) {
            Some((FileKind::File, Some(host))) if fs.executable(&host) => {
                return Ok(candidate.clone())
            }
            Some((FileKind::Missing, _)) | None => {}
            Some(_) => {
                not_executable.get_or_insert_with(|| candidate.clone());
            }
        }
    }
    match not_executable {
        Some(path) => Err(PlanError::NotExecutable { path }),
        None => Err(PlanError::ProgramNotFound {
            program: name.to_string(),
            searched: if name.starts_with('/') {
                name.to_string()
            } else {
                path_var.to_string()
            },
        }),
    }
}

/// `rest` beneath a bind's source; the source itself when `rest` is empty (`join("")` would add a
/// trailing slash, which a file does not take).
fn beneath(src: &Path, rest: &Path) -> PathBuf {
    if rest.as_os_str().is_empty() {
        src.to_path_buf()
    } else {
        src.join(rest)
    }
}

/// The sandbox's tree as the plan will build it, seen as a [`HostFs`]: the last mount whose
/// destination covers a path decides what it is.
struct View<'a> {
    mounts: &'a [Mount],
    fs: &'a dyn HostFs,
}

impl View<'_> {
    /// The host file behind `path`, when a bind provides it.
    fn host_path(&self, path: &Path) -> Option<PathBuf> {
        self.covering(path).and_then(|(m, rest)| match m {
            Mount::Bind { src, .. } => Some(beneath(src, rest)),
            _ => None,
        })
    }

    fn covering<'p>(&self, path: &'p Path) -> Option<(&Mount, &'p Path)> {
        self.mounts
            .iter()
            .rev()
            .filter(|m| !matches!(m, Mount::Protect { .. } | Mount::ReadOnly { .. }))
            .find_map(|m| path.strip_prefix(m.dst()).ok().map(|rest| (m, rest)))
    }

    /// What `path` is inside (following symlinks), and the host file behind it.
    fn lookup(&self, path: &Path) -> Option<(FileKind, Option<PathBuf>)> {
        let real = self.realpath(path)?;
        Some((self.lstat(&real), self.host_path(&real)))
    }
}

impl HostFs for View<'_> {
    fn lstat(&self, path: &Path) -> FileKind {
        let Some((m, rest)) = self.covering(path) else {
            return FileKind::Missing;
        };
        let exact = rest.as_os_str().is_empty();
        match m {
            Mount::Bind { src, .. } => self.fs.lstat(&beneath(src, rest)),
            Mount::Symlink { target, .. } if exact => FileKind::Symlink(target.clone()),
            Mount::File { .. } if exact => FileKind::File,
            _ if exact => FileKind::Dir,
            // Under a tmpfs or directory: only the parents of later mounts exist.
            _ if self.mounts.iter().any(|o| o.dst().starts_with(path)) => FileKind::Dir,
            _ => FileKind::Missing,
        }
    }

    fn executable(&self, path: &Path) -> bool {
        self.host_path(path).is_some_and(|h| self.fs.executable(&h))
    }

    fn read_text(&self, path: &Path) -> Option<String> {
        self.fs.read_text(&self.host_path(path)?)
    }

    fn list(&self, path: &Path) -> Vec<String> {
        self.host_path(path)
            .map_or_else(Vec::new, |h| self.fs.list(&h))
    }
}

/// The host file or directory that `path` shows inside the sandbox that `mounts` build (through
/// symlinks too), when a bind provides it.
pub fn host_behind(mounts: &[Mount], fs: &dyn HostFs, path: &Path) -> Option<PathBuf> {
    View { mounts, fs }.lookup(path).and_then(|(_, host)| host)
}
