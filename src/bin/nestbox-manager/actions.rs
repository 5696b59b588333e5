//! The window's actions and shortcuts, and the app's actions on the session bus: "show-profile"
//! (the command line's, also from a second manager), "about", and the verbs of a profile's
//! buttons, which scripts and the tests use (org.gtk.Actions at /org/nestbox/Manager).

use crate::page;
use crate::window::{Msg, Window};
use nestbox::settings::Change;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{adw, ComponentSender};

/// An action's parameter read as a page's verb for a profile.
type Verb = fn(glib::Variant) -> Option<(String, page::Output)>;

/// Add the actions to `window` and the application.
pub fn install(window: &adw::ApplicationWindow, sender: &ComponentSender<Window>) {
    // Actions: the window's, and the app's "show-profile" (the command line's, also from a
    // second manager).
    let actions = gio::SimpleActionGroup::new();
    for (name, msg) in [
        ("new-profile", (|| Msg::NewFromApp) as fn() -> Msg),
        ("about", || Msg::About),
        ("search", || Msg::FocusSearch),
    ] {
        let a = gio::SimpleAction::new(name, None);
        let s = sender.clone();
        a.connect_activate(move |_, _| s.input(msg()));
        actions.add_action(&a);
    }
    window.insert_action_group("win", Some(&actions));
    let app = relm4::main_application();
    app.set_accels_for_action("win.search", &["<Control>f"]);
    app.set_accels_for_action("win.new-profile", &["<Control>n"]);
    app.set_accels_for_action("window.close", &["<Control>w"]);
    let show = gio::SimpleAction::new("show-profile", Some(glib::VariantTy::STRING));
    let s = sender.clone();
    show.connect_activate(move |_, v| {
        if let Some(name) = v.and_then(|v| v.get::<String>()) {
            s.input(Msg::ShowProfile(name));
        }
    });
    app.add_action(&show);
    let about = gio::SimpleAction::new("about", None);
    let s = sender.clone();
    about.connect_activate(move |_, _| s.input(Msg::About));
    app.add_action(&about);
    // The same verbs as the page's buttons, for scripts and tests over the session bus
    // (org.gtk.Actions): each acts on the profile shown, named again so that a call for
    // another profile does nothing.
    let verbs: [(&str, &str, Verb); 10] = [
        ("set-setting", "(sss)", |v| {
            let (name, id, value) = v.get::<(String, String, String)>()?;
            let setting = nestbox::settings::find(&id)?;
            let value = match setting.kind {
                nestbox::settings::Kind::Switch => {
                    nestbox::settings::Value::Switch(value == "true")
                }
                _ => nestbox::settings::Value::Word(value),
            };
            Some((name, page::Output::Change(Change::Set(setting, value))))
        }),
        ("run", "s", |v| {
            Some((v.get::<String>()?, page::Output::Run))
        }),
        ("stop", "s", |v| {
            Some((v.get::<String>()?, page::Output::Stop))
        }),
        ("restart", "s", |v| {
            Some((v.get::<String>()?, page::Output::Restart))
        }),
        ("duplicate", "s", |v| {
            Some((v.get::<String>()?, page::Output::Duplicate))
        }),
        ("rename", "s", |v| {
            Some((v.get::<String>()?, page::Output::Rename))
        }),
        ("open-home", "s", |v| {
            Some((v.get::<String>()?, page::Output::OpenHome))
        }),
        ("add-folder", "(sb)", |v| {
            let (name, writable) = v.get::<(String, bool)>()?;
            Some((name, page::Output::ChooseFolder { writable }))
        }),
        ("delete", "s", |v| {
            Some((v.get::<String>()?, page::Output::Delete))
        }),
        ("show-in-app-menu", "(sb)", |v| {
            let (name, on) = v.get::<(String, bool)>()?;
            Some((name, page::Output::Launcher(on)))
        }),
    ];
    for (name, ty, parse) in verbs {
        let a = gio::SimpleAction::new(name, Some(&glib::VariantType::new(ty).expect("a type")));
        let s = sender.clone();
        a.connect_activate(move |_, v| {
            if let Some((profile, out)) = v.cloned().and_then(parse) {
                s.input(Msg::Verb(profile, out));
            }
        });
        app.add_action(&a);
    }
}
