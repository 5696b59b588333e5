//! Launchers and starting profiles, for real: `nestbox desktop` and `nestbox profile new` run as
//! an unprivileged user against a private XDG world whose "installed apps" are copies of this
//! machine's xterm and Firefox entries and an entry of the test's own.

#[macro_use]
mod common;

use common::*;
use nestbox::desktop::{exec, keyfile};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A profile whose program says it was launched, with its arguments.
const LAUNCH_PROFILE: &str = r#"
description = "says it was launched"
desktop_entry = "org.example.Launch.desktop"
extends = ["base"]
[run]
command = ["/bin/sh", "-c", "echo launched \"$@\"", "sh"]
"#;

/// The app entry LAUNCH_PROFILE names: a URL list code, translations, an icon by path.
fn launch_entry(icon: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Launch Me\nName[de]=Starte mich\n\
         Comment=A test app\nExec=launchme --flag %U\nIcon={}\nCategories=Utility;\n\
         MimeType=text/plain;x-scheme-handler/https;\nStartupWMClass=LaunchMe\nTerminal=false\n",
        icon.display()
    )
}

/// A test world with `share/applications` as its only XDG data dir: copies of xterm's and
/// Firefox's entries and the launch entry.
fn world(name: &str) -> (TestEnv, PathBuf) {
    let mut env = TestEnv::new(name);
    let share = env.dir.join("share");
    let apps = share.join("applications");
    fs::create_dir_all(&apps).unwrap();
    for f in ["debian-xterm.desktop", "firefox-esr.desktop"] {
        fs::copy(Path::new("/usr/share/applications").join(f), apps.join(f)).unwrap();
    }
    let icon = env.dir.join("icons/launchme.png");
    fs::create_dir_all(icon.parent().unwrap()).unwrap();
    fs::write(&icon, "not really a png").unwrap();
    fs::write(apps.join("org.example.Launch.desktop"), launch_entry(&icon)).unwrap();
    env.extra_env
        .push(("XDG_DATA_DIRS".into(), share.display().to_string()));
    env.profile("t", LAUNCH_PROFILE);
    (env, apps)
}

fn launcher(env: &TestEnv, profile: &str) -> PathBuf {
    env.data
        .join("applications")
        .join(format!("nestbox-{profile}.desktop"))
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
    stdout(o)
}

/// desktop-file-validate's verdict: it must pass and report no error.
fn validate(path: &Path) {
    let o = Command::new("desktop-file-validate")
        .arg(path)
        .output()
        .expect("desktop-file-validate is needed (apt-get install desktop-file-utils)");
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        o.status.success() && !said.contains("error"),
        "{}:\n{said}\n{}",
        path.display(),
        fs::read_to_string(path).unwrap()
    );
}

/// The launcher's main group.
fn group(path: &Path) -> keyfile::Group {
    let f = keyfile::parse(&fs::read_to_string(path).unwrap()).unwrap();
    f.group("Desktop Entry").unwrap().clone()
}

#[test]
fn install_writes_valid_launchers_whose_exec_line_starts_the_profile() {
    unprivileged!("install_writes_valid_launchers_whose_exec_line_starts_the_profile");
    let (env, _) = world("install");
    let out = ok(&env.run(&["desktop", "install", "t"]));
    assert!(out.contains("org.example.Launch.desktop"), "{out}");
    // Shipped profiles, their entries found by program: xterm's Exec=xterm, Firefox's
    // Exec=/usr/lib/firefox-esr/firefox-esr for the profile's firefox-esr.
    ok(&env.run(&["desktop", "install", "xterm"]));
    ok(&env.run(&["desktop", "install", "firefox"]));
    for p in ["t", "xterm", "firefox"] {
        validate(&launcher(&env, p));
    }
    let g = group(&launcher(&env, "t"));
    assert_eq!(g.string("Name").as_deref(), Some("Launch Me (sandboxed)"));
    assert_eq!(
        g.localized("Name"),
        [("de".to_string(), "Starte mich (sandboxed)".to_string())]
    );
    assert_eq!(g.string("X-Nestbox-Profile").as_deref(), Some("t"));
    assert_eq!(g.string("StartupWMClass").as_deref(), Some("LaunchMe"));
    assert_eq!(g.list("MimeType"), ["text/plain", "x-scheme-handler/https"]);
    assert!(g.string("Icon").unwrap().ends_with("icons/launchme.png"));
    let fx = group(&launcher(&env, "firefox"));
    assert_eq!(
        fx.string("Name").as_deref(),
        Some("Firefox ESR (sandboxed)")
    );
    assert_eq!(fx.string("Icon").as_deref(), Some("firefox-esr"));
    assert!(fx
        .string("Exec")
        .unwrap()
        .ends_with(" run --share-files -- firefox %u"));
    let xt = group(&launcher(&env, "xterm"));
    assert_eq!(xt.string("Icon").as_deref(), Some("mini.xterm"));
    assert!(xt
        .string("Exec")
        .unwrap()
        .ends_with(" run --share-files -- xterm"));

    // Run the Exec line as a desktop would: %U made the URL opened.
    let line = exec::parse_exec(&g.string("Exec").unwrap()).unwrap();
    assert_eq!(line.file_code, Some(exec::FileCode::Urls));
    let exe = fs::canonicalize(NESTBOX).unwrap();
    assert_eq!(line.argv[0], exe.to_str().unwrap());
    assert_eq!(line.argv[1..], ["run", "--share-files", "--", "t"]);
    let mut args: Vec<&str> = line.argv[1..].iter().map(String::as_str).collect();
    args.push("https://example.org/page");
    let o = env.run(&args);
    assert_eq!(ok(&o), "launched https://example.org/page\n");
    // A file opened through the launcher is bound in, and the app is told where.
    let file = env.dir.join("notes.txt");
    fs::write(&file, "x").unwrap();
    args.pop();
    let file = file.display().to_string();
    args.push(&file);
    let o = env.run(&args);
    assert_eq!(
        ok(&o),
        format!(
            "launched /run/user/{}/nestbox-files/0/notes.txt\n",
            nix::unistd::getuid()
        )
    );
}

#[test]
fn list_remove_and_sync() {
    unprivileged!("list_remove_and_sync");
    let (env, apps) = world("sync");
    env.profile(
        "gone",
        "extends = [\"base\"]\n[run]\ncommand = [\"true\"]\n",
    );
    for p in ["t", "xterm", "gone"] {
        ok(&env.run(&["desktop", "install", p]));
    }
    let list = ok(&env.run(&["desktop", "list"]));
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["PROFILE", "STATUS", "LAUNCHER"], "{list}");
    assert_eq!(rows.len(), 4, "{list}");
    assert!(rows[1..].iter().all(|r| r[1] == "ok"), "{list}");

    // The profile goes, the app's entry changes: list says so, sync follows.
    fs::remove_file(env.config.join("nestbox/profiles/gone.toml")).unwrap();
    let entry = apps.join("org.example.Launch.desktop");
    let text = fs::read_to_string(&entry).unwrap();
    fs::write(
        &entry,
        text.replace("Name=Launch Me", "Name=Launch Me Again"),
    )
    .unwrap();
    let list = ok(&env.run(&["desktop", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("gone") && l.contains("missing")),
        "{list}"
    );
    let out = ok(&env.run(&["desktop", "sync"]));
    assert!(
        out.contains("nestbox-gone.desktop: profile gone is gone"),
        "{out}"
    );
    assert!(out.contains("updated"), "{out}");
    assert!(!launcher(&env, "gone").exists());
    assert_eq!(
        group(&launcher(&env, "t")).string("Name").as_deref(),
        Some("Launch Me Again (sandboxed)")
    );
    validate(&launcher(&env, "t"));

    let out = ok(&env.run(&["desktop", "remove", "xterm"]));
    assert!(out.starts_with("removed "), "{out}");
    assert!(!launcher(&env, "xterm").exists());
    let o = env.run(&["desktop", "remove", "xterm"]);
    assert_one_line_error(&o, 1, "profile xterm has no launcher");
    let list = ok(&env.run(&["desktop", "list"]));
    assert_eq!(list.lines().count(), 2, "{list}");
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(env.data.join("applications"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["nestbox-t.desktop"]);
}

#[test]
fn a_desktop_entry_nestbox_did_not_write_is_never_replaced() {
    unprivileged!("a_desktop_entry_nestbox_did_not_write_is_never_replaced");
    let (env, _) = world("foreign");
    let path = launcher(&env, "t");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mine = "[Desktop Entry]\nType=Application\nName=Mine\nExec=mine\n";
    fs::write(&path, mine).unwrap();
    let o = env.run(&["desktop", "install", "t"]);
    assert_one_line_error(&o, 1, "nestbox did not write it");
    let o = env.run(&["desktop", "remove", "t"]);
    assert_one_line_error(&o, 1, "not written by nestbox");
    let o = env.run(&["desktop", "sync"]);
    ok(&o);
    assert_eq!(fs::read_to_string(&path).unwrap(), mine);
    // A name that is no profile name is refused before any path is made of it.
    for args in [
        &["desktop", "install", "../x"][..],
        &["desktop", "remove", "a/b"],
        &["profile", "new", "../x", "--from-desktop", "firefox-esr"],
    ] {
        assert_one_line_error(&env.run(args), 1, "invalid profile name");
    }
    // An abstraction has nothing to launch; a profile naming a missing entry says which.
    assert_one_line_error(
        &env.run(&["desktop", "install", "base"]),
        1,
        "has no command",
    );
    env.profile(
        "u",
        &LAUNCH_PROFILE.replace("org.example.Launch", "org.example.Missing"),
    );
    assert_one_line_error(
        &env.run(&["desktop", "install", "u"]),
        1,
        "no desktop entry \"org.example.Missing.desktop\"",
    );
}

/// `ARGS` run by the nestbox binary at `exe` (a copy), in the test's world. A copy outside the
/// checkout has no shipped profiles: the profiles it loads must extend none.
fn nestbox_at(env: &TestEnv, exe: &Path, args: &[&str]) -> std::process::Output {
    let world = env.nestbox(&[]);
    let vars = world.get_envs().filter_map(|(k, v)| Some((k, v?)));
    Command::new(exe)
        .args(args)
        .env_clear()
        .envs(vars)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_launcher_never_leads_where_a_sandbox_can_write() {
    unprivileged!("a_launcher_never_leads_where_a_sandbox_can_write");
    let (env, apps) = world("writable");
    // A nestbox in a sandbox's persistent home.
    let in_home = env.backing_home("t").join("bin/nestbox");
    fs::create_dir_all(in_home.parent().unwrap()).unwrap();
    fs::copy(NESTBOX, &in_home).unwrap();
    let o = nestbox_at(&env, &in_home, &["desktop", "install", "t"]);
    assert_one_line_error(&o, 1, "the sandboxes' persistent homes");
    assert!(stderr(&o).contains("the nestbox binary"), "{}", stderr(&o));
    // A nestbox under a profile's read-write bind.
    let tools = env.dir.join("tools");
    fs::create_dir_all(&tools).unwrap();
    env.profile(
        "w",
        &format!("[filesystem]\nrw = [\"{}\"]\n", tools.display()),
    );
    let in_bind = tools.join("nestbox");
    fs::copy(NESTBOX, &in_bind).unwrap();
    let o = nestbox_at(&env, &in_bind, &["desktop", "install", "t"]);
    assert_one_line_error(&o, 1, "a read-write bind of profile w");
    // An icon there.
    let entry = apps.join("org.example.Launch.desktop");
    fs::write(&entry, launch_entry(&tools.join("icon.png"))).unwrap();
    let o = env.run(&["desktop", "install", "t"]);
    assert_one_line_error(&o, 1, "the icon");
    assert!(!launcher(&env, "t").exists());
}

#[test]
fn profile_new_from_a_desktop_entry_checks_and_plans() {
    unprivileged!("profile_new_from_a_desktop_entry_checks_and_plans");
    let (mut env, apps) = world("new");
    let out = ok(&env.run(&[
        "profile",
        "new",
        "fx",
        "--from-desktop",
        "firefox-esr.desktop",
    ]));
    assert!(out.contains("fx.toml"), "{out}");
    let text = fs::read_to_string(env.config.join("nestbox/profiles/fx.toml")).unwrap();
    assert!(
        text.contains("extends = [\"base\", \"x11\", \"network\", \"pulse\", \"gpu\"]"),
        "{text}"
    );
    assert!(
        text.contains("desktop_entry = \"firefox-esr.desktop\""),
        "{text}"
    );
    assert!(
        text.contains("command = [\"/usr/lib/firefox-esr/firefox-esr\"]"),
        "{text}"
    );
    assert!(text.contains("x-scheme-handler/https"), "{text}");
    ok(&env.run(&["check", "fx"]));
    // Again: refused, unless forced. By path, without .desktop.
    let o = env.run(&["profile", "new", "fx", "--from-desktop", "firefox-esr"]);
    assert_one_line_error(&o, 1, "give --force");
    let xterm = apps.join("debian-xterm.desktop");
    let o = env.run(&[
        "profile",
        "new",
        "xt",
        "--from-desktop",
        xterm.to_str().unwrap(),
    ]);
    ok(&o);
    let text = fs::read_to_string(env.config.join("nestbox/profiles/xt.toml")).unwrap();
    assert!(text.contains("extends = [\"base\", \"x11\"]\n"), "{text}");
    assert!(
        text.contains("desktop_entry = \"debian-xterm.desktop\""),
        "{text}"
    );
    ok(&env.run(&[
        "profile",
        "new",
        "fx",
        "--from-desktop",
        "firefox-esr",
        "--force",
    ]));
    // explain plans both, on a display.
    let x = Xvfb::start(&env);
    env.use_display(&x);
    for p in ["fx", "xt"] {
        let o = env.run(&["explain", p]);
        assert!(ok(&o).contains(&format!("Profile {p}")), "{}", stdout(&o));
    }
    // The new profile's launcher takes the entry it names.
    ok(&env.run(&["desktop", "install", "xt"]));
    assert_eq!(
        group(&launcher(&env, "xt")).string("Name").as_deref(),
        Some("XTerm (sandboxed)")
    );
    // What is not an app's entry is one line.
    let link = apps.join("link.desktop");
    fs::write(&link, "[Desktop Entry]\nType=Link\nName=L\nURL=https://x\n").unwrap();
    let o = env.run(&["profile", "new", "l", "--from-desktop", "link.desktop"]);
    assert_one_line_error(&o, 1, "not an application");
    let o = env.run(&["profile", "new", "n", "--from-desktop", "nothing.desktop"]);
    assert_one_line_error(&o, 1, "no desktop entry \"nothing.desktop\"");
    assert!(!env.config.join("nestbox/profiles/n.toml").exists());
}

#[test]
fn entries_are_read_as_glib_reads_them_and_launchers_end_options_before_the_profile() {
    unprivileged!(
        "entries_are_read_as_glib_reads_them_and_launchers_end_options_before_the_profile"
    );
    let (env, apps) = world("desktop-glib");
    // A key given twice: GLib (and so the desktop) takes the last; so does nestbox.
    fs::write(
        apps.join("twice.desktop"),
        "[Desktop Entry]\nType=Application\nName=Twice\nExec=first-program %f\nExec=second-program %f\n",
    )
    .unwrap();
    ok(&env.run(&["profile", "new", "twice", "--from-desktop", "twice.desktop"]));
    let text = fs::read_to_string(env.config.join("nestbox/profiles/twice.toml")).unwrap();
    assert!(text.contains("\"second-program\""), "{text}");
    assert!(!text.contains("first-program"), "{text}");
    // A raw carriage return inside a value never reaches a profile or a launcher.
    fs::write(
        apps.join("cr.desktop"),
        "[Desktop Entry]\nType=Application\nName=CR\rExec=evil\nExec=cr\n",
    )
    .unwrap();
    let o = env.run(&["profile", "new", "cr", "--from-desktop", "cr.desktop"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cr.desktop:3: the value of \"Name\" holds a control character"),
        "{}",
        stderr(&o)
    );
    // A profile name is never an option.
    let o = env.run(&["desktop", "install", "--", "--new-instance"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid profile name \"--new-instance\""),
        "{}",
        stderr(&o)
    );
    // The launcher's Exec ends nestbox's options before the profile.
    ok(&env.run(&["desktop", "install", "t"]));
    let text = fs::read_to_string(launcher(&env, "t")).unwrap();
    assert!(text.contains(" run --share-files -- t %U\n"), "{text}");
}
