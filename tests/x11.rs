//! The host display, for real: an Xvfb of the test's own that requires its cookie, a sandboxed
//! xterm whose window must appear on it, and clear refusals for displays that cannot be shared.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::process::Stdio;

#[test]
fn the_server_really_requires_the_cookie() {
    unprivileged!("the_server_really_requires_the_cookie");
    let env = TestEnv::new("xcookie");
    let x = Xvfb::start(&env);
    assert!(x
        .client("xdpyinfo")
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let no_cookie = x
        .client("xdpyinfo")
        .env("XAUTHORITY", "/dev/null")
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !no_cookie.status.success(),
        "Xvfb accepts clients without the cookie: the tests would prove nothing"
    );
}

#[test]
fn sandboxed_xterm_shows_its_window() {
    unprivileged!("sandboxed_xterm_shows_its_window");
    let mut env = TestEnv::new("xterm");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let title = format!("nestbox-xterm-{}", std::process::id());
    let mut app = env
        .nestbox(&[
            "run",
            "xterm",
            "-T",
            &title,
            "-geometry",
            "60x15+20+20",
            "-e",
            "sh",
            "-c",
            "echo hello from the sandbox; hostname; sleep 30",
        ])
        .spawn()
        .unwrap();
    wait_for(20, "the xterm window", || {
        x.tree().contains(&title).then_some(())
    });
    // The window's area is mostly xterm's white; the rest of Xvfb's root is black. A window in the
    // tree may not have its final size, or be mapped and drawn, yet on a loaded machine: look again
    // (geometry included) until it is.
    let mut seen = String::new();
    let drawn = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let Some(geometry) = x.geometry(&title) else {
            return false;
        };
        let shot = x.screenshot("xterm-host-display.png");
        let out = x
            .client("convert")
            .arg(&shot)
            .args(["-crop", &geometry, "-format", "%[fx:mean]", "info:"])
            .output()
            .unwrap();
        let mean: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0);
        seen = format!("{geometry}: mean {mean}");
        mean > 0.8
    });
    assert!(
        drawn,
        "the window is not drawn after 20 s (last look: {seen})"
    );
    // Still running after a moment: the sandbox did not kill it.
    assert!(app.try_wait().unwrap().is_none());
    app.kill().unwrap();
    app.wait().unwrap();
    wait_for(10, "the window to go", || {
        (!x.tree().contains(&title)).then_some(())
    });
}

#[test]
fn client_inside_uses_the_rewritten_cookie() {
    unprivileged!("client_inside_uses_the_rewritten_cookie");
    let mut env = TestEnv::new("xdpy");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    env.profile("t", "extends = [\"base\", \"x11\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nhostname = \"elsewhere\"\n");
    // The cookie is FamilyLocal for the host's name; inside, the host name differs, so only the
    // wildcard rewrite lets xdpyinfo in.
    let o = env.run(&["run", "t", "xdpyinfo | grep -c 'name of display'; ls -l $XAUTHORITY; ls -A /tmp/.X11-unix; echo x >> $XAUTHORITY || echo cookie-read-only; touch /tmp/.X11-unix/X99 || echo socket-dir-read-only"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.starts_with("1\n-rw-------"), "{out}");
    assert!(
        out.contains(&format!("\nX{}\n", x.number)),
        "only the display's socket: {out}"
    );
    assert!(
        out.contains("cookie-read-only") && out.contains("socket-dir-read-only"),
        "{out}"
    );

    // The cookie never went to the host's disk: only the two files the test wrote hold it.
    let mut holders = files_holding(&env.dir, &x.cookie);
    holders.extend(
        files_holding(std::path::Path::new("/tmp"), &x.cookie)
            .into_iter()
            .filter(|p| !p.starts_with(&env.dir)),
    );
    holders.sort();
    assert_eq!(
        holders,
        [env.dir.join("Xauthority"), env.dir.join("server-auth")],
        "cookie copies on the host"
    );

    // A wrong cookie: the sandbox gets the file's cookie, and the server refuses it.
    let wrong = env.dir.join("wrong");
    xauth_file(&wrong, x.number, &random_cookie());
    let o = env
        .nestbox(&[
            "run",
            "t",
            "xdpyinfo >/dev/null 2>&1 && echo connected || echo refused",
        ])
        .env("XAUTHORITY", &wrong)
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "refused\n");
}

#[test]
fn displays_that_cannot_be_shared_get_one_line() {
    unprivileged!("displays_that_cannot_be_shared_get_one_line");
    let env = TestEnv::new("xbad");
    let x = Xvfb::start(&env);
    let run = |display: &str, xauth: &str| {
        env.nestbox(&["run", "xterm"])
            .env("DISPLAY", display)
            .env("XAUTHORITY", xauth)
            .output()
            .unwrap()
    };
    let xa = x.xauthority.to_str().unwrap();
    assert_one_line_error(
        &run("localhost:10.0", xa),
        125,
        "DISPLAY=localhost:10.0 is a network display",
    );
    assert_one_line_error(
        &run(":4242", xa),
        125,
        "display :4242 has no socket at /tmp/.X11-unix/X4242",
    );
    assert_one_line_error(
        &run(&x.display, "/nonexistent/xauth"),
        125,
        "cannot read the X authority file /nonexistent/xauth",
    );
    let other = env.dir.join("other");
    xauth_file(&other, x.number + 1, &x.cookie);
    assert_one_line_error(
        &run(&x.display, other.to_str().unwrap()),
        125,
        &format!("no cookie for display {}", x.display),
    );
    let o = env.nestbox(&["run", "xterm"]).output().unwrap();
    assert_one_line_error(&o, 125, "DISPLAY is not set");
    assert!(fs::read_dir(env.data.join("nestbox/homes")).map_or(true, |mut d| d.next().is_none()));
}
