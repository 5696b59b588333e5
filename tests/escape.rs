//! The escape battery (tests/escape/escape.c) run inside real sandboxes, on the host's network and
//! on none: every known way out must be refused, each with the error nestbox's layers give.

#[macro_use]
mod common;

use common::*;
use std::process::Command;

/// Each attempt of the battery and the answer it must get.
const EXPECTED: &[(&str, &str)] = &[
    ("leaked-fds", "NONE"),
    // TIOCSTI on a controlling terminal: what the kernel allows (dev.tty.legacy_tiocsti = 1 here).
    ("controlling-terminal", "YES"),
    ("tiocsti", "EPERM"),
    ("tiocsti-high-bits", "EPERM"),
    ("tioclinux", "EPERM"),
    ("unshare-user", "EPERM"),
    ("clone-newuser", "EPERM"),
    ("clone3", "ENOSYS"),
    ("mount", "EPERM"),
    ("umount2", "EPERM"),
    ("pivot_root", "EPERM"),
    ("fsopen", "EPERM"),
    ("fspick", "EPERM"),
    ("open_tree", "EPERM"),
    ("open_tree_attr", "EPERM"),
    ("move_mount", "EPERM"),
    ("mount_setattr", "EPERM"),
    ("keyctl", "EPERM"),
    ("keyctl-x32", "ENOSYS"),
    ("add_key", "EPERM"),
    ("request_key", "EPERM"),
    ("bpf", "EPERM"),
    ("perf_event_open", "EPERM"),
    ("userfaultfd", "EPERM"),
    ("io_uring_setup", "EPERM"),
    ("open_by_handle_at", "EPERM"),
    ("init_module", "EPERM"),
    ("finit_module", "EPERM"),
    ("kexec_load", "EPERM"),
    ("acct", "EPERM"),
    ("swapon", "EPERM"),
    ("reboot", "EPERM"),
    ("settimeofday", "EPERM"),
    ("clock_settime", "EPERM"),
    ("personality-exec", "EPERM"),
    ("personality-query", "ALLOWED"),
    ("ptrace-pid1", "EPERM"),
    // What the kernel allows without a filter: these rows prove the filter.
    ("process_vm_readv-self", "EPERM"),
    ("kcmp-self", "EPERM"),
    ("pidfd_getfd-self", "EPERM"),
    ("ptrace-traceme", "EPERM"),
    ("write-proc-sys", "EACCES"),
    ("write-proc-1-exe", "EACCES"),
    ("read-etc-shadow", "ENOENT"),
    ("write-usr", "EROFS"),
    // Not in the sandbox (the test's binary is in the checkout); EROFS where installed in /usr.
    ("write-nestbox", "ENOENT"),
    // passwd, setuid root on the host: run, but with the user's rights (nosuid, no_new_privs).
    ("setuid-program", "NOGAIN"),
    ("kill-host-process", "ESRCH"),
    ("pidfd-host-process", "ESRCH"),
    ("ptrace-host-process", "EPERM"),
    // Without a network of the host's there is no host abstract socket to find (another
    // network namespace); on the host's network Landlock's scope refuses (run_battery).
    ("connect-host-abstract-x11", "ECONNREFUSED"),
    ("connect-session-bus", "ENOENT"),
    ("read-host-ssh-key", "ENOENT"),
    // Into the sandbox's own home: the test checks the host's files stay as they were.
    ("append-bashrc", "ALLOWED"),
    ("write-autostart", "ALLOWED"),
];

/// The battery, compiled for this test into its own directory.
fn battery(env: &TestEnv, cflags: &[&str]) -> std::path::PathBuf {
    let exe = env.dir.join("escape");
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/escape/escape.c");
    let status = Command::new("cc")
        .args(cflags)
        .args(["-O1", "-Wall", "-o"])
        .arg(&exe)
        .arg(source)
        .status()
        .expect("cc is needed (apt-get install build-essential)");
    assert!(
        status.success(),
        "cannot compile {source} with {cflags:?} (-m32 needs gcc-multilib)"
    );
    exe
}

fn run_battery(network: &str) {
    match network {
        "shared" => run_battery_with(network, "", &[("connect-host-abstract-x11", "EPERM")], &[]),
        _ => run_battery_with(network, "", &[], &[]),
    }
}

/// A listener on the host at an X server's abstract socket name, for the battery to try.
fn host_abstract_x11() -> (std::os::unix::net::UnixListener, String) {
    use std::os::linux::net::SocketAddrExt;
    for n in 4700..4800 {
        let name = format!("/tmp/.X11-unix/X{n}");
        let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(&name) else {
            continue;
        };
        if let Ok(l) = std::os::unix::net::UnixListener::bind_addr(&addr) {
            return (l, name);
        }
    }
    panic!("no free abstract X11 socket name in X4700..X4800");
}

/// Run the battery, compiled with `cflags`, with `extra` appended to the profile (after its
/// `[sandbox]` table, so bare keys land there), expecting `changed` answers where they differ
/// from [`EXPECTED`].
fn run_battery_with(network: &str, extra: &str, changed: &[(&str, &str)], cflags: &[&str]) {
    let mut env = TestEnv::new(&format!("escape-{network}"));
    let exe = battery(&env, cflags);
    // A profile on the host display gets a display to be on.
    let _display = extra.contains("x11 = \"host\"").then(|| {
        let x = Xvfb::start(&env);
        env.use_display(&x);
        x
    });
    env.extra_env
        .push(("NESTBOX_ESCAPE_BATTERY".into(), "1".into()));
    env.extra_env.push((
        "NESTBOX_ESCAPE_HOST_PID".into(),
        std::process::id().to_string(),
    ));
    env.extra_env
        .push(("NESTBOX_ESCAPE_NESTBOX".into(), NESTBOX.into()));
    let (_listener, abstract_name) = host_abstract_x11();
    env.extra_env
        .push(("NESTBOX_ESCAPE_ABSTRACT".into(), abstract_name));
    // The host's secrets and start-up files, to be found untouched afterwards.
    std::fs::create_dir_all(env.home.join(".ssh")).unwrap();
    std::fs::write(env.home.join(".ssh/id_ed25519"), "secret").unwrap();
    std::fs::write(env.home.join(".bashrc"), "# the host's\n").unwrap();
    env.profile(
        "target",
        &format!(
            "extends = [\"base\"]\n[run]\ncommand = [\"/escape\"]\npass_env = [\"NESTBOX_ESCAPE_BATTERY\", \"NESTBOX_ESCAPE_HOST_PID\", \"NESTBOX_ESCAPE_NESTBOX\", \"NESTBOX_ESCAPE_ABSTRACT\"]\n\
             [filesystem]\nro = [\"{}:/escape\"]\n[sandbox]\nnetwork = \"{network}\"\n{extra}",
            exe.display()
        ),
    );
    let o = env.run(&["run", "target"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    let got: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let want: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|&(a, b)| {
            let b = changed.iter().find(|c| c.0 == a).map_or(b, |c| c.1);
            (a.to_string(), b.to_string())
        })
        .collect();
    let wrong: Vec<String> = want
        .iter()
        .zip(&got)
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("{}: want {}, got {}", w.0, w.1, g.1))
        .collect();
    assert!(
        wrong.is_empty() && got.len() == want.len(),
        "on network {network}:\n{}\nfull output:\n{out}",
        wrong.join("\n")
    );
    assert_eq!(
        std::fs::read_to_string(env.home.join(".bashrc")).unwrap(),
        "# the host's\n"
    );
    assert!(!env.home.join(".config/autostart").exists());
    // What the app wrote stayed in its own home.
    let own = env.backing_home("target");
    assert!(std::fs::read_to_string(own.join(".bashrc"))
        .unwrap()
        .contains("escaped"));
    assert!(own.join(".config/autostart/escape.desktop").exists());
}

#[test]
fn every_way_out_is_refused_without_network() {
    unprivileged!("every_way_out_is_refused_without_network");
    run_battery("none");
}

#[test]
fn every_way_out_is_refused_on_the_host_network() {
    unprivileged!("every_way_out_is_refused_on_the_host_network");
    run_battery("shared");
}

#[test]
fn the_battery_refuses_to_run_outside_a_sandbox() {
    unprivileged!("the_battery_refuses_to_run_outside_a_sandbox");
    let env = TestEnv::new("escape-outside");
    let o = Command::new(battery(&env, &[]))
        .env("NESTBOX_ESCAPE_BATTERY", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_profile_can_allow_and_deny_by_name() {
    unprivileged!("a_profile_can_allow_and_deny_by_name");
    // What a browser's own sandbox and a container tool inside need; and one more refusal.
    run_battery_with(
        "none",
        "[seccomp]\nallow = [\"keyctl\", \"add_key\"]\ndeny = [\"getppid\"]\nuser_namespaces = true\n",
        &[
            ("keyctl", "ALLOWED"),
            ("add_key", "ALLOWED"),
            ("unshare-user", "ALLOWED"),
            ("clone-newuser", "ALLOWED"),
            ("clone3", "ALLOWED"),
        ],
        &[],
    );
    let env = TestEnv::new("escape-deny");
    env.profile(
        "d",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[seccomp]\ndeny = [\"uname\"]\n",
    );
    let o = env.run(&["run", "d", "uname -s; echo rc=$?"]);
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "rc=1\n");
}

#[test]
fn a_link_planted_in_a_shared_directory_cannot_steer_a_later_bind() {
    unprivileged!("a_link_planted_in_a_shared_directory_cannot_steer_a_later_bind");
    let env = TestEnv::new("escape-planted");
    std::fs::create_dir_all(env.home.join("share")).unwrap();
    std::fs::create_dir_all(env.home.join(".ssh")).unwrap();
    std::fs::write(env.home.join(".ssh/id_ed25519"), "secret").unwrap();
    // A sandbox given ~/share plants a link to the host's ~/.ssh in it...
    env.profile(
        "planter",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nrw = [\"~/share\"]\n",
    );
    let home = env.home.display().to_string();
    let o = env.run(&["run", "planter", &format!("ln -s {home}/.ssh ~/share/keys")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(env.home.join("share/keys").is_symlink());
    // ...which a profile binding a path through it does not follow: a bind it needs stops the
    // launch, an optional one is left out, and both say why.
    env.profile(
        "victim",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nro = [\"~/share/keys:/keys\"]\n",
    );
    let o = env.run(&["run", "victim", "cat /keys/id_ed25519"]);
    assert_one_line_error(
        &o,
        125,
        "is a symbolic link inside your home, which a sandbox may have planted",
    );
    assert!(!stdout(&o).contains("secret"));
    env.profile(
        "victim",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nro = [\"?~/share/keys:/keys\"]\n",
    );
    let o = env.run(&[
        "run",
        "victim",
        "cat /keys/id_ed25519 2>/dev/null || echo no-keys",
    ]);
    assert_eq!(stdout(&o), "no-keys\n");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("may have planted; bind the path it leads to instead; left out"),
        "{err}"
    );
}

#[test]
fn a_read_write_home_still_keeps_start_up_files_and_nestbox_read_only() {
    unprivileged!("a_read_write_home_still_keeps_start_up_files_and_nestbox_read_only");
    let env = TestEnv::new("escape-protect");
    // A dotfile manager's ~/.bashrc: a link into the home.
    std::fs::create_dir_all(env.home.join("dotfiles")).unwrap();
    std::fs::write(env.home.join("dotfiles/bashrc"), "# the host's\n").unwrap();
    std::os::unix::fs::symlink("dotfiles/bashrc", env.home.join(".bashrc")).unwrap();
    std::fs::create_dir_all(env.config.join("autostart")).unwrap();
    std::fs::create_dir_all(env.data.join("applications")).unwrap();
    // XDG_CONFIG_HOME and XDG_DATA_HOME of the test's world lie beside its home: bind them too.
    env.profile(
        "wide",
        &format!(
            "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nrw = [\"~\", \"{}\", \"{}\"]\n",
            env.config.display(),
            env.data.display()
        ),
    );
    // The fresh home lacks most start-up files, which the sandbox could then create: refused,
    // one missing path at a time. Making each (as the line says) lets the launch go ahead.
    let mut made = Vec::new();
    loop {
        let o = env.run(&["run", "wide", "true"]);
        if o.status.success() {
            break;
        }
        assert_one_line_error(&o, 125, "read-write: the sandbox could create ");
        let err = stderr(&o);
        let path = err
            .split("could create ")
            .nth(1)
            .and_then(|r| r.split(", which").next())
            .unwrap()
            .to_string();
        assert!(!made.contains(&path), "asked twice for {path}");
        assert!(!std::path::Path::new(&path).exists(), "{path}");
        std::fs::create_dir_all(&path).unwrap();
        made.push(path);
        assert!(made.len() < 60, "{made:?}");
    }
    assert!(
        made.iter().any(|p| p.ends_with("/.bash_profile")),
        "{made:?}"
    );
    let try_write = |path: &std::path::Path| {
        format!(
            "(echo x >> {0}) 2>/dev/null && echo 'wrote {0}' || echo 'refused {0}'; ",
            path.display()
        )
    };
    let bashrc = env.home.join(".bashrc");
    let script = [
        try_write(&bashrc),
        try_write(&env.home.join("dotfiles/bashrc")),
        try_write(&env.config.join("autostart/evil.desktop")),
        try_write(&env.config.join("nestbox/profiles/wide.toml")),
        try_write(&env.data.join("applications/evil.desktop")),
        try_write(&env.home.join("notes.txt")),
        // Moving a directory on the way away, to make the protected path anew.
        format!(
            "for d in .local dotfiles .cargo; do mv {0}/$d {0}/$d.moved 2>/dev/null && echo \"moved $d\" || echo \"pinned $d\"; done; ",
            env.home.display()
        ),
        // Replacing the link itself: removed, or renamed over.
        format!(
            "echo evil > {0}.new; rm -f {1} 2>/dev/null; mv -f {0}.new {1} 2>/dev/null; \
             echo \"link $(readlink {1})\"; ",
            env.home.join("evil").display(),
            bashrc.display()
        ),
    ]
    .concat();
    let o = env.run(&["run", "wide", &script]);
    let out = stdout(&o);
    for refused in [
        ".bashrc",
        "dotfiles/bashrc",
        "autostart/evil.desktop",
        "profiles/wide.toml",
        "applications/evil.desktop",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("refused") && l.ends_with(refused)),
            "{refused}: {out}{}",
            stderr(&o)
        );
    }
    assert!(
        out.contains(&format!("wrote {}", env.home.join("notes.txt").display())),
        "{out}"
    );
    assert!(out.contains("link dotfiles/bashrc"), "{out}");
    for d in [".local", "dotfiles", ".cargo"] {
        assert!(out.contains(&format!("pinned {d}")), "{out}");
    }
    assert_eq!(
        std::fs::read_link(&bashrc).unwrap(),
        std::path::Path::new("dotfiles/bashrc")
    );
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "# the host's\n");
    assert!(!env.config.join("autostart/evil.desktop").exists());
    let text = stdout(&env.run(&["explain", "wide"]));
    assert!(
        text.contains("Kept read-only under read-write binds"),
        "{text}"
    );
}

#[test]
fn the_callers_terminal_can_be_reopened_inside() {
    unprivileged!("the_callers_terminal_can_be_reopened_inside");
    // Landlock allows writing only beneath the sandbox's writable places; the caller's terminal
    // lies outside, yet `>/dev/stderr` must work on it. script(1) gives nestbox a terminal.
    let env = TestEnv::new("escape-tty");
    env.profile("t", "[run]\ncommand = [\"sh\", \"-c\"]\n");
    let inner = format!(
        "{NESTBOX} run t 'echo to-stderr >/dev/stderr && echo to-fd1 >/proc/self/fd/1 && test -t 1 && echo on-a-terminal'"
    );
    let o = std::process::Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &env.home)
        .env("XDG_CONFIG_HOME", &env.config)
        .env("XDG_DATA_HOME", &env.data)
        .env("XDG_RUNTIME_DIR", &env.runtime)
        .output()
        .expect("script (bsdutils) is needed");
    let out = String::from_utf8_lossy(&o.stdout).replace('\r', "");
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("to-stderr\n") && out.contains("to-fd1\n"),
        "{out}"
    );
    assert!(out.contains("on-a-terminal\n"), "{out}");
}

#[test]
fn the_abstract_socket_row_is_refused_on_the_host_display_too() {
    unprivileged!("the_abstract_socket_row_is_refused_on_the_host_display_too");
    // A sandbox on the host's display and network sees the display under a number without an
    // abstract listener, so the scope applies to it as to every other: the host's abstract
    // sockets are out of reach (bwrap and firejail reach them: scripts/compare-security).
    run_battery_with(
        "shared",
        "x11 = \"host\"\n",
        &[("connect-host-abstract-x11", "EPERM")],
        &[],
    );
}

#[test]
fn every_way_out_is_refused_for_a_32_bit_program() {
    unprivileged!("every_way_out_is_refused_for_a_32_bit_program");
    // The same battery built for i386 (static: the sandbox needs no 32-bit libraries), whose
    // system calls come by other numbers through the kernel's i386 entry.
    run_battery_with("none", "", &[], &["-m32", "-static"]);
    run_battery_with(
        "none",
        "[seccomp]\nallow = [\"keyctl\"]\nuser_namespaces = true\n",
        &[
            ("keyctl", "ALLOWED"),
            ("unshare-user", "ALLOWED"),
            ("clone-newuser", "ALLOWED"),
            ("clone3", "ALLOWED"),
        ],
        &["-m32", "-static"],
    );
}
