//! Sound, for real: a PulseAudio daemon of the test's own with a null sink, a tone played by paplay
//! inside the sandbox and heard on the sink's monitor outside, the sandbox's own socket loaded for
//! its lifetime and gone after, the fallback when the server refuses, and no sound for audio = none.

#[macro_use]
mod common;

use common::pulse::{peak, Pulse};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A one-second 440 Hz tone at half scale, made with sox.
fn tone(env: &TestEnv) -> PathBuf {
    let path = env.dir.join("tone.wav");
    let status = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(&path)
        .args(["synth", "1", "sine", "440", "vol", "0.5"])
        .status()
        .expect("sox is needed (apt-get install sox)");
    assert!(status.success());
    path
}

/// A shell profile with sound in the given mode and the tone at /tone.wav.
fn sound_profile(env: &TestEnv, audio: &str) {
    let tone = tone(env);
    env.profile(
        "player",
        &format!(
            "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\naudio = \"{audio}\"\n\
             [filesystem]\nro = [\"{}:/tone.wav\"]\n",
            tone.display()
        ),
    );
}

/// The per-sandbox socket modules the server has loaded for nestbox.
fn sandbox_modules(pulse: &Pulse) -> Vec<String> {
    pulse
        .modules()
        .into_iter()
        .filter(|m| m.contains("module-native-protocol-unix") && m.contains("/nestbox/pulse/"))
        .collect()
}

#[test]
fn a_tone_played_inside_reaches_the_sink_through_a_socket_of_its_own() {
    unprivileged!("a_tone_played_inside_reaches_the_sink_through_a_socket_of_its_own");
    let env = TestEnv::new("audio-play");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let silence = peak(pulse.record());
    let rec = pulse.record();
    // Inside: which socket the sandbox was given (from its mount table), then the tone.
    let o = env.run(&[
        "run",
        "player",
        "grep ' /run/user/[0-9]*/pulse/native ' /proc/self/mountinfo | cut -d' ' -f4; \
         echo \"server=$PULSE_SERVER\"; paplay /tone.wav && echo played",
    ]);
    let heard = peak(rec);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(out.ends_with("played\n"), "{out}");
    let uid = nix::unistd::getuid();
    assert!(
        out.contains(&format!("server=unix:/run/user/{uid}/pulse/native")),
        "{out}"
    );
    // The bind's source is the sandbox's own socket, never the server's main one.
    let source = out.lines().next().unwrap();
    assert!(
        source.contains("/nestbox/pulse/") && source.ends_with("-player/native"),
        "{out}"
    );
    assert!(silence < 100, "the sink was not silent before: {silence}");
    assert!(
        heard > 8000,
        "the tone did not reach the sink (peak {heard})"
    );
    // The sandbox has ended: its module and its socket directory with it.
    assert!(sandbox_modules(&pulse).is_empty(), "{:?}", pulse.modules());
    let dir = env.runtime.join("nestbox/pulse");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
}

#[test]
fn the_socket_is_loaded_while_the_sandbox_runs_in_a_private_directory() {
    unprivileged!("the_socket_is_loaded_while_the_sandbox_runs_in_a_private_directory");
    let env = TestEnv::new("audio-live");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let mut app = env
        .nestbox(&[
            "run",
            "player",
            "pactl info | grep -c 'Server Name'; read -r _ || true",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let module = wait_for(20, "the sandbox's module", || {
        sandbox_modules(&pulse).into_iter().next()
    });
    assert!(module.contains("auth-anonymous=1"), "{module}");
    let socket = module
        .split_whitespace()
        .find_map(|w| w.strip_prefix("socket="))
        .unwrap()
        .to_string();
    let dir = Path::new(&socket).parent().unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    drop(app.stdin.take());
    let o = app.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(stdout(&o), "1\n", "a client inside talks to the server");
    assert!(sandbox_modules(&pulse).is_empty());
    assert!(!dir.exists());
}

#[test]
fn a_server_that_refuses_the_module_gets_the_main_socket_and_a_line_saying_so() {
    unprivileged!("a_server_that_refuses_the_module_gets_the_main_socket_and_a_line_saying_so");
    let env = TestEnv::new("audio-refused");
    let pulse = Pulse::start(&env, &["--disallow-module-loading"]);
    sound_profile(&env, "pulse");
    let rec = pulse.record();
    let o = env.run(&["run", "player", "paplay /tone.wav && echo played"]);
    let heard = peak(rec);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "played\n");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("refused") && err.contains("binding its main socket read-only instead"),
        "{err}"
    );
    assert!(heard > 8000, "peak {heard}");
}

#[test]
fn audio_none_has_no_socket_and_players_cannot_connect() {
    unprivileged!("audio_none_has_no_socket_and_players_cannot_connect");
    let env = TestEnv::new("audio-none");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "none");
    let o = env.run(&[
        "run",
        "player",
        "ls /run/user/*/pulse /dev/snd 2>&1 | grep -c 'No such file'; \
         echo \"server=${PULSE_SERVER-unset}\"; paplay /tone.wav; echo \"paplay=$?\"; \
         sleep 0.5; cat /proc/[0-9]*/comm | grep -c '^pulseaudio$'",
    ]);
    // paplay failed, and no daemon was started inside instead (it would still be running).
    assert_eq!(stdout(&o), "2\nserver=unset\npaplay=1\n0\n");
    assert!(stderr(&o).contains("Connection refused"), "{}", stderr(&o));
    assert!(sandbox_modules(&pulse).is_empty());
}

#[test]
fn pulse_without_a_server_is_one_line_and_auto_starts_without_sound() {
    unprivileged!("pulse_without_a_server_is_one_line_and_auto_starts_without_sound");
    let env = TestEnv::new("audio-missing");
    sound_profile(&env, "pulse");
    let o = env.run(&["run", "player", "true"]);
    assert_one_line_error(
        &o,
        125,
        "audio = \"pulse\": no PulseAudio server is running",
    );
    let o = env.run(&[
        "run",
        "--audio",
        "auto",
        "player",
        "echo ${PULSE_SERVER-unset}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "unset\n");
    let o = env.run(&["explain", "--audio", "auto", "player"]);
    assert!(stdout(&o).contains("Sound: none, since audio = \"auto\" found no server"));
}

#[test]
fn killing_nestbox_still_unloads_the_socket() {
    unprivileged!("killing_nestbox_still_unloads_the_socket");
    let env = TestEnv::new("audio-kill");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let mut app = env
        .nestbox(&["run", "player", "sleep 300"])
        .spawn()
        .unwrap();
    wait_for(20, "the sandbox's module", || {
        sandbox_modules(&pulse).into_iter().next()
    });
    app.kill().unwrap(); // SIGKILL: nestbox cannot clean up; its helper sees its pipe close.
    app.wait().unwrap();
    wait_for(10, "the module to be unloaded", || {
        sandbox_modules(&pulse).is_empty().then_some(())
    });
    let dir = env.runtime.join("nestbox/pulse");
    wait_for(10, "the socket directory to go", || {
        std::fs::read_dir(&dir)
            .map_or(true, |mut d| d.next().is_none())
            .then_some(())
    });
    assert!(pids_with("nestbox-pulse").iter().all(|p| {
        !std::fs::read_to_string(format!("/proc/{p}/cmdline"))
            .unwrap_or_default()
            .contains(&env.runtime.display().to_string())
    }));
}

#[test]
fn a_dead_server_stops_pulse_and_leaves_auto_without_sound() {
    unprivileged!("a_dead_server_stops_pulse_and_leaves_auto_without_sound");
    let env = TestEnv::new("audio-dead");
    // The socket a crashed daemon leaves: there, but nothing listens.
    let socket = env.runtime.join("pulse/native");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    sound_profile(&env, "pulse");
    let o = env.run(&["run", "player", "true"]);
    assert_one_line_error(&o, 125, "Connection refused");
    let o = env.run(&[
        "run",
        "--audio",
        "auto",
        "player",
        "echo ${PULSE_SERVER-unset}; ls /run/user/*/pulse 2>&1 | grep -c 'No such file'",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "unset\n1\n");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("nestbox: no sound: ") && err.contains("Connection refused"),
        "{err}"
    );
}

#[test]
fn sound_with_a_nested_display_and_its_clipboard_bridge_ends_cleanly() {
    unprivileged!("sound_with_a_nested_display_and_its_clipboard_bridge_ends_cleanly");
    let mut env = TestEnv::new("audio-nested");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    let pulse = Pulse::start(&env, &[]);
    env.profile(
        "both",
        "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n\
         [sandbox]\naudio = \"pulse\"\nx11 = \"nested\"\n[nested]\nclipboard = \"both\"\n",
    );
    let started = std::time::Instant::now();
    let o = env.run(&["run", "both", "pactl info | grep -c 'Server Name'"]);
    let took = started.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n");
    // The helper heard the sandbox end at once (nothing else held its pipe): no 3 s wait, and
    // the module is gone by the time nestbox is.
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");
    assert!(sandbox_modules(&pulse).is_empty(), "{:?}", pulse.modules());
}

#[test]
fn the_sound_helper_gets_a_declared_environment_and_no_leaked_descriptor() {
    unprivileged!("the_sound_helper_gets_a_declared_environment_and_no_leaked_descriptor");
    let env = TestEnv::new("audio-helper-env");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let secret = env.dir.join("secret.txt");
    std::fs::write(&secret, "s").unwrap();
    let mut cmd = env.nestbox(&["run", "player", "read -r _ || true"]);
    cmd.env("SECRET_TOKEN", "hunter2")
        .stdin(std::process::Stdio::piped());
    leak_fd(&mut cmd, 9, &secret);
    let mut app = cmd.spawn().unwrap();
    wait_for(20, "the sandbox's module", || {
        sandbox_modules(&pulse).into_iter().next()
    });
    let helper = wait_for(10, "nestbox-pulse", || {
        pids_with("nestbox-pulse").into_iter().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.starts_with("nestbox-pulse"))
        })
    });
    let (names, fds) = helper_inheritance(helper);
    assert!(!names.iter().any(|n| n == "SECRET_TOKEN"), "{names:?}");
    assert!(names.iter().any(|n| n == "XDG_RUNTIME_DIR"), "{names:?}");
    assert!(!fds.contains(&secret), "{fds:?}");
    drop(app.stdin.take());
    assert!(app.wait().unwrap().success());
}
