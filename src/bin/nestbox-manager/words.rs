//! What the page says: each setting's title and meaning, each choice's label, each grant in plain
//! words (all translated).

use crate::i18n::{fill, gettext, N_};
use nestbox::settings::{Grant, GrantLine};

/// A setting's title and what it means.
pub fn words(id: &str) -> (String, String) {
    let (t, d) = match id {
        "sandbox.x11" => (N_("Display"), N_("Where the app's windows appear")),
        "nested.size" => (
            N_("Nested window size"),
            N_("WIDTHxHEIGHT, or fit for nine tenths of the screen"),
        ),
        "nested.clipboard" => (
            N_("Clipboard"),
            N_("Which way copied text crosses between your desktop and the nested window"),
        ),
        "sandbox.wayland" => (
            N_("Wayland"),
            N_("Your Wayland display's socket, for apps that draw there"),
        ),
        "sandbox.audio" => (
            N_("Sound"),
            N_("Playing through your sound server, by nestbox's filtering proxy"),
        ),
        "audio.record" => (
            N_("Microphone"),
            N_("Record from microphones, and hear what other apps play"),
        ),
        "audio.device_volume" => (
            N_("Speaker and microphone volume"),
            N_("Change the volume of your devices, not only of its own sound"),
        ),
        "sandbox.gpu" => (
            N_("Graphics devices"),
            N_("Hardware acceleration for 3D and video"),
        ),
        "sandbox.network" => (N_("Network"), N_("The internet and your local network")),
        "sandbox.home" => (
            N_("Home folder"),
            N_("The app's own home folder inside the sandbox"),
        ),
        "sandbox.shared_files" => (
            N_("Opened files"),
            N_("What the app may do with a file you open with it"),
        ),
        "sandbox.session_bus" => (
            N_("Session bus"),
            N_("A D-Bus session bus of its own inside the sandbox"),
        ),
        "seccomp.user_namespaces" => (
            N_("User namespaces"),
            N_("Let the app build sandboxes of its own (browsers); more of the kernel to attack"),
        ),
        "sandbox.tmpfs_size" => (
            N_("Temporary space"),
            N_("How big each temporary folder may grow: 512M, 2G, or 10%"),
        ),
        "sandbox.max_processes" => (
            N_("Process limit"),
            N_("How many processes and threads may run at once"),
        ),
        _ => return (String::new(), String::new()),
    };
    (gettext(t), gettext(d))
}

/// How a choice's word is shown.
pub fn choice_label(word: &str) -> String {
    let msgid = match word {
        "host" => N_("Your desktop"),
        "nested" => N_("A window of its own (nested)"),
        "none" => N_("None"),
        "in" => N_("Into the app"),
        "out" => N_("Out of the app"),
        "both" => N_("Both ways"),
        "pulse" => N_("On (needs a sound server)"),
        "auto" => N_("On when available"),
        "dri" => N_("Intel, AMD and other DRI devices"),
        "nvidia" => N_("NVIDIA"),
        "shared" => N_("On"),
        "persistent" => N_("Kept between runs"),
        "tmpfs" => N_("Thrown away at exit"),
        "read-only" => N_("Read only"),
        "read-write" => N_("Read and save"),
        "private" => N_("Its own"),
        other => other,
    };
    gettext(msgid)
}

/// A grant in plain words.
pub fn grant_words(g: &GrantLine) -> (String, String, &'static str) {
    match &g.grant {
        Grant::HostDisplay => (
            gettext("Your desktop's display"),
            gettext("It can read and type into your other windows. Try a nested window instead."),
            "video-display-symbolic",
        ),
        Grant::NestedDisplay(c) => (
            gettext("A display of its own, in a window"),
            match c {
                nestbox::profile::Clipboard::None => gettext("Its clipboard is its own"),
                nestbox::profile::Clipboard::In => {
                    gettext("It sees every text you copy on your desktop")
                }
                nestbox::profile::Clipboard::Out => gettext("Text it copies reaches your desktop"),
                nestbox::profile::Clipboard::Both => {
                    gettext("Copied text crosses both ways: it sees every text you copy")
                }
            },
            "window-new-symbolic",
        ),
        Grant::Wayland => (
            gettext("Your Wayland display"),
            String::new(),
            "video-display-symbolic",
        ),
        Grant::Network => (
            gettext("The network"),
            gettext("The internet, your local network, and services listening on this computer"),
            "network-wireless-symbolic",
        ),
        Grant::WholeHome { writable } => (
            gettext("Your whole home folder"),
            if *writable {
                gettext("It can read, change and delete all your files")
            } else {
                gettext("It can read all your files")
            },
            "user-home-symbolic",
        ),
        Grant::Folders {
            read_only,
            writable,
        } => {
            let mut parts = Vec::new();
            if !writable.is_empty() {
                parts.push(fill(
                    "Read and write: {list}",
                    &[("list", &writable.join(", "))],
                ));
            }
            if !read_only.is_empty() {
                parts.push(fill(
                    "Read only: {list}",
                    &[("list", &read_only.join(", "))],
                ));
            }
            (
                gettext("Folders of yours"),
                parts.join("; "),
                "folder-symbolic",
            )
        }
        Grant::Sound => (
            gettext("Sound"),
            gettext("It plays its own sound; other apps' sound stays out of reach"),
            "audio-speakers-symbolic",
        ),
        Grant::Microphone => (
            gettext("Your microphone"),
            gettext("It can record you, and hear what other apps play"),
            "audio-input-microphone-symbolic",
        ),
        Grant::DeviceVolume => (
            gettext("Your speakers' volume"),
            String::new(),
            "audio-volume-high-symbolic",
        ),
        Grant::Gpu => (
            gettext("Graphics devices"),
            String::new(),
            "video-display-symbolic",
        ),
        Grant::UserNamespaces => (
            gettext("User namespaces"),
            gettext("It can build sandboxes of its own, which reaches more of the kernel"),
            "dialog-warning-symbolic",
        ),
        Grant::SessionBus => (
            gettext("A session bus of its own"),
            String::new(),
            "network-workgroup-symbolic",
        ),
        Grant::ThrowAwayHome => (
            gettext("A throw-away home folder"),
            gettext("What it saves is gone when it ends"),
            "user-trash-symbolic",
        ),
    }
}
