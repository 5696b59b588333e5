//! The window's sandboxes: Run (a `nestbox run` process), Stop, Restart, the list of running
//! sandboxes read from the registry every second, and the "restart to apply" bar.

use super::{now, toast, Msg, Widgets, Window};
use crate::apps::{self, Places, Sandbox};
use crate::i18n::fill;
use crate::launch::{self, Ended};
use crate::{page, running, sidebar};
use relm4::gtk::glib;
use relm4::{ComponentController, ComponentSender};
use std::sync::Arc;
use std::time::Duration;

impl Window {
    /// Run profile `name` in a sandbox of its own.
    pub(super) fn run(
        &mut self,
        w: &Widgets,
        places: Arc<Places>,
        name: String,
        sender: &ComponentSender<Self>,
    ) {
        if self.running_names().contains(&name) {
            toast(w, &fill("{name} is already running", &[("name", &name)]));
            return;
        }
        self.stale.remove(&name);
        toast(w, &fill("Starting {name}…", &[("name", &name)]));
        let exe = places.nestbox.clone();
        sender.spawn_oneshot_command(move || {
            let ended = launch::run(&exe, &name);
            Msg::Launched(name, ended)
        });
        let s = sender.clone();
        glib::timeout_add_local_once(Duration::from_millis(300), move || s.input(Msg::Tick));
    }

    pub(super) fn launched(
        &mut self,
        w: &Widgets,
        name: String,
        ended: Ended,
        sender: &ComponentSender<Self>,
    ) {
        match ended {
            Ended::Failed(line) => toast(
                w,
                &fill(
                    "{name} did not start: {why}",
                    &[("name", &name), ("why", &line)],
                ),
            ),
            _ => sender.input(Msg::Tick),
        }
    }

    /// Read the running sandboxes from the registry, off the main loop.
    pub(super) fn tick(&self, sender: &ComponentSender<Self>) {
        if let Some(places) = self.places() {
            sender.spawn_oneshot_command(move || Msg::Sandboxes(apps::sandboxes(&places)));
        }
    }

    pub(super) fn sandboxes_now(&mut self, w: &Widgets, list: Vec<Sandbox>) {
        if list == self.sandboxes {
            self.running.emit(running::Input::Set(list, now()));
            return;
        }
        self.sandboxes = list.clone();
        let names = self.running_names();
        self.stale.retain(|n| names.contains(n));
        let current = self.current_name().unwrap_or_default();
        w.restart.set_reveal_child(self.stale.contains(&current));
        self.sidebar.emit(sidebar::Input::Running(names));
        self.running.emit(running::Input::Set(list, now()));
        self.show_page();
    }

    /// Stop a sandbox of profile `name`, the one named after it first, as the registry says now
    /// (the list shown may be a second old).
    pub(super) fn stop_profile(places: Arc<Places>, name: String, sender: &ComponentSender<Self>) {
        sender.spawn_oneshot_command(move || match apps::sandbox_of(&places, &name) {
            Some(t) => Msg::Stop(t),
            None => Msg::Stopped(Err(fill("{name} is not running", &[("name", &name)]))),
        });
    }

    /// Stop the sandbox named `name`.
    pub(super) fn stop(&self, w: &Widgets, name: String, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        let Some(registry) = places.registry.clone() else {
            return;
        };
        toast(w, &fill("Stopping {name}…", &[("name", &name)]));
        sender.spawn_oneshot_command(move || {
            Msg::Stopped(
                nestbox::running::stop(&registry, &name, Duration::from_secs(10))
                    .map(|_| name.clone())
                    .map_err(|e| e.to_string()),
            )
        });
    }

    pub(super) fn stopped(
        &self,
        w: &Widgets,
        result: Result<String, String>,
        sender: &ComponentSender<Self>,
    ) {
        match result {
            Ok(name) => {
                toast(w, &fill("{name} stopped", &[("name", &name)]));
                sender.input(Msg::Tick);
            }
            Err(e) => toast(w, &e),
        }
    }

    /// Stop the profile shown's sandbox (the restart bar), then run it again (`restarted`).
    pub(super) fn restart(&self, w: &Widgets, sender: &ComponentSender<Self>) {
        let (Some(places), Some(name)) = (self.places(), self.current_name()) else {
            return;
        };
        let Some(registry) = places.registry.clone() else {
            return;
        };
        toast(w, &fill("Restarting {name}…", &[("name", &name)]));
        sender.spawn_oneshot_command(move || {
            let stopped = match apps::sandbox_of(&places, &name) {
                Some(t) => nestbox::running::stop(&registry, &t, Duration::from_secs(10))
                    .map(|_| name)
                    .map_err(|e| e.to_string()),
                None => Ok(name),
            };
            Msg::Restarted(stopped)
        });
    }

    pub(super) fn restarted(
        &mut self,
        w: &mut Widgets,
        result: Result<String, String>,
        sender: &ComponentSender<Self>,
    ) {
        let name = match result {
            Ok(name) => name,
            Err(e) => return toast(w, &e),
        };
        w.restart.set_reveal_child(false);
        self.stale.remove(&name);
        self.sandboxes.retain(|s| s.profile != name);
        if self.current_name().as_deref() == Some(&name) {
            self.page_output(w, page::Output::Run, sender);
        }
    }

    /// Profile `name` was saved while its sandbox ran (`running`): it runs the old settings.
    pub(super) fn changed_while(&mut self, w: &Widgets, name: String, running: bool) {
        if !running {
            return;
        }
        self.stale.insert(name.clone());
        if self.current_name().as_deref() == Some(&name) {
            w.restart.set_reveal_child(true);
            eprintln!(
                "nestbox-manager: {}",
                fill(
                    "{name} is running with its old settings",
                    &[("name", &name)]
                )
            );
        }
    }
}
