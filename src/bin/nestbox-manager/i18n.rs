//! Translations: gettext's `nestbox` domain, from the locale directory meson installs to, or the
//! build's own (build.rs) when built by cargo alone.

pub use gettextrs::gettext;

pub const DOMAIN: &str = "nestbox";

/// Where the translations are.
fn locale_dir() -> &'static str {
    option_env!("NESTBOX_LOCALEDIR").unwrap_or(env!("NESTBOX_BUILD_LOCALEDIR"))
}

/// Set the locale from the environment and bind the domain (GTK sets the locale again when it
/// starts, to the same).
pub fn init() {
    // SAFETY: called first thing in main, before any other thread exists; setlocale is unsafe
    // only because it races with other threads reading the locale.
    unsafe {
        gettextrs::setlocale(gettextrs::LocaleCategory::LcAll, "");
    }
    // Failures leave the window in English, which is all that can be done.
    let _ = gettextrs::bindtextdomain(DOMAIN, locale_dir());
    let _ = gettextrs::bind_textdomain_codeset(DOMAIN, "UTF-8");
    let _ = gettextrs::textdomain(DOMAIN);
}

/// Marks a string for translation where it is written, to be translated where it is shown.
#[allow(non_snake_case)]
pub const fn N_(msgid: &'static str) -> &'static str {
    msgid
}

/// `gettext(msgid)` with each `{name}` replaced by its value.
pub fn fill(msgid: &str, values: &[(&str, &str)]) -> String {
    let mut s = gettext(msgid);
    for (name, value) in values {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The command line, for --help and mistakes.
pub fn usage() -> String {
    format!(
        "{}\n{}",
        gettext("usage: nestbox-manager [PROFILE]"),
        gettext("Opens the nestbox profile manager, at PROFILE when given (a running manager switches to it).")
    )
}
