//! Where profiles are found and how `extends` is followed. The search path is, in order: the user's
//! `$XDG_CONFIG_HOME/nestbox/profiles`, the admin's `/etc/nestbox/profiles`, then the shipped profiles
//! (installed, or the source tree's when run from a checkout). The first file of a name wins.

use super::schema::RawProfile;
use super::validate::{apply, FileText};
use super::{valid_name, Location, Profile, ProfileError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Which directory of the search path a profile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    User,
    Admin,
    Shipped,
    /// Named on the command line with `--profile-file`.
    File,
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceKind::User => "user",
            SourceKind::Admin => "admin",
            SourceKind::Shipped => "shipped",
            SourceKind::File => "file",
        })
    }
}

/// The ordered directories profiles are looked up in.
#[derive(Debug, Clone)]
pub struct SearchPath {
    pub dirs: Vec<(SourceKind, PathBuf)>,
}

/// One profile file found on the search path, for `nestbox list`.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileEntry {
    pub name: String,
    pub kind: SourceKind,
    pub path: PathBuf,
    /// A profile of the same name earlier on the search path hides this one.
    pub shadowed: bool,
    /// This is the user's file, and it hides an admin's or shipped profile of the same name
    /// (which it usually extends): the profile as the user changed it.
    pub changed: bool,
}

impl SearchPath {
    /// The standard search path for this user and this installation.
    pub fn standard(config_home: &Path) -> SearchPath {
        let mut dirs = vec![
            (SourceKind::User, config_home.join("nestbox/profiles")),
            (SourceKind::Admin, PathBuf::from("/etc/nestbox/profiles")),
        ];
        for dir in shipped_dirs() {
            if !dirs.iter().any(|(_, d)| *d == dir) {
                dirs.push((SourceKind::Shipped, dir));
            }
        }
        SearchPath { dirs }
    }

    fn describe(&self) -> String {
        let dirs: Vec<String> = self
            .dirs
            .iter()
            .map(|(_, d)| d.display().to_string())
            .collect();
        dirs.join(", ")
    }

    /// The first file named `name` in the directories from `start` on.
    fn find_from(&self, name: &str, start: usize) -> Option<(usize, PathBuf)> {
        self.dirs
            .iter()
            .enumerate()
            .skip(start)
            .find_map(|(i, (_, dir))| {
                let path = dir.join(format!("{name}.toml"));
                path.is_file().then_some((i, path))
            })
    }

    /// Every profile on the search path, shadowed ones included, sorted by name then precedence.
    pub fn list(&self) -> Vec<ProfileEntry> {
        let mut out: Vec<ProfileEntry> = Vec::new();
        for (kind, dir) in &self.dirs {
            let Ok(read) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = read
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_suffix(".toml")
                        .map(str::to_string)
                })
                .filter(|n| valid_name(n) && dir.join(format!("{n}.toml")).is_file())
                .collect();
            names.sort();
            for name in names {
                let shadowed = out.iter().any(|e| e.name == name);
                out.push(ProfileEntry {
                    path: dir.join(format!("{name}.toml")),
                    name,
                    kind: *kind,
                    shadowed,
                    changed: false,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.shadowed.cmp(&b.shadowed)));
        // Sorted, each name's entries are together, the one that wins first.
        for i in 0..out.len() {
            let hides_another = out.get(i + 1).is_some_and(|next| next.name == out[i].name);
            out[i].changed = out[i].kind == SourceKind::User && !out[i].shadowed && hides_another;
        }
        out
    }

    /// Load the profile called `name`.
    pub fn load(&self, name: &str) -> Result<Profile, ProfileError> {
        if !valid_name(name) {
            return Err(ProfileError::BadName(name.to_string()));
        }
        let (index, path) = self
            .find_from(name, 0)
            .ok_or_else(|| ProfileError::NotFound {
                name: name.to_string(),
                searched: self.describe(),
            })?;
        self.resolve(name, &path, Some(index))
    }

    /// Load a profile from a file. Its `extends` look in the file's own directory first, then on
    /// the search path, so a directory of profiles can be checked or run before it is installed.
    pub fn load_file(&self, path: &Path) -> Result<Profile, ProfileError> {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|n| valid_name(n))
            .ok_or_else(|| ProfileError::BadName(path.display().to_string()))?;
        let dir = match path.parent() {
            Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
            Some(d) => d.to_path_buf(),
            None => PathBuf::from("/"),
        };
        let mut search = self.clone();
        search.dirs.insert(0, (SourceKind::File, dir));
        search.resolve(name, path, Some(0))
    }

    /// Load `text` as the user's profile `name` would load once saved in the user's directory
    /// (its `extends` followed as they will be, its errors placed in that file), writing
    /// nothing: how a profile is checked before it is saved.
    pub fn load_text(&self, name: &str, text: &str) -> Result<Profile, ProfileError> {
        if !valid_name(name) {
            return Err(ProfileError::BadName(name.to_string()));
        }
        let (index, dir) = self
            .dirs
            .iter()
            .enumerate()
            .find(|(_, (kind, _))| *kind == SourceKind::User)
            .map(|(i, (_, dir))| (i, dir.clone()))
            .unwrap_or((0, PathBuf::from(".")));
        let path = dir.join(format!("{name}.toml"));
        let mut profile = Profile::empty(name, path.clone());
        let mut walk = Walk {
            search: self,
            stack: Vec::new(),
            unsaved: Some((&path, text)),
        };
        walk.apply_file(&mut profile, name, &path, Some(index))?;
        Ok(profile)
    }

    fn resolve(
        &self,
        name: &str,
        path: &Path,
        index: Option<usize>,
    ) -> Result<Profile, ProfileError> {
        let mut profile = Profile::empty(name, path.to_path_buf());
        let mut walk = Walk {
            search: self,
            stack: Vec::new(),
            unsaved: None,
        };
        walk.apply_file(&mut profile, name, path, index)?;
        Ok(profile)
    }
}

/// The depth-first walk over `extends`: parents are applied before the file that names them, each
/// file once, and a file met again on the current chain is a cycle.
struct Walk<'a> {
    search: &'a SearchPath,
    stack: Vec<(String, PathBuf)>,
    /// A file's text not yet saved, read instead of the file at that path.
    unsaved: Option<(&'a Path, &'a str)>,
}

impl Walk<'_> {
    fn apply_file(
        &mut self,
        into: &mut Profile,
        name: &str,
        path: &Path,
        index: Option<usize>,
    ) -> Result<(), ProfileError> {
        let text = match self.unsaved {
            Some((unsaved, text)) if unsaved == path => text.to_string(),
            _ => std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
                path: path.to_path_buf(),
                source,
            })?,
        };
        let raw: RawProfile = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        let file = FileText { path, text: &text };
        self.stack.push((name.to_string(), path.to_path_buf()));
        for parent in &raw.extends {
            let pname = parent.get_ref();
            let location = Location::at(path, &text, parent.span().start);
            if !valid_name(pname) {
                return Err(ProfileError::invalid(
                    location,
                    format!("{pname:?} is not a profile name"),
                ));
            }
            // A profile that extends its own name means the next one down the search path, so a
            // user's firefox.toml can extend the shipped firefox.toml.
            let start = match index {
                Some(i) if pname == name => i + 1,
                _ => 0,
            };
            let (pindex, ppath) = self.search.find_from(pname, start).ok_or_else(|| {
                ProfileError::invalid(
                    location.clone(),
                    format!("extends unknown profile {pname:?}"),
                )
            })?;
            if let Some(pos) = self.stack.iter().position(|(_, p)| *p == ppath) {
                let mut chain: Vec<&str> =
                    self.stack[pos..].iter().map(|(n, _)| n.as_str()).collect();
                chain.push(pname);
                return Err(ProfileError::Cycle {
                    location,
                    name: pname.clone(),
                    chain: chain.join(" -> "),
                });
            }
            if into.files.contains(&ppath) {
                continue;
            }
            self.apply_file(into, pname, &ppath, Some(pindex))?;
        }
        self.stack.pop();
        apply(into, raw, &file)?;
        into.files.push(path.to_path_buf());
        Ok(())
    }
}

/// One line for a toml error: `file:line:column: message`.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ProfileError {
    let message = e.message().trim_end_matches('\n').replace('\n', "; ");
    match e.span() {
        Some(span) => ProfileError::invalid(Location::at(path, text, span.start), message),
        None => ProfileError::InvalidFile {
            path: path.to_path_buf(),
            message,
        },
    }
}

/// Where shipped profiles live: set at build time by meson, next to an installed binary, and the
/// source tree's when the binary was built from a checkout.
fn shipped_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = option_env!("NESTBOX_PROFILEDIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            let installed = prefix.join("share/nestbox/profiles");
            if installed.is_dir() {
                dirs.push(installed);
            }
        }
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
        if exe.starts_with(checkout) {
            dirs.push(checkout.join("profiles"));
        }
    }
    dirs
}
