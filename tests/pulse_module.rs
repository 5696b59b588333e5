//! The per-sandbox PulseAudio socket against a real pulseaudio daemon of the test's own.

#[macro_use]
mod common;

use common::pulse::Pulse;
use common::*;
use nestbox::pulse::SandboxSocket;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn sandbox_dir(env: &TestEnv, name: &str) -> PathBuf {
    env.runtime
        .join("nestbox/pulse")
        .join(format!("{}-{name}", std::process::id()))
}

fn open_fds() -> Vec<u32> {
    fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

fn is_cloexec(fd: u32) -> bool {
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok());
    // A fd closed meanwhile (another test's) has no fdinfo: nothing to check.
    flags.is_none_or(|f| f & libc::O_CLOEXEC as u32 != 0)
}

#[test]
fn open_gives_a_private_socket_and_drop_takes_it_away() {
    unprivileged!("open_gives_a_private_socket_and_drop_takes_it_away");
    let env = TestEnv::new("pulse-open");
    let pulse = Pulse::start(&env, &[]);
    let dir = sandbox_dir(&env, "test");

    let before = open_fds();
    let started = Instant::now();
    let socket = SandboxSocket::open(&pulse.socket, &dir).expect("open");
    eprintln!("SandboxSocket::open took {:?}", started.elapsed());

    assert_eq!(socket.path(), dir.join("native"));
    let meta = fs::symlink_metadata(socket.path()).expect("the socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let parent = dir.parent().unwrap();
    assert_eq!(
        fs::metadata(parent).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let listed = pulse.modules_on(socket.path());
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].starts_with(&format!("{}\t", socket.module_index())));
    assert!(listed[0].contains("auth-anonymous=1"), "{listed:?}");
    let leaked: Vec<u32> = open_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd) && !is_cloexec(*fd))
        .collect();
    assert!(leaked.is_empty(), "fds without close-on-exec: {leaked:?}");

    // A client reaches the server, and its null sink, through the new socket.
    let info = pulse
        .pactl_on(socket.path(), &["info"])
        .expect("pactl info on the new socket");
    assert!(info.contains("nullsink"), "{info}");

    let path = socket.path().to_path_buf();
    let started = Instant::now();
    drop(socket);
    eprintln!("SandboxSocket drop took {:?}", started.elapsed());
    assert!(pulse.modules_on(&path).is_empty(), "module still loaded");
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert!(pulse.pactl_on(&path, &["info"]).is_none());
}

#[test]
fn open_sweeps_modules_of_dead_launches_only() {
    unprivileged!("open_sweeps_modules_of_dead_launches_only");
    let env = TestEnv::new("pulse-sweep");
    let pulse = Pulse::start(&env, &[]);
    let base = env.runtime.join("nestbox/pulse");
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();

    let dead = base.join(format!("{dead_pid}-old/native"));
    let live = sandbox_dir(&env, "other").join("native");
    for socket in [&dead, &live] {
        fs::create_dir_all(socket.parent().unwrap()).unwrap();
        let arg = format!("socket={}", socket.display());
        let o = pulse.pactl(&[
            "load-module",
            "module-native-protocol-unix",
            &arg,
            "auth-anonymous=1",
        ]);
        assert!(o.status.success());
        assert_eq!(pulse.modules_on(socket).len(), 1);
    }

    let socket = SandboxSocket::open(&pulse.socket, &sandbox_dir(&env, "test")).expect("open");
    assert!(
        pulse.modules_on(&dead).is_empty(),
        "the dead launch's module stayed"
    );
    assert!(
        !dead.parent().unwrap().exists(),
        "the dead launch's dir stayed"
    );
    assert_eq!(
        pulse.modules_on(&live).len(),
        1,
        "the live launch's module went"
    );
    assert!(live.exists());
    assert_eq!(pulse.modules_on(socket.path()).len(), 1);
    drop(socket);
    assert_eq!(pulse.modules_on(&live).len(), 1);
}

#[test]
fn a_server_that_will_not_load_modules_is_a_refusal() {
    unprivileged!("a_server_that_will_not_load_modules_is_a_refusal");
    let env = TestEnv::new("pulse-refused");
    let pulse = Pulse::start(&env, &["--disallow-module-loading=yes"]);
    let dir = sandbox_dir(&env, "test");
    let err = SandboxSocket::open(&pulse.socket, &dir)
        .err()
        .expect("the load should be refused");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(err.refused(), "{text}");
    assert!(text.contains(&pulse.socket.display().to_string()), "{text}");
    assert!(
        text.contains("refused to load module-native-protocol-unix"),
        "{text}"
    );
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[test]
fn no_server_is_a_quick_error_naming_the_socket() {
    unprivileged!("no_server_is_a_quick_error_naming_the_socket");
    let env = TestEnv::new("pulse-none");
    let server = env.dir.join("nobody/native");
    let dir = sandbox_dir(&env, "test");
    let started = Instant::now();
    let err = SandboxSocket::open(&server, &dir)
        .err()
        .expect("no server listens");
    let took = started.elapsed();
    let text = err.to_string();
    eprintln!("{text} (after {took:?})");
    assert!(!err.refused(), "{text}");
    assert!(text.contains(&server.display().to_string()), "{text}");
    assert!(text.ends_with("Connection refused"), "{text}");
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert!(!dir.exists());
}

#[test]
fn a_server_that_does_not_answer_times_out() {
    unprivileged!("a_server_that_does_not_answer_times_out");
    let env = TestEnv::new("pulse-silent");
    let server = env.dir.join("silent");
    // Connections queue up in the backlog and are never answered.
    let _listener = std::os::unix::net::UnixListener::bind(&server).unwrap();
    let started = Instant::now();
    let err = SandboxSocket::open(&server, &sandbox_dir(&env, "test"))
        .err()
        .expect("a silent server");
    let took = started.elapsed();
    let text = err.to_string();
    eprintln!("{text} (after {took:?})");
    assert!(!err.refused(), "{text}");
    assert!(text.contains("did not answer"), "{text}");
    assert!(text.contains(&server.display().to_string()), "{text}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn drop_after_the_server_died_still_cleans_up() {
    unprivileged!("drop_after_the_server_died_still_cleans_up");
    let env = TestEnv::new("pulse-died");
    let pulse = Pulse::start(&env, &[]);
    let dir = sandbox_dir(&env, "test");
    let socket = SandboxSocket::open(&pulse.socket, &dir).expect("open");
    drop(pulse);
    let started = Instant::now();
    drop(socket);
    eprintln!("drop with the server gone took {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!dir.exists(), "{} is still there", dir.display());
}
