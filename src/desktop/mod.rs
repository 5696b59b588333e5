//! Desktop integration: reading apps' desktop entries (the key file format, Exec lines, where
//! entries are found) and making nestbox's launchers and starting profiles from them. The pure
//! parts ([`keyfile`], [`exec`], [`entry`], [`new_profile`], [`guard`]) are unit-tested;
//! [`find`] and [`store`] are the thin file system side. The `desktop` and `profile` verbs in
//! `cli` drive them.

pub mod entry;
pub mod exec;
pub mod find;
pub mod guard;
pub mod keyfile;
pub mod launchers;
pub mod new_profile;
pub mod store;

pub use entry::{launcher_text, AppInfo, Launcher, MARKER_KEY};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{} is not an app's desktop entry: {message}", path.display())]
    NotAnApp { path: PathBuf, message: String },
    #[error("no desktop entry {id:?} (looked in {searched})")]
    NotFound { id: String, searched: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
