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
