//! The main window: a leaflet of the sidebar and the content (a profile's page, the overview, the
//! running sandboxes), toasts, the "restart to apply" bar, and the app's actions. It owns no
//! widgets of its children; it reads and writes the disk only in commands off the main loop.

use crate::apps::{self, Item, Places, Sandbox};
use crate::i18n::{fill, gettext};
use crate::launch::Ended;
use crate::sidebar::{glib_escape, Target};
use crate::{new_profile, overview, page, running, sidebar};

mod files;
mod layout;
mod sandboxes;
mod saving;
use nestbox::desktop::AppInfo;
use nestbox::settings::{Change, ProfileSettings};
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{
    adw, gtk, Component, ComponentController, ComponentParts, ComponentSender, Controller,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub enum Msg {
    /// The places, and the profiles read with them.
    Probed(Result<Arc<Places>, String>, Vec<Item>),
    Loaded(Vec<Item>),
    Select(Target),
    ShowProfile(String),
    Opened(String, Result<Box<ProfileSettings>, String>),
    Page(page::Output),
    /// A page's verb for a named profile (the app's actions).
    Verb(String, page::Output),
    Applied(Option<String>, Result<Box<ProfileSettings>, String>),
    Tick,
    Sandboxes(Vec<Sandbox>),
    Launched(String, Ended),
    Stop(String),
    Stopped(Result<String, String>),
    DirChanged,
    /// A profile read again after a change on disk, and the count of saves when it was read.
    Reloaded(String, u64, Result<Box<ProfileSettings>, String>),
    ResetDone(Result<(Box<ProfileSettings>, String), String>),
    Undo(String),
    NewFromApp,
    Apps(Vec<AppInfo>),
    Create(Box<AppInfo>),
    /// A profile file was made or removed: what to say, and the page to show then.
    Filed(Result<(String, Target), String>),
    NameChosen(NameFor, String),
    LauncherSet(Result<bool, String>),
    About,
    FocusSearch,
    /// Stop the profile shown's sandbox and run it again (the restart bar).
    Restart,
    Restarted(Result<String, String>),
    /// A profile's files, to show.
    Text(String, String),
    /// A profile was saved; whether its sandbox runs (then it runs the old settings).
    ChangedWhile(String, bool),
}

/// What a name asked for is for.
#[derive(Debug, Clone, Copy)]
pub enum NameFor {
    Duplicate,
    Rename,
}

pub struct Window {
    places: Option<Arc<Places>>,
    items: Vec<Item>,
    target: Target,
    settings: Option<ProfileSettings>,
    sandboxes: Vec<Sandbox>,
    /// Profiles saved while their sandbox ran: it runs the old settings until restarted.
    stale: BTreeSet<String>,
    launchers: BTreeSet<String>,
    /// Saves under way (a change, a reset, an undo): the file monitor's word of them is not news.
    saving: usize,
    /// Saves of ours that ended, counted: a file read before the last of them is not news.
    saved: u64,
    /// Changes made while a save was under way, saved in turn after it.
    queued: std::collections::VecDeque<Change>,
    /// A profile asked for before the list held it ("NAME\nSETTING"): shown once it does.
    pending: Option<String>,
    /// The row to focus once the profile being opened shows (from the overview).
    focus_next: Option<String>,
    sidebar: Controller<sidebar::Sidebar>,
    page: Controller<page::Page>,
    overview: Controller<overview::Overview>,
    running: Controller<running::Running>,
    new_profile: Controller<new_profile::NewProfile>,
    _monitor: Option<gio::FileMonitor>,
}

pub struct Widgets {
    toasts: adw::ToastOverlay,
    stack: gtk::Stack,
    title: adw::WindowTitle,
    restart: gtk::Revealer,
    leaflet: adw::Leaflet,
    window: adw::ApplicationWindow,
}

fn now() -> u64 {
    nestbox::registry::now()
}

impl Window {
    fn places(&self) -> Option<Arc<Places>> {
        self.places.clone()
    }

    fn open(&self, name: &str, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        let name = name.to_string();
        sender.spawn_oneshot_command(move || {
            let r = ProfileSettings::open(&places.search, &name, &places.facts.home)
                .map(Box::new)
                .map_err(|e| e.to_string());
            Msg::Opened(name, r)
        });
    }

    fn reload_items(&self, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        sender.spawn_oneshot_command(move || {
            crate::bench::mark("items-start");
            let items = apps::items(&places);
            crate::bench::mark("items-done");
            Msg::Loaded(items)
        });
    }

    fn running_names(&self) -> BTreeSet<String> {
        self.sandboxes.iter().map(|s| s.profile.clone()).collect()
    }

    fn show_page(&self) {
        let Some(s) = &self.settings else { return };
        let Some(item) = self.items.iter().find(|i| i.name == s.name).cloned() else {
            return;
        };
        self.page.emit(page::Input::Show(Box::new(page::Shown {
            settings: s.clone(),
            running: self.running_names().contains(&s.name),
            launcher: self.launchers.contains(&s.name),
            item,
        })));
    }

    fn current_name(&self) -> Option<String> {
        match &self.target {
            Target::Profile(n) => Some(n.clone()),
            _ => None,
        }
    }
}

/// Say `text` in a toast, and on stderr (for a terminal or a session's journal).
fn toast(w: &Widgets, text: &str) {
    eprintln!("nestbox-manager: {text}");
    w.toasts.add_toast(adw::Toast::new(&glib_escape(text)));
}

impl Component for Window {
    type CommandOutput = Msg;
    type Input = Msg;
    type Output = ();
    /// What main started reading before GTK started (the places, the profiles).
    type Init = crate::apps::Early;
    type Root = adw::ApplicationWindow;
    type Widgets = Widgets;

    fn init_root() -> adw::ApplicationWindow {
        adw::ApplicationWindow::builder()
            .title(gettext("Sandboxes"))
            .icon_name(crate::APP_ID)
            .build()
    }

    fn init(
        early: crate::apps::Early,
        window: adw::ApplicationWindow,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        // Run from a checkout, the app's icon is in data/ (installed, in the icon theme).
        let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let from_checkout = std::env::current_exe().is_ok_and(|e| e.starts_with(checkout));
        if let Some(display) = gtk::gdk::Display::default().filter(|_| from_checkout) {
            let theme = gtk::IconTheme::for_display(&display);
            theme.add_search_path(concat!(env!("CARGO_MANIFEST_DIR"), "/data/icons"));
        }
        let (w, h) = crate::window_size::load();
        window.set_default_size(w, h);
        window.connect_close_request(|win| {
            // GTK keeps the size the user gave the window as its default size.
            crate::window_size::save(win.default_width(), win.default_height());
            glib::Propagation::Proceed
        });

        let sidebar = sidebar::Sidebar::builder()
            .launch(())
            .forward(sender.input_sender(), Msg::Select);
        let page = page::Page::builder()
            .launch(())
            .forward(sender.input_sender(), Msg::Page);
        let overview = overview::Overview::builder()
            .launch(())
            .forward(sender.input_sender(), |(p, s)| {
                Msg::ShowProfile(format!("{p}\n{s}"))
            });
        let running = running::Running::builder()
            .launch(())
            .forward(sender.input_sender(), Msg::Stop);
        let new_profile = new_profile::NewProfile::builder()
            .launch(window.clone().upcast())
            .forward(sender.input_sender(), |app| Msg::Create(Box::new(app)));

        let widgets = layout::build(
            &window,
            [
                sidebar.widget().upcast_ref(),
                overview.widget().upcast_ref(),
                running.widget().upcast_ref(),
                page.widget().upcast_ref(),
            ],
            &sender,
        );

        crate::actions::install(&window, &sender);
        // Typing anywhere searches.
        if let Some(entry) = sidebar::search_entry(sidebar.widget()) {
            entry.set_key_capture_widget(Some(&window));
            // What is typed lands in the field, and Enter then opens the first match.
            entry.connect_search_started(|e| {
                e.grab_focus();
            });
            GtkWindowExt::set_focus(&window, Some(&entry));
        }

        crate::bench::mark("window-made");
        // Read by now, as a rule: then the first frame already has the profiles; else they come
        // when the reading ends, off the main loop.
        let read = |early: crate::apps::Early| match early.join() {
            Ok((places, items)) => Msg::Probed(Ok(places), items),
            Err(e) => Msg::Probed(Err(e), Vec::new()),
        };
        if early.is_finished() {
            sender.input(read(early));
        } else {
            sender.spawn_oneshot_command(move || read(early));
        }
        let s = sender.clone();
        glib::timeout_add_local(Duration::from_secs(1), move || {
            s.input(Msg::Tick);
            glib::ControlFlow::Continue
        });

        let model = Window {
            places: None,
            items: Vec::new(),
            target: Target::Overview,
            settings: None,
            sandboxes: Vec::new(),
            stale: BTreeSet::new(),
            launchers: BTreeSet::new(),
            pending: None,
            focus_next: None,
            saving: 0,
            queued: Default::default(),
            saved: 0,
            sidebar,
            page,
            overview,
            running,
            new_profile,
            _monitor: None,
        };
        ComponentParts { model, widgets }
    }

    fn update_cmd_with_view(
        &mut self,
        widgets: &mut Widgets,
        msg: Msg,
        sender: ComponentSender<Self>,
        root: &Self::Root,
    ) {
        self.update_with_view(widgets, msg, sender, root);
    }

    fn update_with_view(
        &mut self,
        w: &mut Widgets,
        msg: Msg,
        sender: ComponentSender<Self>,
        _: &Self::Root,
    ) {
        match msg {
            Msg::Probed(Ok(places), items) => {
                crate::bench::mark("probed");
                // A profile file changed on disk (by hand, by another program) reloads.
                let dir = gio::File::for_path(places.user_dir());
                let _ = std::fs::create_dir_all(places.user_dir());
                if let Ok(m) =
                    dir.monitor_directory(gio::FileMonitorFlags::NONE, gio::Cancellable::NONE)
                {
                    let s = sender.clone();
                    m.connect_changed(move |_, _, _, event| {
                        if matches!(
                            event,
                            gio::FileMonitorEvent::ChangesDoneHint
                                | gio::FileMonitorEvent::Deleted
                                | gio::FileMonitorEvent::Created
                                | gio::FileMonitorEvent::MovedIn
                                | gio::FileMonitorEvent::MovedOut
                                | gio::FileMonitorEvent::Renamed
                        ) {
                            s.input(Msg::DirChanged);
                        }
                    });
                    self._monitor = Some(m);
                }
                self.places = Some(places);
                sender.input(Msg::Loaded(items));
                sender.input(Msg::Tick);
            }
            Msg::Probed(Err(e), _) => toast(w, &e),
            Msg::Loaded(items) => {
                if let Some(arg) = self.pending.clone() {
                    let name = arg.split('\n').next().unwrap_or_default();
                    if !items.iter().any(|i| i.name == name) {
                        self.pending = None;
                        toast(
                            w,
                            &fill("There is no profile named {name}", &[("name", name)]),
                        );
                    } else {
                        let arg = arg.trim_end_matches('\n').to_string();
                        sender.input(Msg::ShowProfile(arg));
                    }
                }
                crate::bench::mark("loaded");
                self.launchers = items
                    .iter()
                    .filter(|i| i.launcher)
                    .map(|i| i.name.clone())
                    .collect();
                self.items = items;
                self.sidebar.emit(sidebar::Input::Items(self.items.clone()));
                crate::bench::profiles_shown(self.sidebar.widget());
                self.overview.emit(self.items.clone());
                if let Some(item) = self
                    .current_name()
                    .and_then(|n| self.items.iter().find(|i| i.name == n))
                {
                    w.title.set_title(&glib_escape(&item.title));
                    w.window
                        .set_title(Some(&fill("{app} – Sandboxes", &[("app", &item.title)])));
                }
                self.show_page();
            }
            Msg::Select(target) => {
                self.target = target.clone();
                self.focus_next = None;
                self.sidebar.emit(sidebar::Input::Select(target.clone()));
                match &target {
                    Target::Overview => {
                        w.window.set_title(Some(&gettext("Sandboxes")));
                        w.stack.set_visible_child_name("overview");
                        w.title.set_title(&gettext("Overview"));
                        w.title.set_subtitle("");
                    }
                    Target::Running => {
                        w.window.set_title(Some(&gettext("Sandboxes")));
                        w.stack.set_visible_child_name("running");
                        w.title.set_title(&gettext("Running"));
                        w.title.set_subtitle("");
                    }
                    Target::Profile(name) => {
                        w.stack.set_visible_child_name("page");
                        let item = self.items.iter().find(|i| &i.name == name);
                        w.title
                            .set_title(&glib_escape(item.map_or(name, |i| &i.title)));
                        w.window.set_title(Some(&fill(
                            "{app} – Sandboxes",
                            &[("app", item.map_or(name, |i| &i.title))],
                        )));
                        w.title.set_subtitle(&glib_escape(name));
                        match item.and_then(|i| i.error.clone()) {
                            Some(e) => {
                                self.settings = None;
                                self.page.emit(page::Input::Broken {
                                    name: name.clone(),
                                    message: e,
                                });
                            }
                            None => self.open(name, &sender),
                        }
                    }
                }
                w.leaflet.navigate(adw::NavigationDirection::Forward);
            }
            Msg::ShowProfile(arg) => {
                // "NAME" from the command line, "NAME\nSETTING" from the overview.
                let (name, setting) = match arg.split_once('\n') {
                    Some((n, s)) => (n.to_string(), Some(s.to_string())),
                    None => (arg, None),
                };
                w.window.present();
                if !self.items.iter().any(|i| i.name == name) {
                    // Not read yet, or made since the list was read: read it, then show it.
                    let again = self
                        .pending
                        .replace(format!("{name}\n{}", setting.unwrap_or_default()));
                    if self.places.is_some() && again.is_none() {
                        self.reload_items(&sender);
                    } else if again.is_some() && self.places.is_some() {
                        toast(
                            w,
                            &fill("There is no profile named {name}", &[("name", &name)]),
                        );
                        self.pending = None;
                    }
                    return;
                }
                self.pending = None;
                self.update_with_view(
                    w,
                    Msg::Select(Target::Profile(name)),
                    sender.clone(),
                    &w.window.clone(),
                );
                // The page shows once the profile is read (Opened): the row is focused then.
                self.focus_next = setting;
            }
            Msg::Opened(name, result) => {
                if self.current_name().as_deref() != Some(&name) {
                    return;
                }
                match result {
                    Ok(s) => {
                        self.settings = Some(*s);
                        self.show_page();
                        if let Some(setting) = self.focus_next.take() {
                            self.page.emit(page::Input::Focus(setting));
                        }
                    }
                    Err(e) => {
                        self.settings = None;
                        self.focus_next = None;
                        self.page.emit(page::Input::Broken { name, message: e });
                    }
                }
                let stale = self
                    .stale
                    .contains(&self.current_name().unwrap_or_default());
                w.restart.set_reveal_child(stale);
            }
            Msg::Page(out) => self.page_output(w, out, &sender),
            Msg::Verb(name, out) => {
                let loaded = self.settings.as_ref().is_some_and(|s| s.name == name);
                if self.current_name().as_deref() == Some(&name) && loaded {
                    self.page_output(w, out, &sender);
                }
            }
            // Saves (saving.rs).
            Msg::Applied(setting, result) => self.applied(w, setting, result, &sender),
            Msg::ResetDone(result) => self.reset_done(w, result, &sender),
            Msg::Undo(text) => self.undo(text, &sender),
            Msg::DirChanged => self.dir_changed(&sender),
            Msg::Reloaded(name, saved, result) => self.reloaded(w, name, saved, result),
            // Sandboxes (sandboxes.rs).
            Msg::Tick => self.tick(&sender),
            Msg::Sandboxes(list) => self.sandboxes_now(w, list),
            Msg::Launched(name, ended) => self.launched(w, name, ended, &sender),
            Msg::Stop(name) => self.stop(w, name, &sender),
            Msg::Stopped(result) => self.stopped(w, result, &sender),
            Msg::Restart => self.restart(w, &sender),
            Msg::Restarted(result) => self.restarted(w, result, &sender),
            Msg::ChangedWhile(name, running) => self.changed_while(w, name, running),
            // Profile files (files.rs).
            Msg::NewFromApp => self.new_from_app(&sender),
            Msg::Apps(list) => self.new_profile.emit(list),
            Msg::Create(app) => self.create(*app, &sender),
            Msg::Filed(result) => self.filed(w, result, &sender),
            Msg::NameChosen(what, new) => self.rename_or_copy(what, new, &sender),
            Msg::LauncherSet(result) => self.launcher_set(w, result),
            Msg::Text(name, text) => crate::dialogs::show_text(&w.window, &name, &text),
            Msg::About => crate::dialogs::about(&w.window),
            Msg::FocusSearch => {
                w.leaflet.navigate(adw::NavigationDirection::Back);
                if let Some(entry) = sidebar::search_entry(self.sidebar.widget()) {
                    entry.grab_focus();
                }
            }
        }
    }
}

impl Window {
    /// What the page (or an action for the profile shown) asked for.
    fn page_output(&mut self, w: &mut Widgets, out: page::Output, sender: &ComponentSender<Self>) {
        let Some(places) = self.places() else { return };
        let Some(name) = self.current_name() else {
            return;
        };
        match out {
            page::Output::Change(change) => self.change(change, places, sender),
            page::Output::ResetAll => self.reset_all(places, sender),
            page::Output::Run => self.run(w, places, name, sender),
            page::Output::Stop => Window::stop_profile(places, name, sender),
            page::Output::Restart => sender.input(Msg::Restart),
            page::Output::ChooseFolder { writable } => {
                crate::dialogs::choose_folder(&w.window, writable, sender)
            }
            page::Output::Launcher(on) => Window::set_launcher(places, name, on, sender),
            page::Output::OpenHome => Window::open_home(w, &places, &name),
            page::Output::ShowText => self.show_text(sender),
            page::Output::Duplicate => {
                crate::dialogs::ask_name(&w.window, NameFor::Duplicate, &name, sender)
            }
            page::Output::Rename => {
                crate::dialogs::ask_name(&w.window, NameFor::Rename, &name, sender)
            }
            page::Output::Delete => self.delete(w, name, sender),
        }
    }
}
