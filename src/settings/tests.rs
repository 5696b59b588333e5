//! The settings model without a display: values and "changed here" marks, changes saved only
//! when they check, folders, variables and system calls, reset with undo, and the grants.

use super::*;
use crate::profile::tests::Fixture;

const SHIPPED: &str = "[run]\ncommand = [\"app\"]\n[sandbox]\nx11 = \"host\"\nnetwork = \"shared\"\n\
audio = \"pulse\"\n[filesystem]\nro = [\"~/Music\"]\n[env]\nMOZ = \"1\"\n[seccomp]\nallow = [\"ptrace\"]\n";

fn open(fx: &Fixture) -> ProfileSettings {
    ProfileSettings::open(&fx.search(), "app", Path::new("/home/ann")).unwrap()
}

fn s(id: &str) -> &'static Setting {
    find(id).unwrap()
}

#[test]
fn values_come_from_the_whole_profile_and_changed_only_from_the_users_file() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    fx.user(
        "app",
        "extends = [\"app\"]\n[sandbox]\nnetwork = \"none\"\n",
    );
    let p = open(&fx);
    assert!(p.has_default);
    assert_eq!(p.value(s("sandbox.x11")), Value::Word("host".into()));
    assert!(!p.changed(s("sandbox.x11")));
    assert_eq!(p.value(s("sandbox.network")), Value::Word("none".into()));
    assert!(p.changed(s("sandbox.network")));
    assert_eq!(p.value(s("sandbox.wayland")), Value::Switch(false));
    assert_eq!(p.value(s("nested.size")), Value::Word("fit".into()));
    assert_eq!(p.value(s("sandbox.tmpfs_size")), Value::Word("12%".into()));
    assert_eq!(
        p.value(s("sandbox.shared_files")),
        Value::Word("read-only".into())
    );
    // Every setting has a value (none falls through to the unreachable arm).
    for setting in SETTINGS {
        let _ = p.value(setting);
    }
}

#[test]
fn a_change_is_saved_at_once_and_a_reset_takes_it_out() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    let mut p = open(&fx);
    assert!(!fx.user.join("app.toml").exists());
    p.apply(
        &fx.search(),
        &Change::Set(s("sandbox.x11"), Value::Word("nested".into())),
    )
    .unwrap();
    p.apply(
        &fx.search(),
        &Change::Set(s("nested.size"), Value::Word("800x600".into())),
    )
    .unwrap();
    p.apply(
        &fx.search(),
        &Change::Set(s("audio.record"), Value::Switch(true)),
    )
    .unwrap();
    p.apply(
        &fx.search(),
        &Change::Set(s("sandbox.max_processes"), Value::Word("300".into())),
    )
    .unwrap();
    let loaded = fx.search().load("app").unwrap();
    assert_eq!(loaded.x11, crate::profile::X11::Nested);
    assert!(loaded.audio_access.record);
    assert_eq!(loaded.max_processes, 300);
    assert_eq!(loaded, p.profile);
    assert!(p.changed(s("sandbox.x11")));
    p.apply(&fx.search(), &Change::Reset(s("sandbox.x11")))
        .unwrap();
    assert!(!p.changed(s("sandbox.x11")));
    assert_eq!(
        fx.search().load("app").unwrap().x11,
        crate::profile::X11::Host
    );
}

#[test]
fn invalid_input_is_reported_for_its_row_and_never_saved() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    let mut p = open(&fx);
    p.apply(
        &fx.search(),
        &Change::Set(s("sandbox.gpu"), Value::Word("dri".into())),
    )
    .unwrap();
    let before = std::fs::read_to_string(fx.user.join("app.toml")).unwrap();
    for (id, bad) in [
        ("nested.size", "huge"),
        ("sandbox.tmpfs_size", "1T"),
        ("sandbox.max_processes", "lots"),
        ("sandbox.gpu", "voodoo"),
    ] {
        let e = p
            .apply(&fx.search(), &Change::Set(s(id), Value::Word(bad.into())))
            .unwrap_err();
        let ChangeError::Invalid(message) = e else {
            panic!("{id}: {e}")
        };
        // The row is the place: no file:line:column in the message.
        assert!(!message.contains("app.toml"), "{message}");
        assert!(!message.is_empty());
    }
    assert_eq!(
        std::fs::read_to_string(fx.user.join("app.toml")).unwrap(),
        before
    );
    assert_eq!(p.value(s("sandbox.gpu")), Value::Word("dri".into()));
}

#[test]
fn folders_are_added_under_home_as_tilde_paths_and_only_own_ones_removed() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    let music = fx.root.join("Music");
    std::fs::create_dir_all(&music).unwrap();
    let mut p = ProfileSettings::open(&fx.search(), "app", &fx.root).unwrap();
    assert_eq!(
        p.folders(),
        vec![Folder {
            entry: "~/Music".into(),
            writable: false,
            own: false
        }]
    );
    p.apply(
        &fx.search(),
        &Change::AddFolder {
            path: music.clone(),
            writable: true,
        },
    )
    .unwrap();
    p.apply(
        &fx.search(),
        &Change::AddFolder {
            path: "/srv".into(),
            writable: false,
        },
    )
    .unwrap();
    let text = std::fs::read_to_string(fx.user.join("app.toml")).unwrap();
    assert!(text.contains("rw = [\"~/Music\"]"), "{text}");
    assert!(text.contains("ro = [\"/srv\"]"), "{text}");
    // Made read-only again: it moves from rw to ro, never in both.
    p.apply(
        &fx.search(),
        &Change::AddFolder {
            path: music,
            writable: false,
        },
    )
    .unwrap();
    assert_eq!(p.edit.list(Some("filesystem"), "rw"), Vec::<String>::new());
    assert_eq!(
        p.edit.list(Some("filesystem"), "ro"),
        vec!["/srv", "~/Music"]
    );
    p.apply(
        &fx.search(),
        &Change::RemoveFolder {
            entry: "/srv".into(),
            writable: false,
        },
    )
    .unwrap();
    p.apply(
        &fx.search(),
        &Change::RemoveFolder {
            entry: "~/Music".into(),
            writable: false,
        },
    )
    .unwrap();
    assert!(!std::fs::read_to_string(fx.user.join("app.toml"))
        .unwrap()
        .contains("[filesystem]"));
    assert_eq!(p.folders().len(), 1);
}

#[test]
fn variables_and_system_calls() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    let mut p = open(&fx);
    p.apply(
        &fx.search(),
        &Change::SetEnv {
            name: "GDK_SCALE".into(),
            value: "2".into(),
        },
    )
    .unwrap();
    assert_eq!(
        p.env(),
        vec![
            ("GDK_SCALE".into(), "2".into(), true),
            ("MOZ".into(), "1".into(), false)
        ]
    );
    let e = p
        .apply(
            &fx.search(),
            &Change::SetEnv {
                name: "DISPLAY".into(),
                value: ":9".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(e, ChangeError::Invalid(_)), "{e}");
    p.apply(
        &fx.search(),
        &Change::AddSyscall {
            name: "ptrace".into(),
            deny: true,
        },
    )
    .unwrap();
    assert_eq!(p.syscalls(false), vec![]);
    assert_eq!(p.syscalls(true), vec![("ptrace".to_string(), true)]);
    let e = p
        .apply(
            &fx.search(),
            &Change::AddSyscall {
                name: "no_such_call".into(),
                deny: false,
            },
        )
        .unwrap_err();
    assert!(matches!(e, ChangeError::Invalid(_)), "{e}");
    p.apply(
        &fx.search(),
        &Change::RemoveSyscall {
            name: "ptrace".into(),
            deny: true,
        },
    )
    .unwrap();
    assert_eq!(p.syscalls(false), vec![("ptrace".to_string(), false)]);
    p.apply(
        &fx.search(),
        &Change::RemoveEnv {
            name: "GDK_SCALE".into(),
        },
    )
    .unwrap();
    assert_eq!(p.env().len(), 1);
}

#[test]
fn reset_to_defaults_removes_the_users_file_and_undo_puts_it_back_as_written() {
    let fx = Fixture::new();
    fx.shipped("app", SHIPPED);
    let mine = "# mine\nextends = [\"app\"]\n[sandbox]\nnetwork = \"none\" # offline\n";
    fx.user("app", mine);
    let mut p = open(&fx);
    let old = p.reset_all(&fx.search()).unwrap();
    assert!(!fx.user.join("app.toml").exists());
    assert_eq!(p.value(s("sandbox.network")), Value::Word("shared".into()));
    assert!(!p.changed(s("sandbox.network")));
    p.restore(&fx.search(), &old).unwrap();
    assert_eq!(
        std::fs::read_to_string(fx.user.join("app.toml")).unwrap(),
        mine
    );
    assert_eq!(p.value(s("sandbox.network")), Value::Word("none".into()));
}

#[test]
fn grants_name_the_risky_ones_first_with_their_rows() {
    let fx = Fixture::new();
    fx.shipped(
        "app",
        "[sandbox]\nx11 = \"host\"\nnetwork = \"shared\"\naudio = \"pulse\"\n[audio]\nrecord = true\n\
         [filesystem]\nrw = [\"~\"]\nro = [\"/srv\"]\n[seccomp]\nuser_namespaces = true\n",
    );
    let p = fx.search().load("app").unwrap();
    let lines = grants(&p);
    let risky: Vec<&Grant> = lines.iter().filter(|l| l.risky).map(|l| &l.grant).collect();
    assert_eq!(
        risky,
        vec![
            &Grant::HostDisplay,
            &Grant::WholeHome { writable: true },
            &Grant::Network,
            &Grant::Microphone,
            &Grant::UserNamespaces
        ]
    );
    assert!(lines.iter().take(5).all(|l| l.risky));
    assert!(lines
        .iter()
        .all(|l| l.setting == "filesystem" || find(l.setting).is_some()));
    assert!(lines.contains(&GrantLine {
        grant: Grant::Folders {
            read_only: vec!["/srv".into()],
            writable: vec![]
        },
        risky: false,
        setting: "filesystem"
    }));
    // An app with nothing: nothing to weigh.
    fx.shipped("bare", "[run]\ncommand = [\"true\"]\n");
    assert!(grants(&fx.search().load("bare").unwrap()).is_empty());
}
