//! Display isolation, for real: nestbox starts Xephyr on a host Xvfb of the test's own, a client
//! inside draws in the Xephyr window and nowhere else, and the host display stays out of reach
//! (path and abstract socket, even with its cookie) while the sandbox shares the host's network.

#[macro_use]
mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

/// A wildcard copy of the host display's cookie, which would let a client in anywhere that can
/// reach the host's socket (inside, the host name differs, so the test's own file would not).
fn wildcard_host_cookie(env: &TestEnv, x: &Xvfb) -> std::path::PathBuf {
    use nestbox::host::{write_xauthority, XauthEntry, FAMILY_WILD, MIT_MAGIC_COOKIE};
    let path = env.dir.join("host-cookie");
    let entry = XauthEntry {
        family: FAMILY_WILD,
        address: Vec::new(),
        number: x.number.to_string().into_bytes(),
        name: MIT_MAGIC_COOKIE.to_vec(),
        data: x.cookie.clone(),
    };
    std::fs::write(&path, write_xauthority(&[entry])).unwrap();
    path
}

/// A shell profile with the host network and the host display's cookie bound in at /hostcookie.
fn shell_profile(env: &TestEnv, x: &Xvfb, x11: &str) {
    let cookie = wildcard_host_cookie(env, x);
    env.profile(
        "probe",
        &format!(
            "extends = [\"base\", \"network\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n\
             [sandbox]\nx11 = \"{x11}\"\n[filesystem]\nro = [\"{}:/hostcookie\"]\n",
            cookie.display()
        ),
    );
}

/// Try the host display from inside: its abstract socket, its path, and xdpyinfo with its cookie.
/// Prints `abstract: ...`, `path: ...` and `host display: open|refused` lines.
fn probe_host_display(x: &Xvfb) -> String {
    let connect = |name: &str, address: &str| {
        format!(
            "if socat -u OPEN:/dev/null {address} 2>/tmp/err; then echo '{name}: connected'; \
             else echo \"{name}: $(grep -o 'Operation not permitted\\|Connection refused\\|No such file or directory' /tmp/err)\"; fi; "
        )
    };
    let n = x.number;
    format!(
        "{}{}XAUTHORITY=/hostcookie xdpyinfo -display :{n} >/dev/null 2>&1 \
         && echo 'host display: open' || echo 'host display: refused'",
        connect("abstract", &format!("ABSTRACT-CONNECT:/tmp/.X11-unix/X{n}")),
        connect("path", &format!("UNIX-CONNECT:/tmp/.X11-unix/X{n}")),
    )
}

#[test]
fn a_client_inside_draws_in_the_xephyr_window_only() {
    unprivileged!("a_client_inside_draws_in_the_xephyr_window_only");
    let mut env = TestEnv::new("nested-xterm");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    // A blue desktop: the Xephyr window (black inside) and the red xterm in it stand out.
    x.paint_root(0x3060a0);
    let title = format!("nested-xterm-{}", std::process::id());
    let mut app = env
        .nestbox(&[
            "run",
            "--x11",
            "nested",
            "xterm",
            "-T",
            &title,
            "-bg",
            "#ff0000",
            "-geometry",
            "60x20+10+10",
            "-e",
            "sleep",
            "60",
        ])
        .spawn()
        .unwrap();
    // Fitted to nine tenths of the 800x600 host screen (Xephyr may map its window at another
    // size for a moment first).
    let geometry = wait_for(20, "the Xephyr window, 720x540", || {
        x.geometry("nestbox: xterm")
            .filter(|g| g.starts_with("720x540+"))
    });
    let mut seen = 0.0;
    let drawn = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        let shot = x.screenshot("nested-xterm-host-display.png");
        seen = x.share_of_color(&shot, &geometry, "#ff0000");
        // xterm's 60x20 cells cover a good part of the 720x540 window.
        seen > 0.1
    });
    assert!(
        drawn,
        "no red xterm inside the Xephyr window (share {seen})"
    );
    let tree = x.tree();
    assert!(
        !tree.contains(&title),
        "the client's window is on the host display:\n{tree}"
    );
    assert!(app.try_wait().unwrap().is_none());
    app.kill().unwrap();
    app.wait().unwrap();
}

#[test]
fn the_host_display_is_out_of_reach_from_a_nested_sandbox_on_the_host_network() {
    unprivileged!("the_host_display_is_out_of_reach_from_a_nested_sandbox_on_the_host_network");
    let mut env = TestEnv::new("nested-reach");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    shell_profile(&env, &x, "nested");
    let script = format!(
        "{}; echo display=$DISPLAY; xdpyinfo >/dev/null && echo 'nested display: open'",
        probe_host_display(&x)
    );
    let o = env.run(&["run", "probe", &script]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "abstract: Operation not permitted",
            "path: No such file or directory",
            "host display: refused"
        ],
        "{out}"
    );
    // A number with no listener on the host (from 100), so libxcb falls back to the bound socket.
    let inside: u32 = lines[3].strip_prefix("display=:").unwrap().parse().unwrap();
    assert!(inside >= 100, "{out}");
    assert_eq!(lines[4], "nested display: open", "{out}");

    // With the host display shared, the display is reached through the socket bound for it (a
    // number without an abstract listener), and its abstract socket stays out of reach as every
    // other does.
    let script = format!(
        "{}; echo display=$DISPLAY; xdpyinfo >/dev/null && echo 'shared display: open'",
        probe_host_display(&x)
    );
    let o = env.run(&["run", "--x11", "host", "probe", &script]);
    let out = stdout(&o);
    assert!(
        out.starts_with("abstract: Operation not permitted\n")
            && out.ends_with("shared display: open\n"),
        "{out}"
    );
    assert!(out.contains("display=:1"), "a number from 100 on: {out}");
}

#[test]
fn x11_none_reaches_no_display_at_all() {
    unprivileged!("x11_none_reaches_no_display_at_all");
    let mut env = TestEnv::new("nested-none");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    shell_profile(&env, &x, "none");
    let script = format!(
        "{}; echo display=${{DISPLAY-unset}} xauthority=${{XAUTHORITY-unset}}; ls -d /tmp/.X11-unix 2>&1 | grep -c 'No such'",
        probe_host_display(&x)
    );
    let o = env.run(&["run", "probe", &script]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert_eq!(
        out,
        "abstract: Operation not permitted\npath: No such file or directory\n\
         host display: refused\ndisplay=unset xauthority=unset\n1\n"
    );
}

/// The host pids of the Xephyr whose title names `profile`.
fn xephyr_of(profile: &str) -> Vec<u32> {
    pids_with(&format!("-title nestbox: {profile} "))
        .into_iter()
        .filter(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "Xephyr")
        })
        .collect()
}

/// The display number of Xephyr `pid`: the socket under /tmp/.X11-unix among its open sockets
/// (`-displayfd` puts no number on its command line).
fn xephyr_display(pid: u32) -> u32 {
    wait_for(10, "the Xephyr socket", || {
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()?
            .flatten()
            .filter_map(|e| {
                let target = std::fs::read_link(e.path()).ok()?;
                let t = target.to_str()?;
                Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
            })
            .collect();
        std::fs::read_to_string("/proc/net/unix")
            .ok()?
            .lines()
            .find_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let n = words
                    .get(7)?
                    .strip_prefix("/tmp/.X11-unix/X")?
                    .parse()
                    .ok()?;
                inodes.iter().any(|i| i == words[6]).then_some(n)
            })
    })
}

/// Processes of the sandbox: those with `marker` in their command line but nestbox itself.
fn sandbox_pids(marker: &str) -> Vec<u32> {
    pids_with(marker)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() != "nestbox")
        })
        .collect()
}

/// The inode of display `n`'s socket, to tell it from a socket another test's server makes later
/// under the same number.
fn socket_inode(n: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/tmp/.X11-unix/X{n}"))
        .unwrap()
        .ino()
}

fn assert_display_gone(n: u32, pid: u32, inode: u64) {
    use std::os::unix::fs::MetadataExt;
    wait_for(10, "Xephyr to exit", || {
        (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
    // Tests run side by side: once the number is free, another test's X server may take it.
    let now = std::fs::metadata(format!("/tmp/.X11-unix/X{n}")).map(|m| m.ino());
    assert!(now.map_or(true, |i| i != inode), "socket X{n} left behind");
}

#[test]
fn killing_nestbox_leaves_no_xephyr_socket_or_sandbox() {
    unprivileged!("killing_nestbox_leaves_no_xephyr_socket_or_sandbox");
    let mut env = TestEnv::new("nested-kill");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    env.profile(
        "killme",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nx11 = \"nested\"\n",
    );
    let marker = format!("marker-of-kill-{}", std::process::id());
    let mut app = env
        .nestbox(&["run", "killme", &format!("sleep 300; echo {marker}")])
        .spawn()
        .unwrap();
    let pid = wait_for(20, "Xephyr", || xephyr_of("killme").first().copied());
    let n = xephyr_display(pid);
    let inode = socket_inode(n);
    wait_for(20, "the sandbox", || {
        (!sandbox_pids(&marker).is_empty()).then_some(())
    });
    app.kill().unwrap(); // SIGKILL
    app.wait().unwrap();
    assert_display_gone(n, pid, inode);
    wait_for(10, "the sandbox to go", || {
        pids_with(&marker).is_empty().then_some(())
    });
    assert!(!x.tree().contains("nestbox: killme"));
}

#[test]
fn the_app_ending_stops_xephyr() {
    unprivileged!("the_app_ending_stops_xephyr");
    let mut env = TestEnv::new("nested-end");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    env.profile(
        "quick",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nx11 = \"nested\"\n",
    );
    // The app lingers until the test has found its Xephyr (its input closes), then ends.
    let mut app = env
        .nestbox(&[
            "run",
            "quick",
            "xdpyinfo | grep -c 'screen #0'; read -r _; exit 7",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = wait_for(20, "Xephyr", || xephyr_of("quick").first().copied());
    let n = xephyr_display(pid);
    let inode = socket_inode(n);
    drop(app.stdin.take());
    let o = app.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n");
    // nestbox waits for Xephyr before it exits: nothing is left at this point.
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "Xephyr still runs"
    );
    assert_display_gone(n, pid, inode);
}

#[test]
fn closing_the_xephyr_window_ends_the_sandbox() {
    unprivileged!("closing_the_xephyr_window_ends_the_sandbox");
    let mut env = TestEnv::new("nested-close");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    env.profile(
        "closeme",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nx11 = \"nested\"\n",
    );
    // An app that ignores SIGTERM: nestbox must still end it, after its grace period.
    let marker = format!("marker-of-close-{}", std::process::id());
    let mut app = env
        .nestbox(&[
            "run",
            "closeme",
            &format!("trap '' TERM; while :; do sleep 1; done; echo {marker}"),
        ])
        .spawn()
        .unwrap();
    let pid = wait_for(20, "Xephyr", || xephyr_of("closeme").first().copied());
    let n = xephyr_display(pid);
    let inode = socket_inode(n);
    wait_for(20, "the Xephyr window", || x.geometry("nestbox: closeme"));
    wait_for(20, "the sandbox", || {
        (!sandbox_pids(&marker).is_empty()).then_some(())
    });
    x.close_window("nestbox: closeme");
    let status = wait_for(20, "nestbox to end", || app.try_wait().unwrap());
    assert_eq!(
        status.code(),
        Some(128 + 9),
        "the sandbox is killed once the display is gone"
    );
    assert_display_gone(n, pid, inode);
    assert!(pids_with(&marker).is_empty());
}

#[test]
fn a_window_manager_runs_inside_the_nested_display() {
    unprivileged!("a_window_manager_runs_inside_the_nested_display");
    let mut env = TestEnv::new("nested-wm");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    env.profile(
        "wm",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nx11 = \"nested\"\n\
         [nested]\nsize = \"640x480\"\nwindow_manager = [\"openbox\"]\n",
    );
    // The window manager announces itself on the nested root window; nothing of it reaches the
    // host display but the Xephyr window.
    let o = env.run(&[
        "run",
        "wm",
        "for i in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK | grep -q 'window id' && break; sleep 0.1; done; \
         xprop -root _NET_SUPPORTING_WM_CHECK; ps -eo comm | grep -c openbox",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(
        out.contains("_NET_SUPPORTING_WM_CHECK(WINDOW): window id"),
        "{out}"
    );
    assert!(out.ends_with("1\n"), "openbox runs in the sandbox: {out}");
    assert!(xephyr_of("wm").is_empty());
}

#[test]
fn explain_and_check_show_the_nested_display() {
    unprivileged!("explain_and_check_show_the_nested_display");
    let mut env = TestEnv::new("nested-explain");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let o = env.run(&["explain", "--x11", "nested", "xterm"]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        text.contains(
            "Nested display: /usr/bin/Xephyr in a 720x540 window titled \"nestbox: xterm\""
        ),
        "{text}"
    );
    assert!(text.contains("DISPLAY=:0\n"), "a private network: {text}");
    assert!(
        text.contains("Host abstract Unix sockets: out of reach: the sandbox has a network namespace of its own"),
        "{text}"
    );
    let o = env.run(&["explain", "--json", "--x11", "nested", "xterm"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["display"]["mode"], "nested");
    assert_eq!(json["display"]["server"]["width"], 720);
    assert_eq!(json["confinement"]["landlock_scopes"], true);

    let o = env.run(&["run", "--x11", "sideways", "xterm"]);
    assert_eq!(o.status.code(), Some(125), "a usage error");
    assert!(stderr(&o).contains("not an X11 mode (host, nested or none)"));
}

#[test]
fn a_host_display_that_refuses_us_gets_one_line() {
    unprivileged!("a_host_display_that_refuses_us_gets_one_line");
    let env = TestEnv::new("nested-refused");
    let x = Xvfb::start(&env);
    env.profile(
        "fit",
        "extends = [\"base\"]\n[run]\ncommand = [\"true\"]\n[sandbox]\nx11 = \"nested\"\n",
    );
    env.profile(
        "fixed",
        "extends = [\"fit\"]\n[nested]\nsize = \"800x600\"\n",
    );
    let run = |profile: &str| {
        env.nestbox(&["run", profile])
            .env("DISPLAY", &x.display)
            .env("XAUTHORITY", "/dev/null")
            .output()
            .unwrap()
    };
    // Asking for the monitor's size is the first thing to fail; the server's reason, which libxcb
    // would print on a line of its own, is in nestbox's one line.
    assert_one_line_error(
        &run("fit"),
        125,
        &format!(
            "cannot ask display {} for its size: cannot connect: Authorization required",
            x.display
        ),
    );
    assert_one_line_error(
        &run("fixed"),
        125,
        &format!(
            "Xephyr could not open a nested display on {}: Authorization required",
            x.display
        ),
    );
    assert!(xephyr_of("fixed").is_empty());
    assert!(
        !env.data.join("nestbox/homes/fixed").exists(),
        "nothing made"
    );
    // The line is kept for `nestbox logs` too, as a launcher's failure has no terminal.
    let logs = stdout(&env.run(&["logs", "fixed"]));
    let last = logs.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "nestbox: Xephyr could not open a nested display on {}: Authorization required",
            x.display
        )),
        "{logs:?}"
    );
}

#[test]
fn the_clipboard_crosses_only_where_the_profile_says() {
    unprivileged!("the_clipboard_crosses_only_where_the_profile_says");
    let mut env = TestEnv::new("nested-clip");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    for (mode, goes_in, goes_out) in [
        ("both", true, true),
        ("in", true, false),
        ("out", false, true),
        ("none", false, false),
    ] {
        x.copy(&format!("host-{mode}"));
        let clip_line = if mode == "none" {
            String::new()
        } else {
            format!("clipboard = \"{mode}\"\n")
        };
        env.profile(
            "clip",
            &format!(
                "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n\
                 [sandbox]\nx11 = \"nested\"\n[nested]\n{clip_line}"
            ),
        );
        // Inside: wait up to 3 s for the host's text, then copy text of its own and stay 4 s.
        let script = "for i in $(seq 30); do t=$(xclip -o -selection clipboard 2>/dev/null); \
             [ -n \"$t\" ] && break; sleep 0.1; done; echo \"inside: $t\"; \
             printf sandbox-text | xclip -i -selection clipboard; sleep 4";
        let mut app = env
            .nestbox(&["run", "clip", script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen_out = false;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while app.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = app.kill();
                panic!("clipboard = {mode}: nestbox did not end within 30 s");
            }
            seen_out |= x.clipboard() == "sandbox-text";
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = app.wait_with_output().unwrap();
        let inside = stdout(&out);
        let expected_in = if goes_in {
            format!("inside: host-{mode}\n")
        } else {
            "inside: \n".to_string()
        };
        assert_eq!(inside, expected_in, "clipboard = {mode}: into the sandbox");
        assert_eq!(seen_out, goes_out, "clipboard = {mode}: out of the sandbox");
    }
}

#[test]
fn xephyr_gets_a_declared_environment_and_no_leaked_descriptor() {
    unprivileged!("xephyr_gets_a_declared_environment_and_no_leaked_descriptor");
    let mut env = TestEnv::new("nested-helper-env");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    shell_profile(&env, &x, "nested");
    let (mut app, secret) = spawn_careless(&env, &["run", "probe", "read -r _ || true"]);
    let xephyr = wait_for(20, "Xephyr", || xephyr_of("probe").into_iter().next());
    assert_no_secrets(xephyr, &secret, "DISPLAY");
    drop(app.stdin.take());
    let _ = app.wait();
}
