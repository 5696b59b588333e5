//! Profile tests: merging through `extends`.

use super::*;

// ---------------------------------------------------------------------------------------------
// Merging through `extends`
// ---------------------------------------------------------------------------------------------

const BASE: &str = r#"description = "the base"

[run]
pass_env = ["LANG", "TERM"]

[sandbox]
hostname = "base-host"
network = "shared"
sys = true
wayland = true

[nested]
size = "800x600"
window_manager = ["twm"]

[filesystem]
ro = ["/usr", "/etc/fonts"]
rw = ["~/Documents"]

[env]
A = "base-a"
B = "base-b"

[audio]
record = true
"#;

const MID: &str = r#"extends = ["base"]
description = "the middle"

[run]
command = ["mid-prog", "--flag"]
pass_env = ["TERM", "LC_ALL"]

[sandbox]
x11 = "host"
home = "tmpfs"
allow_host_abstract_sockets = true

[nested]
window_manager = ["openbox", "--sm-disable"]
clipboard = "in"

[filesystem]
rw = ["/etc/fonts"]
ro = ["?/opt/tool:/opt/t"]

[env]
B = "mid-b"
C = "mid-c"

[seccomp]
deny = ["keyctl", "ptrace"]

[audio]
device_volume = true
"#;

const APP: &str = r#"extends = ["mid"]

[run]
command = ["/usr/bin/app"]
cwd = "~/work"
pass_env = ["LANG", "APP_DEBUG"]

[sandbox]
network = "none"
opt = true
audio = "pulse"
gpu = "dri"

[filesystem]
dev = ["/dev/dri"]

[env]
C = "app-c"

[seccomp]
allow = ["keyctl"]
user_namespaces = true

[audio]
record = false
"#;

#[test]
fn extends_chain_merges_into_the_exact_profile() {
    let fx = Fixture::new();
    let base = fx.shipped("base", BASE);
    let mid = fx.user("mid", MID);
    let app = fx.user("app", APP);

    let got = fx.load_ok("app");

    let expected = Profile {
        name: "app".into(),
        source: app.clone(),
        // Parents first, the profile's own file last.
        files: vec![base.clone(), mid.clone(), app.clone()],
        // Scalars: the last file that sets one wins.
        description: Some("the middle".into()),
        desktop_entry: None,
        command: Some(strings(&["/usr/bin/app"])),
        cwd: Some(home("work")),
        // Appended in order, each name once.
        pass_env: strings(&["LANG", "TERM", "LC_ALL", "APP_DEBUG"]),
        hostname: Some("base-host".into()),
        network: Network::None,
        x11: X11::Host,
        // A table's keys merge one by one: base's size stays, mid's window manager replaces.
        nested: Nested {
            size: NestedSize::Fixed {
                width: 800,
                height: 600,
            },
            window_manager: Some(strings(&["openbox", "--sm-disable"])),
            clipboard: Clipboard::In,
        },
        wayland: true,
        allow_host_abstract_sockets: true,
        audio: Audio::Pulse,
        // Key by key: base's record is taken back by app, mid's device volumes stay.
        audio_access: crate::profile::AudioAccess {
            record: false,
            device_volume: true,
        },
        gpu: Gpu::Dri,
        home: Home::Tmpfs,
        session_bus: crate::profile::SessionBus::None,
        shared_files: crate::profile::SharedFiles::ReadOnly,
        tmpfs_size: crate::profile::TmpfsSize::default(),
        max_processes: crate::profile::DEFAULT_MAX_PROCESSES,
        sys: true,
        opt: true,
        // Appended; mid's rw /etc/fonts replaces base's ro /etc/fonts and moves to its place.
        binds: vec![
            BindSpec {
                src: abs("/usr"),
                dst: abs("/usr"),
                access: Access::ReadOnly,
                optional: false,
                origin: {
                    let (l, c) = pos(BASE, "\"/usr\"");
                    loc(&base, l, c)
                },
            },
            BindSpec {
                src: home("Documents"),
                dst: home("Documents"),
                access: Access::ReadWrite,
                optional: false,
                origin: {
                    let (l, c) = pos(BASE, "\"~/Documents\"");
                    loc(&base, l, c)
                },
            },
            BindSpec {
                src: abs("/opt/tool"),
                dst: abs("/opt/t"),
                access: Access::ReadOnly,
                optional: true,
                origin: {
                    let (l, c) = pos(MID, "\"?/opt/tool:/opt/t\"");
                    loc(&mid, l, c)
                },
            },
            BindSpec {
                src: abs("/etc/fonts"),
                dst: abs("/etc/fonts"),
                access: Access::ReadWrite,
                optional: false,
                origin: {
                    let (l, c) = pos(MID, "\"/etc/fonts\"");
                    loc(&mid, l, c)
                },
            },
            BindSpec {
                src: abs("/dev/dri"),
                dst: abs("/dev/dri"),
                access: Access::Device,
                optional: false,
                origin: {
                    let (l, c) = pos(APP, "\"/dev/dri\"");
                    loc(&app, l, c)
                },
            },
        ],
        // Merged key by key, later wins.
        env: [("A", "base-a"), ("B", "mid-b"), ("C", "app-c")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        // A later file's allow takes the name off an earlier deny.
        seccomp: Seccomp {
            allow: strings(&["keyctl"]),
            deny: strings(&["ptrace"]),
            user_namespaces: true,
        },
    };
    assert_eq!(got, expected);

    // Literal positions, as a cross-check of `pos`.
    assert_eq!(
        got.binds[0].origin.to_string(),
        format!("{}:17:7", base.display())
    );
    assert_eq!(
        got.binds[3].origin.to_string(),
        format!("{}:18:7", mid.display())
    );
    assert_eq!(
        got.binds[4].origin.to_string(),
        format!("{}:15:8", app.display())
    );
}

#[test]
fn loading_a_parent_alone_gives_only_its_own_files() {
    let fx = Fixture::new();
    let base = fx.shipped("base", BASE);
    let mid = fx.user("mid", MID);
    fx.user("app", APP);

    let got = fx.load_ok("mid");
    assert_eq!(got.name, "mid");
    assert_eq!(got.source, mid);
    assert_eq!(got.files, vec![base, mid]);
    assert_eq!(got.command, Some(strings(&["mid-prog", "--flag"])));
    assert_eq!(got.network, Network::Shared);
    assert_eq!(got.pass_env, strings(&["LANG", "TERM", "LC_ALL"]));
    assert_eq!(got.cwd, None);
    assert!(!got.opt);
}

#[test]
fn a_profile_without_anything_gets_the_defaults() {
    let fx = Fixture::new();
    let path = fx.user("empty", "# nothing here\n");
    let got = fx.load_ok("empty");
    let mut expected = Profile::empty("empty", path.clone());
    expected.files = vec![path];
    assert_eq!(got, expected);
    assert_eq!(got.network, Network::None);
    assert_eq!(got.x11, X11::None);
    assert_eq!(got.home, Home::Persistent);
}

#[test]
fn later_bind_for_the_same_destination_replaces_the_earlier_one() {
    let fx = Fixture::new();
    let text = r#"[filesystem]
ro = ["/a:/x", "/usr", "/b:/x"]
rw = ["/usr"]
"#;
    let path = fx.user("p", text);
    let got = fx.load_ok("p");
    let summary: Vec<(ProfilePath, ProfilePath, Access)> = got
        .binds
        .iter()
        .map(|b| (b.src.clone(), b.dst.clone(), b.access))
        .collect();
    assert_eq!(
        summary,
        vec![
            (abs("/b"), abs("/x"), Access::ReadOnly),
            (abs("/usr"), abs("/usr"), Access::ReadWrite),
        ]
    );
    let (l, c) = pos(text, "\"/b:/x\"");
    assert_eq!(got.binds[0].origin, loc(&path, l, c));
    assert_eq!((l, c), (2, 24));
    assert_eq!(got.binds[1].origin, loc(&path, 3, 7));
}

#[test]
fn a_child_bind_replaces_a_parent_bind_with_the_same_destination() {
    let fx = Fixture::new();
    fx.shipped(
        "parent",
        "[filesystem]\nro = [\"/srv/a:/data\", \"/usr\"]\n",
    );
    let child = fx.user(
        "child",
        "extends = [\"parent\"]\n[filesystem]\nrw = [\"~/data:/data\"]\n",
    );
    let got = fx.load_ok("child");
    assert_eq!(got.binds.len(), 2);
    assert_eq!(got.binds[0].dst, abs("/usr"));
    assert_eq!(
        got.binds[1],
        BindSpec {
            src: home("data"),
            dst: abs("/data"),
            access: Access::ReadWrite,
            optional: false,
            origin: loc(&child, 3, 7),
        }
    );
}

#[test]
fn diamond_applies_the_shared_base_once() {
    let fx = Fixture::new();
    let base = fx.shipped(
        "base",
        "[run]\npass_env = [\"BASE\"]\n[sandbox]\nhostname = \"from-base\"\n[filesystem]\nro = [\"/usr\"]\n[env]\nWHO = \"base\"\n",
    );
    let left = fx.user(
        "left",
        "extends = [\"base\"]\n[run]\npass_env = [\"LEFT\"]\n[sandbox]\nhostname = \"from-left\"\n[env]\nWHO = \"left\"\n",
    );
    let right = fx.user(
        "right",
        "extends = [\"base\"]\n[run]\npass_env = [\"RIGHT\"]\n[filesystem]\nrw = [\"/srv\"]\n",
    );
    let top = fx.user("top", "extends = [\"left\", \"right\"]\n");

    let got = fx.load_ok("top");
    assert_eq!(got.files, vec![base.clone(), left, right, top]);
    // Had base been applied again under `right`, these would be base's values.
    assert_eq!(got.hostname.as_deref(), Some("from-left"));
    assert_eq!(got.env.get("WHO").map(String::as_str), Some("left"));
    assert_eq!(got.pass_env, strings(&["BASE", "LEFT", "RIGHT"]));
    let dsts: Vec<ProfilePath> = got.binds.iter().map(|b| b.dst.clone()).collect();
    assert_eq!(dsts, vec![abs("/usr"), abs("/srv")]);
    assert_eq!(got.binds[0].origin, loc(&base, 6, 7));
}

#[test]
fn extending_the_same_parent_twice_applies_it_once() {
    let fx = Fixture::new();
    let base = fx.shipped("base", "[run]\npass_env = [\"X\"]\n");
    let p = fx.user("p", "extends = [\"base\", \"base\"]\n");
    let got = fx.load_ok("p");
    assert_eq!(got.files, vec![base, p]);
    assert_eq!(got.pass_env, strings(&["X"]));
}

#[test]
fn pass_env_is_deduplicated_within_one_file() {
    let fx = Fixture::new();
    fx.user(
        "p",
        "[run]\npass_env = [\"A\", \"B\", \"A\", \"C\", \"B\"]\n",
    );
    assert_eq!(fx.load_ok("p").pass_env, strings(&["A", "B", "C"]));
}
