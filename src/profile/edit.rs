//! Changing a user's profile file key by key, as a front end does, keeping what a person wrote in
//! it by hand (comments, order, layout), and saving it only once it checks.
//!
//! A user's changes to a shipped profile live in `$XDG_CONFIG_HOME/nestbox/profiles/NAME.toml`,
//! which extends the shipped `NAME` (a profile that extends its own name means the next one down
//! the search path) and holds only what differs.

use super::{Profile, ProfileError, SearchPath, SourceKind};
use std::path::PathBuf;
use toml_edit::{DocumentMut, Item, Table, Value};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: {message}", path = path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{key} is not a table in {path}", path = path.display())]
    NotATable { path: PathBuf, key: String },
    #[error(transparent)]
    Invalid(#[from] ProfileError),
    #[error("{key} is not a list in {path}", path = path.display())]
    NotAList { path: PathBuf, key: String },
    #[error("there is no user profile directory on the search path")]
    NoUserDirectory,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A user's profile file being changed.
#[derive(Debug, Clone)]
pub struct ProfileEdit {
    path: PathBuf,
    doc: DocumentMut,
}

impl ProfileEdit {
    /// The user's profile `name` on `search`: its file's text when there is one, else a new file
    /// that extends the profile of that name further down the search path (the shipped one).
    pub fn open(search: &SearchPath, name: &str) -> Result<ProfileEdit, EditError> {
        let path = user_path(search, name)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!(
                "# Your changes to the {name} profile: it extends the one of the same name below\n\
                 # this directory (the shipped one) and holds only what differs.\n\
                 extends = [\"{name}\"]\n"
            ),
            Err(source) => return Err(ProfileError::Read { path, source }.into()),
        };
        ProfileEdit::parse(path, &text)
    }

    /// `text`, the file at `path`.
    pub fn parse(path: PathBuf, text: &str) -> Result<ProfileEdit, EditError> {
        match text.parse::<DocumentMut>() {
            Ok(doc) => Ok(ProfileEdit { path, doc }),
            Err(e) => Err(EditError::Parse {
                path,
                message: e.message().to_string(),
            }),
        }
    }

    /// Set `key` of `table` (`None`: the top level) to `value`, keeping the key's place and
    /// comments when it is there, adding it (and the table) when not.
    pub fn set(
        &mut self,
        table: Option<&str>,
        key: &str,
        value: impl Into<Value>,
    ) -> Result<(), EditError> {
        let Some(t) = self.table_mut(table, true)? else {
            return Err(EditError::NotATable {
                path: self.path.clone(),
                key: table.unwrap_or_default().to_string(),
            });
        };
        match t.get_mut(key).and_then(Item::as_value_mut) {
            // The new value takes the old one's surrounding spaces and trailing comment.
            Some(old) => {
                let decor = old.decor().clone();
                *old = value.into();
                *old.decor_mut() = decor;
            }
            None => {
                t.insert(key, Item::Value(value.into()));
            }
        }
        Ok(())
    }

    /// Take `key` of `table` out of the file, so that what the profile extends decides it again;
    /// a table left empty goes too. Whether it was there.
    pub fn reset(&mut self, table: Option<&str>, key: &str) -> Result<bool, EditError> {
        let Some(t) = self.table_mut(table, false)? else {
            return Ok(false);
        };
        let removed = t.remove(key).is_some();
        if let Some(name) = table.filter(|_| t.is_empty()) {
            self.doc.remove(name);
        }
        Ok(removed)
    }

    /// Whether this file sets `key` of `table` itself (rather than leaving it to what it extends).
    pub fn is_set(&self, table: Option<&str>, key: &str) -> bool {
        let t = match table {
            None => Some(self.doc.as_table()),
            Some(name) => self.doc.get(name).and_then(Item::as_table),
        };
        t.is_some_and(|t| t.contains_key(key))
    }

    /// The strings of the list `key` of `table` in this file (none when it has no such list).
    pub fn list(&self, table: Option<&str>, key: &str) -> Vec<String> {
        let t = match table {
            None => Some(self.doc.as_table()),
            Some(name) => self.doc.get(name).and_then(Item::as_table),
        };
        t.and_then(|t| t.get(key))
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Add `value` to the end of the list `key` of `table` (made when missing); nothing when it
    /// is there already.
    pub fn push(&mut self, table: Option<&str>, key: &str, value: &str) -> Result<(), EditError> {
        if self.list(table, key).iter().any(|v| v == value) {
            return Ok(());
        }
        let path = self.path.clone();
        let Some(t) = self.table_mut(table, true)? else {
            unreachable!("table_mut makes the table");
        };
        let item = t
            .entry(key)
            .or_insert(Item::Value(Value::Array(Default::default())));
        match item.as_array_mut() {
            Some(a) => {
                a.push(value);
                Ok(())
            }
            None => Err(EditError::NotAList {
                path,
                key: key.to_string(),
            }),
        }
    }

    /// Take `value` out of the list `key` of `table`; an emptied list goes, and an emptied
    /// table. Whether it was there.
    pub fn remove(
        &mut self,
        table: Option<&str>,
        key: &str,
        value: &str,
    ) -> Result<bool, EditError> {
        let Some(t) = self.table_mut(table, false)? else {
            return Ok(false);
        };
        let Some(a) = t.get_mut(key).and_then(Item::as_array_mut) else {
            return Ok(false);
        };
        let before = a.len();
        a.retain(|v| v.as_str() != Some(value));
        let removed = a.len() != before;
        if a.is_empty() {
            self.reset(table, key)?;
        }
        Ok(removed)
    }

    fn table_mut(
        &mut self,
        table: Option<&str>,
        make: bool,
    ) -> Result<Option<&mut Table>, EditError> {
        let Some(name) = table else {
            return Ok(Some(self.doc.as_table_mut()));
        };
        if make && !self.doc.contains_key(name) {
            self.doc.insert(name, Item::Table(Table::new()));
        }
        match self.doc.get_mut(name) {
            None => Ok(None),
            Some(item) => match item.as_table_mut() {
                Some(t) => Ok(Some(t)),
                None => Err(EditError::NotATable {
                    path: self.path.clone(),
                    key: name.to_string(),
                }),
            },
        }
    }

    /// The file this edit saves to.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The file's text as it is now.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Check the text as the profile will load from the file, and only then write it (a
    /// temporary file, synced, renamed over the old one): the profile as it now loads.
    pub fn save(&self, search: &SearchPath, name: &str) -> Result<Profile, EditError> {
        let text = self.text();
        let profile = search.load_text(name, &text)?;
        crate::atomic::write_atomic(&self.path, &text).map_err(|source| EditError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(profile)
    }
}

/// Where the user's profile `name` lives.
fn user_path(search: &SearchPath, name: &str) -> Result<PathBuf, EditError> {
    if !super::valid_name(name) {
        return Err(ProfileError::BadName(name.to_string()).into());
    }
    search
        .dirs
        .iter()
        .find(|(kind, _)| *kind == SourceKind::User)
        .map(|(_, dir)| dir.join(format!("{name}.toml")))
        .ok_or(EditError::NoUserDirectory)
}
