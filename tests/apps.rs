//! Real apps through their shipped profiles: every profile passes `nestbox check`, every app
//! profile whose app is installed gets a plan from `nestbox explain`, and the Debian apps CI
//! installs (scripts/setup --test) start in their sandboxes on an Xvfb of the test's own with cookie
//! auth: the window appears and is drawn, the app is still alive a few seconds later, a screenshot
//! is kept, SIGTERM to nestbox stops it, and its files went to its private home, none to the host's.

#[macro_use]
mod common;

use common::app::*;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};

/// The app profiles whose apps scripts/setup --test installs: their explain must work here.
const INSTALLED_IN_CI: &[&str] = &[
    "chromium",
    "eog",
    "evince",
    "firefox",
    "gimp",
    "inkscape",
    "keepassxc",
    "libreoffice",
    "mpv",
    "thunderbird",
    "transmission-gtk",
    "vlc",
    "xterm",
];

fn shipped_profiles() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_profile_passes_check() {
    unprivileged!("every_shipped_profile_passes_check");
    let env = TestEnv::new("check");
    let files = shipped_profiles();
    assert!(files.len() > 30, "{files:?}");
    let o = env.nestbox(&["check"]).args(&files).output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for f in &files {
        let line = format!("{}: ok (", f.display());
        assert!(stdout(&o).contains(&line), "{line} missing: {}", stdout(&o));
    }
}

#[test]
fn every_installed_app_profile_explains() {
    unprivileged!("every_installed_app_profile_explains");
    let mut env = TestEnv::new("explain");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let mut explained = Vec::new();
    let mut report = String::new();
    for f in shipped_profiles() {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let o = env.run(&["explain", &name]);
        let err = stderr(&o);
        let verdict = if o.status.success() {
            assert!(
                stdout(&o).starts_with(&format!("Profile {name} (")),
                "{}",
                stdout(&o)
            );
            explained.push(name.clone());
            "explained"
        } else if err.contains("is an abstraction with no command") {
            "abstraction"
        } else if o.status.code() == Some(127) && err.contains("not found inside the sandbox") {
            "app not installed here"
        } else {
            panic!("nestbox explain {name}: {err}");
        };
        report += &format!("{name}: {verdict}\n");
    }
    eprint!("{report}");
    for name in INSTALLED_IN_CI {
        assert!(
            explained.iter().any(|e| e == name),
            "{name} is installed by scripts/setup --test but not explained:\n{report}"
        );
    }
    // Nothing was launched: no home made.
    assert!(!env.data.join("nestbox/homes").exists());
}

#[test]
fn firefox_esr_starts_in_its_sandbox() {
    unprivileged!("firefox_esr_starts_in_its_sandbox");
    let env = TestEnv::new("app-firefox");
    let title = format!("nestbox page {}", std::process::id());
    let url = page_in_home(&env, "firefox", &title);
    launch(
        env,
        App {
            profile: "firefox",
            program: "/usr/bin/firefox-esr",
            package: "firefox-esr",
            args: vec![url],
            window: title,
            timeout: 90,
            // Firefox 147 and later keep the profile in ~/.config/mozilla, older ones in ~/.mozilla.
            home_entry: &[".config/mozilla", ".mozilla"],
            during: &|| {},
        },
    );
}

#[test]
fn chromium_starts_in_its_sandbox() {
    unprivileged!("chromium_starts_in_its_sandbox");
    let env = TestEnv::new("app-chromium");
    let title = format!("nestbox page {}", std::process::id());
    let url = page_in_home(&env, "chromium", &title);
    launch(
        env,
        App {
            profile: "chromium",
            program: "/usr/bin/chromium",
            package: "chromium",
            args: vec![url],
            window: title,
            timeout: 90,
            home_entry: &[".config/chromium/Default"],
            during: &renderers_in_a_user_namespace_of_their_own,
        },
    );
}

/// Chromium's own sandbox works inside nestbox's (the profile's user_namespaces = true): its
/// renderers run in a user namespace other than the browser's.
fn renderers_in_a_user_namespace_of_their_own() {
    let user_ns = |pid: u32| fs::read_link(format!("/proc/{pid}/ns/user")).ok();
    let chromium = pids_with("/usr/lib/chromium/chromium");
    let cmdline = |pid: u32| {
        fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .unwrap_or_default()
    };
    let browser = chromium
        .iter()
        .copied()
        .find(|&p| !cmdline(p).contains("--type="))
        .expect("no Chromium browser process");
    let renderers: Vec<u32> = chromium
        .iter()
        .copied()
        .filter(|&p| cmdline(p).contains("--type=renderer"))
        .collect();
    assert!(!renderers.is_empty(), "no Chromium renderer");
    let browser_ns = user_ns(browser).expect("the browser's user namespace");
    for r in renderers {
        let ns = user_ns(r);
        assert!(
            ns.is_some() && ns != Some(browser_ns.clone()),
            "renderer {r} shares the browser's user namespace: Chromium's sandbox is off"
        );
    }
}

#[test]
fn xterm_starts_in_its_sandbox() {
    unprivileged!("xterm_starts_in_its_sandbox");
    let env = TestEnv::new("app-xterm");
    let title = format!("nestbox-xterm-{}", std::process::id());
    let script = "echo written inside > ~/from-xterm; echo hello from the sandbox; sleep 600";
    launch(
        env,
        App {
            profile: "xterm",
            program: "/usr/bin/xterm",
            package: "xterm",
            args: [
                "-T",
                &title,
                "-geometry",
                "60x15+20+20",
                "-e",
                "sh",
                "-c",
                script,
            ]
            .map(String::from)
            .to_vec(),
            window: title,
            timeout: 30,
            home_entry: &["from-xterm"],
            during: &|| {},
        },
    );
}

#[test]
fn mpv_plays_in_its_sandbox() {
    unprivileged!("mpv_plays_in_its_sandbox");
    let env = TestEnv::new("app-mpv");
    let pulse = common::pulse::Pulse::start(&env, &[]);
    let title = format!("nestbox-mpv-{}", std::process::id());
    // A test picture and a sine generated by libavfilter: nothing to download or bind. The
    // sine is heard on the sink through the proxy.
    launch(
        env,
        App {
            profile: "mpv",
            program: "/usr/bin/mpv",
            package: "mpv",
            args: vec![
                format!("--title={title}"),
                "--loop=inf".into(),
                "--audio-file=av://lavfi:sine=frequency=440:sample_rate=44100".into(),
                "av://lavfi:testsrc=size=320x240:rate=25".into(),
            ],
            window: title,
            timeout: 30,
            home_entry: &[".config/mpv"],
            during: &|| assert_heard(&pulse, "mpv"),
        },
    );
}

#[test]
fn evince_shows_a_pdf_bound_by_a_user_profile() {
    unprivileged!("evince_shows_a_pdf_bound_by_a_user_profile");
    let env = TestEnv::new("app-evince");
    let title = format!("nestbox pdf {}", std::process::id());
    let pdf = env.dir.join("doc.pdf");
    fs::write(&pdf, tiny_pdf(&title)).unwrap();
    // The user's evince.toml adjusts the shipped one (a profile naming itself extends the next
    // one down the search path): the PDF, outside every folder evince gets, bound read-only.
    env.profile(
        "evince",
        &format!(
            "extends = [\"evince\"]\n[filesystem]\nro = [\"{}\"]\n",
            pdf.display()
        ),
    );
    launch(
        env,
        App {
            profile: "evince",
            program: "/usr/bin/evince",
            package: "evince",
            args: vec![pdf.display().to_string()],
            window: title,
            timeout: 45,
            home_entry: &[".local/share/recently-used.xbel"],
            during: &|| {},
        },
    );
}

#[test]
fn gimp_opens_a_picture_from_its_private_home() {
    unprivileged!("gimp_opens_a_picture_from_its_private_home");
    let env = TestEnv::new("app-gimp");
    let name = format!("nestbox-{}", std::process::id());
    let inside = picture_in_home(&env, "gimp", &format!("{name}.png"));
    launch(
        env,
        App {
            profile: "gimp",
            program: "/usr/bin/gimp",
            package: "gimp",
            args: vec![inside],
            window: name,
            timeout: 120,
            home_entry: &[".config/GIMP"],
            during: &|| {},
        },
    );
}

#[test]
fn eog_shows_a_picture() {
    unprivileged!("eog_shows_a_picture");
    let env = TestEnv::new("app-eog");
    let file = format!("nestbox-{}.png", std::process::id());
    let inside = picture_in_home(&env, "eog", &file);
    launch(
        env,
        App {
            profile: "eog",
            program: "/usr/bin/eog",
            package: "eog",
            args: vec![inside],
            window: format!("\"{file}\": (\"eog\""),
            timeout: 45,
            home_entry: &[".config/eog"],
            during: &|| {},
        },
    );
}

#[test]
fn vlc_shows_a_picture() {
    unprivileged!("vlc_shows_a_picture");
    let env = TestEnv::new("app-vlc");
    let file = format!("nestbox-{}.png", std::process::id());
    let inside = picture_in_home(&env, "vlc", &file);
    launch(
        env,
        App {
            profile: "vlc",
            program: "/usr/bin/vlc",
            package: "vlc",
            // No first-start privacy dialog; the picture shown until stopped.
            args: ["--no-qt-privacy-ask", "--image-duration=-1", &inside]
                .map(String::from)
                .to_vec(),
            window: format!("{file} - VLC media player"),
            timeout: 45,
            home_entry: &[".config/vlc"],
            during: &|| {},
        },
    );
}

#[test]
fn inkscape_opens_a_drawing() {
    unprivileged!("inkscape_opens_a_drawing");
    let env = TestEnv::new("app-inkscape");
    let file = format!("nestbox-{}.svg", std::process::id());
    let svg = "<svg xmlns='http://www.w3.org/2000/svg' width='200' height='150'><rect width='200' height='150' fill='#2a6'/><circle cx='100' cy='75' r='50' fill='#fc0'/></svg>\n";
    let inside = file_in_home(&env, "inkscape", &file, svg);
    launch(
        env,
        App {
            profile: "inkscape",
            program: "/usr/bin/inkscape",
            package: "inkscape",
            args: vec![inside],
            window: format!("{file} - Inkscape"),
            timeout: 90,
            home_entry: &[".config/inkscape"],
            during: &|| {},
        },
    );
}

#[test]
fn libreoffice_opens_a_text() {
    unprivileged!("libreoffice_opens_a_text");
    let env = TestEnv::new("app-libreoffice");
    let file = format!("nestbox-{}.txt", std::process::id());
    let inside = file_in_home(&env, "libreoffice", &file, "inside nestbox\n");
    launch(
        env,
        App {
            profile: "libreoffice",
            program: "/usr/bin/libreoffice",
            package: "libreoffice-writer",
            args: vec![inside],
            window: format!("{file} - LibreOffice Writer"),
            timeout: 90,
            home_entry: &[".config/libreoffice"],
            during: &|| {},
        },
    );
}

#[test]
fn thunderbird_starts_in_its_sandbox() {
    unprivileged!("thunderbird_starts_in_its_sandbox");
    launch(
        TestEnv::new("app-thunderbird"),
        App {
            profile: "thunderbird",
            program: "/usr/bin/thunderbird",
            package: "thunderbird",
            args: vec![],
            window: "Mozilla Thunderbird".into(),
            timeout: 90,
            home_entry: &[".thunderbird"],
            during: &|| {},
        },
    );
}

#[test]
fn keepassxc_starts_in_its_sandbox() {
    unprivileged!("keepassxc_starts_in_its_sandbox");
    launch(
        TestEnv::new("app-keepassxc"),
        App {
            profile: "keepassxc",
            program: "/usr/bin/keepassxc",
            package: "keepassxc",
            args: vec![],
            window: "(\"keepassxc\" \"KeePassXC\")".into(),
            timeout: 45,
            home_entry: &[".config/keepassxc"],
            during: &|| {},
        },
    );
}

#[test]
fn transmission_starts_in_its_sandbox() {
    unprivileged!("transmission_starts_in_its_sandbox");
    launch(
        TestEnv::new("app-transmission"),
        App {
            profile: "transmission-gtk",
            program: "/usr/bin/transmission-gtk",
            package: "transmission-gtk",
            args: vec![],
            window: "(\"transmission-gtk\"".into(),
            timeout: 45,
            home_entry: &[".config/transmission"],
            during: &|| {},
        },
    );
}

#[test]
fn a_second_firefox_launch_opens_its_page_in_the_running_firefox() {
    unprivileged!("a_second_firefox_launch_opens_its_page_in_the_running_firefox");
    let mut env = TestEnv::new("app-firefox-again");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let first_title = format!("nestbox first {}", std::process::id());
    let first = page_in_home(&env, "firefox", &first_title);
    let log = fs::File::create(env.dir.join("first.log")).unwrap();
    let mut app = env
        .nestbox(&["run", "firefox", &first])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_for(90, "the first page's window", || {
        x.tree().contains(&first_title).then_some(())
    });
    // The second launch joins the sandbox; Firefox there hands the URL to the running Firefox
    // over the sandbox's own bus, and exits.
    let second_title = format!("nestbox second {}", std::process::id());
    let second = file_in_home(
        &env,
        "firefox",
        "second.html",
        &format!("<html><head><title>{second_title}</title></head><body>again</body></html>"),
    );
    let started = std::time::Instant::now();
    let o = env
        .nestbox(&["run", "firefox", &format!("file://{second}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        started.elapsed().as_secs() < 20,
        "it handed over, it did not stay"
    );
    wait_for(30, "the second page in the running Firefox", || {
        x.tree().contains(&second_title).then_some(())
    });
    let firefoxes = stdout(&env.run(&[
        "enter",
        "firefox",
        "sh",
        "-c",
        "ps -e -o comm= | grep -c '^firefox-esr$'",
    ]));
    assert_eq!(firefoxes.trim(), "1", "one Firefox, with both pages");
    let rows = stdout(&env.run(&["ps"]));
    assert_eq!(rows.lines().count(), 2, "one sandbox: {rows}");
    x.screenshot("app-firefox-second-launch.png");
    assert!(env.run(&["stop", "firefox"]).status.success());
    wait_for(20, "nestbox to exit", || app.try_wait().unwrap());
}

/// Sound through the proxy, heard on the sink of a pulseaudio of the test's own while the app
/// shows its window.
fn assert_heard(pulse: &common::pulse::Pulse, app: &str) {
    let heard = common::pulse::peak(pulse.record());
    assert!(
        heard > 4000,
        "{app}'s sound did not reach the sink (peak {heard})"
    );
    // Heard through the sandbox's own socket: nothing loaded on the server for it.
    assert!(
        !pulse.modules().iter().any(|m| m.contains("nestbox")),
        "{:?}",
        pulse.modules()
    );
}

#[test]
fn firefox_plays_sound_through_the_proxy() {
    unprivileged!("firefox_plays_sound_through_the_proxy");
    let env = TestEnv::new("app-firefox-sound");
    let pulse = common::pulse::Pulse::start(&env, &[]);
    let title = format!("nestbox sound {}", std::process::id());
    // A Firefox profile of the test's own in the private home, allowing autoplay with sound, and
    // a page that plays a tone made by sox.
    let home = env.backing_home("firefox");
    let profile = home.join(".mozilla/nestbox-test");
    fs::create_dir_all(&profile).unwrap();
    fs::write(
        profile.join("user.js"),
        "user_pref(\"media.autoplay.default\", 0);\n\
         user_pref(\"media.autoplay.blocking_policy\", 0);\n",
    )
    .unwrap();
    let made = std::process::Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(home.join("tone.wav"))
        .args(["synth", "60", "sine", "440", "vol", "0.5"])
        .status()
        .expect("sox is needed (apt-get install sox)");
    assert!(made.success());
    fs::write(
        home.join("sound.html"),
        format!("<html><head><title>{title}</title></head><body><audio src='tone.wav' autoplay loop></audio></body></html>"),
    )
    .unwrap();
    let inside = env.home.clone();
    launch(
        env,
        App {
            profile: "firefox",
            program: "/usr/bin/firefox-esr",
            package: "firefox-esr",
            args: vec![
                "-profile".into(),
                inside.join(".mozilla/nestbox-test").display().to_string(),
                format!("file://{}/sound.html", inside.display()),
            ],
            window: title,
            timeout: 90,
            home_entry: &[".mozilla"],
            during: &|| assert_heard(&pulse, "firefox"),
        },
    );
}
