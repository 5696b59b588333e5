//! Sound, for real: a PulseAudio daemon of the test's own with a null sink; a tone played inside
//! the sandbox and heard on the sink's monitor outside, through nestbox's filtering proxy on a
//! socket of the sandbox's own; what would change the user's server refused from inside and the
//! server unchanged; recording only with the profile's permission; a client that sends garbage
//! cut off while another keeps playing; no socket for audio = none, and nothing left behind.

#[macro_use]
mod common;

use common::pulse::{peak, peak_of, Pulse};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tone of `secs` seconds at 440 Hz, half scale, made with sox.
fn tone_of(env: &TestEnv, secs: u32) -> PathBuf {
    let path = env.dir.join(format!("tone{secs}.wav"));
    let status = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(&path)
        .args(["synth", &secs.to_string(), "sine", "440", "vol", "0.5"])
        .status()
        .expect("sox is needed (apt-get install sox)");
    assert!(status.success());
    path
}

fn tone(env: &TestEnv) -> PathBuf {
    tone_of(env, 1)
}

/// A shell profile with sound in the given mode, the tones at /tone.wav (1 s) and /long.wav
/// (5 s), the raw protocol client at /rawclient.py, and `extra` profile text.
fn sound_profile_with(env: &TestEnv, audio: &str, extra: &str) {
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pulse/rawclient.py");
    env.profile(
        "player",
        &format!(
            "extends = [\"base\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n[sandbox]\naudio = \"{audio}\"\n\
             [filesystem]\nro = [\"{}:/tone.wav\", \"{}:/long.wav\", \"{}:/rawclient.py\"]\n{extra}",
            tone(env).display(),
            tone_of(env, 5).display(),
            client.display(),
        ),
    );
}

fn sound_profile(env: &TestEnv, audio: &str) {
    sound_profile_with(env, audio, "");
}

/// The socket directories of running sandboxes.
fn socket_dirs(env: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(env.runtime.join("nestbox/pulse"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// nestbox-pulse helpers serving this test's sandboxes.
fn helpers(env: &TestEnv) -> Vec<u32> {
    pids_with("nestbox-pulse")
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .unwrap_or_default()
                .contains(&env.runtime.display().to_string())
        })
        .collect()
}

#[test]
fn a_tone_played_inside_reaches_the_sink_through_the_proxy() {
    unprivileged!("a_tone_played_inside_reaches_the_sink_through_the_proxy");
    let env = TestEnv::new("audio-play");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let before = pulse.state();
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
    // Nothing was loaded on the server, and the sandbox's directory and helper are gone.
    assert_eq!(pulse.state(), before);
    assert!(socket_dirs(&env).is_empty(), "{:?}", socket_dirs(&env));
    assert!(helpers(&env).is_empty());
}

#[test]
fn the_socket_lives_in_a_private_directory_while_the_sandbox_runs() {
    unprivileged!("the_socket_lives_in_a_private_directory_while_the_sandbox_runs");
    let env = TestEnv::new("audio-live");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let modules = pulse.modules();
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
    let dir = wait_for(20, "the sandbox's socket directory", || {
        socket_dirs(&env).into_iter().next()
    });
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    let socket = wait_for(10, "the socket", || {
        std::fs::symlink_metadata(dir.join("native")).ok()
    });
    assert!(socket.file_type().is_socket());
    assert_eq!(
        pulse.modules(),
        modules,
        "no module is loaded for a sandbox"
    );
    drop(app.stdin.take());
    let o = app.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(stdout(&o), "1\n", "a client inside talks to the server");
    assert!(!dir.exists());
}

#[test]
fn pipewires_pulse_server_is_served_and_filtered_the_same() {
    unprivileged!("pipewires_pulse_server_is_served_and_filtered_the_same");
    let env = TestEnv::new("audio-pipewire");
    let pulse = Pulse::start_pipewire(&env);
    sound_profile(&env, "pulse");
    let before = pulse.state();
    let rec = pulse.record();
    let o = env.run(&[
        "run",
        "player",
        "pactl info | grep -c 'on PipeWire'; paplay /tone.wav && echo played; \
         pactl load-module module-null-sink sink_name=x 2>&1; \
         pactl set-default-sink nullsink 2>&1; \
         timeout 3 parec -d nullsink.monitor --raw 2>&1 >/dev/null; \
         paplay /long.wav & sleep 1; pactl list short sink-inputs | wc -l; kill %1; \
         python3 /rawclient.py refused-then-more",
    ]);
    let heard = peak(rec);
    let out = stdout(&o);
    assert_eq!(
        out,
        "1\nplayed\nFailure: Access denied\nFailure: Access denied\nStream error: Access denied\n\
         1\nload-module: command 0 error 1\nserver-info: command 2 error 0\n",
        "{}",
        stderr(&o)
    );
    assert!(heard > 8000, "peak {heard}");
    assert_eq!(pulse.state(), before);
}

#[test]
fn the_sandbox_needs_no_cookie_and_never_sees_the_users() {
    unprivileged!("the_sandbox_needs_no_cookie_and_never_sees_the_users");
    let env = TestEnv::new("audio-cookie");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let cookie = std::fs::read(env.config.join("pulse/cookie")).expect("the server's cookie");
    // nestbox (and so its helper) given a wrong cookie: the helper's credentials still let it
    // in, as they let libpulse in.
    let wrong = env.dir.join("wrong-cookie");
    std::fs::write(&wrong, [7u8; 256]).unwrap();
    let rec = pulse.record();
    let o = env
        .nestbox(&[
            "run",
            "player",
            "paplay /tone.wav && echo played; echo ${PULSE_COOKIE-unset}",
        ])
        .env("PULSE_COOKIE", &wrong)
        .output()
        .unwrap();
    let heard = peak(rec);
    assert_eq!(stdout(&o), "played\nunset\n", "{}", stderr(&o));
    assert!(heard > 8000, "peak {heard}");
    // The only cookie inside is one libpulse made up in the private home, not the user's.
    let home = env.backing_home("player");
    for inside in [".config/pulse/cookie", ".pulse-cookie"] {
        let made = std::fs::read(home.join(inside)).unwrap_or_default();
        assert_ne!(
            made, cookie,
            "the user's cookie is in the sandbox at ~/{inside}"
        );
    }
}

#[test]
fn a_server_that_loads_no_modules_serves_the_sandbox_the_same() {
    unprivileged!("a_server_that_loads_no_modules_serves_the_sandbox_the_same");
    let env = TestEnv::new("audio-nomodules");
    let pulse = Pulse::start(&env, &["--disallow-module-loading"]);
    sound_profile(&env, "pulse");
    let rec = pulse.record();
    let o = env.run(&["run", "player", "paplay /tone.wav && echo played"]);
    let heard = peak(rec);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "played\n");
    assert_eq!(stderr(&o), "");
    assert!(heard > 8000, "peak {heard}");
}

#[test]
fn what_would_change_the_users_server_is_refused_from_inside() {
    unprivileged!("what_would_change_the_users_server_is_refused_from_inside");
    let env = TestEnv::new("audio-refused");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let mut host = pulse.play_on_host(&tone_of(&env, 30));
    let (stream, client) = pulse.host_stream();
    let socket_module = pulse
        .modules()
        .into_iter()
        .find(|m| m.contains("module-native-protocol-unix"))
        .and_then(|m| m.split_whitespace().next().map(String::from))
        .unwrap();
    let before = pulse.state();
    let commands = [
        "load-module module-null-sink sink_name=x".to_string(),
        "load-module module-native-protocol-tcp port=47111 auth-anonymous=1".into(),
        format!("unload-module {socket_module}"),
        "set-default-sink nullsink".into(),
        "set-default-source nullsink.monitor".into(),
        "set-sink-volume nullsink 10%".into(),
        "set-sink-mute nullsink 1".into(),
        "set-source-volume nullsink.monitor 10%".into(),
        format!("move-sink-input {stream} nullsink"),
        format!("set-sink-input-volume {stream} 10%"),
        format!("set-sink-input-mute {stream} 1"),
        "suspend-sink nullsink 1".into(),
        "set-sink-port nullsink x".into(),
        "send-message /core list-handlers".into(),
        "list modules".into(),
    ];
    let script: String = commands
        .iter()
        .map(|c| format!("pactl {c} >/dev/null 2>/tmp/err; echo \"$? {c}: $(cat /tmp/err)\"; "))
        .collect();
    let o = env.run(&[
        "run",
        "player",
        &format!(
            "{script} pactl list short sinks | grep -c nullsink; \
             python3 /rawclient.py refused-then-more; \
             python3 /rawclient.py call 48 {client}; python3 /rawclient.py call 49 {stream}"
        ),
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), commands.len() + 5, "{out}");
    for (line, c) in lines.iter().zip(&commands) {
        // pactl's own words for an access error (`list` stops at its first refused query);
        // another app's stream is not there to look up for set-sink-input-volume.
        let refused = line.contains("Access denied") || line.contains("No such entity");
        assert!(
            line.starts_with(&format!("1 {c}: ")) && refused,
            "{line}\n{out}"
        );
    }
    let rest = &lines[commands.len()..];
    assert_eq!(rest[0], "1", "sinks can be listed: {out}");
    // A refused command leaves the connection open for the next one.
    assert_eq!(rest[1], "load-module: command 0 error 1");
    assert_eq!(rest[2], "server-info: command 2 error 0");
    // KILL_CLIENT of the host's player and KILL_SINK_INPUT of its stream (pactl has neither).
    assert_eq!(rest[3..], ["command 0 error 1", "command 0 error 1"]);
    // The server is as it was: modules, defaults, volumes, the host's stream and client.
    assert_eq!(pulse.state(), before);
    assert!(
        host.try_wait().unwrap().is_none(),
        "the host's player was killed"
    );
    terminate(&mut host);
}

#[test]
fn a_volume_control_inside_sees_and_sets_only_the_sandboxs_streams() {
    unprivileged!("a_volume_control_inside_sees_and_sets_only_the_sandboxs_streams");
    let env = TestEnv::new("audio-mixer");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let mut host = pulse.play_on_host(&tone_of(&env, 30));
    let (host_stream, _) = pulse.host_stream();
    let host_volume = || {
        let text = pulse.pactl_text(&["list", "sink-inputs"]);
        let block = text
            .split("Sink Input #")
            .find(|b| b.starts_with(&format!("{host_stream}\n")))
            .map(String::from);
        block.and_then(|b| {
            b.lines()
                .find(|l| l.trim().starts_with("Volume:"))
                .map(String::from)
        })
    };
    let before = host_volume();
    // A player and, on connections of their own, a volume control's queries.
    let o = env.run(&[
        "run",
        "player",
        "paplay /long.wav & sleep 1; pactl list short sink-inputs | wc -l; \
         pactl list short clients | wc -l; \
         own=$(pactl list short sink-inputs | cut -f1); echo \"own=$own\"; \
         pactl set-sink-input-volume \"$own\" 40% && echo set; \
         pactl list sink-inputs | grep -c 'Volume:.* 40%'; kill %1",
    ]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}{}", stderr(&o));
    assert_eq!(lines[0], "1", "only the sandbox's stream is listed: {out}");
    assert_eq!(
        lines[1], "2",
        "only the sandbox's clients (paplay, pactl): {out}"
    );
    assert_ne!(lines[2], format!("own={host_stream}"), "{out}");
    assert_eq!(lines[3..], ["set", "1"], "{out}");
    assert_eq!(host_volume(), before, "the host's stream's volume changed");
    terminate(&mut host);
}

#[test]
fn a_sandbox_holds_at_most_16_connections_to_the_server() {
    unprivileged!("a_sandbox_holds_at_most_16_connections_to_the_server");
    let env = TestEnv::new("audio-many");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let o = env.run(&["run", "player", "python3 /rawclient.py many 40"]);
    assert_eq!(
        stdout(&o),
        "served 16 of 40\none more: served\n",
        "{}",
        stderr(&o)
    );
    // The server still serves the desktop.
    assert!(pulse.pactl(&["info"]).status.success());
}

#[test]
fn recording_needs_the_profiles_permission() {
    unprivileged!("recording_needs_the_profiles_permission");
    let env = TestEnv::new("audio-record");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let mut host = pulse.play_on_host(&tone_of(&env, 30));
    pulse.host_stream();
    let record =
        "timeout 3 parec -d nullsink.monitor --raw --format=s16le --channels=1 --rate=8000";
    // Without it: an access error at once (not a hang until the timeout), no audio.
    let o = env.run(&["run", "player", &format!("{record}; echo \"parec=$?\" >&2")]);
    let err = stderr(&o);
    assert!(o.stdout.is_empty(), "{} bytes recorded", o.stdout.len());
    assert!(err.contains("parec=1"), "{err}");
    assert!(err.contains("Access denied"), "{err}");
    let o = env.run(&[
        "run",
        "player",
        "parec -d @DEFAULT_SOURCE@ --raw | head -c 1 | wc -c",
    ]);
    assert_eq!(stdout(&o), "0\n", "{}", stderr(&o));
    let o = env.run(&["explain", "player"]);
    assert!(
        stdout(&o).contains("recording (microphones, and what other apps play): no"),
        "{}",
        stdout(&o)
    );
    // With `[audio] record = true`: what the host plays, heard inside.
    sound_profile_with(&env, "pulse", "[audio]\nrecord = true\n");
    let o = env.run(&["run", "player", record]);
    let heard = peak_of(&o.stdout);
    assert!(
        o.stdout.len() > 2000,
        "{} bytes: {}",
        o.stdout.len(),
        stderr(&o)
    );
    assert!(heard > 8000, "peak {heard}");
    let o = env.run(&["explain", "player"]);
    assert!(
        stdout(&o).contains("recording (microphones, and what other apps play): yes"),
        "{}",
        stdout(&o)
    );
    terminate(&mut host);
}

#[test]
fn device_volumes_need_the_profiles_permission() {
    unprivileged!("device_volumes_need_the_profiles_permission");
    let env = TestEnv::new("audio-volume");
    let pulse = Pulse::start(&env, &[]);
    let volume = || {
        pulse
            .pactl_text(&["get-sink-volume", "nullsink"])
            .split_whitespace()
            .find(|w| w.ends_with('%'))
            .map(String::from)
    };
    let before = volume();
    sound_profile(&env, "pulse");
    let o = env.run(&["run", "player", "pactl set-sink-volume nullsink 37%"]);
    assert!(stderr(&o).contains("Access denied"), "{}", stderr(&o));
    assert_eq!(volume(), before);
    sound_profile_with(&env, "pulse", "[audio]\ndevice_volume = true\n");
    let o = env.run(&["run", "player", "pactl set-sink-volume nullsink 37%"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(volume().as_deref(), Some("37%"));
}

#[test]
fn a_client_sending_garbage_is_cut_off_and_another_keeps_playing() {
    unprivileged!("a_client_sending_garbage_is_cut_off_and_another_keeps_playing");
    let env = TestEnv::new("audio-garbage");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let rec = pulse.record();
    let o = env.run(&[
        "run",
        "player",
        "paplay /long.wav & p=$!; sleep 1; python3 /rawclient.py garbage; \
         python3 /rawclient.py oversized; python3 /rawclient.py big-control; \
         python3 /rawclient.py big-audio; kill -0 $p && echo playing; \
         python3 /rawclient.py refused-then-more | tail -n 1; wait $p; echo \"paplay=$?\"",
    ]);
    let heard = peak(rec);
    let out = stdout(&o);
    assert_eq!(
        out,
        "garbage: closed\noversized: closed\nbig-control: closed\nbig-audio: command 2 error 0\n\
         playing\nserver-info: command 2 error 0\npaplay=0\n",
        "{}",
        stderr(&o)
    );
    // The first player's stream played to its end (paplay=0 above) and was heard.
    assert!(heard > 8000, "peak {heard}");
    assert!(pulse.pactl(&["info"]).status.success());
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
    assert!(socket_dirs(&env).is_empty() && helpers(&env).is_empty());
    drop(pulse);
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
fn killing_nestbox_leaves_no_helper_and_no_socket() {
    unprivileged!("killing_nestbox_leaves_no_helper_and_no_socket");
    let env = TestEnv::new("audio-kill");
    let pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let before = pulse.state();
    let mut app = env
        .nestbox(&["run", "player", "paplay /long.wav; sleep 300"])
        .spawn()
        .unwrap();
    wait_for(20, "the sandbox's stream", || {
        let inputs = pulse.pactl_text(&["list", "sink-inputs", "short"]);
        (!inputs.is_empty()).then_some(())
    });
    app.kill().unwrap(); // SIGKILL: nestbox cannot clean up; its helper sees its pipe close.
    app.wait().unwrap();
    wait_for(10, "the helper to exit", || {
        helpers(&env).is_empty().then_some(())
    });
    wait_for(10, "the socket directory to go", || {
        socket_dirs(&env).is_empty().then_some(())
    });
    // Its stream went with the helper's connections; nothing else was ever loaded.
    wait_for(10, "the server as it was", || {
        (pulse.state() == before).then_some(())
    });
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
    // it and its socket are gone by the time nestbox is.
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");
    assert!(socket_dirs(&env).is_empty() && helpers(&env).is_empty());
    drop(pulse);
}

#[test]
fn the_sound_helper_gets_a_declared_environment_and_no_leaked_descriptor() {
    unprivileged!("the_sound_helper_gets_a_declared_environment_and_no_leaked_descriptor");
    let env = TestEnv::new("audio-helper-env");
    let _pulse = Pulse::start(&env, &[]);
    sound_profile(&env, "pulse");
    let (mut app, secret) = spawn_careless(&env, &["run", "player", "read -r _ || true"]);
    wait_for(20, "the sandbox's socket", || {
        socket_dirs(&env).into_iter().next()
    });
    let helper = wait_for(10, "nestbox-pulse", || {
        pids_with("nestbox-pulse").into_iter().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.starts_with("nestbox-pulse"))
        })
    });
    assert_no_secrets(helper, &secret, "XDG_RUNTIME_DIR");
    drop(app.stdin.take());
    assert!(app.wait().unwrap().success());
}
