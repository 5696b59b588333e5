//! `nestbox profile`: work on profiles. `profile new NAME --from-desktop ENTRY` writes a starting
//! profile made from an app's desktop entry, checked before it is written. Failures exit 1.

use super::fail;
use crate::desktop::{find, new_profile, AppInfo};
use crate::host::HostFacts;
use crate::profile::{valid_desktop_id, SearchPath};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Write a starting profile, $XDG_CONFIG_HOME/nestbox/profiles/NAME.toml, from an app's desktop entry
    New(NewArgs),
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// The new profile's name
    #[arg(value_name = "NAME")]
    name: String,
    /// The app's desktop entry: a file name (such as firefox-esr.desktop) looked up in the applications directories of $XDG_DATA_HOME and $XDG_DATA_DIRS, or a path
    #[arg(long, value_name = "ENTRY", required = true)]
    from_desktop: String,
    /// Replace NAME.toml if it exists
    #[arg(long)]
    force: bool,
}

pub fn profile(args: ProfileArgs) -> i32 {
    match args.action {
        Action::New(args) => match new(&args) {
            Ok(()) => 0,
            Err(message) => fail(message, 1),
        },
    }
}

fn new(args: &NewArgs) -> Result<(), String> {
    let facts = HostFacts::probe().map_err(|e| e.to_string())?;
    let dirs = find::application_dirs(&facts.data_home, &facts.env);
    let (app, id) = source(&args.from_desktop, &dirs)?;
    let search = SearchPath::standard(&facts.config_home);
    let dest = new_profile::write(&search, &args.name, &app, id.as_deref(), args.force)
        .map_err(|e| e.to_string())?;
    println!(
        "wrote {} from {}; review it, then try `nestbox explain {}`",
        dest.display(),
        app.path.display(),
        args.name
    );
    Ok(())
}

/// The entry, and the ID `desktop_entry` can name it by: a path is read as it is, and has an ID
/// when the same file is found again by its file name; a name is looked up (`.desktop` added
/// when missing).
fn source(arg: &str, dirs: &[PathBuf]) -> Result<(AppInfo, Option<String>), String> {
    if arg.contains('/') {
        let app = find::load_entry(Path::new(arg)).map_err(|e| e.to_string())?;
        let same = |a: &AppInfo| {
            std::fs::canonicalize(&a.path).ok() == std::fs::canonicalize(&app.path).ok()
        };
        let id = Some(app.id.clone())
            .filter(|id| valid_desktop_id(id))
            .filter(|id| find::find_by_id(dirs, id).is_ok_and(|a| same(&a)));
        return Ok((app, id));
    }
    let id = if arg.ends_with(".desktop") {
        arg.to_string()
    } else {
        format!("{arg}.desktop")
    };
    if !valid_desktop_id(&id) {
        return Err(format!(
            "{arg:?} is not a desktop file name (letters, digits, '-', '_', '.') nor a path"
        ));
    }
    let app = find::find_by_id(dirs, &id).map_err(|e| e.to_string())?;
    Ok((app, Some(id)))
}
