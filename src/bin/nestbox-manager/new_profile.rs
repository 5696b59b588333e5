//! "New profile from an installed app": a searchable list of the desktop entries on this machine;
//! choosing one makes a starting profile from it.

use crate::i18n::gettext;
use crate::sidebar::glib_escape;
use nestbox::desktop::AppInfo;
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentParts, ComponentSender, SimpleComponent};
use std::cell::RefCell;
use std::rc::Rc;

pub struct NewProfile {
    apps: Vec<AppInfo>,
}

pub struct Widgets {
    list: gtk::ListBox,
    window: adw::Window,
    search: gtk::SearchEntry,
    chosen: Rc<RefCell<Vec<AppInfo>>>,
    /// Made transient for it only when shown: a transient window joins its parent's
    /// application, which would then show it at start.
    parent: gtk::Window,
}

impl SimpleComponent for NewProfile {
    /// Show these apps to choose from.
    type Input = Vec<AppInfo>;
    type Output = AppInfo;
    type Init = gtk::Window;
    type Root = adw::Window;
    type Widgets = Widgets;

    fn init_root() -> adw::Window {
        adw::Window::builder()
            .default_width(420)
            .default_height(560)
            .modal(true)
            .hide_on_close(true)
            .build()
    }

    fn init(
        parent: gtk::Window,
        window: adw::Window,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        window.set_title(Some(&gettext("New Profile")));
        let bx = gtk::Box::new(gtk::Orientation::Vertical, 0);
        let header = adw::HeaderBar::new();
        header.set_title_widget(Some(&adw::WindowTitle::new(
            &gettext("New Profile"),
            &gettext("From an installed app"),
        )));
        bx.append(&header);
        let search = gtk::SearchEntry::new();
        search.set_placeholder_text(Some(&gettext("Search apps")));
        search.set_margin_start(12);
        search.set_margin_end(12);
        search.set_margin_top(6);
        search.set_margin_bottom(6);
        bx.append(&search);
        let list = gtk::ListBox::new();
        list.add_css_class("navigation-sidebar");
        let scrolled = gtk::ScrolledWindow::builder()
            .vexpand(true)
            .child(&list)
            .build();
        bx.append(&scrolled);
        window.set_content(Some(&bx));
        let q = Rc::new(RefCell::new(String::new()));
        let qq = q.clone();
        list.set_filter_func(move |row| {
            let q = qq.borrow();
            q.is_empty() || row.widget_name().to_lowercase().contains(q.as_str())
        });
        let l = list.clone();
        let qq = q.clone();
        search.connect_search_changed(move |e| {
            *qq.borrow_mut() = e.text().trim().to_lowercase();
            l.invalidate_filter();
        });
        // Enter takes the first app that matches.
        let l = list.clone();
        search.connect_activate(move |e| {
            *q.borrow_mut() = e.text().trim().to_lowercase();
            let q = q.borrow();
            let mut child = l.first_child();
            while let Some(c) = child {
                if let Some(row) = c.downcast_ref::<gtk::ListBoxRow>() {
                    if q.is_empty() || row.widget_name().to_lowercase().contains(q.as_str()) {
                        row.emit_activate();
                        return;
                    }
                }
                child = c.next_sibling();
            }
        });
        let chosen: Rc<RefCell<Vec<AppInfo>>> = Rc::default();
        let c = chosen.clone();
        let w = window.clone();
        list.connect_row_activated(move |_, row| {
            if let Some(app) = c.borrow().get(row.index() as usize) {
                let _ = sender.output(app.clone());
            }
            w.close();
        });
        ComponentParts {
            model: NewProfile { apps: Vec::new() },
            widgets: Widgets {
                list,
                window,
                search,
                chosen,
                parent,
            },
        }
    }

    fn update(&mut self, apps: Vec<AppInfo>, _: ComponentSender<Self>) {
        self.apps = apps;
    }

    fn update_view(&self, w: &mut Widgets, _: ComponentSender<Self>) {
        while let Some(c) = w.list.first_child() {
            w.list.remove(&c);
        }
        for app in &self.apps {
            let row = adw::ActionRow::builder()
                .title(glib_escape(&crate::apps::local_name(app)))
                .subtitle(glib_escape(app.comment.as_deref().unwrap_or(&app.id)))
                .activatable(true)
                .build();
            row.set_widget_name(&format!("{} {}", app.name, app.id));
            let icon = match &app.icon {
                Some(i) if i.starts_with('/') => gtk::Image::from_file(i),
                Some(i) => gtk::Image::from_icon_name(i),
                None => gtk::Image::from_icon_name("application-x-executable"),
            };
            icon.set_pixel_size(32);
            row.add_prefix(&icon);
            w.list.append(&row);
        }
        *w.chosen.borrow_mut() = self.apps.clone();
        w.search.set_text("");
        w.window.set_transient_for(Some(&w.parent));
        w.window.present();
        w.search.grab_focus();
    }
}
