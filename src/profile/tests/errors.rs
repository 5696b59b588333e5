//! Profile tests: errors from the toml parser, the schema and the validator.

use super::*;

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

#[test]
fn nested_size_must_be_fit_or_width_x_height() {
    for (value, message) in [
        (
            "\"big\"",
            "size \"big\" must be \"fit\" or WIDTHxHEIGHT, such as \"1280x800\"",
        ),
        (
            "\"1280x\"",
            "size \"1280x\" must be \"fit\" or WIDTHxHEIGHT, such as \"1280x800\"",
        ),
        (
            "\"+12x800\"",
            "size \"+12x800\" must be \"fit\" or WIDTHxHEIGHT, such as \"1280x800\"",
        ),
        (
            "\"32x800\"",
            "size \"32x800\": each side must be 64 to 16384 pixels",
        ),
        (
            "\"1280x99999\"",
            "size \"1280x99999\": each side must be 64 to 16384 pixels",
        ),
    ] {
        let text = format!("[sandbox]\nx11 = \"nested\"\n\n[nested]\nsize = {value}\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid(&err, &path, &text, value, message);
    }
    assert_eq!(
        super::super::parse_size("1280x800"),
        Ok(NestedSize::Fixed {
            width: 1280,
            height: 800
        })
    );
    assert_eq!(super::super::parse_size("fit"), Ok(NestedSize::Fit));
}

#[test]
fn window_manager_is_checked_like_a_command() {
    let text = "[nested]\nwindow_manager = []\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "[]",
        "window_manager must name a program",
    );
    let text = "[nested]\nwindow_manager = [\"wm/openbox\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "[\"wm",
        "program \"wm/openbox\" must be a name or an absolute path",
    );
}

#[test]
fn wayland_display_is_managed() {
    let text = "[env]\nWAYLAND_DISPLAY = \"wayland-9\"\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "\"wayland-9\"",
        "WAYLAND_DISPLAY is set by nestbox and cannot be changed by a profile",
    );
}

#[test]
fn pulse_variables_are_managed() {
    for var in ["PULSE_SERVER", "PULSE_CLIENTCONFIG"] {
        let text = format!("[env]\n{var} = \"unix:/tmp/x\"\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid(
            &err,
            &path,
            &text,
            "\"unix:/tmp/x\"",
            &format!("{var} is set by nestbox and cannot be changed by a profile"),
        );
    }
}

#[test]
fn bad_audio_and_gpu_modes() {
    for (text, needle, variant) in [
        (
            "[sandbox]\naudio = \"alsa\"\n",
            "\"alsa\"",
            "unknown variant `alsa`",
        ),
        (
            "[sandbox]\ngpu = \"amd\"\n",
            "\"amd\"",
            "unknown variant `amd`",
        ),
    ] {
        let (_fx, path, err) = single_error(text);
        assert_toml_error(&err, &path, text, needle, &[variant]);
    }
}

#[test]
fn unknown_system_call_names_its_place() {
    for key in ["allow", "deny"] {
        let text = format!("[seccomp]\n{key} = [\"keyctl\", \"frobnicate\"]\n");
        let (_fx, path, err) = single_error(&text);
        assert_invalid(
            &err,
            &path,
            &text,
            "\"frobnicate\"",
            "\"frobnicate\" is not a system call",
        );
    }
}

#[test]
fn asking_for_a_capability_is_refused_where_written() {
    let text = "[sandbox]\ncapabilities = [\"CAP_NET_ADMIN\"]\n";
    let (_fx, path, err) = single_error(text);
    assert_invalid(
        &err,
        &path,
        text,
        "[\"CAP",
        "nestbox grants no capabilities: every set is emptied before the app starts (what an app may do as your own user, it can do without them)",
    );
}

#[test]
fn desktop_entry_must_be_a_desktop_file_name() {
    for bad in [
        "firefox",
        "../x.desktop",
        "/usr/share/applications/x.desktop",
        ".desktop",
        ".hidden.desktop",
        "a b.desktop",
    ] {
        let text = format!("description = \"x\"\ndesktop_entry = \"{bad}\"\n");
        let (_fx, path, err) = single_error(&text);
        let message = format!(
            "desktop_entry {bad:?} must be a desktop file name such as \"firefox-esr.desktop\" (letters, digits, '-', '_', '.')"
        );
        assert_invalid_at(&err, &path, 2, 17, &message);
    }
}

#[test]
fn desktop_entry_is_kept_and_the_later_file_wins() {
    let fx = Fixture::new();
    fx.shipped("app", "desktop_entry = \"app.desktop\"\n");
    fx.user("mine", "extends = [\"app\"]\n");
    assert_eq!(
        fx.load_ok("mine").desktop_entry.as_deref(),
        Some("app.desktop")
    );
    fx.user(
        "other",
        "extends = [\"app\"]\ndesktop_entry = \"org.example.App.desktop\"\n",
    );
    assert_eq!(
        fx.load_ok("other").desktop_entry.as_deref(),
        Some("org.example.App.desktop")
    );
}
