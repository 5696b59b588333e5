//! Compiles the manager's translations (po/*.po, as po/LINGUAS lists them) into the build
//! directory, so that a `cargo build` from a checkout is translated as an installed one is
//! (meson installs them into the system's locale directory and tells the code where).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=po");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let locale = Path::new(&out).join("locale");
    println!(
        "cargo:rustc-env=NESTBOX_BUILD_LOCALEDIR={}",
        locale.display()
    );
    let linguas = std::fs::read_to_string("po/LINGUAS").unwrap_or_default();
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let dir = locale.join(lang).join("LC_MESSAGES");
        std::fs::create_dir_all(&dir).expect("make the build's locale directory");
        let status = Command::new("msgfmt")
            .arg("--check")
            .arg("-o")
            .arg(dir.join("nestbox.mo"))
            .arg(format!("po/{lang}.po"))
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("msgfmt po/{lang}.po failed ({s})"),
            Err(e) => println!(
                "cargo:warning=msgfmt (gettext) not found ({e}): the manager is built untranslated"
            ),
        }
    }
}
