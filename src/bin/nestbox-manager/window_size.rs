//! The window's size, remembered between runs in `$XDG_STATE_HOME/nestbox/manager-window`
//! (GSettings would need a schema installed, which a cargo build from a checkout does not have).

use std::path::PathBuf;

const DEFAULT: (i32, i32) = (980, 720);

fn path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".local/state")))?;
    Some(state.join("nestbox/manager-window"))
}

/// The size saved last, or the default.
pub fn load() -> (i32, i32) {
    let Some(text) = path().and_then(|p| std::fs::read_to_string(p).ok()) else {
        return DEFAULT;
    };
    let mut words = text.split_whitespace().map(str::parse::<i32>);
    match (words.next(), words.next()) {
        (Some(Ok(w)), Some(Ok(h))) if (320..=10000).contains(&w) && (240..=10000).contains(&h) => {
            (w, h)
        }
        _ => DEFAULT,
    }
}

/// Remember this size (failures are not worth a word: the next start uses the default).
pub fn save(width: i32, height: i32) {
    if let Some(p) = path() {
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = nestbox::atomic::write_atomic(&p, &format!("{width} {height}\n"));
    }
}
