//! The sandbox core, for real: each test launches the `nestbox` binary as an unprivileged user and
//! checks what the app sees and what the host keeps.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::process::Stdio;
use std::time::Duration;

const SHELL_PROFILE: &str = r#"
description = "a shell for tests"
extends = ["base"]
[run]
command = ["/bin/sh", "-c"]
[sandbox]
hostname = "testbox"
"#;

/// Run `script` with sh inside the `t` profile (SHELL_PROFILE unless the test wrote another).
fn sh(env: &TestEnv, script: &str) -> std::process::Output {
    env.run(&["run", "t", script])
}

#[test]
fn home_is_private_and_persistent() {
    unprivileged!("home_is_private_and_persistent");
    let env = TestEnv::new("home");
    env.profile("t", SHELL_PROFILE);
    fs::write(env.home.join("secret.txt"), "host secret").unwrap();
    let o = sh(
        &env,
        "ls -A \"$HOME\"; echo kept > \"$HOME/note\"; cat ~/secret.txt 2>&1; pwd",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("secret.txt\n"), "host home visible: {out}");
    assert!(out.contains("No such file"), "{out}");
    assert!(
        out.trim_end().ends_with(env.home.to_str().unwrap()),
        "cwd is the home: {out}"
    );
    assert_eq!(
        fs::read_to_string(env.backing_home("t").join("note")).unwrap(),
        "kept\n"
    );
    assert_eq!(
        fs::read_to_string(env.home.join("secret.txt")).unwrap(),
        "host secret"
    );
    assert!(!env.home.join("note").exists());
    // The next launch sees what the last one kept.
    let o = sh(&env, "cat \"$HOME/note\"");
    assert_eq!(stdout(&o), "kept\n");
}

#[test]
fn tmpfs_home_is_thrown_away() {
    unprivileged!("tmpfs_home_is_thrown_away");
    let env = TestEnv::new("tmpfs");
    env.profile("t", &format!("{SHELL_PROFILE}home = \"tmpfs\"\n"));
    let o = sh(&env, "echo x > ~/f && ls -A ~");
    assert_eq!(stdout(&o), "f\n", "{}", stderr(&o));
    assert!(!env.backing_home("t").exists());
    assert_eq!(stdout(&sh(&env, "ls -A ~")), "");
}

#[test]
fn read_only_binds_refuse_writes_and_read_write_binds_reach_the_host() {
    unprivileged!("read_only_binds_refuse_writes_and_read_write_binds_reach_the_host");
    let env = TestEnv::new("binds");
    let ro = env.dir.join("ro-data");
    let rw = env.home.join("Downloads");
    fs::create_dir_all(&ro).unwrap();
    fs::create_dir_all(&rw).unwrap();
    fs::write(ro.join("file"), "original").unwrap();
    let profile = format!(
        "{SHELL_PROFILE}[filesystem]\nro = [\"{}:/data\"]\nrw = [\"~/Downloads\"]\n",
        ro.display()
    );
    env.profile("t", &profile);
    let script = "cat /data/file; echo changed > /data/file || echo refused-data; \
                  touch /usr/nestbox-test || echo refused-usr; touch /etc/x || echo refused-etc; \
                  echo saved > ~/Downloads/got";
    let o = sh(&env, script);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.starts_with("original"), "{out}");
    for word in ["refused-data", "refused-usr", "refused-etc"] {
        assert!(out.contains(word), "{word} missing: {out}");
    }
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(ro.join("file")).unwrap(), "original");
    assert_eq!(fs::read_to_string(rw.join("got")).unwrap(), "saved\n");
    assert!(!std::path::Path::new("/usr/nestbox-test").exists());
}

#[test]
fn only_its_own_processes_and_declared_identity() {
    unprivileged!("only_its_own_processes_and_declared_identity");
    let mut env = TestEnv::new("ident");
    env.extra_env
        .push(("HOST_ONLY_SECRET".into(), "leak".into()));
    env.profile(
        "t",
        &format!("{SHELL_PROFILE}[env]\nGREETING = \"hello\"\n"),
    );
    let script = "echo pid=$$; set -- /proc/[0-9]*; echo procs=$*; \
                  echo host=$(hostname); echo user=$(id -un) uid=$(id -u); \
                  echo init=$(tr '\\0' ' ' < /proc/1/cmdline); \
                  grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|SigBlk|SigIgn)' /proc/self/status | tr -s '\\t' ' '; env | cut -d= -f1 | sort | tr '\\n' ' '";
    let o = sh(&env, script);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("pid=2\n"), "app is PID 2: {out}");
    let procs: Vec<u32> = out
        .lines()
        .find_map(|l| l.strip_prefix("procs="))
        .unwrap()
        .split_whitespace()
        .map(|p| p.trim_start_matches("/proc/").parse().unwrap())
        .collect();
    assert_eq!(procs, [1, 2], "sees other processes");
    assert!(out.contains("host=testbox\n"), "{out}");
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap();
    assert!(
        out.contains(&format!("user={} uid={}\n", me.name, me.uid)),
        "{out}"
    );
    assert!(
        out.contains("init=") && out.contains("nestbox"),
        "PID 1 is nestbox's init: {out}"
    );
    for want in [
        "CapInh: 0000000000000000",
        "CapPrm: 0000000000000000",
        "CapEff: 0000000000000000",
    ]
    .into_iter()
    .chain([
        "CapBnd: 0000000000000000",
        "CapAmb: 0000000000000000",
        "NoNewPrivs: 1",
    ]) {
        assert!(out.contains(&format!("{want}\n")), "want {want:?}: {out}");
    }
    let vars = out.lines().last().unwrap();
    assert_eq!(
        vars.split_whitespace().collect::<Vec<_>>(),
        [
            "DBUS_SESSION_BUS_ADDRESS",
            "GREETING",
            "HOME",
            "LANG",
            "LOGNAME",
            "PATH",
            "PULSE_CLIENTCONFIG",
            "PWD",
            "SHELL",
            "USER",
            "XDG_RUNTIME_DIR",
        ],
        "{vars}"
    );
}

#[test]
fn exit_status_passes_through() {
    unprivileged!("exit_status_passes_through");
    let env = TestEnv::new("exit");
    env.profile("t", SHELL_PROFILE);
    assert_eq!(sh(&env, "exit 7").status.code(), Some(7));
    assert_eq!(sh(&env, "exit 0").status.code(), Some(0));
    assert_eq!(sh(&env, "kill -TERM $$").status.code(), Some(128 + 15));
}

#[test]
fn signals_reach_the_app() {
    unprivileged!("signals_reach_the_app");
    let env = TestEnv::new("signals");
    env.profile("t", SHELL_PROFILE);
    for (sig, name) in [
        (nix::sys::signal::Signal::SIGTERM, "TERM"),
        (nix::sys::signal::Signal::SIGINT, "INT"),
        (nix::sys::signal::Signal::SIGHUP, "HUP"),
    ] {
        let script = format!(
            "trap 'echo got-{name}; exit 3' {name}; echo ready; while :; do sleep 0.05; done"
        );
        let mut child = env
            .nestbox(&["run", "t", &script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut out, &mut buf).unwrap();
        assert_eq!(&buf, b"ready\n");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        let status = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert_eq!(rest, format!("got-{name}\n"));
        assert_eq!(status.code(), Some(3), "{name}");
    }
}

#[test]
fn sigkill_of_nestbox_ends_every_process() {
    unprivileged!("sigkill_of_nestbox_ends_every_process");
    let env = TestEnv::new("kill");
    env.profile("t", SHELL_PROFILE);
    let marker = format!("{}", 100_000 + std::process::id());
    let script = format!("sleep {marker} & (sleep {marker}; true) & sleep {marker}");
    let mut child = env.nestbox(&["run", "t", &script]).spawn().unwrap();
    wait_for(10, "three sleeps", || {
        (pids_with(&format!("sleep {marker}")).len() >= 3).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for(10, "the sandbox to die", || {
        pids_with(&format!("sleep {marker}"))
            .is_empty()
            .then_some(())
    });
}

#[test]
fn leaves_nothing_behind() {
    unprivileged!("leaves_nothing_behind");
    let env = TestEnv::new("clean");
    env.profile("t", &format!("{SHELL_PROFILE}home = \"tmpfs\"\n"));
    let tmp_before: Vec<_> = fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let o = sh(
        &env,
        "echo hi > /tmp/inside; mkdir -p $XDG_RUNTIME_DIR/x; sleep 0.1 & echo done",
    );
    assert_eq!(stdout(&o), "done\n", "{}", stderr(&o));
    // Only nestbox's own directory: an empty registry, and the log of the run (kept on purpose).
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&env.runtime), ["nestbox"], "runtime dir touched");
    assert_eq!(names(&env.runtime.join("nestbox")), ["logs", "sandboxes"]);
    assert!(names(&env.runtime.join("nestbox/sandboxes")).is_empty());
    assert_eq!(names(&env.runtime.join("nestbox/logs")), ["t.log"]);
    assert_eq!(fs::read_dir(&env.home).unwrap().count(), 0, "home touched");
    assert_eq!(
        fs::read_dir(&env.data).unwrap().count(),
        0,
        "data dir touched"
    );
    let new: Vec<_> = fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !tmp_before.contains(n) && !n.to_string_lossy().starts_with("nestbox-test-"))
        .filter(|n| {
            fs::symlink_metadata(std::path::Path::new("/tmp").join(n)).is_ok_and(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid() == nix::unistd::getuid().as_raw()
            })
        })
        .collect();
    assert!(new.is_empty(), "left in /tmp: {new:?}");
    assert!(!std::path::Path::new("/tmp/inside").exists());
}

#[test]
fn no_network_means_loopback_only() {
    unprivileged!("no_network_means_loopback_only");
    let env = TestEnv::new("net");
    env.profile("t", SHELL_PROFILE);
    let o = sh(
        &env,
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
    );
    assert_eq!(stdout(&o), "lo\n", "{}", stderr(&o));
    // Loopback is up: a closed port refuses, where a down interface would be unreachable.
    let o = env.run(&[
        "run",
        "--command",
        "bash",
        "t",
        "-c",
        "exec 3<>/dev/tcp/127.0.0.1/9",
    ]);
    assert!(stderr(&o).contains("Connection refused"), "{}", stderr(&o));
    env.profile(
        "n",
        &SHELL_PROFILE.replace("extends = [\"base\"]", "extends = [\"base\", \"network\"]"),
    );
    let o = env.run(&["run", "n", "cat /proc/net/dev | wc -l"]);
    let host_lines = fs::read_to_string("/proc/net/dev").unwrap().lines().count();
    assert_eq!(
        stdout(&o).trim(),
        host_lines.to_string(),
        "shared network sees the host's interfaces"
    );
}

#[test]
fn command_and_profile_file() {
    unprivileged!("command_and_profile_file");
    let env = TestEnv::new("cmd");
    let file = env.dir.join("custom.toml");
    fs::write(
        &file,
        "extends = [\"base\"]\n[run]\ncommand = [\"/bin/false\"]\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(
        env.run(&["run", "--profile-file", f]).status.code(),
        Some(1)
    );
    let o = env.run(&[
        "run",
        "--profile-file",
        f,
        "--command",
        "/bin/echo",
        "a",
        "b",
    ]);
    assert!(o.status.success());
    // --command goes before the profile; after it, every word is the program's.
    let o = env.run(&["run", "--command", "echo", "--profile-file", f, "--x", "-y"]);
    assert_eq!(stdout(&o), "--x -y\n", "{}", stderr(&o));
    let o = env.run(&[
        "run",
        "--profile-file",
        f,
        "--command",
        "/bin/echo",
        "a",
        "b",
    ]);
    assert_eq!(stdout(&o), "a b\n");
}

#[test]
fn bad_input_gets_one_line_and_the_right_code() {
    unprivileged!("bad_input_gets_one_line_and_the_right_code");
    let env = TestEnv::new("bad");
    env.profile("t", SHELL_PROFILE);
    env.profile(
        "broken",
        "[run]\ncommand = [\"sh\"]\nnetwork = \"shared\"\n",
    );
    env.profile(
        "missing",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\"]\n[filesystem]\nro = [\"/no/such/dir\"]\n",
    );
    env.profile("loop", "extends = [\"loop2\"]\n");
    env.profile("loop2", "extends = [\"loop\"]\n");
    let user_profiles = env.config.join("nestbox/profiles");
    let p = |n: &str| {
        user_profiles
            .join(format!("{n}.toml"))
            .display()
            .to_string()
    };

    // After the profile's name every word is the program's: here sh gets "--command" as its script.
    assert_eq!(
        env.run(&["run", "t", "--command", "x"]).status.code(),
        Some(2)
    );
    assert_one_line_error(
        &env.run(&["run", "--command", "no-such-program", "t"]),
        127,
        "\"no-such-program\" not found inside the sandbox",
    );
    assert_one_line_error(
        &env.run(&["run", "--command", "/etc/passwd", "t"]),
        126,
        "not an executable file",
    );
    assert_one_line_error(
        &env.run(&["run", "broken"]),
        125,
        &format!("{}:3:1: unknown field `network`", p("broken")),
    );
    assert_one_line_error(
        &env.run(&["run", "missing"]),
        125,
        &format!("{}:5:7: cannot bind /no/such/dir", p("missing")),
    );
    assert_one_line_error(&env.run(&["run", "loop"]), 125, "loop -> loop2 -> loop");
    assert_one_line_error(
        &env.run(&["run", "nonexistent"]),
        125,
        "no profile named \"nonexistent\"",
    );
    assert_one_line_error(&env.run(&["run", "../etc/x"]), 125, "invalid profile name");
    assert_one_line_error(&env.run(&["run"]), 125, "name a profile");
    let ro_usr = env.dir.join("rw-usr.toml");
    fs::write(&ro_usr, "extends = [\"base\"]\n[run]\ncommand = [\"true\"]\n[filesystem]\nrw = [\"~/x:/usr/share/nestbox-new\"]\n").unwrap();
    fs::create_dir_all(env.home.join("x")).unwrap();
    assert_one_line_error(
        &env.run(&["run", "--profile-file", ro_usr.to_str().unwrap()]),
        125,
        "read-only file system",
    );
    assert!(
        !env.backing_home("broken").exists(),
        "nothing made for a bad profile"
    );
}

#[test]
fn check_list_and_explain() {
    unprivileged!("check_list_and_explain");
    let env = TestEnv::new("cli");
    let shipped: Vec<String> = fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles"))
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    let mut args = vec!["check"];
    args.extend(shipped.iter().map(String::as_str));
    let o = env.run(&args);
    assert!(
        o.status.success(),
        "shipped profiles must check: {}",
        stderr(&o)
    );
    let bad = env.dir.join("bad.toml");
    fs::write(&bad, "[sandbox]\nx11 = \"wayland\"\n").unwrap();
    let o = env.run(&["check", "xterm", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("{}:2:7: unknown variant `wayland`", bad.display())),
        "{}",
        stderr(&o)
    );

    env.profile("xterm", "extends = [\"xterm\"]\ndescription = \"mine\"\n");
    let o = env.run(&["list"]);
    let out = stdout(&o);
    let xterm_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("xterm ")).collect();
    assert_eq!(xterm_lines.len(), 2, "{out}");
    assert!(
        xterm_lines[0].contains("user")
            && xterm_lines[1].contains("shipped")
            && xterm_lines[1].contains("hidden"),
        "{out}"
    );

    env.profile("t", SHELL_PROFILE);
    let o = env.run(&["explain", "--json", "t"]);
    let plan: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("explain --json is JSON");
    assert_eq!(plan["hostname"], "testbox");
    assert_eq!(plan["mounts"][0]["op"], "tmpfs");
    assert_eq!(plan["process"]["program"], "/bin/sh");
    let text = stdout(&env.run(&["explain", "t"]));
    assert!(
        text.contains("Mount steps, in order:") && text.contains("bind        /usr (read-only)"),
        "{text}"
    );
}

#[test]
fn nestbox_and_its_init_are_small() {
    unprivileged!("nestbox_and_its_init_are_small");
    // Not the memory target (under 4 MiB for the release build, measured by scripts/bench into
    // docs/benchmarks.md): a guard against gross regressions, such as a plan or buffer kept
    // alive for the sandbox's lifetime. This debug build maps more, and PSS varies with how many
    // other processes share the libraries.
    let env = TestEnv::new("mem");
    env.profile("t", SHELL_PROFILE);
    let mut child = env.nestbox(&["run", "t", "sleep 30"]).spawn().unwrap();
    let pid = child.id();
    let init = wait_for(10, "PID 1", || {
        let kids = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        kids.split_whitespace().next()?.parse::<u32>().ok()
    });
    std::thread::sleep(Duration::from_millis(200));
    let pss = |p: u32| -> u64 {
        let t = fs::read_to_string(format!("/proc/{p}/smaps_rollup")).unwrap();
        t.lines()
            .find(|l| l.starts_with("Pss:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    let total = pss(pid) + pss(init);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(total < 8192, "nestbox + PID 1 use {total} KiB PSS");
}

#[test]
fn user_namespaces_off_gets_one_line() {
    unprivileged!("user_namespaces_off_gets_one_line");
    // user.max_user_namespaces is per user namespace: set to 0 inside one of the test's own, it
    // refuses nestbox's user namespace there and nowhere else.
    let env = TestEnv::new("nouserns");
    env.profile("t", SHELL_PROFILE);
    let launch = env.nestbox(&["run", "t", "true"]);
    let mut c = std::process::Command::new("unshare");
    c.args([
        "-Ur",
        "sh",
        "-c",
        "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"",
        "sh",
        NESTBOX,
        "run",
        "t",
        "true",
    ]);
    c.env_clear();
    for (k, v) in launch.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let o = c.output().unwrap();
    assert_one_line_error(&o, 125, "user namespaces are disabled (user.max_user_namespaces = 0); enable them with: sudo sysctl");
}

#[test]
fn mounts_are_read_only_where_the_plan_says() {
    unprivileged!("mounts_are_read_only_where_the_plan_says");
    let env = TestEnv::new("mountinfo");
    let data = env.dir.join("data");
    fs::create_dir_all(&data).unwrap();
    env.profile(
        "t",
        &format!(
            "{SHELL_PROFILE}[filesystem]\nro = [\"{}:/data\"]\n",
            data.display()
        ),
    );
    let o = sh(&env, "cat /proc/self/mountinfo");
    let info = stdout(&o);
    let options = |point: &str| -> String {
        let line = info
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some(point))
            .unwrap_or_else(|| panic!("no mount at {point}: {info}"));
        line.split_whitespace().nth(5).unwrap().to_string()
    };
    for point in ["/", "/usr", "/data", "/proc/sys"] {
        let opts = options(point);
        assert!(
            opts.split(',').any(|o| o == "ro"),
            "{point} is not read-only: {opts}"
        );
    }
    for point in ["/tmp", "/dev/shm", &env.home.display().to_string()] {
        let opts = options(point);
        assert!(
            opts.split(',').any(|o| o == "rw") && opts.contains("nosuid"),
            "{point}: {opts}"
        );
    }
}

#[test]
fn a_symlink_planted_in_the_home_cannot_steer_the_next_launch() {
    unprivileged!("a_symlink_planted_in_the_home_cannot_steer_the_next_launch");
    let env = TestEnv::new("plant");
    let canary = env.dir.join("canary");
    let shared = env.dir.join("shared");
    fs::create_dir_all(&canary).unwrap();
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("file"), "shared").unwrap();
    // A bind into the home, under a directory the app itself controls.
    env.profile(
        "t",
        &format!(
            "{SHELL_PROFILE}[filesystem]\nro = [\"{}:~/.config/app\"]\n",
            shared.display()
        ),
    );
    assert_eq!(stdout(&sh(&env, "cat ~/.config/app/file")), "shared");
    // What an app can leave in its home for the next launch: ~/.config replaced by links that
    // would lead, from the scratch root nestbox builds in, to the host (relative through /oldroot,
    // absolute through /oldroot, and the host path itself).
    let config = env.backing_home("t").join(".config");
    for target in [
        format!("../../../../../../../../../../oldroot{}", canary.display()),
        format!("/oldroot{}", canary.display()),
        canary.display().to_string(),
    ] {
        let _ = fs::remove_dir_all(&config);
        let _ = fs::remove_file(&config);
        std::os::unix::fs::symlink(&target, &config).unwrap();
        let o = sh(&env, "ls -A ~/.config/app");
        assert_eq!(
            fs::read_dir(&canary).unwrap().count(),
            0,
            "the launch wrote into the host through {target}"
        );
        // Inside, the link resolves within the sandbox: the bind lands there or the launch stops.
        assert!(
            matches!(o.status.code(), Some(0) | Some(125)),
            "{target}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_file_bind_onto_an_existing_file_in_a_read_only_tree() {
    unprivileged!("a_file_bind_onto_an_existing_file_in_a_read_only_tree");
    let env = TestEnv::new("filebind");
    let file = env.dir.join("replacement");
    fs::write(&file, "replaced\n").unwrap();
    env.profile("t", &format!("{SHELL_PROFILE}[filesystem]\nro = [\"{}:/usr/share/nestbox-test-file\", \"{}:/etc/hostname\"]\n", file.display(), file.display()));
    // /usr/share/nestbox-test-file does not exist in the read-only /usr: refused, one line.
    assert_one_line_error(&sh(&env, "true"), 125, "read-only file system");
    env.profile(
        "t",
        &format!(
            "{SHELL_PROFILE}[filesystem]\nro = [\"{}:/usr/bin/true\", \"{}:/etc/hostname\"]\n",
            file.display(),
            file.display()
        ),
    );
    let o = sh(&env, "cat /usr/bin/true /etc/hostname");
    assert_eq!(stdout(&o), "replaced\nreplaced\n", "{}", stderr(&o));
}

#[test]
fn a_persistent_home_behind_a_symlink() {
    unprivileged!("a_persistent_home_behind_a_symlink");
    let mut env = TestEnv::new("homelink");
    let real = env.dir.join("elsewhere");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(&real, env.dir.join("data-link")).unwrap();
    env.extra_env.push((
        "XDG_DATA_HOME".into(),
        env.dir.join("data-link").display().to_string(),
    ));
    env.profile("t", SHELL_PROFILE);
    let o = sh(&env, "echo kept > ~/f");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(real.join("nestbox/homes/t/f")).unwrap(),
        "kept\n"
    );
}

#[test]
fn a_program_bound_in_as_a_single_file_runs() {
    unprivileged!("a_program_bound_in_as_a_single_file_runs");
    let env = TestEnv::new("filebind");
    let tool = env.dir.join("tool");
    fs::write(&tool, "#!/bin/sh\necho tool ran as \"$0\"\n").unwrap();
    let mut perms = fs::metadata(&tool).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&tool, perms).unwrap();
    env.profile(
        "t",
        &format!(
            "{SHELL_PROFILE}[filesystem]\nro = [\"{}:/opt/tool\"]\n",
            tool.display()
        ),
    );
    let o = env.run(&["run", "--command", "/opt/tool", "t"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "tool ran as /opt/tool\n");
}
