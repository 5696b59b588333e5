//! Unit tests of profile loading: `extends` merging, the search path, and the one-line
//! `FILE:LINE:COLUMN: message` errors of every kind of bad input.

use super::validate::parse_path;
use super::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary directory holding a user and a shipped profile directory; removed on drop.
struct Fixture {
    root: PathBuf,
    user: PathBuf,
    shipped: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("nestbox-profile-test-{}-{}", std::process::id(), n));
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        let user = root.join("user");
        let shipped = root.join("shipped");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::create_dir_all(&shipped).unwrap();
        Fixture {
            root,
            user,
            shipped,
        }
    }

    fn user(&self, name: &str, text: &str) -> PathBuf {
        write(&self.user, name, text)
    }

    fn shipped(&self, name: &str, text: &str) -> PathBuf {
        write(&self.shipped, name, text)
    }

    fn search(&self) -> SearchPath {
        SearchPath {
            dirs: vec![
                (SourceKind::User, self.user.clone()),
                (SourceKind::Shipped, self.shipped.clone()),
            ],
        }
    }

    fn load(&self, name: &str) -> Result<Profile, ProfileError> {
        self.search().load(name)
    }

    fn load_ok(&self, name: &str) -> Profile {
        match self.load(name) {
            Ok(p) => p,
            Err(e) => panic!("loading {name:?} failed: {e}"),
        }
    }

    fn load_err(&self, name: &str) -> ProfileError {
        match self.load(name) {
            Ok(p) => panic!("loading {name:?} succeeded: {p:?}"),
            Err(e) => e,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The 1-based line and column (in characters) of the first occurrence of `needle` in `text`,
/// worked out line by line, independently of `Location::at`.
fn pos(text: &str, needle: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "needle {needle:?} must occur exactly once in the fixture"
    );
    let before = &text[..text.find(needle).unwrap()];
    let lines: Vec<&str> = before.split('\n').collect();
    (lines.len(), lines[lines.len() - 1].chars().count() + 1)
}

fn loc(path: &Path, line: usize, column: usize) -> Location {
    Location {
        path: path.to_path_buf(),
        line,
        column,
    }
}

/// `err` is `ProfileError::Invalid` at `path`, at the position of `needle` in `text`, with exactly
/// `message`, and its Display is the one line `FILE:LINE:COLUMN: message`.
#[track_caller]
fn assert_invalid(err: &ProfileError, path: &Path, text: &str, needle: &str, message: &str) {
    let (line, column) = pos(text, needle);
    assert_invalid_at(err, path, line, column, message);
}

#[track_caller]
fn assert_invalid_at(err: &ProfileError, path: &Path, line: usize, column: usize, message: &str) {
    match err {
        ProfileError::Invalid {
            location,
            message: m,
        } => {
            assert_eq!(*location, loc(path, line, column), "location of {err}");
            assert_eq!(m, message);
        }
        other => panic!("expected ProfileError::Invalid, got {other:?}"),
    }
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!("{}:{line}:{column}: {message}", path.display())
    );
    assert!(!shown.contains('\n'), "error is not one line: {shown:?}");
}

/// For messages written by the toml crate: exact location, one line, and the message contains
/// each of `parts` (the crate's exact wording is not this project's to pin down).
#[track_caller]
fn assert_toml_error(err: &ProfileError, path: &Path, text: &str, needle: &str, parts: &[&str]) {
    let (line, column) = pos(text, needle);
    let ProfileError::Invalid { location, message } = err else {
        panic!("expected ProfileError::Invalid, got {err:?}");
    };
    assert_eq!(*location, loc(path, line, column), "location of {err}");
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
    let shown = err.to_string();
    let prefix = format!("{}:{line}:{column}: ", path.display());
    assert!(
        shown.starts_with(&prefix),
        "{shown:?} does not start with {prefix:?}"
    );
    assert!(shown.len() > prefix.len(), "empty message: {shown:?}");
    assert!(!shown.contains('\n'), "error is not one line: {shown:?}");
}

/// Load a single user profile `p` with `text` and return the error it gives.
fn single_error(text: &str) -> (Fixture, PathBuf, ProfileError) {
    let fx = Fixture::new();
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    (fx, path, err)
}

fn abs(p: &str) -> ProfilePath {
    ProfilePath::Absolute(PathBuf::from(p))
}

fn home(p: &str) -> ProfilePath {
    ProfilePath::Home(PathBuf::from(p))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

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

[filesystem]
ro = ["/usr", "/etc/fonts"]
rw = ["~/Documents"]

[env]
A = "base-a"
B = "base-b"
"#;

const MID: &str = r#"extends = ["base"]
description = "the middle"

[run]
command = ["mid-prog", "--flag"]
pass_env = ["TERM", "LC_ALL"]

[sandbox]
x11 = "host"
home = "tmpfs"

[filesystem]
rw = ["/etc/fonts"]
ro = ["?/opt/tool:/opt/t"]

[env]
B = "mid-b"
C = "mid-c"
"#;

const APP: &str = r#"extends = ["mid"]

[run]
command = ["/usr/bin/app"]
cwd = "~/work"
pass_env = ["LANG", "APP_DEBUG"]

[sandbox]
network = "none"
opt = true

[filesystem]
dev = ["/dev/dri"]

[env]
C = "app-c"
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
        command: Some(strings(&["/usr/bin/app"])),
        cwd: Some(home("work")),
        // Appended in order, each name once.
        pass_env: strings(&["LANG", "TERM", "LC_ALL", "APP_DEBUG"]),
        hostname: Some("base-host".into()),
        network: Network::None,
        x11: X11::Host,
        home: Home::Tmpfs,
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
    };
    assert_eq!(got, expected);

    // Literal positions, as a cross-check of `pos`.
    assert_eq!(
        got.binds[0].origin.to_string(),
        format!("{}:12:7", base.display())
    );
    assert_eq!(
        got.binds[3].origin.to_string(),
        format!("{}:13:7", mid.display())
    );
    assert_eq!(
        got.binds[4].origin.to_string(),
        format!("{}:13:8", app.display())
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
    for name in ["../x", "", ".hidden", "a/b", "x y", "é", &"a".repeat(129)] {
        match fx.load(name) {
            Err(ProfileError::BadName(n)) => assert_eq!(n, name),
            other => panic!("{name:?}: expected BadName, got {other:?}"),
        }
    }
    let err = fx.load_err("../x");
    assert_eq!(
        err.to_string(),
        "invalid profile name \"../x\": use letters, digits, '-', '_' and '.'"
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

// ---------------------------------------------------------------------------------------------
// Errors from the toml parser and the schema
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_toml_syntax() {
    let text = "description = \"x\"\n[sandbox\nsys = true\n";
    let (_fx, path, err) = single_error(text);
    // The parser stops at the end of `[sandbox`, line 2, column 9.
    assert_eq!(pos(text, "\nsys"), (2, 9));
    assert_toml_error(&err, &path, text, "\nsys", &["unclosed table"]);
}

#[test]
fn invalid_toml_syntax_after_multibyte_characters() {
    let text = "# ☕☕\ndescription = \"☕ é\" junk\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "junk"), (2, 21));
    assert_toml_error(&err, &path, text, "junk", &["unexpected"]);
}

#[test]
fn duplicate_key() {
    let text = "[sandbox]\nsys = true\nsys = false\n";
    let (_fx, path, err) = single_error(text);
    assert_toml_error(&err, &path, text, "sys = false", &["duplicate key"]);
}

#[test]
fn unknown_top_level_key() {
    let text = "description = \"x\"\ncolour = \"red\"\n";
    let (_fx, path, err) = single_error(text);
    assert_toml_error(&err, &path, text, "colour", &["unknown field `colour`"]);
    assert_eq!(pos(text, "colour"), (2, 1));
}

#[test]
fn unknown_key_in_sandbox() {
    let text = "[sandbox]\nnetwork = \"none\"\n  display = \"host\"\n";
    let (_fx, path, err) = single_error(text);
    assert_toml_error(&err, &path, text, "display", &["unknown field `display`"]);
    assert_eq!(pos(text, "display"), (3, 3));
}

#[test]
fn unknown_key_in_run_filesystem_and_a_table_env_value() {
    for (text, needle, part) in [
        ("[run]\nargs = []\n", "args", "unknown field `args`"),
        (
            "[filesystem]\nro = []\ntmp = []\n",
            "tmp",
            "unknown field `tmp`",
        ),
        ("[env]\nA = { b = \"c\" }\n", "{", "expected a string"),
    ] {
        let (_fx, path, err) = single_error(text);
        assert_toml_error(&err, &path, text, needle, &[part]);
    }
}

#[test]
fn wrong_type_network_integer() {
    let text = "[sandbox]\nnetwork = 3\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "3"), (2, 11));
    assert_toml_error(&err, &path, text, "3", &[]);
}

#[test]
fn wrong_type_command_string() {
    let text = "[run]\ncommand = \"xterm\"\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"xterm\""), (2, 11));
    assert_toml_error(
        &err,
        &path,
        text,
        "\"xterm\"",
        &["invalid type", "sequence"],
    );
}

#[test]
fn wrong_types_elsewhere() {
    for (text, needle, part) in [
        ("extends = \"base\"\n", "\"base\"", "sequence"),
        ("[sandbox]\nsys = \"yes\"\n", "\"yes\"", "boolean"),
        ("[filesystem]\nro = [\"/usr\", 1]\n", "1", "string"),
        ("[env]\nFOO = 1\n", "1", "string"),
        ("[run]\npass_env = \"X\"\n", "\"X\"", "sequence"),
    ] {
        let (_fx, path, err) = single_error(text);
        assert_toml_error(&err, &path, text, needle, &["invalid type", part]);
    }
}

#[test]
fn bad_enum_value() {
    let text = "[sandbox]\nx11 = \"wayland\"\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"wayland\""), (2, 7));
    assert_toml_error(
        &err,
        &path,
        text,
        "\"wayland\"",
        &["unknown variant `wayland`"],
    );

    let text = "[sandbox]\nhome = \"ramdisk\"\n";
    let (_fx, path, err) = single_error(text);
    assert_toml_error(
        &err,
        &path,
        text,
        "\"ramdisk\"",
        &["unknown variant `ramdisk`"],
    );
}

#[test]
fn a_syntax_error_in_a_parent_points_into_the_parent() {
    let fx = Fixture::new();
    let parent_text = "[sandbox]\nnetwork = shared\n";
    let parent = fx.shipped("parent", parent_text);
    fx.user("child", "extends = [\"parent\"]\n");
    let err = fx.load_err("child");
    assert_toml_error(&err, &parent, parent_text, "shared", &[]);
}

// ---------------------------------------------------------------------------------------------
// Errors from the validator
// ---------------------------------------------------------------------------------------------

#[test]
fn relative_path_in_ro() {
    let text = "[filesystem]\nro = [\"/usr\", \"lib\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"lib\""), (2, 15));
    assert_invalid(
        &err,
        &path,
        text,
        "\"lib\"",
        "path \"lib\" must be absolute or start with ~/",
    );
}

#[test]
fn relative_path_after_multibyte_characters_on_the_same_line() {
    let text = "description = \"Ünïcödé ☕\"\n[filesystem]\nro = [\"/söme/pàth☕\", \"rel\"]\n";
    let (_fx, path, err) = single_error(text);
    // `ro = ["/söme/pàth☕", ` is 21 characters (but 25 bytes) long.
    assert_eq!(pos(text, "\"rel\""), (3, 22));
    assert_invalid_at(
        &err,
        &path,
        3,
        22,
        "path \"rel\" must be absolute or start with ~/",
    );
}

#[test]
fn a_path_with_dot_dot() {
    let text = "[filesystem]\nrw = [\n    \"/home/../etc\",\n]\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"/home/../etc\""), (3, 5));
    assert_invalid(
        &err,
        &path,
        text,
        "\"/home/../etc\"",
        "path \"/home/../etc\" may not contain '.' or '..'",
    );
}

#[test]
fn paths_with_dot_or_dot_dot_anywhere() {
    for bad in [
        "/a/..", "/..", "~/..", "~/../x", "/a/./b", "/a/.", "/.", "~/.", "~/./x", "~/a/./b",
    ] {
        assert_eq!(
            parse_path(bad),
            Err(format!("path {bad:?} may not contain '.' or '..'")),
            "{bad:?}"
        );
    }
    // Names that merely start with dots are fine.
    assert_eq!(parse_path("/a/..b"), Ok(abs("/a/..b")));
    assert_eq!(parse_path("~/.config"), Ok(home(".config")));
}

#[test]
fn tilde_user_in_cwd() {
    let text = "[run]\ncwd = \"~user/x\"\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"~user/x\""), (2, 7));
    assert_invalid(
        &err,
        &path,
        text,
        "\"~user/x\"",
        "path \"~user/x\" must be absolute or start with ~/",
    );
}

#[test]
fn parse_path_rejects_other_bad_paths() {
    assert_eq!(
        parse_path("~user/x"),
        Err("path \"~user/x\" must be absolute or start with ~/".to_string())
    );
    assert_eq!(
        parse_path(""),
        Err("path \"\" must be absolute or start with ~/".to_string())
    );
    assert_eq!(
        parse_path("usr/lib"),
        Err("path \"usr/lib\" must be absolute or start with ~/".to_string())
    );
    assert_eq!(
        parse_path("~//x"),
        Err("path \"~//x\" has an empty part".to_string())
    );
    assert_eq!(
        parse_path("/a\0b"),
        Err("a path cannot contain a NUL byte".to_string())
    );
}

#[test]
fn tilde_paths_become_home_paths() {
    assert_eq!(parse_path("~"), Ok(home("")));
    assert_eq!(parse_path("~/"), Ok(home("")));
    assert_eq!(parse_path("~/Downloads"), Ok(home("Downloads")));
    assert_eq!(parse_path("~/a/b"), Ok(home("a/b")));
    assert_eq!(parse_path("/usr/lib"), Ok(abs("/usr/lib")));
    assert_eq!(parse_path("/"), Ok(abs("/")));

    assert_eq!(home("").to_string(), "~");
    assert_eq!(home("Downloads").to_string(), "~/Downloads");
    assert_eq!(abs("/usr").to_string(), "/usr");
}

#[test]
fn empty_command() {
    let text = "[run]\ncommand = []\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "[]"), (2, 11));
    assert_invalid(&err, &path, text, "[]", "command must name a program");

    let text = "[run]\ncommand = [\"\", \"--x\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid_at(&err, &path, 2, 11, "command must name a program");
}

#[test]
fn relative_program_with_a_slash() {
    let text = "[run]\ncommand = [\"bin/xterm\", \"-e\", \"sh\"]\n";
    let (_fx, path, err) = single_error(text);
    // The error points at the command array.
    assert_eq!(pos(text, "[\"bin"), (2, 11));
    assert_invalid(
        &err,
        &path,
        text,
        "[\"bin",
        "program \"bin/xterm\" must be a name or an absolute path",
    );

    let text = "[run]\ncommand = [\"./xterm\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid_at(
        &err,
        &path,
        2,
        11,
        "program \"./xterm\" must be a name or an absolute path",
    );
}

#[test]
fn command_with_a_nul_byte() {
    let text = "[run]\ncommand = [\"xterm\", \"a\\u0000b\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid_at(&err, &path, 2, 11, "command cannot contain a NUL byte");
}

#[test]
fn bad_hostname() {
    let text = "[sandbox]\nnetwork = \"none\"\nhostname = \"my host\"\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"my host\""), (3, 12));
    assert_invalid(
        &err,
        &path,
        text,
        "\"my host\"",
        "\"my host\" is not a valid host name",
    );

    let long = "a".repeat(65);
    for bad in ["", "-lead", "under_score", "ümlaut", long.as_str()] {
        let text = format!("[sandbox]\nhostname = \"{bad}\"\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid_at(
            &err,
            &path,
            2,
            12,
            &format!("{bad:?} is not a valid host name"),
        );
    }
}

#[test]
fn good_hostnames() {
    let fx = Fixture::new();
    for good in ["box", "my-box.local", "A1", &"a".repeat(64)] {
        fx.user("p", &format!("[sandbox]\nhostname = \"{good}\"\n"));
        assert_eq!(fx.load_ok("p").hostname.as_deref(), Some(good));
    }
}

#[test]
fn a_profile_may_not_set_home() {
    let text = "[env]\nEDITOR = \"vi\"\nHOME = \"/tmp\"\n";
    let (_fx, path, err) = single_error(text);
    // The location is that of the value (`env` values carry the span, keys do not).
    assert_eq!(pos(text, "\"/tmp\""), (3, 8));
    assert_invalid(
        &err,
        &path,
        text,
        "\"/tmp\"",
        "HOME is set by nestbox and cannot be changed by a profile",
    );
}

#[test]
fn a_profile_may_set_none_of_the_managed_variables() {
    for var in [
        "HOME",
        "USER",
        "LOGNAME",
        "XDG_RUNTIME_DIR",
        "DISPLAY",
        "XAUTHORITY",
    ] {
        let text = format!("[env]\n{var} = \"x\"\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid_at(
            &err,
            &path,
            2,
            var.len() + 4,
            &format!("{var} is set by nestbox and cannot be changed by a profile"),
        );
    }
}

#[test]
fn a_profile_may_not_pass_a_managed_variable_through() {
    let text = "[run]\npass_env = [\"LANG\", \"XAUTHORITY\"]\n";
    let fx = Fixture::new();
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    assert_invalid(
        &err,
        &path,
        text,
        "\"XAUTHORITY\"",
        "XAUTHORITY is set by nestbox and cannot be passed from the host",
    );
}

#[test]
fn bad_variable_names() {
    let text = "[env]\n\"1ABC\" = \"x\"\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "\"x\"",
        "\"1ABC\" is not a variable name",
    );

    let text = "[env]\n\"A=B\" = \"x\"\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(&err, &path, text, "\"x\"", "\"A=B\" is not a variable name");

    let text = "[run]\npass_env = [\"OK\", \"9LIVES\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "\"9LIVES\"",
        "\"9LIVES\" is not a variable name",
    );

    let text = "[env]\nA = \"x\\u0000y\"\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid_at(&err, &path, 2, 5, "a value cannot contain a NUL byte");
}

#[test]
fn extends_of_an_unknown_profile_points_at_the_entry() {
    let fx = Fixture::new();
    fx.shipped("base", "");
    let text = "description = \"x\"\nextends = [\n  \"base\",\n  \"nope\",\n]\n";
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    assert_eq!(pos(text, "\"nope\""), (4, 3));
    assert_invalid(
        &err,
        &path,
        text,
        "\"nope\"",
        "extends unknown profile \"nope\"",
    );
}

#[test]
fn extends_of_an_unknown_profile_inside_a_parent_points_into_the_parent() {
    let fx = Fixture::new();
    let parent_text = "extends = [\"missing\"]\n";
    let parent = fx.shipped("parent", parent_text);
    fx.user("child", "extends = [\"parent\"]\n");
    let err = fx.load_err("child");
    assert_invalid(
        &err,
        &parent,
        parent_text,
        "\"missing\"",
        "extends unknown profile \"missing\"",
    );
}

#[test]
fn extends_of_an_invalid_name() {
    let fx = Fixture::new();
    let text = "extends = [\"../etc/passwd\"]\n";
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    assert_invalid(
        &err,
        &path,
        text,
        "\"../etc/passwd\"",
        "\"../etc/passwd\" is not a profile name",
    );
}

#[test]
fn a_cycle_a_b_a() {
    let fx = Fixture::new();
    fx.user("a", "extends = [\"b\"]\n");
    let b_text = "description = \"b\"\nextends = [\"a\"]\n";
    let b = fx.user("b", b_text);
    let err = fx.load_err("a");
    match &err {
        ProfileError::Cycle {
            location,
            name,
            chain,
        } => {
            let (l, c) = pos(b_text, "\"a\"");
            assert_eq!((l, c), (2, 12));
            assert_eq!(*location, loc(&b, l, c));
            assert_eq!(name, "a");
            assert_eq!(chain, "a -> b -> a");
        }
        other => panic!("expected Cycle, got {other:?}"),
    }
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!(
            "{}:2:12: profile \"a\" extends itself through a -> b -> a",
            b.display()
        )
    );
    assert!(!shown.contains('\n'));
}

#[test]
fn a_cycle_below_the_loaded_profile_names_only_the_loop() {
    let fx = Fixture::new();
    fx.user("top", "extends = [\"b\"]\n");
    fx.user("b", "extends = [\"c\"]\n");
    let c = fx.shipped("c", "extends = [\"b\"]\n");
    match fx.load_err("top") {
        ProfileError::Cycle {
            location,
            name,
            chain,
        } => {
            assert_eq!(location, loc(&c, 1, 12));
            assert_eq!(name, "b");
            assert_eq!(chain, "b -> c -> b");
        }
        other => panic!("expected Cycle, got {other:?}"),
    }
}

#[test]
fn a_cycle_through_self_extension() {
    let fx = Fixture::new();
    // user a -> shipped a -> b -> user a
    fx.user("a", "extends = [\"a\"]\n");
    fx.shipped("a", "extends = [\"b\"]\n");
    let b = fx.shipped("b", "extends = [\"a\"]\n");
    match fx.load_err("a") {
        ProfileError::Cycle {
            location, chain, ..
        } => {
            assert_eq!(location, loc(&b, 1, 12));
            assert_eq!(chain, "a -> a -> b -> a");
        }
        other => panic!("expected Cycle, got {other:?}"),
    }
}

#[test]
fn a_device_bind_outside_dev() {
    let text = "[filesystem]\ndev = [\"/dev/dri\", \"/sys/bus/usb\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_eq!(pos(text, "\"/sys/bus/usb\""), (2, 20));
    assert_invalid(
        &err,
        &path,
        text,
        "\"/sys/bus/usb\"",
        "device bind \"/sys/bus/usb\" must name a path under /dev",
    );

    // /dev is compared by path components, not by string prefix.
    for bad in ["/devices", "~/dev/x"] {
        let text = format!("[filesystem]\ndev = [\"{bad}\"]\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid_at(
            &err,
            &path,
            2,
            8,
            &format!("device bind {bad:?} must name a path under /dev"),
        );
    }
    // The optional marker is not part of what the message quotes.
    let text = "[filesystem]\ndev = [\"?/run/x\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid_at(
        &err,
        &path,
        2,
        8,
        "device bind \"/run/x\" must name a path under /dev",
    );
}

#[test]
fn binding_over_the_root() {
    for entry in ["/", "/srv/root:/", "?/"] {
        let text = format!("[filesystem]\nro = [\"/usr\"]\nrw = [\"{entry}\"]\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid_at(
            &err,
            &path,
            3,
            7,
            "cannot bind over the sandbox's root directory",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bind syntax
// ---------------------------------------------------------------------------------------------

#[test]
fn bind_syntax_optional_split_and_home() {
    let fx = Fixture::new();
    let text = r#"[filesystem]
ro = ["?/x", "/src/a:/dst/a", "?~/.config/app:/etc/app", "~"]
rw = ["~/Downloads", "/data:~/data"]
dev = ["?/dev/snd", "/dev/dri:/dev/gpu"]
"#;
    fx.user("p", text);
    let got = fx.load_ok("p");
    let summary: Vec<(ProfilePath, ProfilePath, Access, bool)> = got
        .binds
        .iter()
        .map(|b| (b.src.clone(), b.dst.clone(), b.access, b.optional))
        .collect();
    assert_eq!(
        summary,
        vec![
            (abs("/x"), abs("/x"), Access::ReadOnly, true),
            (abs("/src/a"), abs("/dst/a"), Access::ReadOnly, false),
            (home(".config/app"), abs("/etc/app"), Access::ReadOnly, true),
            (home(""), home(""), Access::ReadOnly, false),
            (
                home("Downloads"),
                home("Downloads"),
                Access::ReadWrite,
                false
            ),
            (abs("/data"), home("data"), Access::ReadWrite, false),
            (abs("/dev/snd"), abs("/dev/snd"), Access::Device, true),
            (abs("/dev/dri"), abs("/dev/gpu"), Access::Device, false),
        ]
    );
    let origins: Vec<String> = got
        .binds
        .iter()
        .map(|b| {
            let Location { line, column, .. } = &b.origin;
            format!("{line}:{column}")
        })
        .collect();
    assert_eq!(
        origins,
        ["2:7", "2:14", "2:31", "2:58", "3:7", "3:22", "4:8", "4:21"]
    );
}

#[test]
fn bad_bind_halves() {
    for (entry, message) in [
        ("/a:", "path \"\" must be absolute or start with ~/"),
        (":/a", "path \"\" must be absolute or start with ~/"),
        ("?", "path \"\" must be absolute or start with ~/"),
        ("/a:b", "path \"b\" must be absolute or start with ~/"),
        ("/a:/b/../c", "path \"/b/../c\" may not contain '.' or '..'"),
    ] {
        let text = format!("[filesystem]\nro = [\"{entry}\"]\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid_at(&err, &path, 2, 7, message);
    }
}

#[test]
fn cwd_forms() {
    let fx = Fixture::new();
    fx.user("a", "[run]\ncwd = \"~\"\n");
    fx.user("b", "[run]\ncwd = \"/srv/work\"\n");
    assert_eq!(fx.load_ok("a").cwd, Some(home("")));
    assert_eq!(fx.load_ok("b").cwd, Some(abs("/srv/work")));
}

// ---------------------------------------------------------------------------------------------
// Location::at
// ---------------------------------------------------------------------------------------------

#[test]
fn location_at_ascii() {
    let p = Path::new("/x/p.toml");
    let text = "ab\ncd\n\nef";
    assert_eq!(Location::at(p, text, 0), loc(p, 1, 1));
    assert_eq!(Location::at(p, text, 1), loc(p, 1, 2));
    // The newline itself belongs to the line it ends.
    assert_eq!(Location::at(p, text, 2), loc(p, 1, 3));
    assert_eq!(Location::at(p, text, 3), loc(p, 2, 1));
    assert_eq!(Location::at(p, text, 4), loc(p, 2, 2));
    assert_eq!(Location::at(p, text, 6), loc(p, 3, 1));
    assert_eq!(Location::at(p, text, 7), loc(p, 4, 1));
    assert_eq!(Location::at(p, text, 8), loc(p, 4, 2));
    // Past the end is clamped to the end.
    assert_eq!(Location::at(p, text, 9), loc(p, 4, 3));
    assert_eq!(Location::at(p, text, 1000), loc(p, 4, 3));
    assert_eq!(Location::at(p, "", 5), loc(p, 1, 1));
    assert_eq!(Location::at(p, text, 4).to_string(), "/x/p.toml:2:2");
}

#[test]
fn location_at_counts_characters_not_bytes() {
    let p = Path::new("p.toml");
    // é is 2 bytes, 日 and 本 3 bytes each, ☕ 3 bytes, 🦀 4 bytes.
    let text = "é=x\n日本 = \"🦀☕\" y\n";
    let x = text.find('x').unwrap();
    assert_eq!(x, 3);
    assert_eq!(Location::at(p, text, x), loc(p, 1, 3));
    let y = text.find('y').unwrap();
    assert_eq!(y, 5 + 6 + 4 + 4 + 3 + 2);
    assert_eq!(Location::at(p, text, y), loc(p, 2, 11));
    let crab = text.find('🦀').unwrap();
    assert_eq!(Location::at(p, text, crab), loc(p, 2, 7));
    // The character right after the crab.
    assert_eq!(Location::at(p, text, crab + 4), loc(p, 2, 8));
    // Multi-byte characters on earlier lines do not shift the column.
    let text = "☕☕☕\nab";
    assert_eq!(Location::at(p, text, text.len() - 1), loc(p, 2, 2));
}

#[test]
fn location_at_with_crlf_line_ends() {
    let p = Path::new("p.toml");
    let text = "[sandbox]\r\nhostname = \"x y\"\r\n";
    let q = text.find("\"x").unwrap();
    assert_eq!(Location::at(p, text, q), loc(p, 2, 12));

    let fx = Fixture::new();
    let path = fx.user("p", text);
    let err = fx.load_err("p");
    assert_invalid_at(&err, &path, 2, 12, "\"x y\" is not a valid host name");
}
