//! `nestbox desktop`: launchers in `$XDG_DATA_HOME/applications` that start a profile's sandbox
//! from the desktop's menus. `install` writes one (named, iconed and typed after the app's own
//! entry), `remove` takes it away, `list` shows them, `sync` rewrites them all. Failures exit 1.

use super::fail;
use crate::desktop::launchers::{Installed, LauncherError, Launchers, Synced};
use crate::host::HostFacts;
use clap::Subcommand;

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

pub fn desktop(args: DesktopArgs) -> i32 {
    let facts = match HostFacts::probe() {
        Ok(f) => f,
        Err(e) => return fail(e, 1),
    };
    let launchers = Launchers::new(&facts);
    let result = match &args.action {
        Action::Install { profile } => launchers.install(profile).map(|i| {
            println!("installed {} ({})", i.path.display(), from(&i));
        }),
        Action::Remove { profile } => launchers
            .remove(profile)
            .map(|path| println!("removed {}", path.display())),
        Action::List => {
            list(&launchers);
            Ok(())
        }
        Action::Sync => return sync(&launchers),
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(e, 1),
    }
}

/// Where a launcher's names and icon came from.
fn from(i: &Installed) -> String {
    match &i.from {
        Some(entry) => format!("from {}", entry.display()),
        None => format!(
            "from the profile: no desktop entry runs {} (set desktop_entry in the profile to name one)",
            i.program
        ),
    }
}

fn list(launchers: &Launchers) {
    let installed = launchers.installed();
    if installed.is_empty() {
        println!("no nestbox launchers in {}", launchers.dir().display());
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
        let status = if launchers.profile_exists(&profile) {
            "ok"
        } else {
            "missing"
        };
        println!("{profile:width$}  {status:8}  {}", path.display());
    }
}

/// Rewrite every launcher; exit 1 if any could not be.
fn sync(launchers: &Launchers) -> i32 {
    let mut bad = false;
    for result in launchers.sync() {
        match result {
            Synced::Updated(i) => println!("updated {} ({})", i.path.display(), from(&i)),
            Synced::Removed { path, profile } => {
                println!("removed {}: profile {profile} is gone", path.display())
            }
            Synced::Failed { path, error } => {
                bad = true;
                match error {
                    LauncherError::Remove { .. } => eprintln!("nestbox: {error}"),
                    _ => eprintln!("nestbox: {}: {error}", path.display()),
                }
            }
        }
    }
    i32::from(bad)
}
