//! A starting profile made from an app's desktop entry, for `nestbox profile new --from-desktop`:
//! its description from Name and Comment, its command from Exec, the abstractions it extends
//! from Categories. [`profile_text`] is pure (an [`AppInfo`] in, TOML text out); [`write`] checks
//! and saves it as a user profile.

use super::entry::AppInfo;

/// Categories that bring the host's network (`network`).
const NETWORK: &[&str] = &[
    "Network",
    "WebBrowser",
    "Email",
    "Chat",
    "InstantMessaging",
    "IRCClient",
    "Feed",
    "News",
    "FileTransfer",
    "P2P",
    "RemoteAccess",
    "Telephony",
    "VideoConference",
];
/// Categories that bring sound (`pulse`).
const SOUND: &[&str] = &[
    "AudioVideo",
    "Audio",
    "Video",
    "Music",
    "Player",
    "Recorder",
    "Game",
    "WebBrowser",
    "Telephony",
    "VideoConference",
];
/// Categories whose apps record (`[audio] record = true`): recorders, calls.
const RECORD: &[&str] = &["Recorder", "Telephony", "VideoConference"];
/// Categories that bring the graphics devices (`gpu`).
const GPU: &[&str] = &["Game", "3DGraphics", "WebBrowser", "Video"];

/// The abstractions a profile for an app of these categories extends: `base` and `x11` always,
/// then `network`, `pulse` and `gpu` when a category of theirs is there; with each, the
/// categories that chose it.
pub fn extends_for(categories: &[String]) -> Vec<(&'static str, Vec<String>)> {
    let mut out = vec![("base", Vec::new()), ("x11", Vec::new())];
    for (name, wanted) in [("network", NETWORK), ("pulse", SOUND), ("gpu", GPU)] {
        let why: Vec<String> = categories
            .iter()
            .filter(|c| wanted.contains(&c.as_str()))
            .cloned()
            .collect();
        if !why.is_empty() {
            out.push((name, why));
        }
    }
    out
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `text` as `# ` comment lines of at most about 96 characters, words kept whole.
fn comment(text: &str) -> String {
    comment_with(text, "#")
}

/// The same, each line starting with `prefix`.
fn comment_with(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(prefix);
    for word in text.split_whitespace() {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > 96 {
            out.push_str(&line);
            out.push('\n');
            line = String::from(prefix);
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The comments that open the profile: where it came from, why it extends what it does, the
/// types the app opens, and what to watch for.
fn header(app: &AppInfo, extends: &[(&str, Vec<String>)]) -> String {
    let mut out = comment(&format!(
        "Made by `nestbox profile new` from {}. A start: review it, then `nestbox check` it.",
        app.path.display()
    ));
    let chosen: Vec<String> = extends
        .iter()
        .skip(2)
        .map(|(name, why)| format!("{name} (for {})", why.join(", ")))
        .collect();
    let categories = if app.categories.is_empty() {
        "none".to_string()
    } else {
        app.categories.join(", ")
    };
    let mut why = format!("Categories: {categories}. Always base and x11");
    if chosen.is_empty() {
        why.push_str("; nothing more: add network, pulse or gpu to extends if the app needs them.");
    } else {
        why.push_str(&format!("; then {}.", chosen.join(", ")));
    }
    out.push_str(&comment(&why));
    if !app.mime_types.is_empty() {
        out.push_str(&comment(
            "It opens these types (its launcher passes such files in with --share-files):",
        ));
        out.push_str(&comment_with(&app.mime_types.join(" "), "#  "));
    }
    if app.terminal {
        out.push_str(&comment(
            "The entry runs in a terminal (Terminal=true): start it from one.",
        ));
    }
    if app.categories.iter().any(|c| c == "WebBrowser") {
        out.push_str(&comment("Browsers that sandbox their own content processes need [seccomp] user_namespaces = true."));
    }
    out
}

/// The profile's text. `desktop_entry` is written when the entry can be found again by its
/// file name (it lies in an applications directory of the XDG data dirs).
pub fn profile_text(app: &AppInfo, desktop_entry: Option<&str>) -> Result<String, String> {
    let (vars, command) = app
        .exec
        .split_env()
        .ok_or("its Exec line runs env with options: write this profile by hand")?;
    let program = &command[0];
    if program.contains('/') && !program.starts_with('/') {
        return Err(format!(
            "its program {program:?} is a relative path: write this profile by hand"
        ));
    }
    let extends = extends_for(&app.categories);
    let mut out = header(app, &extends);
    let description = match &app.comment {
        Some(c) if !c.is_empty() => format!("{}: {c}", app.name),
        _ => app.name.clone(),
    };
    out.push_str(&format!("description = {}\n", toml_string(&description)));
    if let Some(id) = desktop_entry {
        out.push_str(&format!("desktop_entry = {}\n", toml_string(id)));
    }
    let names: Vec<String> = extends.iter().map(|(n, _)| n.to_string()).collect();
    out.push_str(&format!("extends = {}\n", toml_list(&names)));
    out.push_str(&format!("\n[run]\ncommand = {}\n", toml_list(&command)));
    let (kept, managed): (Vec<_>, Vec<_>) = vars
        .into_iter()
        .partition(|(k, _)| !crate::profile::managed_env(k));
    if !managed.is_empty() {
        let names: Vec<&str> = managed.iter().map(|(k, _)| k.as_str()).collect();
        out.push_str(&comment(&format!(
            "Left out of [env]: {} (set by nestbox).",
            names.join(", ")
        )));
    }
    if !kept.is_empty() {
        out.push_str("\n[env]\n");
        for (k, v) in kept {
            out.push_str(&format!("{} = {}\n", toml_string(&k), toml_string(&v)));
        }
    }
    let records: Vec<&str> = app
        .categories
        .iter()
        .map(String::as_str)
        .filter(|c| RECORD.contains(c))
        .collect();
    if !records.is_empty() {
        out.push('\n');
        out.push_str(&comment(&format!(
            "Recording (the microphone, and what other apps play) for {}.",
            records.join(", ")
        )));
        out.push_str("[audio]\nrecord = true\n");
    }
    Ok(out)
}

/// Why a starting profile was not written.
#[derive(Debug, thiserror::Error)]
pub enum NewProfileError {
    #[error(
        "invalid profile name {0:?}: use letters, digits, '-', '_' and '.', not first '-' or '.'"
    )]
    BadName(String),
    #[error("{} is a nestbox launcher, not an app's entry", .0.display())]
    Launcher(std::path::PathBuf),
    #[error("cannot make a profile from {}: {message}", path.display())]
    Unusable {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{} exists: give --force to replace it", .0.display())]
    Exists(std::path::PathBuf),
    #[error("the profile made does not check (please report): {0}")]
    DoesNotCheck(crate::profile::ProfileError),
    #[error("there is no user profile directory on the search path")]
    NoUserDirectory,
    #[error(transparent)]
    Write(#[from] super::DesktopError),
}

/// Make the starting profile `name` from `app` (known by the ID `desktop_entry` when it has one)
/// and write it to the user's profile directory of `search`, checked in memory first as it will
/// load: a profile that would not check is never written. Its path.
pub fn write(
    search: &crate::profile::SearchPath,
    name: &str,
    app: &AppInfo,
    desktop_entry: Option<&str>,
    replace: bool,
) -> Result<std::path::PathBuf, NewProfileError> {
    use crate::profile::SourceKind;
    if !crate::profile::valid_name(name) {
        return Err(NewProfileError::BadName(name.to_string()));
    }
    if app.nestbox_profile.is_some() {
        return Err(NewProfileError::Launcher(app.path.clone()));
    }
    let text = profile_text(app, desktop_entry).map_err(|message| NewProfileError::Unusable {
        path: app.path.clone(),
        message,
    })?;
    let dir = search
        .dirs
        .iter()
        .find(|(kind, _)| *kind == SourceKind::User)
        .map(|(_, d)| d)
        .ok_or(NewProfileError::NoUserDirectory)?;
    let dest = dir.join(format!("{name}.toml"));
    if dest.exists() && !replace {
        return Err(NewProfileError::Exists(dest));
    }
    search
        .load_text(name, &text)
        .map_err(NewProfileError::DoesNotCheck)?;
    super::store::write_atomic(&dest, &text)?;
    Ok(dest)
}
