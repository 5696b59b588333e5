//! nestbox's launchers on disk, in `$XDG_DATA_HOME/applications`: which are there, whose each
//! is, and writing one without ever replacing a file nestbox did not write.

use super::entry::marker;
use super::{keyfile, DesktopError};
use std::path::{Path, PathBuf};

/// `DIR/nestbox-PROFILE.desktop`.
pub fn launcher_path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("nestbox-{profile}.desktop"))
}

/// What is at a launcher's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    /// A nestbox launcher, for this profile.
    Ours(String),
    /// A file without nestbox's marker (or not a key file at all).
    Foreign,
}

/// Look at `path`.
pub fn existing(path: &Path) -> Result<Existing, DesktopError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(source) => {
            return Err(DesktopError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
        Ok(m) if !m.is_file() => return Ok(Existing::Foreign),
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(path).map_err(|source| DesktopError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match keyfile::parse(&text).ok().as_ref().and_then(marker) {
        Some(profile) => Existing::Ours(profile),
        None => Existing::Foreign,
    })
}

/// The launchers in `dir` that carry nestbox's marker, with their profiles, by file name.
pub fn installed(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, String)> = read
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "desktop"))
        .filter_map(|p| match existing(&p) {
            Ok(Existing::Ours(profile)) => Some((p, profile)),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Write `text` to `path` through a temporary file in the same directory, renamed over it, so
/// that a reader sees the old file or the new one, never half of one. Mode 0644.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), DesktopError> {
    crate::atomic::write_atomic(path, text).map_err(|source| DesktopError::Write {
        path: path.to_path_buf(),
        source,
    })
}
