//! What the manager knows of this user's machine, read off the main loop: the search path, the
//! profiles on it (each with its app's name and icon from the app's desktop entry, whether the
//! user changed it, whether the app is installed, what it grants), the running sandboxes.

use crate::i18n::fill;
use nestbox::desktop::{find, AppInfo};
use nestbox::host::HostFacts;
use nestbox::profile::{Profile, SearchPath, SourceKind};
use nestbox::registry::Registry;
use nestbox::settings::{grants, GrantLine, ProfileSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The user's directories, read once at start.
#[derive(Debug, Clone)]
pub struct Places {
    pub facts: HostFacts,
    pub search: SearchPath,
    pub registry: Option<Registry>,
    pub app_dirs: Vec<PathBuf>,
    /// The nestbox binary the manager starts sandboxes with.
    pub nestbox: PathBuf,
}

impl Places {
    pub fn probe() -> Result<Places, String> {
        let mut facts = HostFacts::probe().map_err(|e| e.to_string())?;
        let nestbox = crate::launch::nestbox_exe();
        // Launchers run nestbox, not the manager.
        facts.exe = Some(nestbox.clone());
        Ok(Places {
            search: SearchPath::standard(&facts.config_home),
            registry: Registry::new(&facts.env).ok(),
            app_dirs: find::application_dirs(&facts.data_home, &facts.env),
            nestbox,
            facts,
        })
    }

    /// The user's profile directory.
    pub fn user_dir(&self) -> PathBuf {
        self.search
            .dirs
            .iter()
            .find(|(k, _)| *k == SourceKind::User)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| self.facts.config_home.join("nestbox/profiles"))
    }
}

/// The places and the profiles, read on a thread of their own from the start of main, while GTK
/// starts.
pub struct Early(std::thread::JoinHandle<Result<Read, String>>);

/// The places, and the profiles on them.
pub type Read = (std::sync::Arc<Places>, Vec<Item>);

impl Early {
    pub fn start() -> Early {
        Early(std::thread::spawn(|| {
            let places = Places::probe()?;
            let items = items(&places);
            Ok((std::sync::Arc::new(places), items))
        }))
    }

    /// Whether the reading is done (so that joining does not wait).
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }

    pub fn join(self) -> Result<Read, String> {
        self.0
            .join()
            .unwrap_or_else(|_| Err("reading the profiles failed".to_string()))
    }
}

impl std::fmt::Debug for Early {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Early")
    }
}

/// One profile as the sidebar and the overview show it.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub name: String,
    /// The app's name from its desktop entry, else the profile's description or name.
    pub title: String,
    pub icon: Option<String>,
    /// An abstraction (no command): listed in a section of its own.
    pub abstraction: bool,
    /// The user's own file hides a shipped or admin profile of this name.
    pub changed: bool,
    /// Only the user's (no shipped or admin profile of this name): can be renamed and deleted.
    pub own: bool,
    /// The app's program is not on this machine.
    pub missing: bool,
    /// Why the profile does not load, when it does not.
    pub error: Option<String>,
    pub grants: Vec<GrantLine>,
    /// nestbox installed a launcher for it (the "Show in app menu" switch).
    pub launcher: bool,
}

/// Every profile on the search path, in name order.
pub fn items(places: &Places) -> Vec<Item> {
    let apps = find::all_apps(&places.app_dirs);
    let launchers: std::collections::BTreeSet<String> =
        nestbox::desktop::launchers::Launchers::new(&places.facts)
            .installed()
            .into_iter()
            .map(|(_, name)| name)
            .collect();
    let entries = places.search.list();
    let path = places
        .facts
        .env
        .get("PATH")
        .cloned()
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_string());
    entries
        .iter()
        .filter(|e| !e.shadowed)
        .map(|e| {
            let own = e.kind == SourceKind::User
                && !entries.iter().any(|o| o.name == e.name && o.shadowed);
            match places.search.load(&e.name) {
                Ok(p) => Item {
                    launcher: launchers.contains(&e.name),
                    ..item(&p, e.changed, own, &apps, &path)
                },
                Err(err) => Item {
                    name: e.name.clone(),
                    title: e.name.clone(),
                    icon: None,
                    abstraction: false,
                    changed: e.changed,
                    own,
                    missing: false,
                    error: Some(err.to_string()),
                    grants: Vec::new(),
                    launcher: launchers.contains(&e.name),
                },
            }
        })
        .collect()
}

fn item(p: &Profile, changed: bool, own: bool, apps: &[AppInfo], path: &str) -> Item {
    let program = p.command.as_ref().and_then(|c| c.first());
    let app = app_of(p, apps);
    Item {
        name: p.name.clone(),
        title: app
            .map(local_name)
            .or_else(|| p.description.clone().filter(|_| program.is_none()))
            .unwrap_or_else(|| p.name.clone()),
        icon: app.and_then(|a| a.icon.clone()),
        abstraction: program.is_none(),
        changed,
        own,
        missing: program.is_some_and(|prog| !installed(prog, path)),
        error: None,
        grants: grants(p),
        launcher: false,
    }
}

/// An app's name in the user's language (GLib's list of languages, most wanted first), as
/// menus show it.
pub fn local_name(app: &AppInfo) -> String {
    relm4::gtk::glib::language_names()
        .iter()
        .find_map(|lang| {
            let lang = lang.split('.').next().unwrap_or(lang);
            app.names
                .iter()
                .find(|(l, _)| l == lang)
                .map(|(_, n)| n.clone())
        })
        .unwrap_or_else(|| app.name.clone())
}

/// The app entry of a profile: the one it names, else the one that runs its program.
fn app_of<'a>(p: &Profile, apps: &'a [AppInfo]) -> Option<&'a AppInfo> {
    if let Some(id) = &p.desktop_entry {
        if let Some(a) = apps.iter().find(|a| a.id == *id) {
            return Some(a);
        }
    }
    let program = p.command.as_ref()?.first()?;
    apps.iter().find(|a| a.runs(program))
}

/// Whether `program` (a path, or a name looked up on `path`) is an executable file here.
fn installed(program: &str, path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(Path::new(program));
    }
    path.split(':')
        .filter(|d| d.starts_with('/'))
        .any(|d| executable(&Path::new(d).join(program)))
}

/// A running sandbox, as the Running page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub name: String,
    pub profile: String,
    pub started: u64,
    pub processes: usize,
}

/// The running sandboxes.
pub fn sandboxes(places: &Places) -> Vec<Sandbox> {
    let Some(registry) = &places.registry else {
        return Vec::new();
    };
    nestbox::running::list(registry)
        .into_iter()
        .map(|r| Sandbox {
            name: r.entry.name,
            profile: r.entry.profile,
            started: r.entry.started,
            processes: r.processes,
        })
        .collect()
}

/// The running sandbox of profile `name`, as the registry says now: the one named after it
/// first, else another instance of it.
pub fn sandbox_of(places: &Places, name: &str) -> Option<String> {
    let now = sandboxes(places);
    now.iter()
        .find(|s| s.name == name)
        .or_else(|| now.iter().find(|s| s.profile == name))
        .map(|s| s.name.clone())
}

/// The installed apps, for "New profile from an installed app".
pub fn installed_apps(places: &Places) -> Vec<AppInfo> {
    find::all_apps(&places.app_dirs)
}

/// A free profile name made from an app's desktop ID (`org.gnome.Maps.desktop` → `maps`).
pub fn name_for(app: &AppInfo, taken: &BTreeMap<String, ()>) -> String {
    let stem = app.id.trim_end_matches(".desktop");
    let last = stem.rsplit('.').next().unwrap_or(stem).to_lowercase();
    let base: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['-', '.'])
        .to_string();
    let base = if base.is_empty() {
        "app".to_string()
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains_key(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// Make `new` from profile `s`: the user's file copied when it is the whole profile, else a file
/// that extends it; renaming removes the old file once the new one is saved.
pub fn copy_profile(
    places: &Places,
    s: &ProfileSettings,
    new: &str,
    rename: bool,
) -> Result<(), String> {
    if !nestbox::profile::valid_name(new) {
        return Err(fill(
            "{name} is not a profile name: use letters, digits, '-', '_' and '.'",
            &[("name", new)],
        ));
    }
    if places.search.load(new).is_ok() {
        return Err(fill("A profile named {name} exists", &[("name", new)]));
    }
    let own = s.edit.path().is_file() && !s.has_default;
    let text = if own {
        s.edit.text()
    } else {
        format!("extends = [\"{}\"]\n", s.name)
    };
    let dest = places.user_dir().join(format!("{new}.toml"));
    places
        .search
        .load_text(new, &text)
        .map_err(|e| e.to_string())?;
    nestbox::atomic::write_atomic(&dest, &text).map_err(|e| e.to_string())?;
    if rename && own {
        std::fs::remove_file(s.edit.path()).map_err(|e| e.to_string())?;
    }
    Ok(())
}
