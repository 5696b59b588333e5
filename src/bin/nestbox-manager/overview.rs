//! The overview: which apps can see your display, the network, your whole home, your microphone,
//! and make user namespaces, at a glance; each mark leads to the row that grants it.

use crate::apps::Item;
use crate::i18n::{gettext, N_};
use nestbox::settings::Grant;
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentParts, ComponentSender, SimpleComponent};

/// Whether a grant belongs in a column.
type Belongs = fn(&Grant) -> bool;

/// The columns: a title, the setting a mark leads to, and whether a grant belongs there.
const COLUMNS: &[(&str, &str, Belongs)] = &[
    (N_("Your display"), "sandbox.x11", |g| {
        matches!(g, Grant::HostDisplay)
    }),
    (N_("Network"), "sandbox.network", |g| {
        matches!(g, Grant::Network)
    }),
    (N_("Whole home"), "filesystem", |g| {
        matches!(g, Grant::WholeHome { .. })
    }),
    (N_("Microphone"), "audio.record", |g| {
        matches!(g, Grant::Microphone)
    }),
    (N_("User namespaces"), "seccomp.user_namespaces", |g| {
        matches!(g, Grant::UserNamespaces)
    }),
];

/// Rows made with the view; the others come in chunks of [`CHUNK`] when the main loop is idle.
const FIRST_ROWS: usize = 20;
const CHUNK: usize = 20;

/// One app's line: its name, and a mark in each column that grants it.
fn add_row(grid: &gtk::Grid, row: usize, item: &Item, sender: &ComponentSender<Overview>) {
    let r = row as i32 + 1;
    let name = gtk::Label::new(Some(&item.title));
    name.set_xalign(0.0);
    name.set_margin_start(12);
    name.set_hexpand(true);
    // A long name gives way to the columns: the window never has to scroll sideways.
    name.set_ellipsize(relm4::gtk::pango::EllipsizeMode::End);
    name.set_width_chars(8);
    name.set_tooltip_text(Some(&item.title));
    grid.attach(&name, 0, r, 1, 1);
    for (col, (title, setting, belongs)) in COLUMNS.iter().enumerate() {
        if !item.grants.iter().any(|g| belongs(&g.grant)) {
            continue;
        }
        let mark = gtk::Button::from_icon_name("dialog-warning-symbolic");
        mark.add_css_class("flat");
        mark.add_css_class("warning");
        mark.set_halign(gtk::Align::Center);
        mark.set_tooltip_text(Some(&format!("{} — {}", item.title, gettext(*title))));
        mark.set_widget_name(&format!("mark:{}:{}", item.name, setting));
        let snd = sender.clone();
        let (p, s) = (item.name.clone(), setting.to_string());
        mark.connect_clicked(move |_| {
            let _ = snd.output((p.clone(), s.clone()));
        });
        grid.attach(&mark, col as i32 + 1, r, 1, 1);
    }
}

pub struct Overview {
    items: Vec<Item>,
}

pub struct Widgets {
    holder: adw::Clamp,
}

impl SimpleComponent for Overview {
    type Input = Vec<Item>;
    /// Open this profile at this setting's row.
    type Output = (String, String);
    type Init = ();
    type Root = gtk::ScrolledWindow;
    type Widgets = Widgets;

    fn init_root() -> gtk::ScrolledWindow {
        gtk::ScrolledWindow::builder()
            .vexpand(true)
            .hexpand(true)
            .build()
    }

    fn init(_: (), root: gtk::ScrolledWindow, _: ComponentSender<Self>) -> ComponentParts<Self> {
        let holder = adw::Clamp::builder().maximum_size(900).build();
        root.set_child(Some(&holder));
        ComponentParts {
            model: Overview { items: Vec::new() },
            widgets: Widgets { holder },
        }
    }

    fn update(&mut self, items: Vec<Item>, _: ComponentSender<Self>) {
        self.items = items;
    }

    fn update_view(&self, w: &mut Widgets, sender: ComponentSender<Self>) {
        let bx = gtk::Box::new(gtk::Orientation::Vertical, 12);
        bx.set_margin_top(24);
        bx.set_margin_bottom(24);
        bx.set_margin_start(12);
        bx.set_margin_end(12);
        let title = gtk::Label::new(Some(&gettext("What your apps can reach")));
        title.add_css_class("title-2");
        title.set_xalign(0.0);
        bx.append(&title);
        let intro = gtk::Label::new(Some(&gettext(
            "Each mark is a door out of the sandbox. Click one to change it.",
        )));
        intro.add_css_class("dim-label");
        intro.set_xalign(0.0);
        intro.set_wrap(true);
        bx.append(&intro);
        let grid = gtk::Grid::new();
        grid.set_column_spacing(18);
        grid.set_row_spacing(6);
        grid.add_css_class("card");
        grid.set_margin_top(12);
        for (col, (name, _, _)) in COLUMNS.iter().enumerate() {
            let l = gtk::Label::new(Some(&gettext(*name)));
            l.add_css_class("heading");
            l.set_margin_top(12);
            l.set_wrap(true);
            l.set_max_width_chars(9);
            l.set_justify(gtk::Justification::Center);
            grid.attach(&l, col as i32 + 1, 0, 1, 1);
        }
        // The first rows now, the rest a chunk at a time when the main loop is idle: the first
        // frame does not wait for two hundred rows nobody sees yet.
        let apps: Vec<Item> = self
            .items
            .iter()
            .filter(|i| !i.abstraction)
            .cloned()
            .collect();
        let first = apps.len().min(FIRST_ROWS);
        for (row, item) in apps[..first].iter().enumerate() {
            add_row(&grid, row, item, &sender);
        }
        let rest = apps[first..].to_vec();
        let g = grid.clone();
        let mut next = 0;
        relm4::gtk::glib::idle_add_local(move || {
            for item in rest.iter().skip(next).take(CHUNK) {
                add_row(&g, first + next, item, &sender);
                next += 1;
            }
            if next < rest.len() && g.parent().is_some() {
                relm4::gtk::glib::ControlFlow::Continue
            } else {
                relm4::gtk::glib::ControlFlow::Break
            }
        });
        bx.append(&grid);
        w.holder.set_child(Some(&bx));
        crate::bench::mark("overview-built");
    }
}
