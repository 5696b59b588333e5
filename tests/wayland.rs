//! Wayland, for real: a headless weston of the test's own, a client inside the sandbox that draws a
//! window on it (seen in the compositor's own screenshot), and clear refusals without a compositor.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A headless weston with the pixman renderer (so screenshots have pixels) and --debug (so
/// weston-screenshooter may take them), listening in the test's runtime directory.
struct Weston {
    child: Child,
    runtime: PathBuf,
    socket: String,
}

impl Weston {
    fn start(env: &TestEnv) -> Weston {
        let socket = format!("wayland-nbtest-{}", std::process::id());
        let child = Command::new("weston")
            .args([
                "--backend=headless-backend.so",
                "--use-pixman",
                "--debug",
                "--idle-time=0",
                "--width=640",
                "--height=480",
            ])
            .arg(format!("--socket={socket}"))
            .env("XDG_RUNTIME_DIR", &env.runtime)
            .current_dir(&env.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("weston is needed (apt-get install weston)");
        let path = env.runtime.join(&socket);
        wait_for(20, "weston's socket", || path.exists().then_some(()));
        Weston {
            child,
            runtime: env.runtime.clone(),
            socket,
        }
    }

    /// A screenshot of the whole output, by the compositor itself.
    fn screenshot(&self, dir: &Path) -> PathBuf {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("wayland-screenshot")
            {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
        let status = Command::new("weston-screenshooter")
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("WAYLAND_DISPLAY", &self.socket)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "weston-screenshooter failed");
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("wayland-screenshot")
            })
            .expect("no screenshot written")
            .path()
    }
}

impl Drop for Weston {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pixels that differ between two screenshots.
fn pixels_changed(a: &Path, b: &Path) -> u64 {
    let out = Command::new("compare")
        .args(["-metric", "AE"])
        .arg(a)
        .arg(b)
        .arg("null:")
        .output()
        .unwrap();
    // compare prints the count on stderr, and exits 1 when the images differ.
    String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

const WAYLAND_PROFILE: &str =
    "extends = [\"base\", \"wayland\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n";

#[test]
fn a_wayland_client_inside_draws_a_window_on_the_compositor() {
    unprivileged!("a_wayland_client_inside_draws_a_window_on_the_compositor");
    let mut env = TestEnv::new("wayland");
    let weston = Weston::start(&env);
    env.extra_env
        .push(("WAYLAND_DISPLAY".into(), weston.socket.clone()));
    env.profile("wl", WAYLAND_PROFILE);

    let o = env.run(&[
        "run",
        "wl",
        "echo $WAYLAND_DISPLAY $GDK_BACKEND; ls $XDG_RUNTIME_DIR; wayland-info | grep -c \"'wl_compositor'\"",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "wayland-0 wayland,x11\nwayland-0\n1\n");

    let before = weston.screenshot(&env.dir);
    let before_kept = env.dir.join("before.png");
    std::fs::rename(&before, &before_kept).unwrap();
    let mut app = env
        .nestbox(&["run", "wl", "exec weston-simple-shm"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // weston-simple-shm draws a 250x250 window; look until it is there.
    let mut changed = 0;
    let drawn = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let shot = weston.screenshot(&env.dir);
        changed = pixels_changed(&before_kept, &shot);
        std::fs::copy(&shot, artifact("wayland-weston-simple-shm.png")).unwrap();
        changed > 30_000
    });
    assert!(drawn, "no window drawn ({changed} pixels changed)");
    assert!(app.try_wait().unwrap().is_none(), "the client died");
    app.kill().unwrap();
    app.wait().unwrap();
}

#[test]
fn without_wayland_there_is_no_compositor_inside() {
    unprivileged!("without_wayland_there_is_no_compositor_inside");
    let mut env = TestEnv::new("wayland-off");
    let weston = Weston::start(&env);
    env.extra_env
        .push(("WAYLAND_DISPLAY".into(), weston.socket.clone()));
    env.profile(
        "plain",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n",
    );
    let o = env.run(&[
        "run",
        "plain",
        "echo ${WAYLAND_DISPLAY-unset}; ls -A $XDG_RUNTIME_DIR; wayland-info >/dev/null 2>&1 || echo refused",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "unset\nrefused\n");
}

#[test]
fn wayland_without_a_compositor_gets_one_line() {
    unprivileged!("wayland_without_a_compositor_gets_one_line");
    let env = TestEnv::new("wayland-none");
    env.profile("wl", WAYLAND_PROFILE);
    let o = env.run(&["run", "wl", "true"]);
    assert_one_line_error(
        &o,
        125,
        &format!(
            "wayland = true, but there is no compositor socket at {}/wayland-0",
            env.runtime.display()
        ),
    );
}
