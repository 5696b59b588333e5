//! A profile as a settings window shows it: each setting with the value the profile resolves to
//! and whether the user's own file sets it; what the app can see, in terms a person weighs; and
//! the changes a person makes, each one checked and saved at once through [`ProfileEdit`]. The
//! manager draws this; nothing here knows GTK, so it is tested without a display.

mod grants;

pub use grants::{grants, personal, Grant, GrantLine};

use crate::profile::{
    Access, EditError, Profile, ProfileEdit, ProfileError, SearchPath, SourceKind,
};
use std::path::{Path, PathBuf};

/// How a setting is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One of these words, as the profile writes them.
    Choice(&'static [&'static str]),
    Switch,
    /// A word the profile checks (a size).
    Text,
    /// A whole number.
    Number,
}

/// One key of a profile a person can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// `table.key`, as written in the file.
    pub id: &'static str,
    pub table: Option<&'static str>,
    pub key: &'static str,
    pub kind: Kind,
}

const fn setting(table: &'static str, key: &'static str, id: &'static str, kind: Kind) -> Setting {
    Setting {
        id,
        table: Some(table),
        key,
        kind,
    }
}

/// Every setting the manager offers, in the order of its page.
pub const SETTINGS: &[Setting] = &[
    setting(
        "sandbox",
        "x11",
        "sandbox.x11",
        Kind::Choice(&["host", "nested", "none"]),
    ),
    setting("nested", "size", "nested.size", Kind::Text),
    setting(
        "nested",
        "clipboard",
        "nested.clipboard",
        Kind::Choice(&["none", "in", "out", "both"]),
    ),
    setting("sandbox", "wayland", "sandbox.wayland", Kind::Switch),
    setting(
        "sandbox",
        "audio",
        "sandbox.audio",
        Kind::Choice(&["pulse", "auto", "none"]),
    ),
    setting("audio", "record", "audio.record", Kind::Switch),
    setting(
        "audio",
        "device_volume",
        "audio.device_volume",
        Kind::Switch,
    ),
    setting(
        "sandbox",
        "gpu",
        "sandbox.gpu",
        Kind::Choice(&["auto", "dri", "nvidia", "none"]),
    ),
    setting(
        "sandbox",
        "network",
        "sandbox.network",
        Kind::Choice(&["shared", "none"]),
    ),
    setting(
        "sandbox",
        "home",
        "sandbox.home",
        Kind::Choice(&["persistent", "tmpfs"]),
    ),
    setting(
        "sandbox",
        "shared_files",
        "sandbox.shared_files",
        Kind::Choice(&["read-only", "read-write"]),
    ),
    setting(
        "sandbox",
        "session_bus",
        "sandbox.session_bus",
        Kind::Choice(&["none", "private"]),
    ),
    setting(
        "seccomp",
        "user_namespaces",
        "seccomp.user_namespaces",
        Kind::Switch,
    ),
    setting("sandbox", "tmpfs_size", "sandbox.tmpfs_size", Kind::Text),
    setting(
        "sandbox",
        "max_processes",
        "sandbox.max_processes",
        Kind::Number,
    ),
];

/// The setting called `id`.
pub fn find(id: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.id == id)
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A choice's word, a size, or a number, as the profile would write it.
    Word(String),
    Switch(bool),
}

impl Value {
    pub fn word(&self) -> &str {
        match self {
            Value::Word(w) => w,
            Value::Switch(true) => "true",
            Value::Switch(false) => "false",
        }
    }
}

fn word<T: serde::Serialize>(v: &T) -> Value {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Value::Word(s),
        other => Value::Word(format!("{other:?}")),
    }
}

/// What `profile` resolves `setting` to.
pub fn value(profile: &Profile, setting: &Setting) -> Value {
    use crate::profile::{NestedSize, TmpfsSize};
    match setting.id {
        "sandbox.x11" => word(&profile.x11),
        "nested.size" => Value::Word(match profile.nested.size {
            NestedSize::Fit => "fit".to_string(),
            NestedSize::Fixed { width, height } => format!("{width}x{height}"),
        }),
        "nested.clipboard" => word(&profile.nested.clipboard),
        "sandbox.wayland" => Value::Switch(profile.wayland),
        "sandbox.audio" => word(&profile.audio),
        "audio.record" => Value::Switch(profile.audio_access.record),
        "audio.device_volume" => Value::Switch(profile.audio_access.device_volume),
        "sandbox.gpu" => word(&profile.gpu),
        "sandbox.network" => word(&profile.network),
        "sandbox.home" => word(&profile.home),
        "sandbox.shared_files" => word(&profile.shared_files),
        "sandbox.session_bus" => word(&profile.session_bus),
        "seccomp.user_namespaces" => Value::Switch(profile.seccomp.user_namespaces),
        "sandbox.tmpfs_size" => Value::Word(match profile.tmpfs_size {
            TmpfsSize::Percent(p) => format!("{p}%"),
            TmpfsSize::Bytes(b) if b % (1 << 30) == 0 => format!("{}G", b >> 30),
            TmpfsSize::Bytes(b) => format!("{}M", b >> 20),
        }),
        "sandbox.max_processes" => Value::Word(profile.max_processes.to_string()),
        other => unreachable!("no setting {other}"),
    }
}

/// A folder of the host bound in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// As the profile writes it: `~/Music`, `/srv/photos`, `?~/Games`.
    pub entry: String,
    pub writable: bool,
    /// Written in the user's own file (so it can be taken out here); else inherited.
    pub own: bool,
}

/// A change a person makes to one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(&'static Setting, Value),
    /// Take the user's own value out: what the profile extends decides again.
    Reset(&'static Setting),
    AddFolder {
        path: PathBuf,
        writable: bool,
    },
    RemoveFolder {
        entry: String,
        writable: bool,
    },
    SetEnv {
        name: String,
        value: String,
    },
    RemoveEnv {
        name: String,
    },
    /// `deny = false`: a system call allowed; `true`: one more refused.
    AddSyscall {
        name: String,
        deny: bool,
    },
    RemoveSyscall {
        name: String,
        deny: bool,
    },
}

/// Why a change was not saved, for the row that made it.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The profile would not check: its message without the file's place (the row is the place).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// One profile open in a settings window: the user's file as being changed, and the profile it
/// now resolves to.
#[derive(Debug, Clone)]
pub struct ProfileSettings {
    pub name: String,
    pub edit: ProfileEdit,
    pub profile: Profile,
    /// Whether a profile of the same name lies further down the search path (shipped or the
    /// admin's): what "Reset to defaults" goes back to.
    pub has_default: bool,
    home: PathBuf,
}

impl ProfileSettings {
    /// The profile `name` as it loads now, and its user file (to be) for changes.
    pub fn open(
        search: &SearchPath,
        name: &str,
        home: &Path,
    ) -> Result<ProfileSettings, EditError> {
        let profile = search.load(name)?;
        let edit = ProfileEdit::open(search, name)?;
        let has_default = search
            .list()
            .iter()
            .any(|e| e.name == name && e.kind != SourceKind::User);
        Ok(ProfileSettings {
            name: name.to_string(),
            edit,
            profile,
            has_default,
            home: home.to_path_buf(),
        })
    }

    /// Whether the user's file sets `setting` itself.
    pub fn changed(&self, setting: &Setting) -> bool {
        self.edit.is_set(setting.table, setting.key)
    }

    pub fn value(&self, setting: &Setting) -> Value {
        value(&self.profile, setting)
    }

    /// The folders bound in: the user's own entries first, then those inherited that are the
    /// user's (not the system's fonts, themes and certificates a profile binds).
    pub fn folders(&self) -> Vec<Folder> {
        let mut out = Vec::new();
        for (key, writable) in [("rw", true), ("ro", false)] {
            for entry in self.edit.list(Some("filesystem"), key) {
                out.push(Folder {
                    entry,
                    writable,
                    own: true,
                });
            }
        }
        let own_file = self.edit.path();
        for b in &self.profile.binds {
            if b.origin.path == own_file
                || b.is_shared_file()
                || b.access == Access::Device
                || !personal(&b.src)
            {
                continue;
            }
            let mut entry = String::new();
            if b.optional {
                entry.push('?');
            }
            entry.push_str(&b.src.to_string());
            if b.dst != b.src {
                entry.push(':');
                entry.push_str(&b.dst.to_string());
            }
            out.push(Folder {
                entry,
                writable: b.access == Access::ReadWrite,
                own: false,
            });
        }
        out
    }

    /// The variables the profile sets, each with whether the user's file sets it.
    pub fn env(&self) -> Vec<(String, String, bool)> {
        self.profile
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), self.edit.is_set(Some("env"), k)))
            .collect()
    }

    /// The system calls allowed (`deny = false`) or refused beyond the defaults, each with whether
    /// the user's file names it.
    pub fn syscalls(&self, deny: bool) -> Vec<(String, bool)> {
        let (names, key) = if deny {
            (&self.profile.seccomp.deny, "deny")
        } else {
            (&self.profile.seccomp.allow, "allow")
        };
        let own = self.edit.list(Some("seccomp"), key);
        names.iter().map(|n| (n.clone(), own.contains(n))).collect()
    }

    /// Make `change` to the user's file and save it, only if the profile still checks; on
    /// success the profile as it now loads.
    pub fn apply(&mut self, search: &SearchPath, change: &Change) -> Result<(), ChangeError> {
        let mut edit = self.edit.clone();
        match change {
            Change::Set(s, v) => match (s.kind, v) {
                (_, Value::Switch(b)) => edit.set(s.table, s.key, *b)?,
                (Kind::Number, Value::Word(w)) => {
                    let n: i64 = w.trim().parse().map_err(|_| {
                        ChangeError::Invalid(format!("{:?} is not a whole number", w.trim()))
                    })?;
                    edit.set(s.table, s.key, n)?
                }
                (_, Value::Word(w)) => edit.set(s.table, s.key, w.trim())?,
            },
            Change::Reset(s) => {
                edit.reset(s.table, s.key)?;
            }
            Change::AddFolder { path, writable } => {
                let entry = self.profile_path(path);
                let (key, other) = if *writable {
                    ("rw", "ro")
                } else {
                    ("ro", "rw")
                };
                edit.remove(Some("filesystem"), other, &entry)?;
                edit.push(Some("filesystem"), key, &entry)?;
            }
            Change::RemoveFolder { entry, writable } => {
                let key = if *writable { "rw" } else { "ro" };
                edit.remove(Some("filesystem"), key, entry)?;
            }
            Change::SetEnv { name, value } => edit.set(Some("env"), name.trim(), value.as_str())?,
            Change::RemoveEnv { name } => {
                edit.reset(Some("env"), name)?;
            }
            Change::AddSyscall { name, deny } => {
                let (key, other) = if *deny {
                    ("deny", "allow")
                } else {
                    ("allow", "deny")
                };
                edit.remove(Some("seccomp"), other, name.trim())?;
                edit.push(Some("seccomp"), key, name.trim())?;
            }
            Change::RemoveSyscall { name, deny } => {
                edit.remove(Some("seccomp"), if *deny { "deny" } else { "allow" }, name)?;
            }
        }
        let profile = edit.save(search, &self.name).map_err(|e| match e {
            EditError::Invalid(ProfileError::Invalid { message, .. }) => {
                ChangeError::Invalid(message)
            }
            other => ChangeError::Edit(other),
        })?;
        self.edit = edit;
        self.profile = profile;
        Ok(())
    }

    /// Take the user's file away so the profile is the one it extends again; its text, for undo.
    /// Only for a profile with a default below (else the file is the whole profile).
    pub fn reset_all(&mut self, search: &SearchPath) -> Result<String, EditError> {
        let text = self.edit.text();
        let path = self.edit.path().to_path_buf();
        std::fs::remove_file(&path).map_err(|source| EditError::Write {
            path: path.clone(),
            source,
        })?;
        match ProfileSettings::open(search, &self.name, &self.home) {
            Ok(fresh) => {
                *self = fresh;
                Ok(text)
            }
            Err(e) => {
                // Put it back rather than leave the profile broken.
                let _ = crate::atomic::write_atomic(&path, &text);
                Err(e)
            }
        }
    }

    /// Write `text` (what [`reset_all`](Self::reset_all) returned) back as the user's file.
    pub fn restore(&mut self, search: &SearchPath, text: &str) -> Result<(), EditError> {
        let edit = ProfileEdit::parse(self.edit.path().to_path_buf(), text)?;
        self.profile = edit.save(search, &self.name)?;
        self.edit = edit;
        Ok(())
    }

    /// `path` as a profile writes it: under the home as `~/...`.
    fn profile_path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.home) {
            Ok(rel) if rel.as_os_str().is_empty() => "~".to_string(),
            Ok(rel) => format!("~/{}", rel.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
