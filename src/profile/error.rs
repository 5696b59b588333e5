//! Errors of reading, resolving and validating profiles. Every one that comes from a file names it,
//! with the line and column where toml or the validator found the fault.

use std::fmt;
use std::path::PathBuf;

/// A place in a profile file: `path:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The 1-based line and column of byte `offset` in `text`.
    pub fn at(path: &std::path::Path, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            path: path.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not in a file: a command-line option, named by `path`.
            return write!(f, "{}", self.path.display());
        }
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{}: {message}", path.display())]
    InvalidFile { path: PathBuf, message: String },
    #[error("cannot read profile {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no profile named {name:?} (looked in {searched})")]
    NotFound { name: String, searched: String },
    #[error("{location}: profile {name:?} extends itself through {chain}")]
    Cycle {
        location: Location,
        name: String,
        chain: String,
    },
    #[error(
        "invalid profile name {0:?}: use letters, digits, '-', '_' and '.', not first '-' or '.'"
    )]
    BadName(String),
}

impl ProfileError {
    pub(crate) fn invalid(location: Location, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            location,
            message: message.into(),
        }
    }
}
