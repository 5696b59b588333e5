//! What packaging installs beside the binaries: shell completions and man pages, made by
//! `nestbox generate` from the command line's own definitions (data/meson.build runs it).

#[allow(unused_macros)]
#[macro_use]
mod common;

use common::*;
use std::collections::BTreeSet;

#[test]
fn completions_know_every_command_and_option() {
    let env = TestEnv::new("gen-completions");
    for (shell, marker) in [
        ("bash", "_nestbox()"),
        ("zsh", "#compdef nestbox"),
        ("fish", "complete -c nestbox"),
    ] {
        let o = env.run(&["generate", "completions", shell]);
        let out = stdout(&o);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        assert!(out.contains(marker), "{shell}: {out}");
        for word in ["explain", "desktop", "new-instance", "share-files"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
        assert!(
            !out.contains("generate"),
            "{shell}: the hidden verb is offered"
        );
    }
}

#[test]
fn man_pages_are_the_ones_meson_installs() {
    let env = TestEnv::new("gen-man");
    let dir = env.dir.join("man");
    let o = env.run(&["generate", "man", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let meson =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/meson.build")).unwrap();
    let listed: BTreeSet<String> = meson
        .lines()
        .filter_map(|l| l.trim().strip_prefix('\'')?.strip_suffix("',"))
        .filter(|n| n.ends_with(".1"))
        .map(String::from)
        .collect();
    assert_eq!(
        written, listed,
        "data/meson.build's man_pages and the verbs differ"
    );
    let run = std::fs::read_to_string(dir.join("nestbox-run.1")).unwrap();
    assert!(run.contains(".TH nestbox-run 1"), "{run}");
    assert!(run.contains("\\-\\-audio"), "{run}");
    assert!(
        run.contains("filtering proxy"),
        "the page says what --help says: {run}"
    );
}

/// The msgids of the sources as xgettext finds them now (as po/meson.build's target does).
fn msgids_of_the_sources(env: &TestEnv) -> BTreeSet<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let pot = env.dir.join("nestbox.pot");
    let o = std::process::Command::new("xgettext")
        .args([
            "--from-code=UTF-8",
            "--keyword=gettext",
            "--keyword=N_",
            "--keyword=fill",
        ])
        .args(["-f", "po/POTFILES.in", "-D", ".", "-o"])
        .arg(&pot)
        .current_dir(root)
        .output()
        .expect("xgettext is needed (apt-get install gettext)");
    assert!(o.status.success(), "{}", stderr(&o));
    msgids(&std::fs::read_to_string(&pot).unwrap(), false)
}

/// The msgids of a .po or .pot text; with `translated`, only those with a translation that is
/// not marked fuzzy.
fn msgids(text: &str, translated: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in text.split("\n\n") {
        let fuzzy = entry
            .lines()
            .any(|l| l.starts_with("#,") && l.contains("fuzzy"));
        let mut id = String::new();
        let mut string = String::new();
        let mut into = None;
        for line in entry.lines() {
            if let Some(rest) = line.strip_prefix("msgid ") {
                into = Some(0);
                id.push_str(rest.trim_matches('"'));
            } else if let Some(rest) = line.strip_prefix("msgstr ") {
                into = Some(1);
                string.push_str(rest.trim_matches('"'));
            } else if line.starts_with('"') {
                match into {
                    Some(0) => id.push_str(line.trim_matches('"')),
                    Some(1) => string.push_str(line.trim_matches('"')),
                    _ => {}
                }
            }
        }
        if !id.is_empty() && (!translated || (!string.is_empty() && !fuzzy)) {
            out.insert(id);
        }
    }
    out
}

#[test]
fn every_source_with_strings_to_translate_is_in_potfiles() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = std::fs::read_to_string(root.join("po/POTFILES.in")).unwrap();
    // The manager's sources, in its folder and the folders below.
    let mut sources = Vec::new();
    let mut dirs = vec![root.join("src/bin/nestbox-manager")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push(path);
            }
        }
    }
    assert!(sources.len() > 10, "{sources:?}");
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        if ["gettext(\"", "N_(\"", "fill(\""]
            .iter()
            .any(|m| text.contains(m))
        {
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            assert!(
                listed.lines().any(|l| l == rel),
                "{rel} is not in po/POTFILES.in"
            );
        }
    }
}

#[test]
fn german_and_french_translate_every_string_of_the_manager() {
    let env = TestEnv::new("po-complete");
    let sources = msgids_of_the_sources(&env);
    assert!(sources.len() > 150, "{sources:?}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let linguas = std::fs::read_to_string(root.join("po/LINGUAS")).unwrap();
    let langs: Vec<&str> = linguas.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(langs, ["de", "fr"]);
    for lang in langs {
        let po = std::fs::read_to_string(root.join(format!("po/{lang}.po"))).unwrap();
        let done = msgids(&po, true);
        let missing: Vec<&String> = sources.difference(&done).collect();
        assert!(missing.is_empty(), "po/{lang}.po lacks {missing:#?}");
        let o = std::process::Command::new("msgfmt")
            .args(["--check", "-o", "/dev/null"])
            .arg(root.join(format!("po/{lang}.po")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{lang}: {}", stderr(&o));
    }
}

#[test]
fn the_managers_desktop_entry_and_metainfo_validate() {
    let env = TestEnv::new("data-validate");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // The .in files are what meson merges the translations into; they validate as they are.
    let desktop = env.dir.join("org.nestbox.Manager.desktop");
    std::fs::copy(root.join("data/org.nestbox.Manager.desktop.in"), &desktop).unwrap();
    let o = std::process::Command::new("desktop-file-validate")
        .arg(&desktop)
        .output()
        .expect("desktop-file-validate is needed (apt-get install desktop-file-utils)");
    assert!(
        o.status.success() && stdout(&o).is_empty(),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let metainfo = env.dir.join("org.nestbox.Manager.metainfo.xml");
    std::fs::copy(
        root.join("data/org.nestbox.Manager.metainfo.xml.in"),
        &metainfo,
    )
    .unwrap();
    let o = std::process::Command::new("appstreamcli")
        .args(["validate", "--no-net", "--pedantic"])
        .arg(&metainfo)
        .output()
        .expect("appstreamcli is needed (apt-get install appstream)");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // Every screenshot the metainfo names is one of docs/screenshots (scripts/screenshots takes
    // them), which a release publishes at those addresses.
    let text = std::fs::read_to_string(&metainfo).unwrap();
    let images: Vec<&str> = text
        .split("<image>")
        .skip(1)
        .filter_map(|rest| rest.split("</image>").next())
        .collect();
    assert!(!images.is_empty(), "no screenshots in the metainfo");
    for url in images {
        let name = url.rsplit('/').next().unwrap();
        let shot = root.join("docs/screenshots").join(name);
        let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("{url}: {shot:?}: {e}"));
        assert!(bytes.starts_with(b"\x89PNG"), "{url}: not a PNG");
    }
    // Every icon the entry and the window name is shipped.
    for icon in [
        "data/icons/hicolor/scalable/apps/org.nestbox.Manager.svg",
        "data/icons/hicolor/symbolic/apps/org.nestbox.Manager-symbolic.svg",
    ] {
        let text = std::fs::read_to_string(root.join(icon)).unwrap();
        assert!(text.starts_with("<svg"), "{icon}");
    }
}
