//! The Running page: each sandbox with its name, profile, uptime and processes, and a Stop button.

use crate::apps::Sandbox;
use crate::i18n::{fill, gettext};
use crate::sidebar::glib_escape;
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentParts, ComponentSender, SimpleComponent};

pub struct Running {
    sandboxes: Vec<Sandbox>,
    now: u64,
}

#[derive(Debug)]
pub enum Input {
    Set(Vec<Sandbox>, u64),
}

pub struct Widgets {
    group: gtk::Box,
    shown: Vec<Sandbox>,
}

impl SimpleComponent for Running {
    type Input = Input;
    /// Stop this sandbox.
    type Output = String;
    type Init = ();
    type Root = gtk::ScrolledWindow;
    type Widgets = Widgets;

    fn init_root() -> gtk::ScrolledWindow {
        gtk::ScrolledWindow::builder()
            .vexpand(true)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .build()
    }

    fn init(_: (), root: gtk::ScrolledWindow, _: ComponentSender<Self>) -> ComponentParts<Self> {
        let group = gtk::Box::new(gtk::Orientation::Vertical, 12);
        group.set_margin_top(24);
        group.set_margin_bottom(24);
        group.set_margin_start(12);
        group.set_margin_end(12);
        let clamp = adw::Clamp::builder()
            .maximum_size(720)
            .child(&group)
            .build();
        root.set_child(Some(&clamp));
        let model = Running {
            sandboxes: Vec::new(),
            now: 0,
        };
        let mut widgets = Widgets {
            group,
            shown: vec![Sandbox {
                name: String::new(),
                profile: String::new(),
                started: 0,
                processes: usize::MAX,
            }],
        };
        model.fill(&mut widgets, None);
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: Input, _: ComponentSender<Self>) {
        let Input::Set(sandboxes, now) = msg;
        self.sandboxes = sandboxes;
        self.now = now;
    }

    fn update_view(&self, w: &mut Widgets, sender: ComponentSender<Self>) {
        self.fill(w, Some(&sender));
    }
}

impl Running {
    fn fill(&self, w: &mut Widgets, sender: Option<&ComponentSender<Self>>) {
        while let Some(c) = w.group.first_child() {
            w.group.remove(&c);
        }
        w.shown = self.sandboxes.clone();
        if self.sandboxes.is_empty() {
            let status = adw::StatusPage::builder()
                .icon_name("media-playback-stop-symbolic")
                .title(glib_escape(&gettext("No sandbox is running")))
                .description(glib_escape(&gettext(
                    "Apps you run from here or from their launchers show here.",
                )))
                .build();
            w.group.append(&status);
            return;
        }
        let g = adw::PreferencesGroup::builder()
            .title(glib_escape(&gettext("Running sandboxes")))
            .build();
        for s in &self.sandboxes {
            let uptime = nestbox::running::uptime(self.now.saturating_sub(s.started));
            let detail = fill(
                "Profile {profile} · up {uptime} · {count} processes",
                &[
                    ("profile", &s.profile),
                    ("uptime", &uptime),
                    ("count", &s.processes.to_string()),
                ],
            );
            let row = adw::ActionRow::builder()
                .title(glib_escape(&s.name))
                .subtitle(glib_escape(&detail))
                .build();
            row.set_widget_name(&format!("sandbox:{}", s.name));
            let stop = gtk::Button::with_label(&gettext("Stop"));
            stop.add_css_class("destructive-action");
            stop.set_valign(gtk::Align::Center);
            stop.set_widget_name(&format!("stop:{}", s.name));
            if let Some(sender) = sender {
                let snd = sender.clone();
                let name = s.name.clone();
                stop.connect_clicked(move |_| {
                    let _ = snd.output(name.clone());
                });
            }
            row.add_suffix(&stop);
            g.add(&row);
        }
        w.group.append(&g);
    }
}
