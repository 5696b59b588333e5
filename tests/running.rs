//! Running sandboxes, managed: the registry, `ps`, `stop`, `enter`, `logs`, a second launch that
//! joins the running sandbox, `--new-instance`, and launches at the same moment. Real sandboxes,
//! started through the nestbox binary as the unprivileged test user.

#[macro_use]
mod common;

use common::*;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A profile whose program is `sh -c SCRIPT`.
fn shell_profile(env: &TestEnv, name: &str) {
    env.profile(name, "[run]\ncommand = [\"sh\", \"-c\"]\n");
}

/// Start `nestbox run NAME SCRIPT` in the background, its output kept in files of the test.
fn start(env: &TestEnv, args: &[&str], tag: &str) -> Child {
    let out = std::fs::File::create(env.dir.join(format!("{tag}.out"))).unwrap();
    let err = std::fs::File::create(env.dir.join(format!("{tag}.err"))).unwrap();
    env.nestbox(args)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("cannot start nestbox")
}

fn read(env: &TestEnv, file: &str) -> String {
    std::fs::read_to_string(env.dir.join(file)).unwrap_or_default()
}

/// `nestbox ps --json`, parsed.
fn ps(env: &TestEnv) -> Vec<serde_json::Value> {
    let o = env.run(&["ps", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout(&o)).unwrap()
}

fn names(env: &TestEnv) -> Vec<String> {
    ps(env)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// Wait until `ps` lists `name`.
fn wait_listed(env: &TestEnv, name: &str) {
    wait_for(10, &format!("{name} in nestbox ps"), || {
        names(env).iter().any(|n| n == name).then_some(())
    });
}

fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    wait_for(secs, "nestbox to exit", || child.try_wait().unwrap())
}

#[test]
fn ps_lists_a_sandbox_and_stop_ends_it_with_sigterm_first() {
    unprivileged!("ps_lists_a_sandbox_and_stop_ends_it_with_sigterm_first");
    let env = TestEnv::new("ps-stop");
    shell_profile(&env, "app");
    let mut child = start(
        &env,
        &[
            "run",
            "app",
            "trap 'echo app got TERM; exit 7' TERM; echo app up; sleep 60 & wait",
        ],
        "app",
    );
    wait_listed(&env, "app");
    let rows = ps(&env);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["profile"], "app");
    assert_eq!(row["pid"], child.id());
    // PID 1, the shell and its sleep.
    assert_eq!(row["processes"], 3, "{row}");
    assert_eq!(row["command"][0], "sh");
    let table = stdout(&env.run(&["ps"]));
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("app "), "{table}");
    let o = env.run(&["stop", "app"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let status = wait_exit(&mut child, 5);
    assert_eq!(status.code(), Some(7), "the app ended by its SIGTERM trap");
    assert!(read(&env, "app.out").contains("app got TERM"));
    assert!(names(&env).is_empty());
    // What it printed is kept, after it ended too.
    let logs = stdout(&env.run(&["logs", "app"]));
    assert_eq!(logs, "app up\napp got TERM\n");
    // Nothing is left in the registry's directory.
    let left: Vec<_> = std::fs::read_dir(env.runtime.join("nestbox/sandboxes"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_one_line_error(&env.run(&["stop", "app"]), 1, "no sandbox named \"app\"");
}

#[test]
fn stop_kills_an_app_that_ignores_sigterm() {
    unprivileged!("stop_kills_an_app_that_ignores_sigterm");
    let env = TestEnv::new("stop-kill");
    shell_profile(&env, "stubborn");
    let mut child = start(
        &env,
        &["run", "stubborn", "trap '' TERM; while :; do sleep 1; done"],
        "s",
    );
    wait_listed(&env, "stubborn");
    let o = env.run(&["stop", "--timeout", "1", "stubborn"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("did not end within 1 s of SIGTERM; killed it"),
        "{}",
        stderr(&o)
    );
    let status = wait_exit(&mut child, 5);
    assert!(!status.success());
    assert!(names(&env).is_empty());
}

#[test]
fn a_sandbox_whose_nestbox_was_killed_leaves_no_stale_entry() {
    unprivileged!("a_sandbox_whose_nestbox_was_killed_leaves_no_stale_entry");
    let env = TestEnv::new("stale");
    shell_profile(&env, "doomed");
    let mut child = start(&env, &["run", "doomed", "sleep 60"], "d");
    wait_listed(&env, "doomed");
    child.kill().unwrap();
    child.wait().unwrap();
    // PID 1 dies with nestbox; the lock goes with both, and the next look clears the entry.
    wait_for(5, "the stale entry to go", || {
        names(&env).is_empty().then_some(())
    });
    let left: Vec<_> = std::fs::read_dir(env.runtime.join("nestbox/sandboxes"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // And the name is free for a new launch.
    let o = env.run(&["run", "doomed", "echo again"]);
    assert_eq!(stdout(&o), "again\n", "{}", stderr(&o));
}

#[test]
fn enter_sees_the_same_processes_and_files_and_is_confined_alike() {
    unprivileged!("enter_sees_the_same_processes_and_files_and_is_confined_alike");
    let env = TestEnv::new("enter");
    shell_profile(&env, "box");
    let mut child = start(
        &env,
        &["run", "box", "echo made-by-app > ~/note; exec sleep 60"],
        "box",
    );
    wait_listed(&env, "box");
    let o = env
        .nestbox(&[
            "enter",
            "box",
            "sh",
            "-c",
            "cat ~/note; ps -o pid=,comm= -e; grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' /proc/self/status; \
             hostname; echo TERM=$TERM; touch /usr/x 2>/dev/null || echo usr-read-only; exit 3",
        ])
        .env("TERM", "vt100")
        .output()
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{}", stderr(&o));
    assert!(out.contains("made-by-app"), "{out}");
    // The app's processes, numbered as inside: PID 1 is nestbox's, the app's sleep is 2.
    assert!(out.contains("      1 nestbox"), "{out}");
    assert!(out.contains("      2 sleep"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
    assert!(out.contains("CapBnd:\t0000000000000000"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(out.contains("\nbox\n"), "the sandbox's host name: {out}");
    assert!(out.contains("TERM=vt100"), "{out}");
    assert!(out.contains("usr-read-only"), "{out}");
    // Landlock and the filter, as for the app: a write outside the writable places and a
    // refused call.
    let o = env.run(&[
        "enter",
        "box",
        "sh",
        "-c",
        "unshare -U true 2>/dev/null && echo unshared || echo unshare-refused",
    ]);
    assert!(stdout(&o).contains("unshare-refused"), "{}", stdout(&o));
    // A stdin, a shell by default.
    let mut sh = env
        .nestbox(&["enter", "box"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sh.stdin
        .take()
        .unwrap()
        .write_all(b"echo shell $0 in $(hostname)\n")
        .unwrap();
    let o = sh.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "shell /bin/bash in box\n");
    assert_one_line_error(
        &env.run(&["enter", "nope"]),
        125,
        "no sandbox named \"nope\" is running",
    );
    assert_one_line_error(
        &env.run(&["enter", "box", "no-such-program"]),
        127,
        "program \"no-such-program\" not found inside the sandbox",
    );
    env.run(&["stop", "box"]);
    wait_exit(&mut child, 5);
}

#[test]
fn a_second_launch_runs_inside_the_running_sandbox_and_new_instance_does_not() {
    unprivileged!("a_second_launch_runs_inside_the_running_sandbox_and_new_instance_does_not");
    let env = TestEnv::new("join");
    shell_profile(&env, "app");
    let mut first = start(
        &env,
        &["run", "app", "echo first > ~/first; exec sleep 60"],
        "first",
    );
    wait_listed(&env, "app");
    // The second launch's words go to the profile's command, inside the same sandbox: it sees
    // the first's process and home, and its status is nestbox's.
    let o = env.run(&[
        "run",
        "app",
        "cat ~/first; ps -o comm= -p 2; echo second >> ~/second; exit 5",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(stdout(&o), "first\nsleep\n");
    assert_eq!(
        std::fs::read_to_string(env.backing_home("app").join("second")).unwrap(),
        "second\n"
    );
    assert_eq!(names(&env), ["app"], "still one sandbox");
    // A launch that joins checks --command as a new one does.
    assert_one_line_error(
        &env.run(&["run", "--command", "bin/x", "app"]),
        125,
        "--command \"bin/x\" must be a program name or an absolute path",
    );
    // Another instance: a sandbox of its own, with a throw-away home.
    let o = env.run(&[
        "run",
        "--new-instance",
        "app",
        "cat ~/first 2>/dev/null || echo no-first; ps -o comm= -p 2",
    ]);
    assert_eq!(stdout(&o), "no-first\nsh\n", "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("app is running with the persistent home; app@2 gets a throw-away home"),
        "{}",
        stderr(&o)
    );
    // Another profile file by the same name never joins it.
    let other = env.dir.join("app.toml");
    std::fs::write(&other, "[run]\ncommand = [\"sh\", \"-c\"]\n").unwrap();
    let o = env.run(&[
        "run",
        "--profile-file",
        &other.display().to_string(),
        "ps -o comm= -p 2",
    ]);
    assert_eq!(stdout(&o), "sh\n", "{}", stderr(&o));
    assert!(stderr(&o).contains("starts apart"), "{}", stderr(&o));
    env.run(&["stop", "app"]);
    wait_exit(&mut first, 5);
    // With none running, --new-instance is a plain launch with the persistent home.
    let o = env.run(&["run", "--new-instance", "app", "cat ~/first"]);
    assert_eq!(stdout(&o), "first\n", "{}", stderr(&o));
}

#[test]
fn launches_at_the_same_moment_share_one_sandbox_and_one_entry() {
    unprivileged!("launches_at_the_same_moment_share_one_sandbox_and_one_entry");
    let env = TestEnv::new("race");
    shell_profile(&env, "app");
    let script = "readlink /proc/self/ns/pid >> ~/who; sleep 2";
    let mut children: Vec<Child> = (0..6)
        .map(|i| start(&env, &["run", "app", script], &format!("r{i}")))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(names(&env), ["app"]);
    for (i, c) in children.iter_mut().enumerate() {
        let status = wait_exit(c, 15);
        assert!(
            status.success(),
            "launch {i}: {status:?} {}{}",
            read(&env, &format!("r{i}.out")),
            read(&env, &format!("r{i}.err"))
        );
    }
    let who = std::fs::read_to_string(env.backing_home("app").join("who")).unwrap();
    let lines: Vec<&str> = who.lines().collect();
    assert_eq!(lines.len(), 6, "every launch ran once: {who}");
    assert!(
        lines.iter().all(|l| *l == lines[0]),
        "all in one sandbox: {who}"
    );
    // The registry is empty again, and whole.
    assert!(names(&env).is_empty());
    let left: Vec<_> = std::fs::read_dir(env.runtime.join("nestbox/sandboxes"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_sandbox_outlives_its_app_while_a_joined_process_runs() {
    unprivileged!("the_sandbox_outlives_its_app_while_a_joined_process_runs");
    let env = TestEnv::new("outlive");
    shell_profile(&env, "app");
    // Sleeps this test alone runs (a fraction keeps them apart from other tests' and copies').
    let id = std::process::id();
    let (straggler, app_sleep, joined_sleep) = (
        format!("sleep 1001.{id} "),
        format!("sleep 1002.{id}"),
        format!("sleep 1003.{id}"),
    );
    // The app leaves a straggler behind, as apps do; the sandbox ends it when it ends.
    let mut first = start(
        &env,
        &["run", "app", &format!("{}& sleep 1; exit 4", straggler)],
        "first",
    );
    wait_listed(&env, "app");
    // A second window's process, started into the sandbox, outlives the first.
    let second = env.run(&["run", "app", "sleep 2; echo second-done"]);
    assert_eq!(stdout(&second), "second-done\n", "{}", stderr(&second));
    assert!(second.status.success());
    // The first nestbox waited for it, then left with its app's status; nothing is left.
    let status = wait_exit(&mut first, 5);
    assert_eq!(status.code(), Some(4));
    assert!(names(&env).is_empty());
    wait_for(5, "the straggler to go with the sandbox", || {
        pids_with(&straggler).is_empty().then_some(())
    });
    // `stop` ends the whole sandbox, joined processes too.
    let mut first = start(&env, &["run", "app", &format!("exec {app_sleep}")], "again");
    wait_listed(&env, "app");
    let mut joined = start(
        &env,
        &["run", "app", &format!("exec {joined_sleep}")],
        "joined",
    );
    // Joined once the sandbox holds it: PID 1, the app and the joined process.
    wait_for(5, "the joined process in the sandbox", || {
        (ps(&env)[0]["processes"].as_u64() == Some(3)).then_some(())
    });
    let o = env.run(&["stop", "--timeout", "5", "app"]);
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
    wait_exit(&mut first, 5);
    wait_exit(&mut joined, 5);
}

#[test]
fn share_files_binds_the_files_named_and_joins_only_where_they_are_seen() {
    unprivileged!("share_files_binds_the_files_named_and_joins_only_where_they_are_seen");
    let env = TestEnv::new("share");
    let docs = env.dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let doc = docs.join("my doc.txt");
    std::fs::write(&doc, "hello\n").unwrap();
    // A viewer that prints each word and the file it names, and saves into the first.
    env.profile(
        "view",
        "[run]\ncommand = [\"sh\", \"-c\", \"for f; do echo \\\"$f\\\"; cat \\\"$f\\\" 2>/dev/null; done; echo saved >> \\\"$1\\\"; sleep 2\", \"view\"]\n\
         [sandbox]\nshared_files = \"read-write\"\n",
    );
    let uri = format!("file://{}/my%20doc.txt", docs.display());
    let mut first = env.nestbox(&[
        "run",
        "--share-files",
        "view",
        &doc.display().to_string(),
        &uri,
        "https://example.org/",
    ]);
    let o = first.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let uid = nix::unistd::getuid();
    assert_eq!(
        stdout(&o),
        format!(
            "/run/user/{uid}/nestbox-files/0/my doc.txt\nhello\n\
             file:///run/user/{uid}/nestbox-files/1/my%20doc.txt\nhttps://example.org/\n"
        )
    );
    assert_eq!(std::fs::read_to_string(&doc).unwrap(), "hello\nsaved\n");
    // A directory (or a socket, a device) is not shared: the word passes as it is.
    let o = env.run(&["run", "--share-files", "view", &docs.display().to_string()]);
    assert!(
        stderr(&o).contains("is not a regular file; not shared"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).starts_with(&format!("{}\n", docs.display())),
        "{}",
        stdout(&o)
    );
    // A running sandbox that does not see the file: the file opens in a new instance.
    let mut running = start(&env, &["run", "view", "--", "/nonexistent"], "running");
    wait_listed(&env, "view");
    let o = env.run(&["run", "--share-files", "view", &doc.display().to_string()]);
    assert!(
        stderr(&o).contains(
            "view is running and does not see the files given; they open in a new instance"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).starts_with(&format!(
            "/run/user/{uid}/nestbox-files/0/my doc.txt\nhello\nsaved\n"
        )),
        "{}",
        stdout(&o)
    );
    wait_exit(&mut running, 10);
    // One that sees it (its profile binds the directory): the launch joins it, with the path.
    env.profile(
        "view",
        &format!(
            "[run]\ncommand = [\"sh\", \"-c\", \"for f; do echo \\\"$f\\\"; done; sleep 2\", \"view\"]\n[filesystem]\nro = [\"{}\"]\n",
            docs.display()
        ),
    );
    let mut running = start(&env, &["run", "view"], "running2");
    wait_listed(&env, "view");
    let o = env.run(&["run", "--share-files", "view", &doc.display().to_string()]);
    assert_eq!(stdout(&o), format!("{}\n", doc.display()), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    wait_exit(&mut running, 10);
}

#[test]
fn a_private_session_bus_is_shared_by_the_app_and_later_launches_only() {
    unprivileged!("a_private_session_bus_is_shared_by_the_app_and_later_launches_only");
    let env = TestEnv::new("bus");
    env.profile(
        "bus",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\nsession_bus = \"private\"\n",
    );
    let names = "dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ListNames";
    // The app holds a connection to its bus (as a single-instance app does)...
    let mut first = start(
        &env,
        &[
            "run",
            "bus",
            "exec gdbus monitor --session --dest org.freedesktop.DBus",
        ],
        "first",
    );
    wait_listed(&env, "bus");
    // ...which a later launch of the profile finds there: the same bus, the app's connection and
    // its own. (A bus of its own would hold one.)
    let found = wait_for(5, "the app's connection on the sandbox's bus", || {
        let o = env.run(&["run", "bus", names]);
        (stdout(&o).matches("string \":1.").count() >= 2).then_some(stdout(&o))
    });
    assert!(found.contains("org.freedesktop.DBus"));
    let explain = stdout(&env.run(&["explain", "bus"]));
    assert!(
        explain.contains("Session bus: the sandbox's own"),
        "{explain}"
    );
    env.run(&["stop", "bus"]);
    wait_exit(&mut first, 5);
    // Without it, no bus at all.
    shell_profile(&env, "nobus");
    let o = env.run(&["run", "nobus", "echo $DBUS_SESSION_BUS_ADDRESS"]);
    assert_eq!(stdout(&o), "disabled:\n");
}

#[test]
fn a_second_xterm_opens_a_window_in_the_running_sandbox_and_stop_closes_both() {
    unprivileged!("a_second_xterm_opens_a_window_in_the_running_sandbox_and_stop_closes_both");
    let mut env = TestEnv::new("xterm-join");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    x.paint_root(0x2040a0);
    // The shipped xterm profile, twice: the second click opens its window from the same sandbox.
    let mut first = start(&env, &["run", "xterm", "-T", "nestbox-first"], "first");
    wait_for(20, "the first xterm window", || x.geometry("nestbox-first"));
    let mut second = start(
        &env,
        &[
            "run",
            "xterm",
            "-T",
            "nestbox-second",
            "-geometry",
            "+300+250",
        ],
        "second",
    );
    wait_for(20, "the second xterm window", || {
        x.geometry("nestbox-second")
    });
    assert_eq!(names(&env), ["xterm"], "one sandbox");
    let rows = ps(&env);
    let procs = rows[0]["processes"].as_u64().unwrap();
    assert!(procs >= 3, "PID 1, two xterms and their shells: {rows:?}");
    // The two xterms: the app (PID 1's child) and the joined one (its parent outside). An xterm
    // that has just forked its shell shows a second "xterm" for a moment, a child of the first.
    let o = env.run(&["enter", "xterm", "ps", "-e", "-o", "ppid=,comm="]);
    let xterms = stdout(&o)
        .lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 2 && w[1] == "xterm" && (w[0] == "0" || w[0] == "1")
        })
        .count();
    assert_eq!(xterms, 2, "{}", stdout(&o));
    x.screenshot("running-two-xterms-one-sandbox.png");
    let o = env.run(&["stop", "xterm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    wait_exit(&mut first, 5);
    wait_exit(&mut second, 5);
    wait_for(5, "both windows to close", || {
        (x.geometry("nestbox-first").is_none() && x.geometry("nestbox-second").is_none())
            .then_some(())
    });
}

#[test]
fn a_joined_process_dies_with_the_nestbox_that_started_it() {
    unprivileged!("a_joined_process_dies_with_the_nestbox_that_started_it");
    let env = TestEnv::new("join-kill");
    shell_profile(&env, "app");
    let id = std::process::id();
    let app_sleep = format!("sleep 1021.{id}");
    let mut first = start(&env, &["run", "app", &format!("exec {app_sleep}")], "first");
    wait_listed(&env, "app");
    // A joined process whose nestbox is killed goes with it, at once.
    let joined_sleep = format!("sleep 1022.{id}");
    let mut joiner = start(
        &env,
        &["run", "app", &format!("exec {joined_sleep}")],
        "joiner",
    );
    wait_for(5, "the joined process in the sandbox", || {
        (ps(&env)[0]["processes"].as_u64() == Some(3)).then_some(())
    });
    joiner.kill().unwrap();
    joiner.wait().unwrap();
    wait_for(5, "the joined process to die with its nestbox", || {
        pids_with(&joined_sleep).is_empty().then_some(())
    });
    // Killed at every moment of its way in (entering, forking, confining), a joiner leaves
    // nothing behind in the sandbox.
    for (i, delay) in (0..40u64).map(|i| (i, i * 2)).chain([(40, 60), (41, 90)]) {
        let marker = format!("sleep 1023.{id}{i:03}");
        let mut joiner = start(&env, &["run", "app", &format!("exec {marker}")], "racer");
        std::thread::sleep(Duration::from_millis(delay));
        joiner.kill().unwrap();
        joiner.wait().unwrap();
        wait_for(
            5,
            &format!("no process of a joiner killed after {delay} ms"),
            || pids_with(&marker).is_empty().then_some(()),
        );
    }
    // PID 1 and the app alone remain; when the app ends, the sandbox ends with it.
    wait_for(5, "the sandbox to hold only PID 1 and its app", || {
        (ps(&env)[0]["processes"].as_u64() == Some(2)).then_some(())
    });
    // The app's sleep (not nestbox or its PID 1, whose command lines hold the script).
    let app = pids_with(&app_sleep)
        .into_iter()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep"))
        })
        .expect("the app's sleep");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = wait_exit(&mut first, 5);
    assert_eq!(status.code(), Some(128 + 15));
    assert!(names(&env).is_empty());
}
