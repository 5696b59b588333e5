//! The user's launchers, for any front end: the desktop entries in `$XDG_DATA_HOME/applications`
//! that start a profile's sandbox from the desktop's menus. Installed (named, iconed and typed after
//! the app's own entry), removed, listed, and all rewritten at once; only launchers nestbox wrote
//! are ever replaced or removed.

use super::guard::{holder, writable_places, Writable};
use super::store::{self, Existing};
use super::{find, launcher_text, AppInfo, DesktopError, Launcher};
use crate::host::HostFacts;
use crate::profile::{valid_name, ProfileError, SearchPath};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LauncherError {
    #[error(
        "invalid profile name {0:?}: use letters, digits, '-', '_' and '.', not first '-' or '.'"
    )]
    BadName(String),
    #[error("cannot find the nestbox binary's path")]
    NoBinary,
    #[error("the nestbox binary's path {} is not UTF-8, which desktop entries must be", .0.display())]
    BinaryNotUtf8(PathBuf),
    #[error("{what} {} lies in {} ({why}), which a sandbox can write: refusing, since a launcher must not run or show what a sandbox could replace", path.display(), place.display())]
    Writable {
        what: &'static str,
        path: PathBuf,
        place: PathBuf,
        why: String,
    },
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(
        "profile {0} has no command (it is an abstraction): a launcher would have nothing to start"
    )]
    Abstraction(String),
    #[error("profile {profile} names desktop_entry {id:?}, which cannot be used: {source}")]
    DesktopEntry {
        profile: String,
        id: String,
        #[source]
        source: DesktopError,
    },
    #[error("{} exists and nestbox did not write it (it has no {} key): not replacing it", .0.display(), super::MARKER_KEY)]
    NotOursToReplace(PathBuf),
    #[error("{} was not written by nestbox (it has no {} key): not removing it", .0.display(), super::MARKER_KEY)]
    NotOursToRemove(PathBuf),
    #[error("{} is nestbox's launcher for profile {other}: not {doing} it", path.display())]
    OtherProfile {
        path: PathBuf,
        other: String,
        doing: &'static str,
    },
    #[error("profile {name} has no launcher ({} does not exist)", path.display())]
    NoLauncher { name: String, path: PathBuf },
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Desktop(#[from] DesktopError),
}

/// A launcher written: where, and the app entry its names and icon came from, if any.
pub struct Installed {
    pub path: PathBuf,
    pub from: Option<PathBuf>,
    /// The profile's program, for saying why no entry was found.
    pub program: String,
}

/// What a rewrite of every launcher did to one.
pub enum Synced {
    Updated(Installed),
    /// Removed: its profile is gone.
    Removed {
        path: PathBuf,
        profile: String,
    },
    Failed {
        path: PathBuf,
        error: LauncherError,
    },
}

/// The user's directories and the profiles, as launchers need them.
pub struct Launchers {
    search: SearchPath,
    /// Where launchers go.
    apps: PathBuf,
    /// Where app entries are looked for.
    entry_dirs: Vec<PathBuf>,
    exe: Option<PathBuf>,
    data_home: PathBuf,
    home: PathBuf,
}

impl Launchers {
    pub fn new(facts: &HostFacts) -> Launchers {
        Launchers {
            search: SearchPath::standard(&facts.config_home),
            apps: facts.data_home.join("applications"),
            entry_dirs: find::application_dirs(&facts.data_home, &facts.env),
            exe: facts.exe.clone(),
            data_home: facts.data_home.clone(),
            home: facts.home.clone(),
        }
    }

    /// Where the launcher of profile `name` lives.
    pub fn path(&self, name: &str) -> PathBuf {
        store::launcher_path(&self.apps, name)
    }

    /// Where launchers go.
    pub fn dir(&self) -> &Path {
        &self.apps
    }

    /// Write the launcher of profile `name`.
    pub fn install(&self, name: &str) -> Result<Installed, LauncherError> {
        if !valid_name(name) {
            return Err(LauncherError::BadName(name.into()));
        }
        self.install_at(name, &self.path(name))
    }

    fn install_at(&self, name: &str, path: &Path) -> Result<Installed, LauncherError> {
        let exe = self.exe.as_deref().ok_or(LauncherError::NoBinary)?;
        let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
        let exe_text = exe
            .to_str()
            .ok_or_else(|| LauncherError::BinaryNotUtf8(exe.clone()))?;
        let places = self.writable_places();
        refuse_writable("the nestbox binary", &exe, &places)?;
        let profile = self.search.load(name)?;
        let Some(command) = &profile.command else {
            return Err(LauncherError::Abstraction(name.into()));
        };
        let app: Option<AppInfo> = match &profile.desktop_entry {
            Some(id) => Some(find::find_by_id(&self.entry_dirs, id).map_err(|source| {
                LauncherError::DesktopEntry {
                    profile: name.into(),
                    id: id.clone(),
                    source,
                }
            })?),
            None => find::find_by_program(&self.entry_dirs, &command[0]),
        };
        if let Some(icon) = app.as_ref().and_then(|a| a.icon.as_deref()) {
            if icon.starts_with('/') {
                let real = std::fs::canonicalize(icon).unwrap_or_else(|_| PathBuf::from(icon));
                refuse_writable("the icon", &real, &places)?;
            }
        }
        match store::existing(path)? {
            Existing::Foreign => return Err(LauncherError::NotOursToReplace(path.into())),
            Existing::Ours(other) if other != name => {
                return Err(LauncherError::OtherProfile {
                    path: path.into(),
                    other,
                    doing: "replacing",
                })
            }
            _ => {}
        }
        let text = launcher_text(&Launcher {
            profile: name,
            description: profile.description.as_deref(),
            exe: exe_text,
            app: app.as_ref(),
        });
        store::write_atomic(path, &text)?;
        Ok(Installed {
            path: path.into(),
            from: app.map(|a| a.path),
            program: command[0].clone(),
        })
    }

    /// Every host place a sandbox can write: the persistent homes, and the read-write binds of
    /// every profile on the search path that loads (one that does not cannot run by name),
    /// links resolved.
    fn writable_places(&self) -> Vec<Writable> {
        let profiles: Vec<_> = self
            .search
            .list()
            .into_iter()
            .filter(|e| !e.shadowed)
            .filter_map(|e| self.search.load(&e.name).ok())
            .collect();
        let homes = self.data_home.join("nestbox/homes");
        let mut places = writable_places(&homes, &self.home, &profiles);
        for w in &mut places {
            if let Ok(real) = std::fs::canonicalize(&w.path) {
                w.path = real;
            }
        }
        places
    }

    /// Remove the launcher of profile `name` (only one nestbox wrote for it); where it was.
    pub fn remove(&self, name: &str) -> Result<PathBuf, LauncherError> {
        if !valid_name(name) {
            return Err(LauncherError::BadName(name.into()));
        }
        let path = self.path(name);
        match store::existing(&path)? {
            Existing::Nothing => Err(LauncherError::NoLauncher {
                name: name.into(),
                path,
            }),
            Existing::Foreign => Err(LauncherError::NotOursToRemove(path)),
            Existing::Ours(other) if other != name => Err(LauncherError::OtherProfile {
                path,
                other,
                doing: "removing",
            }),
            Existing::Ours(_) => match std::fs::remove_file(&path) {
                Ok(()) => Ok(path),
                Err(source) => Err(LauncherError::Remove { path, source }),
            },
        }
    }

    /// Whether a profile of this name is on the search path.
    pub fn profile_exists(&self, name: &str) -> bool {
        self.search.list().iter().any(|e| e.name == name)
    }

    /// The launchers nestbox installed: each one's path and profile.
    pub fn installed(&self) -> Vec<(PathBuf, String)> {
        store::installed(&self.apps)
    }

    /// Rewrite each launcher at its path; remove those whose profile is gone.
    pub fn sync(&self) -> Vec<Synced> {
        let mut out = Vec::new();
        for (path, profile) in self.installed() {
            if !valid_name(&profile) || !self.profile_exists(&profile) {
                out.push(match std::fs::remove_file(&path) {
                    Ok(()) => Synced::Removed { path, profile },
                    Err(source) => Synced::Failed {
                        path: path.clone(),
                        error: LauncherError::Remove { path, source },
                    },
                });
                continue;
            }
            out.push(match self.install_at(&profile, &path) {
                Ok(installed) => Synced::Updated(installed),
                Err(error) => Synced::Failed { path, error },
            });
        }
        out
    }
}

/// An error when `path` lies where a sandbox can write.
fn refuse_writable(
    what: &'static str,
    path: &Path,
    places: &[Writable],
) -> Result<(), LauncherError> {
    match holder(path, places) {
        Some(w) => Err(LauncherError::Writable {
            what,
            path: path.into(),
            place: w.path.clone(),
            why: w.why.clone(),
        }),
        None => Ok(()),
    }
}
