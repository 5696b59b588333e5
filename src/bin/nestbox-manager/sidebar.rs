//! The sidebar: Overview and Running, then the app profiles and the abstractions, each with its
//! app's icon and name and its marks (changed by you, running, not installed, broken); a search
//! field filters them as one types.

use crate::apps::Item;
use crate::i18n::gettext;
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentParts, ComponentSender, SimpleComponent};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// What the content shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Overview,
    Running,
    Profile(String),
}

#[derive(Debug)]
pub enum Input {
    Items(Vec<Item>),
    Running(BTreeSet<String>),
    /// Select this row (from elsewhere: the overview, the command line).
    Select(Target),
}

pub struct Sidebar {
    items: Vec<Item>,
    running: BTreeSet<String>,
    selected: Target,
}

pub struct Widgets {
    list: gtk::ListBox,
    /// Set while rows are being made, so the selection that makes is not taken for a click.
    quiet: Rc<RefCell<bool>>,
    /// Counts fills, so that rows still to come from an earlier one are dropped.
    generation: Rc<std::cell::Cell<u64>>,
    /// The row to select, for rows still to come.
    selected: Rc<RefCell<Target>>,
}

/// Rows made with the list; the others come in chunks of [`CHUNK`] when the main loop is idle.
const FIRST_ROWS: usize = 30;
const CHUNK: usize = 40;

/// Select the row of `target`, where it is (yet).
fn select_row(list: &gtk::ListBox, target: &Target) {
    let mut child = list.first_child();
    while let Some(c) = child {
        if let Some(row) = c.downcast_ref::<gtk::ListBoxRow>() {
            if row_target(row).as_ref() == Some(target) {
                if list.selected_row().as_ref() != Some(row) {
                    list.select_row(Some(row));
                }
                return;
            }
        }
        child = c.next_sibling();
    }
}

fn row_target(row: &gtk::ListBoxRow) -> Option<Target> {
    match row.widget_name().as_str() {
        "overview" => Some(Target::Overview),
        "running" => Some(Target::Running),
        n => n
            .strip_prefix("profile:")
            .map(|n| Target::Profile(n.to_string())),
    }
}

/// Whether `row` is shown for the search `q` (lower case): profiles whose name or app name holds
/// it; Overview and Running only when not searching.
fn matches(row: &gtk::ListBoxRow, q: &str) -> bool {
    match row_target(row) {
        Some(Target::Profile(name)) if !q.is_empty() => {
            // The app's name is the row's first label.
            let title = row
                .child()
                .and_then(|line| line.first_child()?.next_sibling()?.first_child())
                .and_then(|l| l.downcast::<gtk::Label>().ok())
                .map(|l| l.text().to_lowercase())
                .unwrap_or_default();
            name.to_lowercase().contains(q) || title.contains(q)
        }
        Some(Target::Profile(_)) => true,
        _ => q.is_empty(),
    }
}

fn mark(icon: &str, tooltip: &str) -> gtk::Image {
    let image = gtk::Image::from_icon_name(icon);
    image.set_tooltip_text(Some(tooltip));
    image.add_css_class("dim-label");
    image
}

/// A profile's row: icon, app name, profile name (or why not), marks. Plain boxes and labels, not
/// an AdwActionRow: two hundred of those take a noticeable part of the first frame.
fn profile_row(item: &Item, running: bool) -> gtk::ListBoxRow {
    let row = gtk::ListBoxRow::new();
    row.set_widget_name(&format!("profile:{}", item.name));
    let line = gtk::Box::new(gtk::Orientation::Horizontal, 12);
    line.set_margin_top(6);
    line.set_margin_bottom(6);
    line.set_margin_start(6);
    line.set_margin_end(6);
    let icon = match &item.icon {
        Some(i) if i.starts_with('/') => gtk::Image::from_file(i),
        Some(i) => gtk::Image::from_icon_name(i),
        None if item.abstraction => gtk::Image::from_icon_name("folder-templates-symbolic"),
        None => gtk::Image::from_icon_name("application-x-executable"),
    };
    icon.set_pixel_size(32);
    line.append(&icon);
    let words = gtk::Box::new(gtk::Orientation::Vertical, 2);
    words.set_hexpand(true);
    words.set_valign(gtk::Align::Center);
    let title = gtk::Label::new(Some(&item.title));
    title.set_xalign(0.0);
    title.set_ellipsize(relm4::gtk::pango::EllipsizeMode::End);
    words.append(&title);
    let subtitle = if item.error.is_some() {
        Some(gettext("Does not load: open it to see why"))
    } else if item.missing {
        Some(gettext("Not installed"))
    } else {
        (item.title != item.name).then(|| item.name.clone())
    };
    if let Some(text) = subtitle {
        let sub = gtk::Label::new(Some(&text));
        sub.set_xalign(0.0);
        // Only an error's line wraps: a wrapping label is measured for every width, which the
        // search's relayout of two hundred rows pays for.
        if item.error.is_some() {
            sub.set_wrap(true);
        } else {
            sub.set_ellipsize(relm4::gtk::pango::EllipsizeMode::End);
        }
        sub.add_css_class("caption");
        sub.add_css_class("dim-label");
        words.append(&sub);
    }
    line.append(&words);
    if item.abstraction {
        row.add_css_class("abstraction");
    }
    if let Some(error) = &item.error {
        line.append(&mark("dialog-error-symbolic", error));
        row.add_css_class("error");
    }
    if running {
        line.append(&mark("media-playback-start-symbolic", &gettext("Running")));
    }
    if item.changed || (item.own && !item.abstraction) {
        let what = if item.changed {
            gettext("Changed by you")
        } else {
            gettext("Your own profile")
        };
        line.append(&mark("document-edit-symbolic", &what));
    }
    if item.missing {
        line.append(&mark(
            "action-unavailable-symbolic",
            &gettext("App not installed"),
        ));
    }
    row.set_child(Some(&line));
    row
}

fn nav_row(name: &str, title: &str, icon: &str) -> gtk::ListBoxRow {
    let row = adw::ActionRow::builder().title(title).build();
    row.set_widget_name(name);
    row.add_prefix(&gtk::Image::from_icon_name(icon));
    row.upcast()
}

/// adw 1.2 reads row titles as markup.
pub fn glib_escape(s: &str) -> String {
    relm4::gtk::glib::markup_escape_text(s).to_string()
}

impl Sidebar {
    fn fill(&self, w: &Widgets) {
        *w.quiet.borrow_mut() = true;
        while let Some(child) = w.list.first_child() {
            w.list.remove(&child);
        }
        w.list.append(&nav_row(
            "overview",
            &gettext("Overview"),
            "view-grid-symbolic",
        ));
        let running = if self.running.is_empty() {
            gettext("Running")
        } else {
            format!("{} ({})", gettext("Running"), self.running.len())
        };
        w.list.append(&nav_row(
            "running",
            &running,
            "media-playback-start-symbolic",
        ));
        // The first rows now, the rest a chunk at a time when the main loop is idle (a list box
        // lays out every row, seen or not): the first frame shows the list's top at once.
        let rows: Vec<(Item, bool)> = [false, true]
            .iter()
            .flat_map(|a| self.items.iter().filter(move |i| i.abstraction == *a))
            .map(|i| (i.clone(), self.running.contains(&i.name)))
            .collect();
        let generation = w.generation.get() + 1;
        w.generation.set(generation);
        let first = rows.len().min(FIRST_ROWS);
        for (item, running) in &rows[..first] {
            w.list.append(&profile_row(item, *running));
        }
        let (list, quiet, current) = (w.list.clone(), w.quiet.clone(), w.generation.clone());
        let selected = w.selected.clone();
        let mut next = first;
        relm4::gtk::glib::idle_add_local(move || {
            if current.get() != generation {
                return relm4::gtk::glib::ControlFlow::Break;
            }
            *quiet.borrow_mut() = true;
            for (item, running) in rows.iter().skip(next).take(CHUNK) {
                list.append(&profile_row(item, *running));
                next += 1;
            }
            select_row(&list, &selected.borrow());
            *quiet.borrow_mut() = false;
            if next < rows.len() {
                relm4::gtk::glib::ControlFlow::Continue
            } else {
                relm4::gtk::glib::ControlFlow::Break
            }
        });
        self.select_row(w);
        *w.quiet.borrow_mut() = false;
    }

    fn select_row(&self, w: &Widgets) {
        *w.selected.borrow_mut() = self.selected.clone();
        select_row(&w.list, &self.selected);
    }
}

impl SimpleComponent for Sidebar {
    type Input = Input;
    type Output = Target;
    type Init = ();
    type Root = gtk::Box;
    type Widgets = Widgets;

    fn init_root() -> gtk::Box {
        gtk::Box::new(gtk::Orientation::Vertical, 0)
    }

    fn init(_: (), root: gtk::Box, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let search = gtk::SearchEntry::new();
        search.set_placeholder_text(Some(&gettext("Search apps")));
        search.set_margin_start(8);
        search.set_margin_end(8);
        search.set_margin_top(6);
        search.set_margin_bottom(6);
        let list = gtk::ListBox::new();
        list.add_css_class("navigation-sidebar");
        list.set_selection_mode(gtk::SelectionMode::Single);
        let scrolled = gtk::ScrolledWindow::builder()
            .vexpand(true)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .child(&list)
            .build();
        root.append(&search);
        root.append(&scrolled);
        root.set_width_request(280);

        let query = Rc::new(RefCell::new(String::new()));
        let q = query.clone();
        list.set_filter_func(move |row| matches(row, &q.borrow()));
        list.set_header_func(|row, before| {
            let section = |r: &gtk::ListBoxRow| {
                let abstraction = r.has_css_class("abstraction");
                match row_target(r) {
                    Some(Target::Profile(_)) if abstraction => 2,
                    Some(Target::Profile(_)) => 1,
                    _ => 0,
                }
            };
            let now = section(row);
            if before.map(section) == Some(now) || now == 0 {
                row.set_header(None::<&gtk::Widget>);
                return;
            }
            let text = if now == 1 {
                gettext("Apps")
            } else {
                gettext("Abstractions")
            };
            let label = gtk::Label::new(Some(&text));
            label.set_xalign(0.0);
            label.add_css_class("heading");
            label.set_margin_start(12);
            label.set_margin_top(12);
            label.set_margin_bottom(6);
            row.set_header(Some(&label));
        });
        let l = list.clone();
        let q = query.clone();
        search.connect_search_changed(move |entry| {
            *q.borrow_mut() = entry.text().trim().to_lowercase();
            // Headers too: GTK works them out again with the filter.
            l.invalidate_filter();
            crate::bench::searched(&l);
        });
        let quiet = Rc::new(RefCell::new(false));
        let s = sender.clone();
        let qt = quiet.clone();
        list.connect_row_selected(move |_, row| {
            if *qt.borrow() {
                return;
            }
            if let Some(t) = row.and_then(row_target) {
                let _ = s.output(t);
            }
        });
        // Enter in the search field opens the first app that matches.
        let l = list.clone();
        let q = query.clone();
        search.connect_activate(move |entry| {
            // The field's text now: search-changed comes a moment after the last key.
            *q.borrow_mut() = entry.text().trim().to_lowercase();
            l.invalidate_filter();
            let mut child = l.first_child();
            while let Some(c) = child {
                if let Some(row) = c.downcast_ref::<gtk::ListBoxRow>() {
                    if row.widget_name().starts_with("profile:") && matches(row, &q.borrow()) {
                        l.select_row(Some(row));
                        row.grab_focus();
                        return;
                    }
                }
                child = c.next_sibling();
            }
        });

        let model = Sidebar {
            items: Vec::new(),
            running: BTreeSet::new(),
            selected: Target::Overview,
        };
        let widgets = Widgets {
            list,
            quiet,
            generation: Rc::default(),
            selected: Rc::new(RefCell::new(Target::Overview)),
        };
        model.fill(&widgets);
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: Input, _: ComponentSender<Self>) {
        match msg {
            Input::Items(items) => self.items = items,
            Input::Running(running) => self.running = running,
            Input::Select(t) => self.selected = t,
        }
    }

    fn update_view(&self, w: &mut Widgets, _: ComponentSender<Self>) {
        // Rows are made again only when what they show changed.
        let key = state_key(self);
        if w.list.widget_name() != key {
            w.list.set_widget_name(&key);
            crate::bench::mark("sidebar-fill");
            self.fill(w);
            crate::bench::mark("sidebar-filled");
        } else {
            *w.quiet.borrow_mut() = true;
            self.select_row(w);
            *w.quiet.borrow_mut() = false;
        }
    }
}

/// What the rows depend on, as one string, to know when to make them again.
fn state_key(s: &Sidebar) -> String {
    let mut key = format!("{};", s.running.len());
    for i in &s.items {
        key.push_str(&format!(
            "{}|{}|{:?}|{}|{}|{}|{};",
            i.name,
            i.title,
            i.icon,
            i.changed,
            i.missing,
            i.error.is_some(),
            s.running.contains(&i.name)
        ));
    }
    key
}

/// The search field, for the window's key capture.
pub fn search_entry(root: &gtk::Box) -> Option<gtk::SearchEntry> {
    root.first_child()?.downcast::<gtk::SearchEntry>().ok()
}
