//! The sidebar: Overview and Running, then the app profiles and the abstractions, each with its
//! app's icon and name and its marks (changed by you, running, not installed, broken); a search
//! field filters them as one types.

use crate::apps::Item;
use crate::i18n::gettext;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{gtk, ComponentParts, ComponentSender, SimpleComponent};
use std::cell::{Cell, RefCell};
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
    view: gtk::GridView,
    /// Every line, shown or not; the view shows those the search lets through.
    store: gio::ListStore,
    selection: gtk::SingleSelection,
    /// Set while lines are replaced or selected from here, so that is not taken for a click.
    quiet: Rc<Cell<bool>>,
    /// The line selected last, to select again when a search that hid it ends.
    selected: Rc<RefCell<Target>>,
    /// The line last brought into sight: the list scrolls for a new choice only.
    scrolled_to: Option<Target>,
    search: Rc<RefCell<Search>>,
    filter: gtk::CustomFilter,
    /// What each line in the store shows, to replace only those that change.
    keys: Vec<String>,
}

/// A section of the list, under a heading of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Apps,
    Abstractions,
}

/// One line of the sidebar. A `gtk::GridView` of one column makes widgets only for the lines in
/// and near sight: a list box lays out every row again at each key typed in the search field,
/// and GTK 4.8's list view keeps 200 rows bound whatever its height. GTK 4.8 has no sections in
/// these views, so the headings are lines of their own.
#[derive(Debug)]
enum Line {
    Nav {
        target: Target,
        title: String,
        icon: &'static str,
    },
    Heading(Section),
    Profile {
        item: Item,
        running: bool,
        /// Name and app name in lower case, what the search looks in.
        haystack: String,
    },
}

impl Line {
    fn target(&self) -> Option<Target> {
        match self {
            Line::Nav { target, .. } => Some(target.clone()),
            Line::Profile { item, .. } => Some(Target::Profile(item.name.clone())),
            Line::Heading(_) => None,
        }
    }

    /// What the line shows, as one string.
    fn key(&self) -> String {
        match self {
            Line::Nav { title, .. } => title.clone(),
            Line::Heading(s) => format!("{s:?}"),
            Line::Profile {
                item: i, running, ..
            } => format!(
                "{}|{}|{:?}|{}|{}|{}|{}|{:?}|{running}",
                i.name, i.title, i.icon, i.abstraction, i.changed, i.own, i.missing, i.error
            ),
        }
    }

    fn section(&self) -> Option<Section> {
        match self {
            Line::Profile { item, .. } if item.abstraction => Some(Section::Abstractions),
            Line::Profile { .. } => Some(Section::Apps),
            Line::Heading(s) => Some(*s),
            Line::Nav { .. } => None,
        }
    }
}

fn line_of(object: &glib::Object) -> std::cell::Ref<'_, Line> {
    object
        .downcast_ref::<glib::BoxedAnyObject>()
        .expect("the sidebar's store holds lines")
        .borrow::<Line>()
}

/// What the search field asks for: its text in lower case, and the sections with a match.
#[derive(Default)]
struct Search {
    /// As typed.
    text: String,
    query: String,
    sections: Vec<Section>,
}

impl Search {
    /// Whether `line` is shown: profiles whose name or app name holds the text, the heading of a
    /// section with one; Overview and Running only when not searching.
    fn shows(&self, line: &Line) -> bool {
        if self.query.is_empty() {
            return true;
        }
        match line {
            Line::Profile { haystack, .. } => haystack.contains(&self.query),
            Line::Heading(s) => self.sections.contains(s),
            Line::Nav { .. } => false,
        }
    }

    /// Search for `text` among the lines of `store`.
    fn set(&mut self, text: &str, store: &gio::ListStore) {
        self.text = text.to_string();
        self.query = text.trim().to_lowercase();
        self.sections.clear();
        for object in store.iter::<glib::Object>().flatten() {
            let line = line_of(&object);
            if let (Line::Profile { haystack, .. }, Some(s)) = (&*line, line.section()) {
                if haystack.contains(&self.query) && !self.sections.contains(&s) {
                    self.sections.push(s);
                }
            }
        }
    }
}

/// The position, among the lines shown, of the first for which `f` holds.
fn position(model: &impl IsA<gio::ListModel>, f: impl Fn(&Line) -> bool) -> Option<u32> {
    (0..model.n_items()).find(|&i| model.item(i).is_some_and(|o| f(&line_of(&o))))
}

/// Select the line of `target`, where it is shown, and bring it into sight when it was not the
/// choice before; nothing is sent.
fn select_quietly(w: &mut Widgets, target: &Target) {
    *w.selected.borrow_mut() = target.clone();
    let Some(pos) = position(&w.selection, |l| l.target().as_ref() == Some(target)) else {
        return;
    };
    if w.selection.selected() != pos {
        w.quiet.set(true);
        w.selection.set_selected(pos);
        w.quiet.set(false);
    }
    // GTK 4.8's grid view asked to scroll before it has its size makes widgets only around that
    // line, and leaves the lines above it blank: the window's first frame does it (on_mapped).
    if w.scrolled_to.as_ref() != Some(target) && w.view.height() > 0 {
        w.scrolled_to = Some(target.clone());
        let _ = w
            .view
            .activate_action("list.scroll-to-item", Some(&pos.to_variant()));
    }
}

/// Once the view has its size, bring the line chosen before into sight.
fn on_mapped(view: &gtk::GridView, selection: &gtk::SingleSelection) {
    let (v, sel) = (view.clone(), selection.clone());
    view.connect_map(move |_| {
        let (v, sel) = (v.clone(), sel.clone());
        // After the first allocation, which comes after the map.
        glib::idle_add_local_once(move || {
            let pos = sel.selected();
            if pos != gtk::INVALID_LIST_POSITION {
                let _ = v.activate_action("list.scroll-to-item", Some(&pos.to_variant()));
            }
        });
    });
}

fn mark(icon: &str, tooltip: &str) -> gtk::Image {
    let image = gtk::Image::from_icon_name(icon);
    image.set_tooltip_text(Some(tooltip));
    image.add_css_class("dim-label");
    image
}

/// A profile's line: icon, app name, profile name (or why not), marks.
fn profile_line(item: &Item, running: bool) -> gtk::Box {
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
    if let Some(error) = &item.error {
        line.append(&mark("dialog-error-symbolic", error));
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
    line
}

fn nav_line(title: &str, icon: &str) -> gtk::Box {
    let line = gtk::Box::new(gtk::Orientation::Horizontal, 12);
    line.set_margin_top(10);
    line.set_margin_bottom(10);
    line.set_margin_start(8);
    line.set_margin_end(6);
    line.append(&gtk::Image::from_icon_name(icon));
    let label = gtk::Label::new(Some(title));
    label.set_xalign(0.0);
    line.append(&label);
    line
}

fn heading_line(section: Section) -> gtk::Label {
    let text = match section {
        Section::Apps => gettext("Apps"),
        Section::Abstractions => gettext("Abstractions"),
    };
    let label = gtk::Label::new(Some(&text));
    label.set_xalign(0.0);
    label.add_css_class("heading");
    label.set_margin_start(6);
    label.set_margin_top(12);
    label.set_margin_bottom(6);
    label
}

/// The lines look like the rows of libadwaita's sidebars (`.navigation-sidebar > row`, which a
/// grid view's children are not); a heading does not light up under the pointer.
const STYLE: &str = "
gridview.navigation-sidebar > child { padding: 0; margin: 0 6px 2px; border-radius: 6px; }
gridview.navigation-sidebar > child:hover { background-color: alpha(currentColor, .07); }
gridview.navigation-sidebar > child:selected { background-color: alpha(currentColor, .1); color: inherit; }
gridview.navigation-sidebar > child:selected:hover { background-color: alpha(currentColor, .13); }
gridview.navigation-sidebar > child.heading-row { background: none; }
";

/// The widgets of one line, made when it comes into sight.
fn factory() -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_bind(|_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let Some(object) = list_item.item() else {
            return;
        };
        let line = line_of(&object);
        let heading = matches!(&*line, Line::Heading(_));
        let child: gtk::Widget = match &*line {
            Line::Nav { title, icon, .. } => nav_line(title, icon).upcast(),
            Line::Heading(section) => heading_line(*section).upcast(),
            Line::Profile { item, running, .. } => profile_line(item, *running).upcast(),
        };
        list_item.set_selectable(!heading);
        list_item.set_activatable(!heading);
        list_item.set_child(Some(&child));
        // A heading is not a button: it does not light up under the pointer (STYLE).
        if let Some(row) = child.parent() {
            if heading {
                row.add_css_class("heading-row");
            } else {
                row.remove_css_class("heading-row");
            }
        }
    });
    factory
}

/// adw 1.2 reads row titles as markup.
pub fn glib_escape(s: &str) -> String {
    relm4::gtk::glib::markup_escape_text(s).to_string()
}

impl Sidebar {
    /// The lines, in order: Overview, Running, the apps, the abstractions.
    fn lines(&self) -> Vec<Line> {
        let running = if self.running.is_empty() {
            gettext("Running")
        } else {
            format!("{} ({})", gettext("Running"), self.running.len())
        };
        let mut lines = vec![
            Line::Nav {
                target: Target::Overview,
                title: gettext("Overview"),
                icon: "view-grid-symbolic",
            },
            Line::Nav {
                target: Target::Running,
                title: running,
                icon: "media-playback-start-symbolic",
            },
        ];
        for (section, abstraction) in [(Section::Apps, false), (Section::Abstractions, true)] {
            let mut items = self
                .items
                .iter()
                .filter(|i| i.abstraction == abstraction)
                .peekable();
            if items.peek().is_some() {
                lines.push(Line::Heading(section));
            }
            for item in items {
                lines.push(Line::Profile {
                    item: item.clone(),
                    running: self.running.contains(&item.name),
                    haystack: format!("{}\n{}", item.name, item.title).to_lowercase(),
                });
            }
        }
        lines
    }

    /// Put the lines in the store: only those that changed, when the lines are the same in
    /// number (a sandbox started, a profile changed), so the list stays where it was scrolled to.
    fn show_lines(&self, w: &mut Widgets) {
        let lines = self.lines();
        let keys: Vec<String> = lines.iter().map(Line::key).collect();
        if keys == w.keys {
            return;
        }
        w.quiet.set(true);
        if keys.len() == w.keys.len() {
            for (i, line) in lines.into_iter().enumerate() {
                if keys[i] != w.keys[i] {
                    w.store
                        .splice(i as u32, 1, &[glib::BoxedAnyObject::new(line)]);
                }
            }
        } else {
            let objects: Vec<_> = lines.into_iter().map(glib::BoxedAnyObject::new).collect();
            w.store.splice(0, w.store.n_items(), &objects);
        }
        w.keys = keys;
        // The search's sections, for the new lines.
        let text = w.search.borrow().text.clone();
        w.search.borrow_mut().set(&text, &w.store);
        w.filter.changed(gtk::FilterChange::Different);
        w.quiet.set(false);
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
        relm4::set_global_css(STYLE);
        let search_entry = gtk::SearchEntry::new();
        search_entry.set_placeholder_text(Some(&gettext("Search apps")));
        search_entry.set_margin_start(8);
        search_entry.set_margin_end(8);
        search_entry.set_margin_top(6);
        search_entry.set_margin_bottom(6);

        let store = gio::ListStore::new::<glib::BoxedAnyObject>();
        let search = Rc::new(RefCell::new(Search::default()));
        let s = search.clone();
        let filter = gtk::CustomFilter::new(move |o| s.borrow().shows(&line_of(o)));
        let filtered = gtk::FilterListModel::new(Some(store.clone()), Some(filter.clone()));
        let selection = gtk::SingleSelection::new(Some(filtered));
        selection.set_autoselect(false);
        selection.set_can_unselect(true);
        let view = gtk::GridView::new(Some(selection.clone()), Some(factory()));
        view.set_max_columns(1);
        view.add_css_class("navigation-sidebar");
        let scrolled = gtk::ScrolledWindow::builder()
            .vexpand(true)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .child(&view)
            .build();
        root.append(&search_entry);
        root.append(&scrolled);
        root.set_width_request(280);

        let mut widgets = Widgets {
            view,
            store,
            selection,
            quiet: Rc::default(),
            selected: Rc::new(RefCell::new(Target::Overview)),
            scrolled_to: None,
            search: search.clone(),
            filter: filter.clone(),
            keys: Vec::new(),
        };

        on_mapped(&widgets.view, &widgets.selection);
        // A line chosen by a click or the keyboard opens its page.
        let (s, quiet, selected) = (
            sender.clone(),
            widgets.quiet.clone(),
            widgets.selected.clone(),
        );
        widgets
            .selection
            .connect_selected_item_notify(move |selection| {
                if quiet.get() {
                    return;
                }
                let Some(target) = selection.selected_item().and_then(|o| line_of(&o).target())
                else {
                    return;
                };
                // The same line at another place (the search moved it) is not a new choice.
                if *selected.borrow() != target {
                    *selected.borrow_mut() = target.clone();
                    let _ = s.output(target);
                }
            });
        let (st, sel, view, quiet, selected) = (
            widgets.store.clone(),
            widgets.selection.clone(),
            widgets.view.clone(),
            widgets.quiet.clone(),
            widgets.selected.clone(),
        );
        search_entry.connect_search_changed(move |entry| {
            let started = std::time::Instant::now();
            search.borrow_mut().set(&entry.text(), &st);
            quiet.set(true);
            filter.changed(gtk::FilterChange::Different);
            // The line of the page shown is selected again when it is back in the list, and in
            // sight when the search ends; while searching, the list shows its first matches.
            let target = selected.borrow().clone();
            let pos = position(&sel, |l| l.target().as_ref() == Some(&target));
            if let Some(pos) = pos {
                sel.set_selected(pos);
            }
            quiet.set(false);
            let top = match pos {
                Some(pos) if entry.text().trim().is_empty() => pos,
                _ => 0,
            };
            let _ = view.activate_action("list.scroll-to-item", Some(&top.to_variant()));
            crate::bench::searched(&view, started);
        });
        // Enter in the search field opens the first app that matches.
        let sel = widgets.selection.clone();
        let view = widgets.view.clone();
        search_entry.connect_activate(move |entry| {
            // The field's text now: search-changed comes a moment after the last key.
            entry.emit_by_name::<()>("search-changed", &[]);
            if let Some(pos) = position(&sel, |l| matches!(l, Line::Profile { .. })) {
                sel.set_selected(pos);
                let _ = view.activate_action("list.scroll-to-item", Some(&pos.to_variant()));
            }
        });

        let model = Sidebar {
            items: Vec::new(),
            running: BTreeSet::new(),
            selected: Target::Overview,
        };
        model.show_lines(&mut widgets);
        select_quietly(&mut widgets, &model.selected);
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
        crate::bench::mark("sidebar-fill");
        self.show_lines(w);
        crate::bench::mark("sidebar-filled");
        select_quietly(w, &self.selected);
    }
}

/// The search field, for the window's key capture.
pub fn search_entry(root: &gtk::Box) -> Option<gtk::SearchEntry> {
    root.first_child()?.downcast::<gtk::SearchEntry>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, title: &str, abstraction: bool) -> Item {
        Item {
            name: name.into(),
            title: title.into(),
            abstraction,
            ..Item::default()
        }
    }

    fn sidebar() -> Sidebar {
        Sidebar {
            items: vec![
                item("base", "base", true),
                item("firefox", "Firefox ESR", false),
                item("x11", "x11", true),
                item("xterm", "XTerm", false),
            ],
            running: ["xterm".to_string()].into(),
            selected: Target::Overview,
        }
    }

    fn store(lines: Vec<Line>) -> gio::ListStore {
        let store = gio::ListStore::new::<glib::BoxedAnyObject>();
        for line in lines {
            store.append(&glib::BoxedAnyObject::new(line));
        }
        store
    }

    #[test]
    fn lines_are_the_pages_then_the_apps_then_the_abstractions_under_their_headings() {
        let keys: Vec<String> = sidebar()
            .lines()
            .iter()
            .map(|l| match l {
                Line::Nav { title, .. } => title.clone(),
                Line::Heading(s) => format!("# {s:?}"),
                Line::Profile { item, running, .. } => format!("{} {running}", item.name),
            })
            .collect();
        assert_eq!(
            keys,
            [
                "Overview",
                "Running (1)",
                "# Apps",
                "firefox false",
                "xterm true",
                "# Abstractions",
                "base false",
                "x11 false"
            ]
        );
    }

    #[test]
    fn a_search_shows_the_matches_by_name_or_app_name_and_their_headings_only() {
        let store = store(sidebar().lines());
        let mut search = Search::default();
        let shown = |search: &Search| -> Vec<String> {
            store
                .iter::<glib::Object>()
                .flatten()
                .filter(|o| search.shows(&line_of(o)))
                .map(|o| match &*line_of(&o) {
                    Line::Nav { target, .. } => format!("{target:?}"),
                    Line::Heading(s) => format!("# {s:?}"),
                    Line::Profile { item, .. } => item.name.clone(),
                })
                .collect()
        };
        assert_eq!(shown(&search).len(), 8, "no search: every line");
        // By app name, in any case, with the spaces around it dropped.
        search.set(" esr ", &store);
        assert_eq!(shown(&search), ["# Apps", "firefox"]);
        // By profile name: an abstraction, under its own heading only.
        search.set("X11", &store);
        assert_eq!(shown(&search), ["# Abstractions", "x11"]);
        search.set("x", &store);
        assert_eq!(
            shown(&search),
            ["# Apps", "firefox", "xterm", "# Abstractions", "x11"]
        );
        search.set("nothing like it", &store);
        assert!(shown(&search).is_empty());
        search.set("", &store);
        assert_eq!(shown(&search).len(), 8);
    }
}
