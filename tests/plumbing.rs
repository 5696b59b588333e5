//! Ways out through the desktop plumbing, tried as an app that wants out would try them: files
//! handed to a launch through links it planted, the user's terminal, escape sequences in what
//! nestbox prints. Real sandboxes, through the nestbox binary, as the unprivileged test user.

#[macro_use]
mod common;

use common::*;

/// A profile that can write ~/Downloads (as every browser can), running `sh -c`.
fn downloader(env: &TestEnv) {
    std::fs::create_dir_all(env.home.join("Downloads")).unwrap();
    env.profile(
        "dl",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nrw = [\"~/Downloads\"]\n",
    );
}

/// A viewer that tries to append to each file it is handed, then prints it.
fn viewer(env: &TestEnv, shared_files: &str) {
    env.profile(
        "view",
        &format!(
            "[run]\ncommand = [\"sh\", \"-c\", \"for f; do echo '!silent !id > ~/x' >> \\\"$f\\\" && echo wrote; cat \\\"$f\\\"; done\", \"view\"]\n\
             [sandbox]\nshared_files = \"{shared_files}\"\n"
        ),
    );
}

#[test]
fn a_link_planted_in_downloads_is_not_followed_by_share_files() {
    unprivileged!("a_link_planted_in_downloads_is_not_followed_by_share_files");
    let env = TestEnv::new("share-links");
    downloader(&env);
    viewer(&env, "read-write");
    let vimrc = env.home.join(".vimrc");
    std::fs::write(&vimrc, "set nocompatible\n").unwrap();
    // The sandbox plants its "documents": links to the user's files and the kernel's.
    let o = env.run(&[
        "run",
        "dl",
        "cd ~/Downloads && ln -s ../.vimrc invoice.pdf && ln -s /proc/self/mountinfo m.txt \
         && ln -s /proc/self/oom_score_adj o.txt && mkdir d && ln -s ../../.vimrc d/deeper.pdf",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dl = env.home.join("Downloads");
    for name in ["invoice.pdf", "m.txt", "o.txt", "d/deeper.pdf"] {
        let word = dl.join(name).display().to_string();
        let o = env.run(&["run", "--share-files", "view", &word]);
        assert!(
            stderr(&o).contains(&format!(
                "nestbox: --share-files: {word} passes through {word}, a link a sandbox could have made; not shared"
            )),
            "{name}: {}",
            stderr(&o)
        );
        // Nothing of the host's reached the app: the word names nothing inside.
        assert!(!stdout(&o).contains("wrote"), "{name}: {}", stdout(&o));
        assert!(
            !stdout(&o).contains("nocompatible"),
            "{name}: {}",
            stdout(&o)
        );
    }
    // The same through a file:// URI, and through a link in a directory above the file.
    let uri = format!("file://{}/invoice.pdf", dl.display());
    let o = env.run(&["run", "--share-files", "view", &uri]);
    assert!(
        stderr(&o).contains("a link a sandbox could have made"),
        "{}",
        stderr(&o)
    );
    std::os::unix::fs::symlink(".", dl.join("here")).unwrap();
    let o = env.run(&[
        "run",
        "--share-files",
        "view",
        &dl.join("here/d/../invoice.pdf").display().to_string(),
    ]);
    assert!(
        stderr(&o).contains("a link a sandbox could have made"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&vimrc).unwrap(),
        "set nocompatible\n"
    );
    // The kernel's files are never shared, named directly either.
    let o = env.run(&["run", "--share-files", "view", "/proc/self/mountinfo"]);
    assert!(
        stderr(&o).contains("/proc/self/mountinfo is in /proc, /sys or /dev; not shared"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn shared_files_are_read_only_unless_the_profile_says_read_write() {
    unprivileged!("shared_files_are_read_only_unless_the_profile_says_read_write");
    let env = TestEnv::new("share-ro");
    // The user's own link: a top-level entry of the home that leads out of it.
    let data = env.dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("report.txt"), "numbers\n").unwrap();
    std::os::unix::fs::symlink(&data, env.home.join("Documents")).unwrap();
    let word = env.home.join("Documents/report.txt").display().to_string();
    viewer(&env, "read-only");
    let o = env.run(&["run", "--share-files", "view", &word]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "numbers\n", "read, not written: {}", stderr(&o));
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(data.join("report.txt")).unwrap(),
        "numbers\n"
    );
    let text = stdout(&env.run(&["explain", "view"]));
    assert!(
        text.contains(
            "Files handed to a launch (--share-files, as desktop launchers do): read-only"
        ),
        "{text}"
    );
    // An editor's profile asks for read-write: it can save.
    viewer(&env, "read-write");
    let o = env.run(&["run", "--share-files", "view", &word]);
    assert!(stdout(&o).starts_with("wrote\nnumbers\n"), "{}", stderr(&o));
    assert!(std::fs::read_to_string(data.join("report.txt"))
        .unwrap()
        .ends_with("~/x\n"));
}

/// Lines typed at the host shell, a password among them, then time for a thief to read them.
fn type_at_the_host_shell(shell: &HostShell) {
    shell.type_in("echo typed-one\n");
    shell.type_in("secret-password-two\n");
    shell.type_in("echo typed-three\n");
    shell.wait_for("typed-three", 10);
    std::thread::sleep(std::time::Duration::from_millis(500));
}

/// What profile `t`'s sandbox wrote to `~/stolen`.
fn stolen(env: &TestEnv) -> String {
    std::fs::read_to_string(env.backing_home("t").join("stolen")).unwrap_or_default()
}

/// A profile whose persistent home holds a `.bashrc` that leaves a reader behind: a process in
/// a session of its own that waits for the shell to be gone, then reads the terminal it got.
fn planted_reader(env: &TestEnv, name: &str, command: &str) {
    env.profile(name, &format!("[run]\ncommand = {command}\n"));
    let home = env.backing_home(name);
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".bashrc"),
        "setsid -f sh -c 'sleep 1; while :; do dd bs=256 count=1 2>/dev/null; sleep 0.05; done >> ~/stolen'\n\
         echo READER-STARTED\n",
    )
    .unwrap();
}

#[test]
fn a_process_left_behind_by_enter_cannot_read_the_users_terminal() {
    unprivileged!("a_process_left_behind_by_enter_cannot_read_the_users_terminal");
    let env = TestEnv::new("enter-tty");
    let marker = format!("sleep 1031.{}", std::process::id());
    planted_reader(&env, "t", &format!("[\"sh\", \"-c\", \"exec {marker}\"]"));
    let mut app = env.nestbox(&["run", "t"]).spawn().unwrap();
    wait_for(10, "the sandbox to be listed", || {
        stdout(&env.run(&["ps"])).contains("\nt ").then_some(())
    });
    let shell = HostShell::start(&env);
    shell.type_in("nestbox enter t\n");
    shell.wait_for("READER-STARTED", 10);
    shell.type_in("exit\n");
    shell.wait_for_count("HOST$ ", 2, 10);
    // The reader is at work by now (it waited a second for the shell to go).
    wait_for(10, "the reader to run", || {
        (!pids_with("while :; do dd").is_empty()).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Typed at the host shell, passwords among it.
    type_at_the_host_shell(&shell);
    let stolen = stolen(&env);
    assert!(
        !stolen.contains("typed") && !stolen.contains("secret"),
        "{stolen:?}"
    );
    assert!(
        shell.shown().contains("typed-one") && shell.shown().contains("secret-password-two"),
        "the host shell got every line: {}",
        shell.shown()
    );
    // Nothing in the sandbox holds the user's terminal.
    assert_eq!(
        holds_terminal("while :; do dd", &shell.tty),
        Vec::<u32>::new()
    );
    assert_eq!(holds_terminal(&marker, &shell.tty), Vec::<u32>::new());
    let o = env.run(&["stop", "t"]);
    assert!(o.status.success(), "{}", stderr(&o));
    app.wait().unwrap();
}

#[test]
fn a_background_run_cannot_read_what_is_typed_at_the_shell() {
    unprivileged!("a_background_run_cannot_read_what_is_typed_at_the_shell");
    let env = TestEnv::new("bg-tty");
    env.profile("t", "[run]\ncommand = [\"sh\", \"-c\"]\n");
    let shell = HostShell::start(&env);
    // The app reads its stdin, as a stealer would; nestbox runs as a background job.
    shell.type_in("nestbox run t 'echo APP-UP; cat >> ~/stolen' &\n");
    shell.wait_for("APP-UP", 10);
    type_at_the_host_shell(&shell);
    let stolen = stolen(&env);
    assert!(stolen.is_empty(), "{stolen:?}");
    assert!(
        shell.shown().contains("secret-password-two"),
        "{}",
        shell.shown()
    );
    assert_eq!(holds_terminal("cat", &shell.tty).len(), 0);
    // In the foreground it reads again: what is typed then is the app's, through nestbox.
    shell.type_in("fg\n");
    std::thread::sleep(std::time::Duration::from_millis(500));
    shell.type_in("for-the-app\n");
    wait_for(10, "the line to reach the app", || {
        std::fs::read_to_string(env.backing_home("t").join("stolen"))
            .ok()
            .filter(|s| s.contains("for-the-app"))
    });
    // Ctrl-D ends its input, as on any terminal; the job ends and the shell is back.
    shell.type_in("\x04");
    shell.wait_for_count("HOST$ ", 5, 10);
}

/// What an app that wants the user's terminal prints: a clipboard write (OSC 52), a window
/// title, a cleared screen with a fake prompt, and a C1 CSI.
const HOSTILE: &str = "\x1b]52;c;cm0gLXJmIH4K\x07\x1b]2;pwned\x07\x1b[2J\x1b[Hroot# \u{9b}31m";

#[test]
fn escape_sequences_from_a_sandbox_never_reach_the_users_terminal() {
    unprivileged!("escape_sequences_from_a_sandbox_never_reach_the_users_terminal");
    let env = TestEnv::new("escapes");
    env.profile(
        "t",
        &format!(
            "[run]\ncommand = [\"sh\", \"-c\", \"printf '%s' \\\"$HOSTILE\\\"; read -r _ || true\"]\n\
             [env]\nHOSTILE = \"{}\"\n",
            HOSTILE
                .chars()
                .map(|c| if c.is_control() { format!("\\u{:04X}", c as u32) } else { c.to_string() })
                .collect::<String>()
        ),
    );
    // Started from a launcher (no terminal): its output is kept for `nestbox logs`.
    let mut app = env
        .nestbox(&["run", "t", "\x1b]2;title\x07"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(10, "the log", || {
        let o = env.run(&["logs", "t"]);
        stdout(&o).contains("root# ").then_some(())
    });
    // Into a pipe, the bytes as they are; `ps` and its JSON escaped.
    assert!(stdout(&env.run(&["logs", "t"])).contains(HOSTILE));
    let ps = stdout(&env.run(&["ps"]));
    assert!(
        ps.contains("\\x1b]2;title\\x07") && !ps.contains('\x1b'),
        "{ps:?}"
    );
    let json = stdout(&env.run(&["ps", "--json"]));
    assert!(
        json.contains("\\u001b]2;title\\u0007") && !json.contains('\x1b'),
        "{json:?}"
    );
    // On a terminal: escaped, unless --raw.
    let shell = HostShell::start(&env);
    shell.type_in("nestbox logs t; echo LOGS-DONE\n");
    // Twice: the line typed, then what it printed.
    shell.wait_for_count("LOGS-DONE\r\n", 2, 10);
    shell.type_in("nestbox explain t; echo EXPLAIN-DONE\n");
    shell.wait_for_count("EXPLAIN-DONE\r\n", 2, 10);
    let shown = shell.shown();
    assert!(
        !shown.contains("\x1b]52") && !shown.contains("\x1b]2;") && !shown.contains("\x1b[2J"),
        "{shown:?}"
    );
    assert!(!shown.contains('\u{9b}'), "{shown:?}");
    assert!(shown.contains("\\x1b]52;c;cm0gLXJmIH4K\\x07"), "{shown:?}");
    assert!(shown.contains("HOSTILE=\\x1b]52;c;"), "{shown:?}");
    shell.type_in("nestbox logs --raw t; echo RAW-DONE\n");
    shell.wait_for_count("RAW-DONE\r\n", 2, 10);
    assert!(shell.shown().contains("\x1b]52;c;cm0gLXJmIH4K\x07"));
    drop(app.stdin.take());
    app.wait().unwrap();
}

/// tests/clipforge/clipforge.c, built for this test.
fn clipforge(env: &TestEnv) -> std::path::PathBuf {
    let exe = env.dir.join("clipforge");
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clipforge/clipforge.c");
    let status = std::process::Command::new("cc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&exe)
        .arg(source)
        .arg("-lxcb")
        .status()
        .expect("cc is needed (apt-get install build-essential)");
    assert!(
        status.success(),
        "cannot build {source} (needs libxcb1-dev)"
    );
    exe
}

#[test]
fn a_nested_client_cannot_write_the_hosts_clipboard_through_the_bridge() {
    unprivileged!("a_nested_client_cannot_write_the_hosts_clipboard_through_the_bridge");
    let mut env = TestEnv::new("clip-forge");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let forger = clipforge(&env);
    x.copy("host-text");
    env.profile(
        "clip",
        &format!(
            "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n\
             [sandbox]\nx11 = \"nested\"\n[nested]\nclipboard = \"in\"\n\
             [filesystem]\nro = [\"{}:/forge\"]\n",
            forger.display()
        ),
    );
    // Inside: forge, then report what a paste inside gets after the host copies anew.
    let script = "/forge; for i in $(seq 50); do t=$(xclip -o -selection clipboard 2>/dev/null); \
         [ \"$t\" = host-again ] && break; sleep 0.1; done; echo \"inside: $t\"";
    let app = env
        .nestbox(&["run", "clip", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While it forges, the host's clipboard stays the host's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        let now = x.clipboard();
        assert!(
            !now.contains("rm -rf"),
            "the host's clipboard was written: {now:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The bridge lived through both forgeries: a new copy on the host still reaches inside.
    x.copy("host-again");
    let out = app.wait_with_output().unwrap();
    assert_eq!(
        stdout(&out),
        "forged\ninside: host-again\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(x.clipboard(), "host-again");
    let text = stdout(&env.run(&["explain", "clip"]));
    assert!(
        text.contains("every text copied on your display is readable by the app inside"),
        "{text}"
    );
}

#[test]
fn a_sandbox_cannot_fill_the_hosts_memory_or_its_process_table() {
    unprivileged!("a_sandbox_cannot_fill_the_hosts_memory_or_its_process_table");
    let env = TestEnv::new("limits");
    env.profile(
        "t",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\ntmpfs_size = \"8M\"\nmax_processes = 40\n",
    );
    // Every tmpfs stops at its size: /tmp, /dev/shm, the runtime directory.
    let o = env.run(&[
        "run",
        "t",
        "for d in /tmp /dev/shm \"$XDG_RUNTIME_DIR\"; do \
           dd if=/dev/zero of=$d/fill bs=1M count=64 2>&1 | grep -o 'No space left on device'; \
           echo $(( $(stat -c %s $d/fill) >> 20 )); done",
    ]);
    assert_eq!(
        stdout(&o),
        "No space left on device\n8\nNo space left on device\n8\nNo space left on device\n8\n",
        "{}",
        stderr(&o)
    );
    // A fork bomb stops at the sandbox's own limit, and the user's session can still fork.
    let bomb = "import os, errno, time\n\
                n = 0\n\
                try:\n    \
                    for i in range(100):\n        \
                        if os.fork() == 0:\n            \
                            time.sleep(3); os._exit(0)\n        \
                        n += 1\n\
                except OSError as e:\n    \
                    print('stopped', errno.errorcode[e.errno])\n\
                print('started', n)\n";
    let inside = env
        .nestbox(&["run", "--command", "/usr/bin/python3", "t", "-c", bomb])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        std::process::Command::new("true")
            .status()
            .unwrap()
            .success(),
        "the user's session can fork while the sandbox is at its limit"
    );
    let o = inside.wait_with_output().unwrap();
    let out = stdout(&o);
    assert!(out.starts_with("stopped EAGAIN\nstarted "), "{out}");
    let started: u32 = out.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (20..40).contains(&started),
        "{started} started, with a limit of 40"
    );
    let text = stdout(&env.run(&["explain", "t"]));
    assert!(text.contains("holds at most 8 MiB (tmpfs_size)"), "{text}");
    assert!(
        text.contains("at most 40 processes and threads at once"),
        "{text}"
    );
    // A bad size is one line at its place in the profile.
    env.profile("bad", "[sandbox]\ntmpfs_size = \"lots\"\n");
    let o = env.run(&["explain", "bad"]);
    assert_one_line_error(&o, 125, "bad.toml:2:14: tmpfs_size \"lots\" must be a size");
}

#[test]
fn host_abstract_sockets_are_out_of_reach_from_a_browser_on_the_host_display() {
    unprivileged!("host_abstract_sockets_are_out_of_reach_from_a_browser_on_the_host_display");
    use std::os::linux::net::SocketAddrExt;
    let mut env = TestEnv::new("abstract-browser");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    // A host program's listener on an abstract socket (as D-Bus daemons and input methods have).
    let name = format!("nestbox-test-listener-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    // The shipped firefox profile: the host's display and network.
    let probe = format!(
        "socat -u OPEN:/dev/null ABSTRACT-CONNECT:{name} 2>&1 | grep -o 'Operation not permitted'; \
         xdpyinfo >/dev/null && echo display open"
    );
    let o = env.run(&[
        "run",
        "--audio",
        "none",
        "--command",
        "/bin/sh",
        "firefox",
        "-c",
        &probe,
    ]);
    assert_eq!(
        stdout(&o),
        "Operation not permitted\ndisplay open\n",
        "{}",
        stderr(&o)
    );
    let text = stdout(&env.run(&["explain", "--audio", "none", "firefox"]));
    assert!(
        text.contains(
            "Host abstract Unix sockets: out of reach: Landlock's abstract-Unix-socket scope"
        ),
        "{text}"
    );
}

#[test]
fn ctrl_z_stops_the_sandbox_with_nestbox_and_fg_brings_both_back() {
    unprivileged!("ctrl_z_stops_the_sandbox_with_nestbox_and_fg_brings_both_back");
    let env = TestEnv::new("ctrl-z");
    env.profile("t", "[run]\ncommand = [\"sh\", \"-c\"]\n");
    let marker = format!("sleep 1041.{}", std::process::id());
    let shell = HostShell::start(&env);
    shell.type_in(&format!("nestbox run t 'echo APP-UP; exec {marker}'\n"));
    shell.wait_for("APP-UP", 10);
    let app = wait_for(10, "the app", || {
        pids_with(&marker).into_iter().find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep"))
        })
    });
    let state = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(") ")
            .next()
            .unwrap_or("")
            .chars()
            .next()
            .unwrap_or('?')
    };
    // Ctrl-Z: the shell gets the terminal back, and the app is stopped with nestbox.
    shell.type_in("\x1a");
    shell.wait_for("Stopped", 10);
    wait_for(5, "the app to stop", || (state(app) == 'T').then_some(()));
    shell.type_in("echo SHELL-BACK\n");
    shell.wait_for_count("SHELL-BACK\r\n", 2, 10);
    // fg: both go on; Ctrl-C then reaches the app through the pseudo-terminal.
    shell.type_in("fg\n");
    wait_for(5, "the app to go on", || (state(app) == 'S').then_some(()));
    std::thread::sleep(std::time::Duration::from_millis(300));
    shell.type_in("\x03");
    wait_for(10, "the app to end", || (state(app) == '?').then_some(()));
    shell.type_in("echo AFTER\n");
    shell.wait_for("AFTER\r\n", 10);
}

#[test]
fn typing_at_an_app_that_never_reads_does_not_hang_nestbox() {
    unprivileged!("typing_at_an_app_that_never_reads_does_not_hang_nestbox");
    let env = TestEnv::new("no-reader");
    env.profile("t", "[run]\ncommand = [\"sh\", \"-c\"]\n");
    let shell = std::sync::Arc::new(HostShell::start(&env));
    shell.type_in("nestbox run t 'echo APP-UP; sleep 3; echo APP-DONE'\n");
    shell.wait_for("APP-UP", 10);
    // Far more than a terminal's input queue holds, typed while the app never reads.
    let typist = {
        let shell = shell.clone();
        std::thread::spawn(move || shell.type_in(&" ".repeat(32 * 1024)))
    };
    // The app's output still comes through, and nestbox ends with it: the shell is back.
    shell.wait_for("APP-DONE", 10);
    shell.wait_for_count("HOST$ ", 2, 10);
    typist.join().unwrap();
}
