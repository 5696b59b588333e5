//! The window's saves: a change from the page, "Reset to defaults" and its Undo, one at a time,
//! each from what the one before left; and a profile changed on disk by someone else, read again.

use super::{toast, Msg, Widgets, Window};
use crate::apps::Places;
use crate::i18n::{fill, gettext};
use crate::page;
use crate::sidebar::glib_escape;
use nestbox::settings::{Change, ChangeError, ProfileSettings};
use relm4::{adw, ComponentController, ComponentSender};
use std::sync::Arc;

impl Window {
    /// Save `change` to the profile shown. One save at a time, each from the profile as the one
    /// before left it: two at once would each start from the same old file and the last would
    /// undo the first.
    pub(super) fn change(
        &mut self,
        change: Change,
        places: Arc<Places>,
        sender: &ComponentSender<Self>,
    ) {
        if self.saving > 0 {
            self.queued.push_back(change);
            return;
        }
        let Some(mut s) = self.settings.clone() else {
            return;
        };
        let row = row_of(&change);
        self.saving += 1;
        sender.spawn_oneshot_command(move || {
            let r = s.apply(&places.search, &change);
            Msg::Applied(
                Some(row),
                r.map(|_| Box::new(s)).map_err(|e| match e {
                    ChangeError::Invalid(m) => m,
                    other => other.to_string(),
                }),
            )
        });
    }

    pub(super) fn reset_all(&mut self, places: Arc<Places>, sender: &ComponentSender<Self>) {
        let Some(mut s) = self.settings.clone() else {
            return;
        };
        self.saving += 1;
        sender.spawn_oneshot_command(move || {
            Msg::ResetDone(
                s.reset_all(&places.search)
                    .map(|old| (Box::new(s), old))
                    .map_err(|e| e.to_string()),
            )
        });
    }

    /// A save of ours ended (`saved`: it wrote the file): the next change waiting goes.
    fn save_ended(&mut self, saved: bool, sender: &ComponentSender<Self>) {
        self.saving = self.saving.saturating_sub(1);
        if saved {
            self.saved += 1;
        }
        if let Some(next) = self.queued.pop_front() {
            sender.input(Msg::Page(page::Output::Change(next)));
        }
    }

    /// A change (of row `setting`, or an undo) was saved, or refused.
    pub(super) fn applied(
        &mut self,
        w: &Widgets,
        setting: Option<String>,
        result: Result<Box<ProfileSettings>, String>,
        sender: &ComponentSender<Self>,
    ) {
        let s = match result {
            Ok(s) => s,
            Err(message) => {
                self.save_ended(false, sender);
                match setting {
                    Some(setting) => self.page.emit(page::Input::RowError { setting, message }),
                    None => toast(w, &message),
                }
                return;
            }
        };
        self.save_ended(true, sender);
        let name = s.name.clone();
        self.settings = Some(*s);
        // The list shown may be a second old: ask the registry now.
        if let Some(places) = self.places() {
            let n = name.clone();
            sender.spawn_oneshot_command(move || {
                let running = crate::apps::sandboxes(&places)
                    .iter()
                    .any(|s| s.profile == n);
                Msg::ChangedWhile(n, running)
            });
        }
        if self.running_names().contains(&name) {
            self.stale.insert(name.clone());
            w.restart.set_reveal_child(true);
        }
        self.reload_items(sender);
        self.show_page();
    }

    pub(super) fn reset_done(
        &mut self,
        w: &Widgets,
        result: Result<(Box<ProfileSettings>, String), String>,
        sender: &ComponentSender<Self>,
    ) {
        let (s, old) = match result {
            Ok(done) => done,
            Err(e) => {
                self.save_ended(false, sender);
                return toast(w, &e);
            }
        };
        self.save_ended(true, sender);
        let name = s.name.clone();
        self.settings = Some(*s);
        self.reload_items(sender);
        let t = adw::Toast::new(&glib_escape(&fill(
            "{name} is back to its defaults",
            &[("name", &name)],
        )));
        t.set_button_label(Some(&gettext("Undo")));
        let s = sender.clone();
        t.connect_button_clicked(move |_| s.input(Msg::Undo(old.clone())));
        w.toasts.add_toast(t);
    }

    /// Put the profile's file back as `text` (the Undo of a reset).
    pub(super) fn undo(&mut self, text: String, sender: &ComponentSender<Self>) {
        let (Some(places), Some(mut s)) = (self.places(), self.settings.clone()) else {
            return;
        };
        self.saving += 1;
        sender.spawn_oneshot_command(move || {
            Msg::Applied(
                None,
                s.restore(&places.search, &text)
                    .map(|_| Box::new(s))
                    .map_err(|e| e.to_string()),
            )
        });
    }

    /// A file in the user's profile folder changed: the list, and the profile shown, read again.
    pub(super) fn dir_changed(&mut self, sender: &ComponentSender<Self>) {
        self.reload_items(sender);
        if let (Some(places), Some(name)) = (self.places(), self.current_name()) {
            let saved = self.saved;
            sender.spawn_oneshot_command(move || {
                let r = ProfileSettings::open(&places.search, &name, &places.facts.home)
                    .map(Box::new)
                    .map_err(|e| e.to_string());
                Msg::Reloaded(name, saved, r)
            });
        }
    }

    /// The profile shown, read again after a change on disk when `saved` saves of ours had ended.
    pub(super) fn reloaded(
        &mut self,
        w: &Widgets,
        name: String,
        saved: u64,
        result: Result<Box<ProfileSettings>, String>,
    ) {
        // Read before a save of ours ended (or while one is under way): old news.
        if self.current_name().as_deref() != Some(&name) || self.saving > 0 || saved != self.saved {
            return;
        }
        match result {
            Ok(s) => {
                let same = self.settings.as_ref().map(|o| o.edit.text()) == Some(s.edit.text());
                if !same {
                    toast(
                        w,
                        &fill("{name} changed on disk: reloaded", &[("name", &name)]),
                    );
                    self.settings = Some(*s);
                    self.show_page();
                }
            }
            Err(e) => {
                toast(
                    w,
                    &fill(
                        "{name} changed on disk and does not load",
                        &[("name", &name)],
                    ),
                );
                self.settings = None;
                self.page.emit(page::Input::Broken { name, message: e });
            }
        }
    }
}

/// The row a change came from, for its error.
fn row_of(change: &Change) -> String {
    match change {
        Change::Set(s, _) | Change::Reset(s) => s.id.to_string(),
        Change::AddFolder { .. } | Change::RemoveFolder { .. } => "filesystem".into(),
        Change::SetEnv { .. } | Change::RemoveEnv { .. } => "env".into(),
        Change::AddSyscall { deny: true, .. } | Change::RemoveSyscall { deny: true, .. } => {
            "seccomp.deny".into()
        }
        Change::AddSyscall { .. } | Change::RemoveSyscall { .. } => "seccomp.allow".into(),
    }
}
