//! A read-only view of the host's files, as the planner needs it: what kind of thing a path is and
//! whether it can be executed. [`RealFs`] asks the kernel; [`FakeFs`] is a tree in memory for tests.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Missing,
    Dir,
    File,
    Socket,
    CharDevice,
    BlockDevice,
    Fifo,
    Symlink(PathBuf),
}

impl FileKind {
    pub fn exists(&self) -> bool {
        *self != FileKind::Missing
    }
    /// Whether a bind of this kind needs a directory (rather than a file) as its mount point.
    pub fn is_dir(&self) -> bool {
        *self == FileKind::Dir
    }
}

pub trait HostFs {
    /// The kind of `path` itself, not following a final symlink.
    fn lstat(&self, path: &Path) -> FileKind;
    /// Whether the file at `path` (a regular file) has an execute bit the user can use.
    fn executable(&self, path: &Path) -> bool;
    /// The text of a small configuration file, or none when it cannot be read.
    fn read_text(&self, path: &Path) -> Option<String>;
    /// The names in directory `path`, unsorted; empty when it cannot be read.
    fn list(&self, path: &Path) -> Vec<String>;

    /// The kind of `path`, following symlinks (as a bind mount does).
    fn stat(&self, path: &Path) -> FileKind {
        self.realpath(path)
            .map_or(FileKind::Missing, |p| self.lstat(&p))
    }

    /// `path` with every symlink resolved, or none when some part of it is missing. Bind sources
    /// are resolved on the host this way: the child opens them without following any link.
    fn realpath(&self, path: &Path) -> Option<PathBuf> {
        let mut pending = Vec::new();
        push_parts(&mut pending, path);
        let mut current = PathBuf::from("/");
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                current.pop();
                continue;
            }
            let next = current.join(&part);
            match self.lstat(&next) {
                FileKind::Missing => return None,
                FileKind::Symlink(target) => {
                    hops += 1;
                    if hops > 40 {
                        return None;
                    }
                    if target.is_absolute() {
                        current = PathBuf::from("/");
                    }
                    push_parts(&mut pending, &target);
                }
                _ => current = next,
            }
        }
        Some(current)
    }
}

/// Push the parts of `path` so that popping yields them in order (`..` kept as a part).
pub fn push_parts(pending: &mut Vec<std::ffi::OsString>, path: &Path) {
    let start = pending.len();
    for c in path.components() {
        match c {
            std::path::Component::Normal(s) => pending.push(s.to_os_string()),
            std::path::Component::ParentDir => pending.push("..".into()),
            _ => {}
        }
    }
    pending[start..].reverse();
}

/// The real host.
pub struct RealFs;

fn kind_of(t: std::fs::FileType) -> FileKind {
    if t.is_dir() {
        FileKind::Dir
    } else if t.is_socket() {
        FileKind::Socket
    } else if t.is_char_device() {
        FileKind::CharDevice
    } else if t.is_block_device() {
        FileKind::BlockDevice
    } else if t.is_fifo() {
        FileKind::Fifo
    } else {
        FileKind::File
    }
}

impl HostFs for RealFs {
    fn lstat(&self, path: &Path) -> FileKind {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                FileKind::Symlink(std::fs::read_link(path).unwrap_or_default())
            }
            Ok(m) => kind_of(m.file_type()),
            Err(_) => FileKind::Missing,
        }
    }

    fn stat(&self, path: &Path) -> FileKind {
        std::fs::metadata(path).map_or(FileKind::Missing, |m| kind_of(m.file_type()))
    }

    fn realpath(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }

    fn executable(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
            && nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
    }

    fn read_text(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn list(&self, path: &Path) -> Vec<String> {
        std::fs::read_dir(path).map_or_else(
            |_| Vec::new(),
            |d| {
                d.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            },
        )
    }
}

/// A host made of a list of paths, for tests. Parent directories are implied.
#[derive(Debug, Default, Clone)]
pub struct FakeFs {
    entries: BTreeMap<PathBuf, (FileKind, bool)>,
    texts: BTreeMap<PathBuf, String>,
}

impl FakeFs {
    pub fn new() -> FakeFs {
        FakeFs::default()
    }
    pub fn with(mut self, path: &str, kind: FileKind) -> FakeFs {
        self.entries.insert(PathBuf::from(path), (kind, false));
        self
    }
    /// A regular file holding `text`.
    pub fn with_text(mut self, path: &str, text: &str) -> FakeFs {
        self.texts.insert(PathBuf::from(path), text.to_string());
        self.with(path, FileKind::File)
    }
    pub fn with_program(mut self, path: &str) -> FakeFs {
        self.entries
            .insert(PathBuf::from(path), (FileKind::File, true));
        self
    }
}

impl HostFs for FakeFs {
    fn lstat(&self, path: &Path) -> FileKind {
        if let Some((kind, _)) = self.entries.get(path) {
            return kind.clone();
        }
        if self.entries.keys().any(|p| p.starts_with(path)) {
            return FileKind::Dir;
        }
        FileKind::Missing
    }
    fn executable(&self, path: &Path) -> bool {
        self.entries.get(path).is_some_and(|(_, x)| *x)
    }
    fn read_text(&self, path: &Path) -> Option<String> {
        self.texts.get(&self.realpath(path)?).cloned()
    }
    fn list(&self, path: &Path) -> Vec<String> {
        let Some(dir) = self.realpath(path) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .entries
            .keys()
            .filter_map(|p| p.strip_prefix(&dir).ok()?.iter().next())
            .filter_map(|n| n.to_str().map(String::from))
            .collect();
        names.dedup();
        names
    }
}
