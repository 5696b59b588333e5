//! Unit tests of profile loading: `extends` merging, the search path, and the one-line
//! `FILE:LINE:COLUMN: message` errors of every kind of bad input.

use super::validate::parse_path;
use super::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary directory holding a user and a shipped profile directory; removed on drop.
pub(crate) struct Fixture {
    pub root: PathBuf,
    pub user: PathBuf,
    pub shipped: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("nestbox-profile-test-{}-{}", std::process::id(), n));
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        let user = root.join("user");
        let shipped = root.join("shipped");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::create_dir_all(&shipped).unwrap();
        Fixture {
            root,
            user,
            shipped,
        }
    }

    pub fn user(&self, name: &str, text: &str) -> PathBuf {
        write(&self.user, name, text)
    }

    pub fn shipped(&self, name: &str, text: &str) -> PathBuf {
        write(&self.shipped, name, text)
    }

    pub fn search(&self) -> SearchPath {
        SearchPath {
            dirs: vec![
                (SourceKind::User, self.user.clone()),
                (SourceKind::Shipped, self.shipped.clone()),
            ],
        }
    }

    fn load(&self, name: &str) -> Result<Profile, ProfileError> {
        self.search().load(name)
    }

    fn load_ok(&self, name: &str) -> Profile {
        match self.load(name) {
            Ok(p) => p,
            Err(e) => panic!("loading {name:?} failed: {e}"),
        }
    }

    fn load_err(&self, name: &str) -> ProfileError {
        match self.load(name) {
            Ok(p) => panic!("loading {name:?} succeeded: {p:?}"),
            Err(e) => e,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The 1-based line and column (in characters) of the first occurrence of `needle` in `text`,
/// worked out line by line, independently of `Location::at`.
fn pos(text: &str, needle: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "needle {needle:?} must occur exactly once in the fixture"
    );
    let before = &text[..text.find(needle).unwrap()];
    let lines: Vec<&str> = before.split('\n').collect();
    (lines.len(), lines[lines.len() - 1].chars().count() + 1)
}

fn loc(path: &Path, line: usize, column: usize) -> Location {
    Location {
        path: path.to_path_buf(),
        line,
        column,
    }
}

/// `err` is `ProfileError::Invalid` at `path`, at the position of `needle` in `text`, with exactly
/// `message`, and its Display is the one line `FILE:LINE:COLUMN: message`.
#[track_caller]
fn assert_invalid(err: &ProfileError, path: &Path, text: &str, needle: &str, message: &str) {
    let (line, column) = pos(text, needle);
    assert_invalid_at(err, path, line, column, message);
}

#[track_caller]
fn assert_invalid_at(err: &ProfileError, path: &Path, line: usize, column: usize, message: &str) {
    match err {
        ProfileError::Invalid {
            location,
            message: m,
        } => {
            assert_eq!(*location, loc(path, line, column), "location of {err}");
            assert_eq!(m, message);
        }
        other => panic!("expected ProfileError::Invalid, got {other:?}"),
    }
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!("{}:{line}:{column}: {message}", path.display())
    );
    assert!(!shown.contains('\n'), "error is not one line: {shown:?}");
}

/// For messages written by the toml crate: exact location, one line, and the message contains
/// each of `parts` (the crate's exact wording is not this project's to pin down).
#[track_caller]
fn assert_toml_error(err: &ProfileError, path: &Path, text: &str, needle: &str, parts: &[&str]) {
    let (line, column) = pos(text, needle);
    let ProfileError::Invalid { location, message } = err else {
        panic!("expected ProfileError::Invalid, got {err:?}");
    };
    assert_eq!(*location, loc(path, line, column), "location of {err}");
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
    let shown = err.to_string();
    let prefix = format!("{}:{line}:{column}: ", path.display());
    assert!(
        shown.starts_with(&prefix),
        "{shown:?} does not start with {prefix:?}"
    );
    assert!(shown.len() > prefix.len(), "empty message: {shown:?}");
    assert!(!shown.contains('\n'), "error is not one line: {shown:?}");
}

/// Load a single user profile `p` with `text` and return the error it gives.
fn single_error(text: &str) -> (Fixture, PathBuf, ProfileError) {
    let fx = Fixture::new();
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    (fx, path, err)
}

fn abs(p: &str) -> ProfilePath {
    ProfilePath::Absolute(PathBuf::from(p))
}

fn home(p: &str) -> ProfilePath {
    ProfilePath::Home(PathBuf::from(p))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

mod binds;
mod edit;
mod errors;
mod merge;
mod search;
