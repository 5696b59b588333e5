//! Unit tests of desktop entries: the key file format, Exec lines, launchers and starting
//! profiles.

mod launcher;

use super::exec::{join_exec, parse_exec, quote_arg, ExecLine, FileCode};
use super::keyfile::{self, escape, join_list, parse, split_list, unescape};

// ---------------------------------------------------------------------------------------------
// The key file format
// ---------------------------------------------------------------------------------------------

const SAMPLE: &str = "# a comment\n\
\n\
[Desktop Entry]\n\
Name=Text Editor\n\
Name[de]=Texteditor\n\
Name[sr@latin] = Uređivač\n\
Comment=Edit\\stext\\nfiles\\\\ here\n\
Categories=Utility;TextEditor;\n\
MimeType=text/plain;text/x-a\\;b\n\
Terminal=false\n\
Name=Second Name Wins\n\
\n\
[Desktop Action new]\n\
Name=New Window\n\
Exec=edit --new\n";

#[test]
fn a_raw_control_character_in_a_value_is_an_error() {
    let e = parse("[Desktop Entry]\nName=a\rExec=evil\nType=Application\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("control character"), "{}", e.message);
    let e = parse("[Desktop Entry]\nComment=\u{1b}]52;c;x\u{7}\n").unwrap_err();
    assert_eq!(e.line, 2);
    // Escaped, they are fine.
    assert!(parse("[Desktop Entry]\nComment=a\\rb\\tc\n").is_ok());
}

#[test]
fn groups_keys_and_locales() {
    let f = parse(SAMPLE).unwrap();
    assert_eq!(
        f.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["Desktop Entry", "Desktop Action new"]
    );
    let g = f.group("Desktop Entry").unwrap();
    // The last of a repeated key wins, as with GLib.
    assert_eq!(g.string("Name").as_deref(), Some("Second Name Wins"));
    assert_eq!(
        g.localized("Name"),
        [
            ("de".to_string(), "Texteditor".to_string()),
            ("sr@latin".to_string(), "Uređivač".to_string())
        ]
    );
    assert_eq!(
        g.string("Comment").as_deref(),
        Some("Edit text\nfiles\\ here")
    );
    assert_eq!(g.list("Categories"), ["Utility", "TextEditor"]);
    assert_eq!(g.list("MimeType"), ["text/plain", "text/x-a;b"]);
    assert_eq!(g.boolean("Terminal"), Some(false));
    assert_eq!(g.boolean("Missing"), None);
    assert_eq!(
        f.group("Desktop Action new")
            .unwrap()
            .string("Exec")
            .as_deref(),
        Some("edit --new")
    );
}

#[test]
fn a_repeated_group_is_one_group() {
    let f = parse("[A]\nx=1\n[B]\ny=2\n[A]\nz=3\n").unwrap();
    assert_eq!(f.groups.len(), 2);
    let a = f.group("A").unwrap();
    assert_eq!(a.raw("x"), Some("1"));
    assert_eq!(a.raw("z"), Some("3"));
}

#[test]
fn syntax_errors_name_the_line() {
    for (text, line, part) in [
        ("Name=x\n", 1, "before the first group"),
        ("[Desktop Entry]\njust words\n", 2, "neither a group"),
        ("[Desktop Entry]\n[broken\n", 2, "bad group header"),
        ("[Desktop Entry]\nName[de=x\n", 2, "bad key"),
        ("[Desktop Entry]\nNa me=x\n", 2, "bad key"),
        ("\n\n[]\n", 3, "bad group header"),
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e:?}");
        assert!(e.message.contains(part), "{text:?}: {e:?}");
    }
}

#[test]
fn string_escapes_round_trip() {
    for s in [
        "plain",
        " leading space",
        "tab\there",
        "back\\slash",
        "line\nbreak",
        "cr\r",
        "ünïcødé ☕",
        "",
    ] {
        assert_eq!(unescape(&escape(s)), s, "{s:?} as {:?}", escape(s));
    }
    assert_eq!(escape(" a b"), "\\sa b");
    // An unknown escape is kept as written; a lone backslash too.
    assert_eq!(unescape("a\\qb\\"), "a\\qb\\");
}

#[test]
fn lists_round_trip_with_semicolons_and_backslashes() {
    let items: Vec<String> = ["a", "b;c", "d\\e", " f"].map(String::from).to_vec();
    let raw = join_list(&items);
    assert_eq!(raw, "a;b\\;c;d\\\\e;\\sf;");
    assert_eq!(split_list(&raw), items);
    // No trailing separator, empty items.
    assert_eq!(split_list("x;;y"), ["x", "y"]);
    assert_eq!(split_list(""), Vec::<String>::new());
}

#[test]
fn crlf_and_leading_whitespace_are_tolerated() {
    let f = parse("[Desktop Entry]\r\n  Name = X\r\n").unwrap();
    assert_eq!(f.group("Desktop Entry").unwrap().raw("Name"), Some("X"));
    let _ = keyfile::KeyFile::default();
}

// ---------------------------------------------------------------------------------------------
// Exec lines
// ---------------------------------------------------------------------------------------------

fn argv(line: &ExecLine) -> Vec<&str> {
    line.argv.iter().map(String::as_str).collect()
}

#[test]
fn field_codes_are_taken_out_and_the_file_code_noted() {
    let l = parse_exec("/usr/lib/firefox-esr/firefox-esr %u").unwrap();
    assert_eq!(argv(&l), ["/usr/lib/firefox-esr/firefox-esr"]);
    assert_eq!(l.file_code, Some(FileCode::Url));
    let l = parse_exec("gimp-2.10 %U").unwrap();
    assert_eq!(l.file_code, Some(FileCode::Urls));
    let l = parse_exec("app --icon %i --caption %c %k %F").unwrap();
    assert_eq!(argv(&l), ["app", "--icon", "--caption"]);
    assert_eq!(l.file_code, Some(FileCode::Files));
    let l = parse_exec("app --file=%f --rate 100%% %d %D %n %N %v %m").unwrap();
    assert_eq!(argv(&l), ["app", "--file=", "--rate", "100%"]);
    assert_eq!(l.file_code, Some(FileCode::File));
    let l = parse_exec("xterm").unwrap();
    assert_eq!((argv(&l), l.file_code), (vec!["xterm"], None));
}

#[test]
fn quoting_follows_the_spec() {
    let l = parse_exec(r#""/opt/My App/app" --title "a \"b\" \$c \`d\` \\e" 'single q' x\ y %f"#)
        .unwrap();
    assert_eq!(
        argv(&l),
        [
            "/opt/My App/app",
            "--title",
            "a \"b\" $c `d` \\e",
            "single q",
            "x y"
        ]
    );
    // An empty quoted argument stays.
    assert_eq!(argv(&parse_exec(r#"app """#).unwrap()), ["app", ""]);
    for bad in [
        r#"app "open"#,
        "app 'open",
        "app \\",
        "app %z",
        "app %",
        "",
        "%U",
    ] {
        assert!(parse_exec(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn the_program_is_found_past_env() {
    let l = parse_exec("env GDK_BACKEND=x11 LANG=C /usr/bin/app --x %U").unwrap();
    assert_eq!(l.program(), Some("/usr/bin/app"));
    let (vars, cmd) = l.split_env().unwrap();
    assert_eq!(
        vars,
        [
            ("GDK_BACKEND".to_string(), "x11".to_string()),
            ("LANG".to_string(), "C".to_string())
        ]
    );
    assert_eq!(cmd, ["/usr/bin/app", "--x"]);
    assert!(parse_exec("env -u X app").unwrap().split_env().is_none());
    assert!(parse_exec("env A=b").unwrap().split_env().is_none());
    assert_eq!(parse_exec("app a=b").unwrap().program(), Some("app"));
}

#[test]
fn arguments_are_quoted_so_that_they_parse_back() {
    for arg in [
        "/usr/bin/nestbox",
        "/home/ann/my apps/nestbox",
        "/x/\"quoted\"",
        "/x/$HOME/`cmd`/\\",
        "/x/100%",
        "/x/a;b",
        "",
    ] {
        let line = join_exec(&[arg, "run", "--share-files", "p"], Some(FileCode::Urls));
        let back = parse_exec(&line).unwrap();
        assert_eq!(argv(&back), [arg, "run", "--share-files", "p"], "{line}");
        assert_eq!(back.file_code, Some(FileCode::Urls));
    }
    assert_eq!(quote_arg("/usr/bin/nestbox"), "/usr/bin/nestbox");
    assert_eq!(quote_arg("/a b/$x"), "\"/a b/\\$x\"");
    assert_eq!(quote_arg("100%"), "100%%");
    assert_eq!(join_exec(&["a", "b"], None), "a b");
}

// ---------------------------------------------------------------------------------------------
// Finding an app's entry
// ---------------------------------------------------------------------------------------------

#[test]
fn application_dirs_put_the_users_first_and_default_the_system_ones() {
    use super::find::application_dirs;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    let home = Path::new("/home/ann/.local/share");
    let mut env = BTreeMap::new();
    let want = |dirs: &[&str]| -> Vec<PathBuf> { dirs.iter().map(PathBuf::from).collect() };
    assert_eq!(
        application_dirs(home, &env),
        want(&[
            "/home/ann/.local/share/applications",
            "/usr/local/share/applications",
            "/usr/share/applications"
        ])
    );
    env.insert(
        "XDG_DATA_DIRS".to_string(),
        "/opt/share:relative:/usr/share:/usr/share/".to_string(),
    );
    assert_eq!(
        application_dirs(home, &env),
        want(&[
            "/home/ann/.local/share/applications",
            "/opt/share/applications",
            "/usr/share/applications"
        ])
    );
}

#[test]
fn the_entry_running_a_program_is_a_shown_one_not_nestboxs_and_the_first_of_its_id() {
    use super::find::{find_by_id, find_by_program};
    let root = std::env::temp_dir().join(format!("nestbox-find-unit-{}", std::process::id()));
    let (a, b) = (root.join("a"), root.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let entry = |dir: &std::path::Path, file: &str, name: &str, extra: &str| {
        let text = format!(
            "[Desktop Entry]\nType=Application\nName={name}\nExec=/usr/bin/app %f\n{extra}"
        );
        std::fs::write(dir.join(file), text).unwrap();
    };
    entry(&a, "0-launcher.desktop", "Ours", "X-Nestbox-Profile=app\n");
    entry(&a, "1-hidden.desktop", "Hidden", "Hidden=true\n");
    entry(&a, "2-helper.desktop", "Helper", "NoDisplay=true\n");
    entry(&a, "shadow.desktop", "Shadowing", "NoDisplay=true\n");
    entry(&b, "shadow.desktop", "Shadowed", "");
    entry(&b, "z-app.desktop", "App", "");
    std::fs::write(b.join("broken.desktop"), "not a key file").unwrap();
    let dirs = vec![a.clone(), b.clone()];
    assert_eq!(find_by_program(&dirs, "app").unwrap().name, "App");
    assert_eq!(find_by_program(&dirs[..1], "app").unwrap().name, "Helper");
    assert!(find_by_program(&dirs, "other").is_none());
    assert_eq!(
        find_by_id(&dirs, "shadow.desktop").unwrap().name,
        "Shadowing"
    );
    // A launcher of nestbox's is never an app's entry, even by its ID.
    assert!(find_by_id(&dirs, "0-launcher.desktop").is_err());
    std::fs::remove_dir_all(&root).unwrap();
}
