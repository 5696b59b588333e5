//! The window's work on profile files and what they lead to: a new profile from an installed app,
//! duplicate, rename and delete, the app-menu launcher, the sandbox's home folder, the TOML shown.

use super::{toast, Msg, NameFor, Widgets, Window};
use crate::apps::{self, Places};
use crate::i18n::{fill, gettext};
use crate::sidebar::Target;
use nestbox::desktop::AppInfo;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::{adw, ComponentSender};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Window {
    /// The installed apps, for the new-profile dialog.
    pub(super) fn new_from_app(&self, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        sender.spawn_oneshot_command(move || Msg::Apps(apps::installed_apps(&places)));
    }

    /// Write a new profile for `app`, under a name no profile has.
    pub(super) fn create(&self, app: AppInfo, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        let taken: BTreeMap<String, ()> = self.items.iter().map(|i| (i.name.clone(), ())).collect();
        let name = apps::name_for(&app, &taken);
        sender.spawn_oneshot_command(move || {
            let id = Some(app.id.clone()).filter(|i| nestbox::profile::valid_desktop_id(i));
            Msg::Filed(
                nestbox::desktop::new_profile::write(
                    &places.search,
                    &name,
                    &app,
                    id.as_deref(),
                    false,
                )
                .map(|_| made(name))
                .map_err(|e| e.to_string()),
            )
        });
    }

    /// A profile file was made or removed: say so, read the list again, and show `then`.
    pub(super) fn filed(
        &self,
        w: &Widgets,
        result: Result<(String, Target), String>,
        sender: &ComponentSender<Self>,
    ) {
        match result {
            Ok((said, then)) => {
                toast(w, &said);
                self.reload_items(sender);
                sender.input(Msg::Select(then));
            }
            Err(e) => toast(w, &e),
        }
    }

    pub(super) fn rename_or_copy(
        &self,
        what: NameFor,
        new: String,
        sender: &ComponentSender<Self>,
    ) {
        let (Some(places), Some(s)) = (self.places(), self.settings.clone()) else {
            return;
        };
        sender.spawn_oneshot_command(move || {
            let r = apps::copy_profile(&places, &s, &new, matches!(what, NameFor::Rename));
            Msg::Filed(r.map(|_| made(new)))
        });
    }

    /// Ask before deleting the user's file of profile `name`; Enter and Escape keep it.
    pub(super) fn delete(&self, w: &Widgets, name: String, sender: &ComponentSender<Self>) {
        let Some(s) = &self.settings else { return };
        let path = s.edit.path().to_path_buf();
        let dialog = adw::MessageDialog::new(
            Some(&w.window),
            Some(&fill("Delete {name}?", &[("name", &name)])),
            Some(&fill(
                "{path} will be removed. This cannot be undone.",
                &[("path", &path.display().to_string())],
            )),
        );
        dialog.add_response("cancel", &gettext("Cancel"));
        dialog.add_response("delete", &gettext("Delete"));
        dialog.set_response_appearance("delete", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");
        let s = sender.clone();
        dialog.connect_response(None, move |_, r| {
            if r == "delete" {
                let (path, name) = (path.clone(), name.clone());
                s.spawn_oneshot_command(move || {
                    Msg::Filed(
                        std::fs::remove_file(&path)
                            .map(|_| {
                                let said = fill("Deleted {name}", &[("name", &name)]);
                                (said, Target::Overview)
                            })
                            .map_err(|e| e.to_string()),
                    )
                });
            }
        });
        dialog.present();
    }

    /// Install (`on`) or remove profile `name`'s launcher in the app menu.
    pub(super) fn set_launcher(
        places: Arc<Places>,
        name: String,
        on: bool,
        sender: &ComponentSender<Self>,
    ) {
        sender.spawn_oneshot_command(move || {
            let l = nestbox::desktop::launchers::Launchers::new(&places.facts);
            let r = if on {
                l.install(&name).map(|_| true)
            } else {
                l.remove(&name).map(|_| false)
            };
            Msg::LauncherSet(r.map_err(|e| e.to_string()))
        });
    }

    pub(super) fn launcher_set(&mut self, w: &Widgets, result: Result<bool, String>) {
        match (result, self.current_name()) {
            (Ok(true), Some(name)) => {
                self.launchers.insert(name.clone());
                toast(w, &fill("{name} is in your app menu", &[("name", &name)]));
            }
            (Ok(false), Some(name)) => {
                self.launchers.remove(&name);
                toast(
                    w,
                    &fill("{name} is no longer in your app menu", &[("name", &name)]),
                );
            }
            (Ok(_), None) => {}
            (Err(e), _) => toast(w, &e),
        }
        self.show_page();
    }

    /// Open the sandbox's home folder of profile `name` in the user's file manager.
    pub(super) fn open_home(w: &Widgets, places: &Places, name: &str) {
        let home = places.facts.data_home.join("nestbox/homes").join(name);
        let _ = std::fs::create_dir_all(&home);
        let uri = gio::File::for_path(&home).uri();
        if let Err(e) = gio::AppInfo::launch_default_for_uri(&uri, gio::AppLaunchContext::NONE) {
            toast(
                w,
                &fill(
                    "Cannot open {path}: {why}",
                    &[
                        ("path", &home.display().to_string()),
                        ("why", &e.to_string()),
                    ],
                ),
            );
        }
    }

    /// The profile's files, each under its path, read off the main loop.
    pub(super) fn show_text(&self, sender: &ComponentSender<Self>) {
        if let Some(s) = self.settings.clone() {
            sender.spawn_oneshot_command(move || {
                let mut text = String::new();
                for f in &s.profile.files {
                    text.push_str(&format!("# {}\n", f.display()));
                    text.push_str(&std::fs::read_to_string(f).unwrap_or_default());
                    text.push('\n');
                }
                Msg::Text(s.name.clone(), text)
            });
        }
    }
}

/// What a profile made as `name` (new, duplicated or renamed) leads to: its page.
fn made(name: String) -> (String, Target) {
    let said = fill("Made the profile {name}", &[("name", &name)]);
    (said, Target::Profile(name))
}
