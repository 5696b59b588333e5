//! nestbox-manager for real: the window under a private Xvfb (with a cookie) and session bus, as
//! the unprivileged test user, in a throw-away config. It is driven by real key presses (xdotool)
//! and by its actions over the session bus (org.gtk.Actions, the verbs its buttons send); what
//! it does is checked where a user would see it: the profile file it wrote, `nestbox explain`,
//! the window title, an xterm's window on the display, a launcher that validates, screenshots.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const MANAGER: &str = env!("CARGO_BIN_EXE_nestbox-manager");

/// A running manager, its display and its session bus.
struct Manager {
    env: TestEnv,
    x: Xvfb,
    bus: Child,
    address: String,
    child: Child,
}

impl Manager {
    fn start(name: &str, args: &[&str]) -> Manager {
        Manager::start_in(name, args, &[], "Sandboxes")
    }

    /// Start it with these variables and wait for a window whose title holds `title`.
    fn start_in(name: &str, args: &[&str], vars: &[(&str, &str)], title: &str) -> Manager {
        let mut env = TestEnv::new(name);
        let x = Xvfb::start_sized(&env, "1280x800x24");
        env.use_display(&x);
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon is needed (apt-get install dbus)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        env.extra_env
            .push(("DBUS_SESSION_BUS_ADDRESS".into(), address.clone()));
        let child = Manager::command(&env, args, vars)
            .stdout(Stdio::null())
            .stderr(fs::File::create(env.dir.join("manager.log")).unwrap())
            .spawn()
            .unwrap();
        let m = Manager {
            env,
            x,
            bus,
            address,
            child,
        };
        m.wait_title(title);
        m
    }

    /// `nestbox-manager ARGS` in the test's world.
    fn command(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let c = env.nestbox(&[]);
        let mut m = Command::new(MANAGER);
        m.args(args).env_clear();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                m.env(k, v);
            }
        }
        m.env("GDK_BACKEND", "x11")
            .env("GSK_RENDERER", "cairo")
            .env("GSETTINGS_BACKEND", "memory")
            .env("GTK_A11Y", "none")
            .env("NO_AT_BRIDGE", "1")
            .env("XDG_STATE_HOME", env.dir.join("state"));
        m.envs(vars.iter().copied());
        m
    }

    /// Wait until the manager's window title contains `text`.
    fn wait_title(&self, text: &str) {
        wait_for(20, &format!("a window titled {text:?}"), || {
            self.x
                .tree()
                .lines()
                .any(|l| l.contains(text))
                .then_some(())
        });
    }

    /// Activate the manager's action `name` with `param` (GVariant text; empty: none) over the
    /// session bus.
    fn action(&self, name: &str, param: &str) {
        let out = Command::new("gdbus")
            .args(["call", "--session", "--dest", "org.nestbox.Manager"])
            .args(["--object-path", "/org/nestbox/Manager"])
            .args(["--method", "org.gtk.Actions.Activate", name])
            .arg(if param.is_empty() {
                "[]".to_string()
            } else {
                format!("[<{param}>]")
            })
            .arg("{}")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("gdbus is needed (apt-get install libglib2.0-bin)");
        assert!(out.status.success(), "{}", stderr(&out));
    }

    fn key(&self, keys: &[&str]) {
        let st = self
            .x
            .client("xdotool")
            .arg("key")
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn type_text(&self, text: &str) {
        let st = self
            .x
            .client("xdotool")
            .args(["type", "--delay", "60", text])
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn user_file(&self, name: &str) -> PathBuf {
        self.env
            .config
            .join(format!("nestbox/profiles/{name}.toml"))
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `wait_for`, with the manager's log and a screenshot when it times out.
    fn wait<T>(&self, secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(v) = f() {
                return v;
            }
            if std::time::Instant::now() > end {
                self.x.screenshot("manager-timed-out.png");
                panic!(
                    "timed out waiting for {what}; the manager said:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// A screenshot of the display, once the window has drawn what the test just did (the
    /// window's title changes before its next frame is painted).
    fn shot(&self, name: &str) -> PathBuf {
        std::thread::sleep(std::time::Duration::from_millis(700));
        self.x.screenshot(name)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.env.dir.join("manager.log")).unwrap_or_default()
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        terminate(&mut self.child);
        terminate(&mut self.bus);
    }
}

#[test]
fn typing_searches_and_enter_opens_the_profile() {
    unprivileged!("typing_searches_and_enter_opens_the_profile");
    let m = Manager::start("manager-search", &[]);
    m.shot("manager-overview.png");
    // Typing anywhere goes to the search field (real key presses); Enter opens the first match.
    m.type_text("xter");
    m.key(&["Return"]);
    m.wait_title("XTerm – Sandboxes");
    let shot = m.shot("manager-xterm.png");
    assert!(fs::metadata(&shot).unwrap().len() > 10_000);
    // Ctrl+F, another name.
    m.key(&["ctrl+f", "ctrl+a"]);
    m.type_text("esr");
    m.key(&["Return"]);
    m.wait_title("Firefox ESR – Sandboxes");
}

/// The centre of the highest mark (a warning sign, in Adwaita's warning colour) of the overview's
/// last column, "User namespaces", in `shot`.
fn first_mark_of_last_column(shot: &std::path::Path) -> Option<(u32, u32)> {
    let out = Command::new("convert")
        .arg(shot)
        .args(["-fuzz", "15%", "-fill", "black", "+opaque", "#9c6e03"])
        .args(["-fill", "white", "-opaque", "#9c6e03"])
        .args(["-define", "connected-components:verbose=true"])
        .args(["-define", "connected-components:area-threshold=40"])
        .args(["-connected-components", "8", "null:"])
        .output()
        .expect("convert is needed (apt-get install imagemagick)");
    // "  1: 16x15+534+214 541.5,223.3 125 srgb(255,255,255)": size and place, centre, area.
    let marks: Vec<(u32, u32)> = stdout(&out)
        .lines()
        .filter(|l| l.contains("(255,255,255)"))
        .filter_map(|l| {
            let centre = l.split_whitespace().nth(2)?;
            let (x, y) = centre.split_once(',')?;
            Some((x.parse::<f64>().ok()? as u32, y.parse::<f64>().ok()? as u32))
        })
        .collect();
    let last = marks.iter().map(|(x, _)| *x).max()?;
    marks
        .into_iter()
        .filter(|(x, _)| x + 5 >= last)
        .min_by_key(|(_, y)| *y)
}

#[test]
fn a_mark_in_the_overview_leads_to_the_row_that_grants_it() {
    unprivileged!("a_mark_in_the_overview_leads_to_the_row_that_grants_it");
    let m = Manager::start("manager-mark", &[]);
    // A real click on the first mark for user namespaces.
    let (x, y) = m.wait(10, "a mark on the overview", || {
        first_mark_of_last_column(&m.shot("manager-overview.png"))
    });
    let st =
        m.x.client("xdotool")
            .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
            .status()
            .unwrap();
    assert!(st.success());
    let title = m.wait(10, "the app's page", || {
        let tree = m.x.tree();
        let line = tree.lines().find(|l| l.contains(" – Sandboxes"))?;
        Some(line.split('"').nth(1)?.to_string())
    });
    let app = title.trim_end_matches(" – Sandboxes");
    m.shot("manager-mark.png");
    // The page opened at the row that grants them, its switch focused: the space bar turns it off.
    m.key(&["space"]);
    let dir = m.env.config.join("nestbox/profiles");
    let (name, text) = m.wait(10, "the change saved", || {
        let file = fs::read_dir(&dir).ok()?.flatten().next()?.path();
        let text = fs::read_to_string(&file).ok()?;
        let name = file.file_stem()?.to_str()?.to_string();
        text.contains("user_namespaces").then_some((name, text))
    });
    assert!(text.contains("user_namespaces = false"), "{app}: {text}");
    let explained = stdout(&m.env.run(&["explain", &name]));
    assert!(
        explained.contains("New user namespaces: refused"),
        "{explained}"
    );
}

#[test]
fn a_new_profile_is_made_from_an_installed_app() {
    unprivileged!("a_new_profile_is_made_from_an_installed_app");
    let m = Manager::start("manager-new", &[]);
    // Ctrl+N, the app's name, Enter: real keys. A new toplevel takes the keyboard a moment after
    // it maps (there is no window manager to give it): on a busy machine that moment can be
    // missed, so the keys are tried again, with more time.
    let file = m.user_file("debian-xterm");
    for attempt in 1..=3 {
        m.key(&["ctrl+n"]);
        m.wait_title("New Profile");
        std::thread::sleep(std::time::Duration::from_secs(attempt));
        m.key(&["ctrl+a"]);
        m.type_text("debian-xterm");
        m.key(&["Return"]);
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !file.is_file() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if file.is_file() {
            break;
        }
    }
    m.wait(1, "the new profile", || file.is_file().then_some(()));
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("desktop_entry = \"debian-xterm.desktop\""),
        "{text}"
    );
    m.wait_title("XTerm – Sandboxes");
    let o = m.env.run(&["check", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn duplicate_rename_and_delete_a_profile() {
    unprivileged!("duplicate_rename_and_delete_a_profile");
    let m = Manager::start("manager-copies", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    // Each dialog is asked for as its button asks, then answered with keys.
    let answer = |verb: &str, profile: &str, keys: &dyn Fn()| {
        m.action(verb, &format!("{profile:?}"));
        std::thread::sleep(std::time::Duration::from_millis(1500));
        keys();
    };
    let m = &m;
    let named = |name: &'static str| {
        move || {
            m.key(&["ctrl+a"]);
            m.type_text(name);
            m.key(&["Return"]);
        }
    };
    answer("duplicate", "xterm", &named("myterm"));
    let copy = m.user_file("myterm");
    m.wait(10, "the copy", || copy.is_file().then_some(()));
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "extends = [\"xterm\"]\n"
    );
    assert!(m
        .env
        .run(&["check", copy.to_str().unwrap()])
        .status
        .success());
    m.wait(10, "the copy shown", || {
        m.log().contains("Made the profile myterm").then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    answer("rename", "myterm", &named("myterm2"));
    let renamed = m.user_file("myterm2");
    m.wait(10, "the renamed file", || {
        (renamed.is_file() && !copy.exists()).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Enter alone keeps the file.
    answer("delete", "myterm2", &|| m.key(&["Return"]));
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(renamed.is_file());
    // Delete, chosen.
    answer("delete", "myterm2", &|| m.key(&["Tab", "Return"]));
    m.wait(10, "the profile deleted", || {
        (!renamed.exists()).then_some(())
    });
    // The shipped profile is untouched, and still there.
    assert!(!m.user_file("xterm").exists());
    assert!(m.env.run(&["explain", "xterm"]).status.success());
}

#[test]
fn a_folder_chosen_in_the_dialog_is_bound_read_write() {
    unprivileged!("a_folder_chosen_in_the_dialog_is_bound_read_write");
    let m = Manager::start("manager-folder", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    let music = m.env.home.join("Music");
    fs::create_dir_all(&music).unwrap();
    // The "Read and write…" button's chooser; its location typed (Ctrl+L), Enter.
    m.action("add-folder", r#"("xterm", true)"#);
    m.wait_title("Choose a folder the app may change");
    std::thread::sleep(std::time::Duration::from_secs(1));
    m.key(&["ctrl+l"]);
    m.type_text(&format!("{}/", music.display()));
    m.key(&["Return"]);
    let file = m.user_file("xterm");
    m.wait(10, "the folder saved", || {
        fs::read_to_string(&file)
            .ok()
            .filter(|t| t.contains("rw = [\"~/Music\"]"))
    });
    let json = stdout(&m.env.run(&["explain", "--json", "xterm"]));
    assert!(json.contains(&music.display().to_string()), "{json}");
    // Our own save is no news: no "changed on disk" toast for it.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(!m.log().contains("changed on disk"), "{}", m.log());
}

#[test]
fn open_home_folder_hands_the_sandbox_home_to_the_file_manager() {
    unprivileged!("open_home_folder_hands_the_sandbox_home_to_the_file_manager");
    let m = Manager::start("manager-home", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    // The user's file manager: a desktop entry for folders, their default in mimeapps.list,
    // that writes down what it was asked to open.
    let opened = m.env.dir.join("opened");
    let apps = m.env.data.join("applications");
    fs::create_dir_all(&apps).unwrap();
    fs::write(
        apps.join("test-files.desktop"),
        format!(
            "[Desktop Entry]\nType=Application\nName=Files\nMimeType=inode/directory;\n\
             Exec=/bin/sh -c 'echo \"$1\" > {}' sh %u\n",
            opened.display()
        ),
    )
    .unwrap();
    fs::write(
        m.env.config.join("mimeapps.list"),
        "[Default Applications]\ninode/directory=test-files.desktop\n",
    )
    .unwrap();
    m.action("open-home", r#""xterm""#);
    let uri = m.wait(10, "the file manager asked", || {
        fs::read_to_string(&opened).ok().filter(|t| !t.is_empty())
    });
    let home = m.env.data.join("nestbox/homes/xterm");
    // GIO hands a local folder over as its path.
    let said = uri.trim();
    assert_eq!(
        said.strip_prefix("file://").unwrap_or(said),
        home.display().to_string()
    );
    assert!(home.is_dir());
}

#[test]
fn the_about_window_names_the_app() {
    unprivileged!("the_about_window_names_the_app");
    let m = Manager::start("manager-about", &[]);
    m.action("about", "");
    m.wait_title("\"About\"");
    m.shot("manager-about.png");
}

#[test]
fn the_window_size_is_remembered() {
    unprivileged!("the_window_size_is_remembered");
    let mut m = Manager::start("manager-size", &[]);
    let st =
        m.x.client("xdotool")
            .args([
                "search",
                "--name",
                "^Sandboxes$",
                "windowsize",
                "1100",
                "640",
            ])
            .status()
            .unwrap();
    assert!(st.success());
    m.wait(10, "the window resized", || {
        m.x.geometry("\"Sandboxes\"")
            .filter(|g| g.starts_with("1100x640"))
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    // Ctrl+W, again if a busy machine's window missed it (no window manager hands it the
    // keyboard): the window closes once.
    for attempt in 1..=3 {
        m.key(&["ctrl+w"]);
        let end = std::time::Instant::now() + std::time::Duration::from_secs(4);
        while m.alive() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if !m.alive() {
            break;
        }
        assert!(attempt < 3, "ctrl+w did not close the window");
    }
    let child = Manager::command(&m.env, &[], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    m.child = child;
    m.wait_title("Sandboxes");
    let size = m.wait(10, "the window's size", || {
        m.x.geometry("\"Sandboxes\"")
            .filter(|g| g.starts_with("1100x640"))
    });
    assert!(size.starts_with("1100x640"), "{size}");
}

#[test]
fn a_change_is_saved_as_a_user_profile_that_explain_reflects() {
    unprivileged!("a_change_is_saved_as_a_user_profile_that_explain_reflects");
    let m = Manager::start("manager-change", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    let file = m.user_file("xterm");
    assert!(!file.exists());
    m.action("set-setting", r#"("xterm", "sandbox.network", "shared")"#);
    wait_for(10, "the user's xterm.toml", || {
        fs::read_to_string(&file)
            .ok()
            .filter(|t| t.contains("network = \"shared\""))
    });
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("extends = [\"xterm\"]"), "{text}");
    // The sandbox no longer gets a network namespace of its own.
    let json = stdout(&m.env.run(&["explain", "--json", "xterm"]));
    assert!(json.contains("\"net\": false"), "{json}");
    // A nested display with a size, one change after the other.
    m.action("set-setting", r#"("xterm", "sandbox.x11", "nested")"#);
    m.action("set-setting", r#"("xterm", "nested.size", "1024x700")"#);
    // Sent at once: both saved, neither undoing the other.
    let both = |t: &String| t.contains("size = \"1024x700\"") && t.contains("x11 = \"nested\"");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !fs::read_to_string(&file).is_ok_and(|t| both(&t)) {
        assert!(
            std::time::Instant::now() < end,
            "the nested display and its size not both saved:\n{}\nthe manager said:\n{}",
            fs::read_to_string(&file).unwrap_or_default(),
            m.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Invalid input is never saved; the file stays as it was and the manager runs on.
    let before = fs::read_to_string(&file).unwrap();
    m.action("set-setting", r#"("xterm", "nested.size", "huge")"#);
    m.action(
        "set-setting",
        r#"("xterm", "sandbox.max_processes", "lots")"#,
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
    m.shot("manager-invalid.png");
    // A hand edit on disk while the window is open: reloaded, not overwritten by the next change.
    let by_hand = format!("# mine\n{before}")
        .replace("[sandbox]\n", "[sandbox]\n# by hand\nwayland = false\n");
    fs::write(&file, by_hand).unwrap();
    m.wait(10, "the reload's toast", || {
        m.log()
            .contains("nestbox-manager: xterm changed on disk: reloaded")
            .then_some(())
    });
    m.action("set-setting", r#"("xterm", "sandbox.gpu", "none")"#);
    wait_for(10, "the gpu change beside the hand edit", || {
        fs::read_to_string(&file)
            .ok()
            .filter(|t| t.contains("gpu = \"none\""))
    });
    let after = fs::read_to_string(&file).unwrap();
    assert!(
        after.starts_with("# mine\n") && after.contains("# by hand"),
        "{after}"
    );
}

#[test]
fn run_shows_xterm_on_the_display_and_stop_ends_it() {
    unprivileged!("run_shows_xterm_on_the_display_and_stop_ends_it");
    let mut m = Manager::start("manager-run", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    m.action("run", r#""xterm""#);
    wait_for(30, "xterm's window", || {
        m.x.tree()
            .lines()
            .any(|l| l.contains("\"xterm\""))
            .then_some(())
    });
    let ps = stdout(&m.env.run(&["ps"]));
    assert!(ps.contains("xterm"), "{ps}");
    m.shot("manager-running.png");
    // A change while it runs: the restart bar; restarting ends this xterm and starts another,
    // which has the change (the sandbox now shares the network: no namespace of its own).
    // The sandbox's nestbox process, as `nestbox ps --json` says (a window id can come back the
    // same from a new client).
    let pid = |m: &Manager| {
        let json = stdout(&m.env.run(&["ps", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_array()
            .and_then(|a| a.first())
            .and_then(|s| s["pid"].as_i64())
    };
    let first = pid(&m).unwrap();
    m.action("set-setting", r#"("xterm", "sandbox.network", "shared")"#);
    wait_for(10, "the change saved", || {
        fs::read_to_string(m.user_file("xterm"))
            .ok()
            .filter(|t| t.contains("shared"))
    });
    m.wait(10, "the restart bar", || {
        m.log()
            .contains("running with its old settings")
            .then_some(())
    });
    m.shot("manager-restart-bar.png");
    m.action("restart", r#""xterm""#);
    m.wait(30, "xterm in a new sandbox", || {
        let again = pid(&m).filter(|p| *p != first)?;
        m.x.tree()
            .lines()
            .any(|l| l.contains("\"xterm\""))
            .then_some(again)
    });
    assert!(m.log().contains("Restarting xterm"), "{}", m.log());
    m.action("stop", r#""xterm""#);
    let gone = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !m.x.tree().lines().any(|l| l.contains("\"xterm\""))
    });
    if !gone {
        m.shot("manager-not-stopped.png");
        panic!("xterm still there after stop:\n{}\n{}", m.x.tree(), m.log());
    }
    wait_for(10, "no sandbox left", || {
        (!stdout(&m.env.run(&["ps"])).contains("xterm")).then_some(())
    });
    assert!(m.alive(), "{}", m.log());
}

#[test]
fn a_failed_launch_leaves_the_manager_running() {
    unprivileged!("a_failed_launch_leaves_the_manager_running");
    let env_profile = "extends = [\"base\", \"x11\"]\n[run]\ncommand = [\"/no/such/program\"]\n";
    let mut m = Manager::start("manager-fail", &[]);
    m.env.profile("ghost", env_profile);
    m.action("show-profile", r#""ghost""#);
    m.wait_title("ghost – Sandboxes");
    m.action("run", r#""ghost""#);
    // nestbox's one line, in a toast (and on the manager's stderr).
    wait_for(20, "the failure's toast", || {
        m.log()
            .lines()
            .find(|l| l.contains("ghost did not start: ") && l.contains("/no/such/program"))
            .map(str::to_string)
    });
    m.shot("manager-launch-failed.png");
    assert!(m.alive(), "{}", m.log());
}

#[test]
fn the_app_menu_switch_installs_a_valid_launcher() {
    unprivileged!("the_app_menu_switch_installs_a_valid_launcher");
    let m = Manager::start("manager-launcher", &["xterm"]);
    m.wait_title("XTerm – Sandboxes");
    m.action("show-in-app-menu", r#"("xterm", true)"#);
    let launcher = m.env.data.join("applications/nestbox-xterm.desktop");
    wait_for(10, "the launcher", || launcher.is_file().then_some(()));
    let out = Command::new("desktop-file-validate")
        .arg(&launcher)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = fs::read_to_string(&launcher).unwrap();
    assert!(text.contains(" run --share-files -- xterm"), "{text}");
    // The launcher runs nestbox, never the manager.
    assert!(!text.contains("nestbox-manager"), "{text}");
    m.action("show-in-app-menu", r#"("xterm", false)"#);
    wait_for(10, "the launcher gone", || {
        (!launcher.exists()).then_some(())
    });
}

#[test]
fn a_broken_profile_shows_as_an_error_and_never_crashes_the_manager() {
    unprivileged!("a_broken_profile_shows_as_an_error_and_never_crashes_the_manager");
    let env = TestEnv::new("manager-broken-files");
    drop(env);
    let mut m = Manager::start("manager-broken", &[]);
    m.env
        .profile("broken", "[sandbox]\nnetwork = \"sometimes\"\n");
    m.env.profile("garbage", "this is = = not toml\n");
    m.action("show-profile", r#""broken""#);
    m.wait_title("broken – Sandboxes");
    m.action("set-setting", r#"("broken", "sandbox.network", "none")"#);
    m.action("show-profile", r#""garbage""#);
    m.wait_title("garbage – Sandboxes");
    std::thread::sleep(std::time::Duration::from_secs(1));
    m.shot("manager-broken.png");
    assert!(m.alive(), "{}", m.log());
    // Nothing was written over the broken file.
    assert_eq!(
        fs::read_to_string(m.user_file("broken")).unwrap(),
        "[sandbox]\nnetwork = \"sometimes\"\n"
    );
}

#[test]
fn a_second_manager_switches_the_first_to_its_profile() {
    unprivileged!("a_second_manager_switches_the_first_to_its_profile");
    let mut m = Manager::start("manager-single", &[]);
    let st = Manager::command(&m.env, &["firefox"], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    m.wait_title("Firefox ESR – Sandboxes");
    assert!(m.alive());
    let windows =
        m.x.tree()
            .lines()
            .filter(|l| l.contains("– Sandboxes"))
            .count();
    assert_eq!(windows, 1, "{}", m.x.tree());
}

#[test]
fn with_language_de_the_window_is_in_german() {
    unprivileged!("with_language_de_the_window_is_in_german");
    let m = Manager::start_in("manager-de", &[], &[("LANGUAGE", "de")], "Sandkästen");
    m.shot("manager-de.png");
    m.action("show-profile", r#""xterm""#);
    m.wait_title("XTerm – Sandkästen");
    m.shot("manager-de-xterm.png");
}

/// The mean brightness (0 to 1) of the middle of the manager's content in a screenshot.
fn brightness(shot: &std::path::Path) -> f64 {
    let out = Command::new("convert")
        .arg(shot)
        .args(["-crop", "400x300+450+300", "+repage", "-colorspace", "Gray"])
        .args(["-format", "%[fx:mean]", "info:"])
        .output()
        .unwrap();
    stdout(&out).trim().parse().unwrap()
}

#[test]
fn dark_style_follows_the_desktop() {
    unprivileged!("dark_style_follows_the_desktop");
    // The title comes before the page is drawn: the first screenshot with something on it.
    let shot = |m: &Manager, name: &str| {
        wait_for(10, "the page drawn", || {
            Some(brightness(&m.shot(name))).filter(|b| *b > 0.0)
        })
    };
    let light = Manager::start_in("manager-light", &["xterm"], &[], "XTerm");
    let l = shot(&light, "manager-light.png");
    drop(light);
    let dark = Manager::start_in(
        "manager-dark",
        &["xterm"],
        &[("ADW_DEBUG_COLOR_SCHEME", "prefer-dark")],
        "XTerm",
    );
    let d = shot(&dark, "manager-dark.png");
    assert!(l > 0.8 && d < 0.3, "light {l}, dark {d}");
}
