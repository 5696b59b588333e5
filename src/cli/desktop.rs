//! `nestbox desktop`: launchers in `$XDG_DATA_HOME/applications` that start a profile's sandbox
//! from the desktop's menus. `install` writes one (named, iconed and typed after the app's own
//! entry), `remove` takes it away, `list` shows them, `sync` rewrites them all. Failures exit 1.

use super::fail;
use crate::desktop::guard::{holder, writable_places, Writable};
use crate::desktop::store::{self, Existing};
use crate::desktop::{find, launcher_text, AppInfo, Launcher};
use crate::host::HostFacts;
use crate::profile::{valid_name, SearchPath};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DesktopArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Write a launcher for PROFILE, $XDG_DATA_HOME/applications/nestbox-PROFILE.desktop, from the app's own desktop entry
    Install {
        #[arg(value_name = "PROFILE")]
        profile: String,
    },
    /// Remove PROFILE's launcher (only one nestbox wrote)
    Remove {
        #[arg(value_name = "PROFILE")]
        profile: String,
    },
    /// List the launchers nestbox installed, their profiles, and whether each profile still exists
    List,
    /// Rewrite every launcher nestbox installed; remove those whose profile is gone
    Sync,
}

/// What every action needs: the user's directories and the profiles.
struct Desk {
    facts: HostFacts,
    search: SearchPath,
    /// Where launchers go.
    apps: PathBuf,
    /// Where app entries are looked for.
    entry_dirs: Vec<PathBuf>,
}

pub fn desktop(args: DesktopArgs) -> i32 {
    let facts = match HostFacts::probe() {
        Ok(f) => f,
        Err(e) => return fail(e, 1),
    };
    let desk = Desk {
        search: SearchPath::standard(&facts.config_home),
        apps: facts.data_home.join("applications"),
        entry_dirs: find::application_dirs(&facts.data_home, &facts.env),
        facts,
    };
    let name_ok = |p: &str| {
        valid_name(p).then_some(()).ok_or_else(|| {
            format!("invalid profile name {p:?}: use letters, digits, '-', '_' and '.', not first '-' or '.'")
        })
    };
    let result = match &args.action {
        Action::Install { profile } => name_ok(profile).and_then(|()| {
            let path = store::launcher_path(&desk.apps, profile);
            let from = desk.install(profile, &path)?;
            println!("installed {} ({from})", path.display());
            Ok(())
        }),
        Action::Remove { profile } => name_ok(profile).and_then(|()| desk.remove(profile)),
        Action::List => {
            desk.list();
            Ok(())
        }
        Action::Sync => return desk.sync(),
    };
    match result {
        Ok(()) => 0,
        Err(message) => fail(message, 1),
    }
}

impl Desk {
    /// Write the launcher of `name` at `path`; say where its names and icon came from.
    fn install(&self, name: &str, path: &Path) -> Result<String, String> {
        let exe = self
            .facts
            .exe
            .as_deref()
            .ok_or("cannot find the nestbox binary's path")?;
        let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
        let exe_text = exe.to_str().ok_or_else(|| {
            format!(
                "the nestbox binary's path {} is not UTF-8, which desktop entries must be",
                exe.display()
            )
        })?;
        let places = self.writable_places();
        refuse_writable("the nestbox binary", &exe, &places)?;
        let profile = self.search.load(name).map_err(|e| e.to_string())?;
        let Some(command) = &profile.command else {
            return Err(format!(
                "profile {name} has no command (it is an abstraction): a launcher would have nothing to start"
            ));
        };
        let app: Option<AppInfo> = match &profile.desktop_entry {
            Some(id) => Some(find::find_by_id(&self.entry_dirs, id).map_err(|e| {
                format!("profile {name} names desktop_entry {id:?}, which cannot be used: {e}")
            })?),
            None => find::find_by_program(&self.entry_dirs, &command[0]),
        };
        if let Some(icon) = app.as_ref().and_then(|a| a.icon.as_deref()) {
            if icon.starts_with('/') {
                let real = std::fs::canonicalize(icon).unwrap_or_else(|_| PathBuf::from(icon));
                refuse_writable("the icon", &real, &places)?;
            }
        }
        match store::existing(path).map_err(|e| e.to_string())? {
            Existing::Foreign => {
                return Err(format!(
                    "{} exists and nestbox did not write it (it has no {} key): not replacing it",
                    path.display(),
                    crate::desktop::MARKER_KEY
                ))
            }
            Existing::Ours(other) if other != name => {
                return Err(format!(
                    "{} is nestbox's launcher for profile {other}: not replacing it",
                    path.display()
                ))
            }
            _ => {}
        }
        let text = launcher_text(&Launcher {
            profile: name,
            description: profile.description.as_deref(),
            exe: exe_text,
            app: app.as_ref(),
        });
        store::write_atomic(path, &text).map_err(|e| e.to_string())?;
        Ok(match &app {
            Some(a) => format!("from {}", a.path.display()),
            None => format!(
                "from the profile: no desktop entry runs {} (set desktop_entry in the profile to name one)",
                command[0]
            ),
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
        let homes = self.facts.data_home.join("nestbox/homes");
        let mut places = writable_places(&homes, &self.facts.home, &profiles);
        for w in &mut places {
            if let Ok(real) = std::fs::canonicalize(&w.path) {
                w.path = real;
            }
        }
        places
    }

    fn remove(&self, name: &str) -> Result<(), String> {
        let path = store::launcher_path(&self.apps, name);
        match store::existing(&path).map_err(|e| e.to_string())? {
            Existing::Nothing => Err(format!(
                "profile {name} has no launcher ({} does not exist)",
                path.display()
            )),
            Existing::Foreign => Err(format!(
                "{} was not written by nestbox (it has no {} key): not removing it",
                path.display(),
                crate::desktop::MARKER_KEY
            )),
            Existing::Ours(other) if other != name => Err(format!(
                "{} is nestbox's launcher for profile {other}: not removing it",
                path.display()
            )),
            Existing::Ours(_) => {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                println!("removed {}", path.display());
                Ok(())
            }
        }
    }

    /// Whether a profile of this name is on the search path.
    fn exists(&self, name: &str) -> bool {
        self.search.list().iter().any(|e| e.name == name)
    }

    fn list(&self) {
        let installed = store::installed(&self.apps);
        if installed.is_empty() {
            println!("no nestbox launchers in {}", self.apps.display());
            return;
        }
        let width = installed
            .iter()
            .map(|(_, p)| p.len())
            .max()
            .unwrap_or(7)
            .max(7);
        println!("{:width$}  {:8}  LAUNCHER", "PROFILE", "STATUS");
        for (path, profile) in installed {
            let status = if self.exists(&profile) {
                "ok"
            } else {
                "missing"
            };
            println!("{profile:width$}  {status:8}  {}", path.display());
        }
    }

    /// Rewrite each launcher at its path; remove those whose profile is gone. Exit 1 if any
    /// could not be rewritten.
    fn sync(&self) -> i32 {
        let mut bad = false;
        for (path, profile) in store::installed(&self.apps) {
            if !valid_name(&profile) || !self.exists(&profile) {
                match std::fs::remove_file(&path) {
                    Ok(()) => println!("removed {}: profile {profile} is gone", path.display()),
                    Err(e) => {
                        bad = true;
                        eprintln!("nestbox: cannot remove {}: {e}", path.display());
                    }
                }
                continue;
            }
            match self.install(&profile, &path) {
                Ok(from) => println!("updated {} ({from})", path.display()),
                Err(e) => {
                    bad = true;
                    eprintln!("nestbox: {}: {e}", path.display());
                }
            }
        }
        i32::from(bad)
    }
}

/// One line when `path` lies where a sandbox can write.
fn refuse_writable(what: &str, path: &Path, places: &[Writable]) -> Result<(), String> {
    match holder(path, places) {
        Some(w) => Err(format!(
            "{what} {} lies in {} ({}), which a sandbox can write: refusing, since a launcher must not run or show what a sandbox could replace",
            path.display(),
            w.path.display(),
            w.why
        )),
        None => Ok(()),
    }
}
