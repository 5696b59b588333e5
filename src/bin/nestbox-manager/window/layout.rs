//! The window's widgets around its components: the sidebar's header with the new-profile button
//! and the main menu, the content's header and back button, the "restart to apply" bar, the
//! stack of pages, the leaflet of the two sides, and the toast overlay.

use super::{Msg, Widgets, Window};
use crate::i18n::gettext;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::{adw, gtk, ComponentSender};

/// Lay the window out around its components' widgets: the sidebar, the overview, the running
/// list and the page.
pub(super) fn build(
    window: &adw::ApplicationWindow,
    [sidebar, overview, running, page]: [&gtk::Widget; 4],
    sender: &ComponentSender<Window>,
) -> Widgets {
    // The sidebar side.
    let side = gtk::Box::new(gtk::Orientation::Vertical, 0);
    let side_header = adw::HeaderBar::new();
    side_header.set_title_widget(Some(&adw::WindowTitle::new(&gettext("Sandboxes"), "")));
    let add = gtk::Button::from_icon_name("list-add-symbolic");
    add.set_tooltip_text(Some(&gettext("New profile from an installed app")));
    add.set_action_name(Some("win.new-profile"));
    side_header.pack_start(&add);
    let menu = gio::Menu::new();
    menu.append(
        Some(&gettext("New Profile from an App…")),
        Some("win.new-profile"),
    );
    menu.append(Some(&gettext("Search")), Some("win.search"));
    menu.append(Some(&gettext("About Sandboxes")), Some("win.about"));
    let menu_button = gtk::MenuButton::builder()
        .icon_name("open-menu-symbolic")
        .menu_model(&menu)
        .tooltip_text(gettext("Main menu"))
        .build();
    side_header.pack_end(&menu_button);
    side.append(&side_header);
    side.append(sidebar);

    // The content side.
    let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
    content.set_hexpand(true);
    let header = adw::HeaderBar::new();
    let title = adw::WindowTitle::new(&gettext("Overview"), "");
    header.set_title_widget(Some(&title));
    let back = gtk::Button::from_icon_name("go-previous-symbolic");
    back.set_tooltip_text(Some(&gettext("Back")));
    header.pack_start(&back);
    content.append(&header);
    // adw 1.2 has no Banner: a revealer of a bar.
    let bar = gtk::Box::new(gtk::Orientation::Horizontal, 12);
    bar.add_css_class("toolbar");
    bar.add_css_class("osd");
    let bar_label = gtk::Label::new(Some(&gettext(
        "This app is running with its old settings. Restart it to apply your changes.",
    )));
    bar_label.set_wrap(true);
    bar_label.set_hexpand(true);
    bar_label.set_xalign(0.0);
    bar.append(&bar_label);
    let restart_button = gtk::Button::with_label(&gettext("Restart"));
    restart_button.add_css_class("suggested-action");
    restart_button.set_widget_name("restart");
    let s = sender.clone();
    restart_button.connect_clicked(move |_| s.input(Msg::Restart));
    bar.append(&restart_button);
    let restart = gtk::Revealer::builder().child(&bar).build();
    content.append(&restart);
    let stack = gtk::Stack::new();
    stack.set_vexpand(true);
    // Only the page shown is measured.
    stack.set_hhomogeneous(false);
    stack.set_vhomogeneous(false);
    stack.add_named(overview, Some("overview"));
    stack.add_named(running, Some("running"));
    stack.add_named(page, Some("page"));
    content.append(&stack);

    let leaflet = adw::Leaflet::builder().can_navigate_back(true).build();
    leaflet.append(&side);
    let sep = leaflet.append(&gtk::Separator::new(gtk::Orientation::Vertical));
    sep.set_navigatable(false);
    leaflet.append(&content);
    let l = leaflet.clone();
    back.connect_clicked(move |_| {
        l.navigate(adw::NavigationDirection::Back);
    });
    leaflet
        .bind_property("folded", &back, "visible")
        .sync_create()
        .build();
    leaflet
        .bind_property("folded", &side_header, "show-end-title-buttons")
        .sync_create()
        .build();
    let toasts = adw::ToastOverlay::new();
    toasts.set_child(Some(&leaflet));
    window.set_content(Some(&toasts));
    Widgets {
        toasts,
        stack,
        title,
        restart,
        leaflet,
        window: window.clone(),
    }
}
