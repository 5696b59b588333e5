//! Real apps through their shipped profiles: every profile passes `nestbox check`, every app
//! profile whose app is installed gets a plan from `nestbox explain`, and the Debian apps CI
//! installs (scripts/setup --test) start in their sandboxes on an Xvfb of the test's own with cookie
//! auth: the window appears and is drawn, the app is still alive a few seconds later, a screenshot
//! is kept, SIGTERM to nestbox stops it, and its files went to its private home, none to the host's.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Colour painted on the root window: an undrawn window shows it through.
const ROOT_RGB: u32 = 0x3355aa;
const ROOT_COLOR: &str = "#3355aa";

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

/// One app launch through the `nestbox` binary and what to look for.
struct App<'a> {
    /// The profile run; its private home is homes/PROFILE.
    profile: &'a str,
    /// The program that must be installed on the host, and its Debian package.
    program: &'a str,
    package: &'a str,
    /// Words after the profile's name.
    args: Vec<String>,
    /// Text in the app's top-level window line of `xwininfo -root -tree`: its title or class.
    window: String,
    /// Seconds the window may take to appear (first starts build caches).
    timeout: u64,
    /// A file or directory the app makes in its home, relative to the home (any one of these).
    home_entry: &'a [&'a str],
    /// More checks while the app runs.
    during: &'a dyn Fn(),
}

/// The geometry (`WxH+X+Y`) of the biggest top-level window whose line holds `needle`; toolkits'
/// 10x10 leader and 1x1 helper windows share the name and class, and are left out.
fn app_window(x: &Xvfb, needle: &str) -> Option<String> {
    x.tree()
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            // `0x200004 "t.pdf": ("evince" "Evince")  610x610+0+0  +0+0`
            let words: Vec<&str> = l.split_whitespace().collect();
            let size = words.get(words.len().checked_sub(2)?)?.split('+').next()?;
            let (w, h) = size.split_once('x')?;
            let (w, h): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
            let at = words.last()?;
            (w > 50 && h > 50).then(|| (w * h, format!("{size}{at}")))
        })
        .max()
        .map(|(_, g)| g)
}

/// Whether `geometry` of `shot` shows a drawn window: mostly not the root's colour, and not one
/// flat colour either.
fn drawn(x: &Xvfb, shot: &Path, geometry: &str) -> Result<(), String> {
    let root_share = x.share_of_color(shot, geometry, ROOT_COLOR);
    let out = std::process::Command::new("convert")
        .arg(shot)
        .args(["-crop", geometry, "+repage", "-format", "%k", "info:"])
        .output()
        .unwrap();
    let colors: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    if root_share < 0.5 && colors > 1 {
        Ok(())
    } else {
        Err(format!(
            "{geometry}: {:.0}% root colour, {colors} colours",
            root_share * 100.0
        ))
    }
}

/// SIGTERM to nestbox, as a desktop's logout or `kill` sends it: the app must be gone within
/// `secs`, without a SIGKILL.
fn stop(app: &mut Child, secs: u64) -> std::process::ExitStatus {
    // SAFETY: a plain kill of our own child, not yet reaped.
    unsafe { libc::kill(app.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = app.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            terminate(app);
            panic!("the app did not stop within {secs} s of SIGTERM to nestbox");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Launch `a` in its shipped (or the test's own) profile on a fresh Xvfb and check it as the
/// module's comment says.
fn launch(mut env: TestEnv, a: App) {
    let started = Instant::now();
    if !Path::new(a.program).exists() {
        panic!(
            "{} is not installed (apt-get install {}, as scripts/setup --test does): the shipped {} profile cannot be tested",
            a.program, a.package, a.profile
        );
    }
    let x = Xvfb::start(&env);
    x.paint_root(ROOT_RGB);
    env.use_display(&x);
    let log = env.dir.join("app.log");
    let mut args = vec!["run".to_string(), a.profile.to_string()];
    args.extend(a.args.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = fs::File::create(&log).unwrap();
    let mut app = env
        .nestbox(&args)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let log_text = || fs::read_to_string(&log).unwrap_or_default();

    // The window appears...
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    let geometry = loop {
        if let Some(g) = app_window(&x, &a.window) {
            break g;
        }
        if let Some(status) = app.try_wait().unwrap() {
            panic!(
                "nestbox exited ({status}) before the window appeared:\n{}",
                log_text()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no window {:?} after {} s; windows:\n{}\nlog:\n{}",
            a.window,
            a.timeout,
            x.tree(),
            log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let appeared = started.elapsed();

    // ... and is drawn (a window may be mapped before it is painted, or resized after).
    let shot_name = format!("app-{}.png", a.profile);
    let mut last = String::new();
    let painted = (0..60).any(|_| {
        std::thread::sleep(Duration::from_millis(500));
        let geometry = app_window(&x, &a.window).unwrap_or_else(|| geometry.clone());
        let shot = x.screenshot(&shot_name);
        match drawn(&x, &shot, &geometry) {
            Ok(()) => true,
            Err(e) => {
                last = e;
                false
            }
        }
    });
    assert!(painted, "the window is not drawn after 30 s ({last})");

    // Still alive a few seconds later, window and all.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        app.try_wait().unwrap().is_none(),
        "the app died:\n{}",
        log_text()
    );
    let geometry = app_window(&x, &a.window).expect("the window went away");
    let shot = x.screenshot(&shot_name);
    drawn(&x, &shot, &geometry).unwrap();
    (a.during)();

    // Stopped cleanly: SIGTERM to nestbox reaches the app, the window goes.
    let status = stop(&mut app, 20);
    wait_for(10, "the window to go", || {
        app_window(&x, &a.window).is_none().then_some(())
    });

    // Its files are in its private home, none in the host's home.
    let home = env.backing_home(a.profile);
    assert!(
        a.home_entry.iter().any(|e| home.join(e).exists()),
        "{:?} not in the private home {}",
        a.home_entry,
        home.display()
    );
    let host_home: Vec<_> = fs::read_dir(&env.home).unwrap().flatten().collect();
    assert!(
        host_home.is_empty(),
        "written to the host home: {host_home:?}"
    );
    eprintln!(
        "{}: window after {:.1} s, stopped with {status}, whole test {:.1} s; screenshot {}",
        a.profile,
        appeared.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        artifact(&shot_name).display()
    );
}

/// A page with a unique title, written into `profile`'s private home; its URL inside.
fn page_in_home(env: &TestEnv, profile: &str, title: &str) -> String {
    let home = env.backing_home(profile);
    fs::create_dir_all(&home).unwrap();
    let page = format!(
        "<html><head><title>{title}</title></head><body style='background:#2a6'><h1>inside nestbox</h1></body></html>"
    );
    fs::write(home.join("page.html"), page).unwrap();
    format!("file://{}/page.html", env.home.display())
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
    let title = format!("nestbox-mpv-{}", std::process::id());
    // A test picture generated by libavfilter: nothing to download or bind.
    launch(
        env,
        App {
            profile: "mpv",
            program: "/usr/bin/mpv",
            package: "mpv",
            args: vec![
                format!("--title={title}"),
                "--loop=inf".into(),
                "av://lavfi:testsrc=size=320x240:rate=25".into(),
            ],
            window: title,
            timeout: 30,
            home_entry: &[".config/mpv"],
            during: &|| {},
        },
    );
}

/// A one-page PDF whose document title is `title`: a green page with a line of text.
fn tiny_pdf(title: &str) -> Vec<u8> {
    let content =
        "0.16 0.66 0.4 rg 0 0 300 200 re f 0 0 0 rg BT /F1 24 Tf 40 90 Td (inside nestbox) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".into(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        format!("<< /Title ({title}) >>"),
    ];
    let mut pdf = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf += &format!("{} 0 obj\n{o}\nendobj\n", i + 1);
    }
    let xref = pdf.len();
    pdf += &format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        pdf += &format!("{o:010} 00000 n \n");
    }
    pdf += &format!(
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.into_bytes()
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

/// A PNG made by ImageMagick in `profile`'s private home; its path inside.
fn picture_in_home(env: &TestEnv, profile: &str, file: &str) -> String {
    let home = env.backing_home(profile);
    fs::create_dir_all(&home).unwrap();
    let made = std::process::Command::new("convert")
        .args(["-size", "200x150", "plasma:green-yellow"])
        .arg(home.join(file))
        .status()
        .unwrap();
    assert!(made.success(), "convert failed");
    env.home.join(file).display().to_string()
}

/// `text` written to `file` in `profile`'s private home; its path inside.
fn file_in_home(env: &TestEnv, profile: &str, file: &str, text: &str) -> String {
    let home = env.backing_home(profile);
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join(file), text).unwrap();
    env.home.join(file).display().to_string()
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
