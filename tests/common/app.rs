//! Starting a real app through the `nestbox` binary on an Xvfb of the test's own and checking what
//! a user would see: its window drawn, the app alive, stopped by SIGTERM, its files in its private
//! home. Used by tests/apps.rs.

use super::*;
use std::fs;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// Colour painted on the root window: an undrawn window shows it through.
const ROOT_RGB: u32 = 0x3355aa;
const ROOT_COLOR: &str = "#3355aa";

/// One app launch through the `nestbox` binary and what to look for.
pub struct App<'a> {
    /// The profile run; its private home is homes/PROFILE.
    pub profile: &'a str,
    /// The program that must be installed on the host, and its Debian package.
    pub program: &'a str,
    pub package: &'a str,
    /// Words after the profile's name.
    pub args: Vec<String>,
    /// Text in the app's top-level window line of `xwininfo -root -tree`: its title or class.
    pub window: String,
    /// Seconds the window may take to appear (first starts build caches).
    pub timeout: u64,
    /// A file or directory the app makes in its home, relative to the home (any one of these).
    pub home_entry: &'a [&'a str],
    /// More checks while the app runs.
    pub during: &'a dyn Fn(),
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
pub fn launch(mut env: TestEnv, a: App) {
    let started = Instant::now();
    if !Path::new(a.program).exists() {
        panic!(
            "{} is not installed (apt-get install {}, as scripts/setup --test does): the shipped {} profile cannot be tested",
            a.program, a.package, a.profile
        );
    }
    // What the host home holds before (a sound server of the test's own keeps its cookie there).
    let host_home_before = walk(&env.home);
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
    assert_eq!(
        walk(&env.home),
        host_home_before,
        "written to the host home"
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
pub fn page_in_home(env: &TestEnv, profile: &str, title: &str) -> String {
    let home = env.backing_home(profile);
    fs::create_dir_all(&home).unwrap();
    let page = format!(
        "<html><head><title>{title}</title></head><body style='background:#2a6'><h1>inside nestbox</h1></body></html>"
    );
    fs::write(home.join("page.html"), page).unwrap();
    format!("file://{}/page.html", env.home.display())
}

/// A PNG made by ImageMagick in `profile`'s private home; its path inside.
pub fn picture_in_home(env: &TestEnv, profile: &str, file: &str) -> String {
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
pub fn file_in_home(env: &TestEnv, profile: &str, file: &str, text: &str) -> String {
    let home = env.backing_home(profile);
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join(file), text).unwrap();
    env.home.join(file).display().to_string()
}

/// A one-page PDF whose document title is `title`: a green page with a line of text.
pub fn tiny_pdf(title: &str) -> Vec<u8> {
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

/// Every path under `dir`, recursively, sorted.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = walk_unsorted(dir);
    out.sort();
    out
}

fn walk_unsorted(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk_unsorted(&path));
        }
        out.push(path);
    }
    out
}
