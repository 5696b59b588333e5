//! Profile tests: the search path, shadowing, self-extension, list().

use super::*;

// ---------------------------------------------------------------------------------------------
// The search path: shadowing, self-extension, list()
// ---------------------------------------------------------------------------------------------

#[test]
fn a_user_profile_overrides_a_shipped_one_of_the_same_name() {
    let fx = Fixture::new();
    fx.shipped(
        "firefox",
        "description = \"shipped\"\n[run]\ncommand = [\"firefox\"]\n[sandbox]\nnetwork = \"shared\"\n",
    );
    let user = fx.user(
        "firefox",
        "description = \"mine\"\n[run]\ncommand = [\"/opt/ff/firefox\"]\n",
    );
    let got = fx.load_ok("firefox");
    assert_eq!(got.source, user);
    assert_eq!(got.files, vec![user]);
    assert_eq!(got.description.as_deref(), Some("mine"));
    assert_eq!(got.command, Some(strings(&["/opt/ff/firefox"])));
    // Nothing of the shipped one was merged.
    assert_eq!(got.network, Network::None);
}

#[test]
fn a_user_profile_extending_its_own_name_gets_the_shipped_one_underneath() {
    let fx = Fixture::new();
    let shipped = fx.shipped(
        "firefox",
        "description = \"shipped\"\n[run]\ncommand = [\"firefox\"]\n[sandbox]\nnetwork = \"shared\"\n[filesystem]\nro = [\"/usr\"]\n",
    );
    let user = fx.user(
        "firefox",
        "extends = [\"firefox\"]\n[filesystem]\nrw = [\"~/Downloads\"]\n",
    );
    let got = fx.load_ok("firefox");
    assert_eq!(got.name, "firefox");
    assert_eq!(got.source, user);
    assert_eq!(got.files, vec![shipped.clone(), user.clone()]);
    assert_eq!(got.description.as_deref(), Some("shipped"));
    assert_eq!(got.command, Some(strings(&["firefox"])));
    assert_eq!(got.network, Network::Shared);
    let dsts: Vec<ProfilePath> = got.binds.iter().map(|b| b.dst.clone()).collect();
    assert_eq!(dsts, vec![abs("/usr"), home("Downloads")]);

    let listed: Vec<(String, SourceKind, PathBuf, bool)> = fx
        .search()
        .list()
        .into_iter()
        .map(|e| (e.name, e.kind, e.path, e.shadowed))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("firefox".to_string(), SourceKind::User, user, false),
            ("firefox".to_string(), SourceKind::Shipped, shipped, true),
        ]
    );
}

#[test]
fn self_extension_also_works_when_reached_as_a_parent() {
    let fx = Fixture::new();
    let shipped = fx.shipped("firefox", "[sandbox]\nnetwork = \"shared\"\n");
    let user = fx.user(
        "firefox",
        "extends = [\"firefox\"]\n[sandbox]\nx11 = \"host\"\n",
    );
    let work = fx.user(
        "work",
        "extends = [\"firefox\"]\n[sandbox]\nhostname = \"work\"\n",
    );
    let got = fx.load_ok("work");
    assert_eq!(got.files, vec![shipped, user, work]);
    assert_eq!(got.network, Network::Shared);
    assert_eq!(got.x11, X11::Host);
    assert_eq!(got.hostname.as_deref(), Some("work"));
}

#[test]
fn self_extension_with_nothing_underneath_is_an_unknown_profile() {
    let fx = Fixture::new();
    let text = "extends = [\"solo\"]\n";
    let path = fx.user("solo", text);
    let err = fx.load_err("solo");
    assert_invalid(
        &err,
        &path,
        text,
        "\"solo\"",
        "extends unknown profile \"solo\"",
    );
    assert_invalid_at(&err, &path, 1, 12, "extends unknown profile \"solo\"");
}

#[test]
fn list_gives_every_profile_sorted_with_shadowing() {
    let fx = Fixture::new();
    let u_b = fx.user("bravo", "");
    let u_x = fx.user("xterm", "");
    let s_a = fx.shipped("alpha", "");
    let s_x = fx.shipped("xterm", "");
    // Not profiles: a bad name, another extension.
    std::fs::write(fx.user.join(".hidden.toml"), "").unwrap();
    std::fs::write(fx.shipped.join("README.md"), "").unwrap();
    // A missing directory on the path is skipped.
    let mut search = fx.search();
    search
        .dirs
        .insert(1, (SourceKind::Admin, fx.root.join("does-not-exist")));

    let listed: Vec<(String, SourceKind, PathBuf, bool)> = search
        .list()
        .into_iter()
        .map(|e| (e.name, e.kind, e.path, e.shadowed))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("alpha".to_string(), SourceKind::Shipped, s_a, false),
            ("bravo".to_string(), SourceKind::User, u_b, false),
            ("xterm".to_string(), SourceKind::User, u_x, false),
            ("xterm".to_string(), SourceKind::Shipped, s_x, true),
        ]
    );
    // The user's xterm hides a shipped one: changed by the user; the user's own bravo is not.
    let changed: Vec<(String, bool)> = search
        .list()
        .into_iter()
        .map(|e| (e.name, e.changed))
        .collect();
    assert_eq!(
        changed,
        [
            ("alpha", false),
            ("bravo", false),
            ("xterm", true),
            ("xterm", false)
        ]
        .map(|(n, c)| (n.to_string(), c))
    );
}

#[test]
fn list_agrees_with_load_about_which_file_is_used() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.user.join("xterm.toml")).unwrap();
    let shipped = fx.shipped("xterm", "");
    // load() skips the directory and uses the shipped file...
    assert_eq!(fx.load_ok("xterm").source, shipped);
    // ...so list() should show that one as the unshadowed xterm.
    let listed: Vec<(String, SourceKind, PathBuf, bool)> = fx
        .search()
        .list()
        .into_iter()
        .map(|e| (e.name, e.kind, e.path, e.shadowed))
        .collect();
    assert_eq!(
        listed,
        vec![("xterm".to_string(), SourceKind::Shipped, shipped, false)]
    );
}

#[test]
fn load_of_an_unknown_name_lists_the_searched_directories() {
    let fx = Fixture::new();
    fx.shipped("other", "");
    let err = fx.load_err("nope");
    match &err {
        ProfileError::NotFound { name, searched } => {
            assert_eq!(name, "nope");
            assert_eq!(
                *searched,
                format!("{}, {}", fx.user.display(), fx.shipped.display())
            );
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "no profile named \"nope\" (looked in {}, {})",
            fx.user.display(),
            fx.shipped.display()
        )
    );
}

#[test]
fn load_of_an_invalid_name_is_bad_name() {
    let fx = Fixture::new();
    // Even with a file that the bad name would reach.
    std::fs::write(fx.root.join("x.toml"), "").unwrap();
    for name in [
        "../x",
        "",
        ".hidden",
        "-p",
        "--new-instance",
        "a/b",
        "x y",
        "é",
        &"a".repeat(129),
    ] {
        match fx.load(name) {
            Err(ProfileError::BadName(n)) => assert_eq!(n, name),
            other => panic!("{name:?}: expected BadName, got {other:?}"),
        }
    }
    let err = fx.load_err("../x");
    assert_eq!(
        err.to_string(),
        "invalid profile name \"../x\": use letters, digits, '-', '_' and '.', not first '-' or '.'"
    );
}

#[test]
fn valid_names() {
    for ok in ["a", "firefox", "Foo-bar_1.2", "x.y", &"a".repeat(128)] {
        assert!(valid_name(ok), "{ok:?} should be valid");
    }
    for bad in [
        "",
        ".",
        "..",
        ".x",
        "a/b",
        "a b",
        "a:b",
        "ü",
        &"a".repeat(129),
    ] {
        assert!(!valid_name(bad), "{bad:?} should be invalid");
    }
}

#[test]
fn load_file_names_the_profile_after_the_file_and_uses_the_search_path() {
    let fx = Fixture::new();
    let base = fx.shipped("base", "[sandbox]\nsys = true\n");
    let elsewhere = fx.root.join("scratch");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let file = write(
        &elsewhere,
        "my-app",
        "extends = [\"base\"]\n[run]\ncommand = [\"app\"]\n",
    );
    let got = fx.search().load_file(&file).unwrap();
    assert_eq!(got.name, "my-app");
    assert_eq!(got.source, file);
    assert_eq!(got.files, vec![base, file]);
    assert!(got.sys);

    let bad = elsewhere.join(".weird.toml");
    std::fs::write(&bad, "").unwrap();
    match fx.search().load_file(&bad) {
        Err(ProfileError::BadName(n)) => assert_eq!(n, bad.display().to_string()),
        other => panic!("expected BadName, got {other:?}"),
    }
}

#[test]
fn load_file_finds_extends_among_its_siblings_first() {
    let fx = Fixture::new();
    fx.shipped("base", "[sandbox]\nsys = true\n");
    let dir = fx.root.join("unpacked");
    std::fs::create_dir_all(&dir).unwrap();
    let sibling = write(&dir, "base", "[sandbox]\nopt = true\n");
    let file = write(
        &dir,
        "app",
        "extends = [\"base\"]\n[run]\ncommand = [\"app\"]\n",
    );
    let got = fx.search().load_file(&file).unwrap();
    assert_eq!(got.files, vec![sibling, file]);
    assert!(got.opt && !got.sys, "the sibling base, not the shipped one");
}

#[test]
fn unsaved_text_loads_as_the_users_file_would_and_nothing_is_written() {
    let fx = Fixture::new();
    let shipped = fx.shipped("app", "[run]\ncommand = [\"app\"]\n[sandbox]\nsys = true\n");
    // A user's app.toml that extends the shipped app.toml of the same name.
    let text = "extends = [\"app\"]\n[sandbox]\nopt = true\n";
    let got = fx.search().load_text("app", text).unwrap();
    let would_be = fx.user.join("app.toml");
    assert_eq!(got.source, would_be);
    assert_eq!(got.files, vec![shipped, would_be.clone()]);
    assert!(got.sys && got.opt);
    assert!(!would_be.exists(), "nothing written");
    assert_eq!(std::fs::read_dir(&fx.user).unwrap().count(), 0);
    // Its errors are placed in the file it would be, with line and column.
    let bad = "[sandbox]\nopt = 3\n";
    let err = fx.search().load_text("app", bad).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2:7: ", would_be.display())),
        "{err}"
    );
    assert!(matches!(
        fx.search().load_text("-x", text),
        Err(ProfileError::BadName(_))
    ));
}
