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
            let title = row
                .downcast_ref::<adw::ActionRow>()
                .map(|r| r.title().to_lowercase())
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

fn profile_row(item: &Item, running: bool) -> gtk::ListBoxRow {
    let row = adw::ActionRow::builder()
        .title(glib_escape(&item.title))
        .build();
    row.set_widget_name(&format!("profile:{}", item.name));
    if item.title != item.name {
        row.set_subtitle(&glib_escape(&item.name));
    }
    let icon = match &item.icon {
        Some(i) if i.starts_with('/') => gtk::Image::from_file(i),
        Some(i) => gtk::Image::from_icon_name(i),
        None if item.abstraction => gtk::Image::from_icon_name("folder-templates-symbolic"),
        None => gtk::Image::from_icon_name("application-x-executable"),
    };
    icon.set_pixel_size(32);
    if item.abstraction {
        row.add_css_class("abstraction");
    }
    row.add_prefix(&icon);
    if let Some(error) = &item.error {
        row.add_suffix(&mark("dialog-error-symbolic", error));
        row.set_subtitle(&glib_escape(&gettext("Does not load: open it to see why")));
        row.add_css_class("error");
    }
    if running {
        row.add_suffix(&mark("media-playback-start-symbolic", &gettext("Running")));
    }
    if item.changed || (item.own && !item.abstraction) {
        let what = if item.changed {
            gettext("Changed by you")
        } else {
            gettext("Your own profile")
        };
        row.add_suffix(&mark("document-edit-symbolic", &what));
    }
    if item.missing {
        row.add_suffix(&mark(
            "action-unavailable-symbolic",
            &gettext("App not installed"),
        ));
        row.set_subtitle(&glib_escape(&gettext("Not installed")));
    }
    row.upcast()
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
        for abstractions in [false, true] {
            for item in self.items.iter().filter(|i| i.abstraction == abstractions) {
                w.list
                    .append(&profile_row(item, self.running.contains(&item.name)));
            }
        }
        self.select_row(w);
        *w.quiet.borrow_mut() = false;
    }

    fn select_row(&self, w: &Widgets) {
        let mut child = w.list.first_child();
        while let Some(c) = child {
            if let Some(row) = c.downcast_ref::<gtk::ListBoxRow>() {
                if row_target(row).as_ref() == Some(&self.selected) {
                    w.list.select_row(Some(row));
                    return;
                }
            }
            child = c.next_sibling();
        }
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
                let abstraction = r.widget_name().starts_with("profile:")
                    && r.downcast_ref::<adw::ActionRow>()
                        .is_some_and(|a| a.has_css_class("abstraction"));
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
            l.invalidate_filter();
            l.invalidate_headers();
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
        let widgets = Widgets { list, quiet };
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
            self.fill(w);
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
