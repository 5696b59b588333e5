//! A profile's page: what the app can see, in plain words with the risky grants called out, then
//! its settings grouped as a person thinks of them (Display, Sound, Graphics, Network, Files,
//! Environment, Advanced), each row marked inherited or changed here with a reset of its own,
//! and the profile's actions. Every change goes out as a [`Change`] for the window to save.

use crate::apps::Item;
use crate::i18n::{fill, gettext, N_};
use crate::sidebar::glib_escape;
use nestbox::settings::{self, Change, ProfileSettings};
use relm4::adw::prelude::*;
use relm4::gtk::glib;
use relm4::{adw, gtk, ComponentParts, ComponentSender, SimpleComponent};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

/// What the page shows.
#[derive(Debug, Clone)]
pub struct Shown {
    pub settings: ProfileSettings,
    pub item: Item,
    pub launcher: bool,
    pub running: bool,
}

#[derive(Debug)]
pub enum Input {
    Show(Box<Shown>),
    /// The profile does not load: why, and its file.
    Broken {
        name: String,
        message: String,
    },
    /// A change to this row was not saved: why.
    RowError {
        setting: String,
        message: String,
    },
    /// Give this row the focus (from the overview or a grant line).
    Focus(String),
}

#[derive(Debug)]
pub enum Output {
    Change(Change),
    ResetAll,
    Run,
    Stop,
    /// Stop and run again (the window's restart bar; the `restart` action).
    Restart,
    /// Ask for a folder to bind, read-only or writable.
    ChooseFolder {
        writable: bool,
    },
    Launcher(bool),
    OpenHome,
    ShowText,
    Duplicate,
    Rename,
    Delete,
}

pub struct Page {
    shown: Option<Shown>,
    broken: Option<(String, String)>,
    error: Option<(String, String)>,
    focus: Option<String>,
}

pub struct Widgets {
    scrolled: gtk::ScrolledWindow,
    rows: HashMap<String, gtk::Widget>,
    /// Counts the page's moves: a move asked for later cancels one still to come.
    moves: Rc<Cell<u64>>,
}

/// Give `row` the focus and scroll the page to it, once the page is laid out (a page made a
/// moment ago has no sizes yet), unless another move came since.
fn focus_row(w: &Widgets, row: gtk::Widget) {
    let moves = w.moves.clone();
    let mine = moves.get() + 1;
    moves.set(mine);
    let scrolled = w.scrolled.clone();
    let frames = Cell::new(0);
    row.add_tick_callback(move |row, _| {
        frames.set(frames.get() + 1);
        // Where the row is in the page's content (the viewport's child, which scrolls).
        let content = scrolled.child().and_then(|viewport| viewport.first_child());
        let bounds = content.and_then(|c| row.compute_bounds(&c));
        match bounds {
            _ if moves.get() != mine => {}
            // Laid out: a row not yet allocated has no height of its own.
            Some(b) if row.height() > 0 => {
                let adj = scrolled.vadjustment();
                let (top, bottom) = (f64::from(b.y()), f64::from(b.y() + b.height()));
                if top < adj.value() || bottom > adj.value() + adj.page_size() {
                    // The row near the top, with the heading of its group above it.
                    adj.set_value((top - 48.0).max(0.0));
                }
                // The row's switch where it has one, which the space bar turns (GTK 4.8 does not
                // take a key on a list row focused from the program as the row's activation).
                let control = row
                    .downcast_ref::<adw::ActionRow>()
                    .and_then(|r| r.activatable_widget())
                    .filter(|c| c.is::<gtk::Switch>());
                // Without the viewport's own scroll to the focus: it would measure the row where
                // it was before the move above, and scroll past it.
                let viewport = scrolled.child().and_downcast::<gtk::Viewport>();
                if let Some(v) = &viewport {
                    v.set_scroll_to_focus(false);
                }
                if !control.is_some_and(|c| c.grab_focus()) {
                    row.grab_focus();
                }
                if let Some(v) = &viewport {
                    v.set_scroll_to_focus(true);
                }
            }
            _ if frames.get() < 30 => return glib::ControlFlow::Continue,
            _ => {}
        }
        glib::ControlFlow::Break
    });
}

impl Page {
    fn build(&self, w: &mut Widgets, sender: &ComponentSender<Page>) {
        w.rows.clear();
        let content = gtk::Box::new(gtk::Orientation::Vertical, 24);
        content.set_margin_top(24);
        content.set_margin_bottom(24);
        content.set_margin_start(12);
        content.set_margin_end(12);
        let clamp = adw::Clamp::builder()
            .maximum_size(720)
            .child(&content)
            .build();
        let value = w.scrolled.vadjustment().value();
        w.scrolled.set_child(Some(&clamp));

        if let Some((name, message)) = &self.broken {
            let status = adw::StatusPage::builder()
                .icon_name("dialog-error-symbolic")
                .title(glib_escape(&fill(
                    "{name} does not load",
                    &[("name", name)],
                )))
                .description(glib_escape(message))
                .build();
            content.append(&status);
            return;
        }
        let Some(shown) = &self.shown else {
            return;
        };
        let s = &shown.settings;

        // What this app can see.
        let see = crate::rows::group(&gettext("What this app can see"));
        if let Some(d) = &s.profile.description {
            see.set_description(Some(&glib_escape(d)));
        }
        let lines = settings::grants(&s.profile);
        if lines.is_empty() {
            see.add(
                &adw::ActionRow::builder()
                    .title(glib_escape(&gettext("Nothing outside its own home folder")))
                    .build(),
            );
        }
        for line in &lines {
            let (title, detail, icon) = crate::words::grant_words(line);
            let row = adw::ActionRow::builder()
                .title(glib_escape(&title))
                .subtitle(glib_escape(&detail))
                .activatable(true)
                .build();
            row.set_widget_name(&format!("grant:{}", line.setting));
            let image = gtk::Image::from_icon_name(if line.risky {
                "dialog-warning-symbolic"
            } else {
                icon
            });
            if line.risky {
                image.add_css_class("warning");
                row.add_css_class("risky");
            }
            row.add_prefix(&image);
            row.add_suffix(&gtk::Image::from_icon_name("go-next-symbolic"));
            let s = sender.clone();
            let target = line.setting.to_string();
            row.connect_activated(move |_| s.input(Input::Focus(target.clone())));
            see.add(&row);
        }
        content.append(&see);

        // Run, stop, and the app menu.
        let actions = crate::rows::group(&gettext("This app"));
        let run = adw::ActionRow::builder()
            .title(glib_escape(&if shown.running {
                gettext("Running")
            } else {
                gettext("Not running")
            }))
            .build();
        let run_button = gtk::Button::with_label(&gettext("Run"));
        run_button.add_css_class("suggested-action");
        run_button.set_valign(gtk::Align::Center);
        run_button.set_widget_name("run");
        run_button.set_sensitive(!shown.item.abstraction);
        let stop_button = gtk::Button::with_label(&gettext("Stop"));
        stop_button.add_css_class("destructive-action");
        stop_button.set_valign(gtk::Align::Center);
        stop_button.set_widget_name("stop");
        stop_button.set_visible(shown.running);
        let snd = sender.clone();
        run_button.connect_clicked(move |_| {
            let _ = snd.output(Output::Run);
        });
        let snd = sender.clone();
        stop_button.connect_clicked(move |_| {
            let _ = snd.output(Output::Stop);
        });
        run.add_suffix(&stop_button);
        run.add_suffix(&run_button);
        actions.add(&run);
        let menu = adw::ActionRow::builder()
            .title(glib_escape(&gettext("Show in app menu")))
            .subtitle(glib_escape(&gettext(
                "A launcher in your desktop's menu that starts it in this sandbox",
            )))
            .build();
        let switch = gtk::Switch::builder()
            .active(shown.launcher)
            .valign(gtk::Align::Center)
            .sensitive(!shown.item.abstraction)
            .build();
        switch.set_widget_name("launcher");
        menu.add_suffix(&switch);
        menu.set_activatable_widget(Some(&switch));
        let on = shown.launcher;
        let snd = sender.clone();
        switch.connect_active_notify(move |sw| {
            if sw.is_active() != on {
                let _ = snd.output(Output::Launcher(sw.is_active()));
            }
        });
        actions.add(&menu);
        content.append(&actions);

        let groups: [(&str, &[&'static str]); 5] = [
            (
                N_("Display"),
                &[
                    "sandbox.x11",
                    "nested.size",
                    "nested.clipboard",
                    "sandbox.wayland",
                ],
            ),
            (
                N_("Sound"),
                &["sandbox.audio", "audio.record", "audio.device_volume"],
            ),
            (N_("Graphics"), &["sandbox.gpu"]),
            (N_("Network"), &["sandbox.network"]),
            (N_("Files"), &["sandbox.home", "sandbox.shared_files"]),
        ];
        for (title, ids) in groups {
            let g = crate::rows::group(&gettext(title));
            for id in ids {
                let row = crate::rows::setting_row(&shown.settings, id, self.row_error(id), sender);
                w.rows.insert(id.to_string(), row.clone());
                g.add(&row);
            }
            if title == "Files" {
                self.folders(&g, w, sender);
            }
            content.append(&g);
        }

        let env = crate::rows::group(&gettext("Environment"));
        for (name, value, own) in s.env() {
            let row = adw::ActionRow::builder()
                .title(glib_escape(&name))
                .subtitle(glib_escape(&value))
                .build();
            if own {
                let remove = crate::rows::button("list-remove-symbolic", &gettext("Remove"));
                let snd = sender.clone();
                remove.connect_clicked(move |_| {
                    let _ = snd.output(Output::Change(Change::RemoveEnv { name: name.clone() }));
                });
                row.add_suffix(&remove);
            } else {
                row.add_suffix(&crate::rows::inherited());
            }
            env.add(&row);
        }
        let add = adw::EntryRow::builder()
            .title(glib_escape(
                &self.titled_error("env", &gettext("Add a variable: NAME=value")),
            ))
            .show_apply_button(true)
            .build();
        add.set_widget_name("env");
        if self.error.as_ref().is_some_and(|(s, _)| s == "env") {
            add.add_css_class("error");
        }
        let snd = sender.clone();
        add.connect_apply(move |r| {
            let text = r.text().to_string();
            let (name, value) = text.split_once('=').unwrap_or((&text, ""));
            let _ = snd.output(Output::Change(Change::SetEnv {
                name: name.trim().to_string(),
                value: value.to_string(),
            }));
        });
        w.rows.insert("env".into(), add.clone().upcast());
        env.add(&add);
        content.append(&env);

        let advanced = crate::rows::group(&gettext("Advanced"));
        for id in [
            "sandbox.session_bus",
            "seccomp.user_namespaces",
            "sandbox.tmpfs_size",
            "sandbox.max_processes",
        ] {
            let row = crate::rows::setting_row(&shown.settings, id, self.row_error(id), sender);
            w.rows.insert(id.to_string(), row.clone());
            advanced.add(&row);
        }
        for deny in [false, true] {
            let key = if deny {
                "seccomp.deny"
            } else {
                "seccomp.allow"
            };
            for (name, own) in s.syscalls(deny) {
                let title = if deny {
                    fill("Refused: {name}", &[("name", &name)])
                } else {
                    fill("Allowed: {name}", &[("name", &name)])
                };
                let row = adw::ActionRow::builder().title(glib_escape(&title)).build();
                if own {
                    let remove = crate::rows::button("list-remove-symbolic", &gettext("Remove"));
                    let snd = sender.clone();
                    remove.connect_clicked(move |_| {
                        let _ = snd.output(Output::Change(Change::RemoveSyscall {
                            name: name.clone(),
                            deny,
                        }));
                    });
                    row.add_suffix(&remove);
                } else {
                    row.add_suffix(&crate::rows::inherited());
                }
                advanced.add(&row);
            }
            let label = if deny {
                gettext("Refuse a system call")
            } else {
                gettext("Allow a system call")
            };
            let add = adw::EntryRow::builder()
                .title(glib_escape(&self.titled_error(key, &label)))
                .show_apply_button(true)
                .build();
            add.set_widget_name(key);
            if self.error.as_ref().is_some_and(|(s, _)| s == key) {
                add.add_css_class("error");
            }
            let snd = sender.clone();
            add.connect_apply(move |r| {
                let _ = snd.output(Output::Change(Change::AddSyscall {
                    name: r.text().trim().to_string(),
                    deny,
                }));
            });
            w.rows.insert(key.into(), add.clone().upcast());
            advanced.add(&add);
        }
        content.append(&advanced);

        let more = crate::rows::group(&gettext("Profile"));
        let command = adw::ActionRow::builder()
            .title(glib_escape(&gettext("Command line")))
            .subtitle(glib_escape(&crate::launch::command_line(&s.name)))
            .build();
        more.add(&command);
        let file = adw::ActionRow::builder()
            .title(glib_escape(&gettext("Your changes are saved in")))
            .subtitle(glib_escape(&s.edit.path().display().to_string()))
            .build();
        more.add(&file);
        let buttons = gtk::FlowBox::new();
        buttons.set_selection_mode(gtk::SelectionMode::None);
        buttons.set_column_spacing(6);
        buttons.set_row_spacing(6);
        buttons.set_max_children_per_line(3);
        buttons.set_homogeneous(true);
        buttons.set_margin_top(12);
        let action = |label: &str, name: &str, out: fn() -> Output, sensitive: bool| {
            let b = gtk::Button::with_label(label);
            b.set_widget_name(name);
            b.set_sensitive(sensitive);
            let snd = sender.clone();
            b.connect_clicked(move |_| {
                let _ = snd.output(out());
            });
            buttons.insert(&b, -1);
            b
        };
        action(
            &gettext("Show TOML"),
            "show-text",
            || Output::ShowText,
            true,
        );
        action(
            &gettext("Open home folder"),
            "open-home",
            || Output::OpenHome,
            true,
        );
        action(
            &gettext("Duplicate…"),
            "duplicate",
            || Output::Duplicate,
            true,
        );
        action(
            &gettext("Rename…"),
            "rename",
            || Output::Rename,
            shown.item.own,
        );
        let delete = action(
            &gettext("Delete"),
            "delete",
            || Output::Delete,
            shown.item.own,
        );
        delete.add_css_class("destructive-action");
        let reset = action(
            &gettext("Reset to defaults"),
            "reset-all",
            || Output::ResetAll,
            s.has_default && shown.item.changed,
        );
        reset.add_css_class("destructive-action");
        more.add(&buttons);
        content.append(&more);

        // Back where the reader was; then the row asked for, if any.
        let scrolled = w.scrolled.clone();
        let moves = w.moves.clone();
        let mine = moves.get() + 1;
        moves.set(mine);
        glib::idle_add_local_once(move || {
            if moves.get() == mine {
                scrolled.vadjustment().set_value(value);
            }
        });
        if let Some(id) = &self.focus {
            let target = w
                .rows
                .get(id)
                .cloned()
                .or_else(|| w.rows.get("folders").cloned());
            if let Some(row) = target {
                focus_row(w, row);
            }
        }
    }

    /// The error of row `id`'s last change, if it was refused.
    fn row_error(&self, id: &str) -> Option<String> {
        self.error
            .as_ref()
            .filter(|(s, _)| s == id)
            .map(|(_, m)| m.clone())
    }

    fn titled_error(&self, id: &str, title: &str) -> String {
        match self.error.as_ref().filter(|(s, _)| s == id) {
            Some((_, m)) => format!("{title}: {m}"),
            None => title.to_string(),
        }
    }

    fn folders(&self, g: &adw::PreferencesGroup, w: &mut Widgets, sender: &ComponentSender<Page>) {
        let Some(shown) = &self.shown else { return };
        for f in shown.settings.folders() {
            let row = adw::ActionRow::builder()
                .title(glib_escape(&f.entry))
                .subtitle(glib_escape(&if f.writable {
                    gettext("Read and write")
                } else {
                    gettext("Read only")
                }))
                .build();
            row.add_prefix(&gtk::Image::from_icon_name("folder-symbolic"));
            if f.own {
                let remove = crate::rows::button("list-remove-symbolic", &gettext("Remove"));
                let snd = sender.clone();
                let (entry, writable) = (f.entry.clone(), f.writable);
                remove.connect_clicked(move |_| {
                    let _ = snd.output(Output::Change(Change::RemoveFolder {
                        entry: entry.clone(),
                        writable,
                    }));
                });
                row.add_suffix(&remove);
            } else {
                row.add_suffix(&crate::rows::inherited());
            }
            g.add(&row);
        }
        let add = adw::ActionRow::builder()
            .title(glib_escape(
                &self.titled_error("filesystem", &gettext("Add a folder")),
            ))
            .build();
        add.set_widget_name("folders");
        for (label, writable, name) in [
            (gettext("Read only…"), false, "add-folder-ro"),
            (gettext("Read and write…"), true, "add-folder-rw"),
        ] {
            let b = gtk::Button::with_label(&label);
            b.set_valign(gtk::Align::Center);
            b.set_widget_name(name);
            let snd = sender.clone();
            b.connect_clicked(move |_| {
                let _ = snd.output(Output::ChooseFolder { writable });
            });
            add.add_suffix(&b);
        }
        w.rows.insert("folders".into(), add.clone().upcast());
        w.rows.insert("filesystem".into(), add.clone().upcast());
        g.add(&add);
    }
}

impl SimpleComponent for Page {
    type Input = Input;
    type Output = Output;
    type Init = ();
    type Root = gtk::ScrolledWindow;
    type Widgets = Widgets;

    fn init_root() -> gtk::ScrolledWindow {
        gtk::ScrolledWindow::builder()
            .vexpand(true)
            .hexpand(true)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .build()
    }

    fn init(_: (), root: gtk::ScrolledWindow, _: ComponentSender<Self>) -> ComponentParts<Self> {
        let model = Page {
            shown: None,
            broken: None,
            error: None,
            focus: None,
        };
        let widgets = Widgets {
            scrolled: root,
            rows: HashMap::new(),
            moves: Rc::default(),
        };
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: Input, _: ComponentSender<Self>) {
        self.focus = None;
        match msg {
            Input::Show(shown) => {
                if self.shown.as_ref().map(|s| &s.settings.name) != Some(&shown.settings.name) {
                    self.error = None;
                }
                self.broken = None;
                self.shown = Some(*shown);
                // A change that went through clears its row's error.
                self.error = None;
            }
            Input::Broken { name, message } => {
                self.shown = None;
                self.broken = Some((name, message));
            }
            Input::RowError { setting, message } => {
                self.focus = Some(setting.clone());
                self.error = Some((setting, message));
            }
            Input::Focus(id) => self.focus = Some(id),
        }
    }

    fn update_view(&self, w: &mut Widgets, sender: ComponentSender<Self>) {
        if self.focus.is_some() && self.error.is_none() {
            // Only a move to a row: nothing to make again.
            if let Some(row) = self
                .focus
                .as_ref()
                .and_then(|id| w.rows.get(id).or_else(|| w.rows.get("folders")).cloned())
            {
                focus_row(w, row);
                return;
            }
        }
        self.build(w, &sender);
    }
}
