//! nestbox-manager: a window to see, change, run and stop nestbox profiles.
//!
//! A thin front end over the library, as the CLI is: the settings model is
//! [`nestbox::settings`], profiles are loaded and saved by [`nestbox::profile`], launchers by
//! [`nestbox::desktop`]. Sandboxes are started as `nestbox run` processes, never cloned from this
//! multi-threaded GTK process, and followed through the registry. One relm4 component a file;
//! components hold view state only, and reach the disk through commands off the main loop.

mod actions;
mod apps;
mod bench;
mod dialogs;
mod i18n;
mod launch;
mod new_profile;
mod overview;
mod page;
mod rows;
mod running;
mod sidebar;
mod window;
mod window_size;
mod words;

use relm4::adw::prelude::*;
use relm4::{adw, gtk, RelmApp};

pub const APP_ID: &str = "org.nestbox.Manager";

fn main() {
    bench::start();
    i18n::init();
    let mut args = std::env::args().skip(1);
    let profile = match (args.next(), args.next()) {
        (None, _) => None,
        (Some(a), None) if a == "--help" || a == "-h" => {
            println!("{}", i18n::usage());
            return;
        }
        (Some(a), None) if a == "--version" => {
            println!("nestbox-manager {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        (Some(a), None) if !a.starts_with('-') => Some(a),
        _ => {
            eprintln!("nestbox-manager: {}", i18n::usage());
            std::process::exit(2);
        }
    };

    // The profiles are read while GTK starts (a second instance, which only passes its words on,
    // leaves before this matters).
    let early = apps::Early::start();

    // One manager a session: GApplication passes a second `nestbox-manager NAME`'s words to the
    // first over the session bus, which shows NAME and raises its window; the second one goes.
    let app = adw::Application::builder()
        .application_id(APP_ID)
        .flags(gtk::gio::ApplicationFlags::HANDLES_COMMAND_LINE)
        .build();
    app.connect_command_line(|app, line| {
        if let Some(name) = line.arguments().get(1).and_then(|a| a.to_str()) {
            app.activate_action("show-profile", Some(&name.to_variant()));
        }
        app.activate();
        gtk::glib::ExitCode::SUCCESS
    });
    let mut words = vec!["nestbox-manager".to_string()];
    words.extend(profile);
    if running_elsewhere() {
        // GApplication passes the words on and returns (relm4's run would wait on for an event
        // after it, which a second instance never gets).
        let code: u8 = app.run_with_args(&words).into();
        std::process::exit(code.into());
    }
    RelmApp::from_app(app)
        .with_args(words)
        .run::<window::Window>(early);
}

/// Whether a manager already holds its name on the session bus.
fn running_elsewhere() -> bool {
    let Ok(bus) = gtk::gio::bus_get_sync(gtk::gio::BusType::Session, gtk::gio::Cancellable::NONE)
    else {
        return false;
    };
    bus.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        Some(&(APP_ID,).to_variant()),
        Some(gtk::glib::VariantTy::new("(b)").expect("a type")),
        gtk::gio::DBusCallFlags::NONE,
        1000,
        gtk::gio::Cancellable::NONE,
    )
    .ok()
    .and_then(|v| v.get::<(bool,)>())
    .is_some_and(|(owned,)| owned)
}
