//! Profile tests: bind syntax and Location::at.

use super::*;

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
