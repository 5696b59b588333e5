//! Where apps' desktop entries are found: `$XDG_DATA_HOME/applications`, then the
//! `applications` directory of each of `$XDG_DATA_DIRS` (default `/usr/local/share:/usr/share`),
//! the first file of an ID winning, as the Desktop Entry Specification says. nestbox's own
//! launchers are never taken for an app's entry.

use super::entry::AppInfo;
use super::{keyfile, DesktopError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The applications directories, first wins. Relative entries of `XDG_DATA_DIRS` are ignored.
pub fn application_dirs(data_home: &Path, env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    let dirs = env
        .get("XDG_DATA_DIRS")
        .filter(|d| !d.is_empty())
        .map_or("/usr/local/share:/usr/share", String::as_str);
    let mut out = vec![data_home.join("applications")];
    for d in dirs.split(':').filter(|d| d.starts_with('/')) {
        let dir = Path::new(d).join("applications");
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// Read and parse the entry at `path`; its ID is its file name.
pub fn load_entry(path: &Path) -> Result<AppInfo, DesktopError> {
    let text = std::fs::read_to_string(path).map_err(|source| DesktopError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = keyfile::parse(&text).map_err(|e| DesktopError::Syntax {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })?;
    let id = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    AppInfo::from_keyfile(&id, path, &file).map_err(|message| DesktopError::NotAnApp {
        path: path.to_path_buf(),
        message,
    })
}

fn searched(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    names.join(", ")
}

/// The app entry of ID `id` (a file name): the first file of that name in `dirs` that is not a
/// nestbox launcher.
pub fn find_by_id(dirs: &[PathBuf], id: &str) -> Result<AppInfo, DesktopError> {
    for dir in dirs {
        let path = dir.join(id);
        if !path.is_file() {
            continue;
        }
        let app = load_entry(&path)?;
        if app.nestbox_profile.is_none() {
            return Ok(app);
        }
    }
    Err(DesktopError::NotFound {
        id: id.to_string(),
        searched: searched(dirs),
    })
}

/// The desktop entries' file names in `dir`, in order (none when it cannot be read).
fn entry_names(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".desktop") && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The entry that runs `program`: shown in menus if one is, not hidden, not nestbox's; the first
/// directory first, file names in order. Entries that cannot be read are passed over.
pub fn find_by_program(dirs: &[PathBuf], program: &str) -> Option<AppInfo> {
    let mut seen: Vec<String> = Vec::new();
    let mut fallback = None;
    for dir in dirs {
        for name in entry_names(dir) {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let app = match load_entry(&dir.join(&name)) {
                Ok(app) => app,
                Err(e) => {
                    tracing::debug!(%e, "desktop entry passed over");
                    continue;
                }
            };
            if app.hidden || app.nestbox_profile.is_some() || !app.runs(program) {
                continue;
            }
            if !app.no_display {
                return Some(app);
            }
            fallback.get_or_insert(app);
        }
    }
    fallback
}

/// Every app entry in `dirs` a menu shows (the first file of an ID wins; hidden, NoDisplay and
/// nestbox's own launchers left out), sorted by name. Entries that cannot be read are passed over.
pub fn all_apps(dirs: &[PathBuf]) -> Vec<AppInfo> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        for name in entry_names(dir) {
            if !seen.insert(name.clone()) {
                continue;
            }
            match load_entry(&dir.join(&name)) {
                Ok(app) if !app.hidden && !app.no_display && app.nestbox_profile.is_none() => {
                    out.push(app)
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(%e, "desktop entry passed over"),
            }
        }
    }
    out.sort_by_key(|a| a.name.to_lowercase());
    out
}
