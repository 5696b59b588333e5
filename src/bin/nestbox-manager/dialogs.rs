//! The window's dialogs: the folder chooser, a name for a copy or a new name, a profile's TOML,
//! About.

use crate::i18n::{fill, gettext};
use crate::page;
use crate::window::{Msg, NameFor, Window};
use nestbox::settings::Change;
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentSender};

/// A folder chooser (GTK 4.8 has no FileDialog: the native chooser, the portal's where one
/// runs); the folder chosen is bound, read-only or writable, as a change of the profile shown.
pub fn choose_folder(
    parent: &adw::ApplicationWindow,
    writable: bool,
    sender: &ComponentSender<Window>,
) {
    let title = if writable {
        gettext("Choose a folder the app may change")
    } else {
        gettext("Choose a folder the app may read")
    };
    let chooser = gtk::FileChooserNative::new(
        Some(&title),
        Some(parent),
        gtk::FileChooserAction::SelectFolder,
        Some(&gettext("Add")),
        Some(&gettext("Cancel")),
    );
    chooser.set_modal(true);
    let keep = chooser.clone();
    let s = sender.clone();
    chooser.connect_response(move |c, response| {
        let _ = &keep;
        if response == gtk::ResponseType::Accept {
            if let Some(path) = c.file().and_then(|f| f.path()) {
                s.input(Msg::Page(page::Output::Change(Change::AddFolder {
                    path,
                    writable,
                })));
            }
        }
    });
    chooser.show();
}

pub fn ask_name(
    parent: &adw::ApplicationWindow,
    what: NameFor,
    name: &str,
    sender: &ComponentSender<Window>,
) {
    let (heading, ok) = match what {
        NameFor::Duplicate => (
            fill("Duplicate {name}", &[("name", name)]),
            gettext("Duplicate"),
        ),
        NameFor::Rename => (fill("Rename {name}", &[("name", name)]), gettext("Rename")),
    };
    let dialog = adw::MessageDialog::new(
        Some(parent),
        Some(&heading),
        Some(&gettext("The new profile's name")),
    );
    let entry = gtk::Entry::new();
    entry.set_text(&match what {
        NameFor::Duplicate => format!("{name}-copy"),
        NameFor::Rename => name.to_string(),
    });
    entry.set_activates_default(true);
    dialog.set_extra_child(Some(&entry));
    dialog.add_response("cancel", &gettext("Cancel"));
    dialog.add_response("ok", &ok);
    dialog.set_default_response(Some("ok"));
    dialog.set_response_appearance("ok", adw::ResponseAppearance::Suggested);
    let s = sender.clone();
    dialog.connect_response(None, move |_, r| {
        if r == "ok" {
            s.input(Msg::NameChosen(what, entry.text().trim().to_string()));
        }
    });
    dialog.present();
}

/// The profile's TOML as the user's file holds it, and the whole profile as it resolves.
pub fn show_text(parent: &adw::ApplicationWindow, name: &str, text: &str) {
    let window = adw::Window::builder()
        .transient_for(parent)
        .modal(true)
        .default_width(640)
        .default_height(560)
        .title(fill("{name} as TOML", &[("name", name)]))
        .build();
    let bx = gtk::Box::new(gtk::Orientation::Vertical, 0);
    bx.append(&adw::HeaderBar::new());
    let view = gtk::TextView::builder()
        .editable(false)
        .monospace(true)
        .top_margin(12)
        .left_margin(12)
        .build();
    view.buffer().set_text(text);
    let scrolled = gtk::ScrolledWindow::builder()
        .vexpand(true)
        .child(&view)
        .build();
    bx.append(&scrolled);
    window.set_content(Some(&bx));
    window.present();
}

pub fn about(parent: &adw::ApplicationWindow) {
    let about = adw::AboutWindow::builder()
        .transient_for(parent)
        .application_name(gettext("Sandboxes"))
        .application_icon(crate::APP_ID)
        .developer_name(gettext("The nestbox developers"))
        .version(env!("CARGO_PKG_VERSION"))
        .license_type(gtk::License::Gpl30)
        .comments(gettext("See and change what your sandboxed apps can reach"))
        .translator_credits(gettext("translator-credits"))
        .build();
    about.present();
}
