//! A PulseAudio daemon of the test's own: run as the test user, in the test's runtime directory
//! (so nestbox finds it where libpulse would), with one null sink whose monitor the test records.

use super::{wait_for, TestEnv};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub struct Pulse {
    child: Child,
    /// The child leads a process group of servers (PipeWire's three), all stopped together.
    group: bool,
    /// The server's main socket: `$XDG_RUNTIME_DIR/pulse/native` of the test's world.
    pub socket: PathBuf,
    home: PathBuf,
    runtime: PathBuf,
}

/// A sound server's command: the test's home, runtime and config directories, nothing else of
/// the environment, quiet.
fn server_command(env: &TestEnv, program: &str) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("HOME", &env.home)
        .env("XDG_RUNTIME_DIR", &env.runtime)
        .env("XDG_CONFIG_HOME", &env.config)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

impl Pulse {
    /// Start it; `extra` are more daemon options (such as `--disallow-module-loading`).
    pub fn start(env: &TestEnv, extra: &[&str]) -> Pulse {
        let socket = env.runtime.join("pulse/native");
        let child = server_command(env, "pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--log-target=stderr",
                "-L",
                "module-native-protocol-unix",
                "-L",
                "module-null-sink sink_name=nullsink rate=44100 channels=2",
            ])
            .args(extra)
            .spawn()
            .expect("pulseaudio is needed (apt-get install pulseaudio)");
        let p = Pulse {
            child,
            group: false,
            socket,
            home: env.home.clone(),
            runtime: env.runtime.clone(),
        };
        wait_for(20, "pulseaudio to answer", || {
            p.pactl(&["info"]).status.success().then_some(())
        });
        p
    }

    /// PipeWire with its pulse server and WirePlumber (which links streams to sinks), on a
    /// session bus of their own, in the test's runtime directory; a null sink loaded through
    /// pipewire-pulse and made the default.
    pub fn start_pipewire(env: &TestEnv) -> Pulse {
        use std::os::unix::process::CommandExt;
        let socket = env.runtime.join("pulse/native");
        // WirePlumber's Bluetooth monitor asks logind, and WirePlumber quits where there is no
        // logind (a container): no Bluetooth here.
        let conf = env.config.join("wireplumber/bluetooth.lua.d");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(
            conf.join("51-nestbox-test.lua"),
            "bluez_monitor.enabled = false\nbluez_monitor.properties[\"with-logind\"] = false\n",
        )
        .unwrap();
        let child = server_command(env, "dbus-run-session")
            .args([
                "--",
                "sh",
                "-c",
                "pipewire & sleep 0.3; wireplumber & pipewire-pulse & wait",
            ])
            .process_group(0)
            .spawn()
            .expect("dbus-run-session is needed (apt-get install dbus)");
        let p = Pulse {
            child,
            group: true,
            socket,
            home: env.home.clone(),
            runtime: env.runtime.clone(),
        };
        let info = wait_for(20, "pipewire-pulse to answer", || {
            let out = p.pactl(&["info"]);
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        });
        assert!(
            info.contains("PipeWire"),
            "not PipeWire's pulse server: {info}"
        );
        let load = p.pactl(&["load-module", "module-null-sink", "sink_name=nullsink"]);
        assert!(load.status.success(), "no null sink on PipeWire");
        wait_for(10, "the null sink", || {
            p.pactl(&["set-default-sink", "nullsink"])
                .status
                .success()
                .then_some(())
        });
        p
    }

    /// A host-side client command for this server.
    pub fn client(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("PATH", "/usr/bin:/bin")
            .env("PULSE_SERVER", format!("unix:{}", self.socket.display()));
        c
    }

    pub fn pactl(&self, args: &[&str]) -> Output {
        self.client("pactl").args(args).output().expect("pactl")
    }

    /// `pactl ARGS`' output, as text (empty on failure).
    pub fn pactl_text(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.pactl(args).stdout).into_owned()
    }

    /// What a sandbox must not change on the user's server: its modules, defaults, the sinks'
    /// and sources' volumes and mutes, the host's streams with their volumes and sinks, and the
    /// clients other than the sandbox's.
    pub fn state(&self) -> String {
        let info = self.pactl_text(&["info"]);
        let defaults: Vec<&str> = info.lines().filter(|l| l.starts_with("Default ")).collect();
        let keep = |text: String| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| {
                    [
                        "Name:",
                        "Volume:",
                        "Mute:",
                        "Sink:",
                        "Client:",
                        "Sink Input #",
                    ]
                    .iter()
                    .any(|k| l.starts_with(k))
                })
                .map(String::from)
                .collect()
        };
        format!(
            "{defaults:?}\nmodules: {}\nsinks: {:?}\nsources: {:?}\ninputs: {:?}\nclients: {}",
            self.pactl_text(&["list", "modules", "short"]),
            keep(self.pactl_text(&["list", "sinks"])),
            keep(self.pactl_text(&["list", "sources"])),
            keep(self.pactl_text(&["list", "sink-inputs"])),
            self.pactl_text(&["list", "clients", "short"])
                .lines()
                .filter(|l| !l.contains("pactl"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    /// The lines of `pactl list modules short`.
    pub fn modules(&self) -> Vec<String> {
        self.pactl_text(&["list", "modules", "short"])
            .lines()
            .map(String::from)
            .collect()
    }

    /// Play `file` on the host: a host app's stream (kill the child to stop it).
    pub fn play_on_host(&self, file: &Path) -> Child {
        self.client("paplay")
            .arg("--client-name=hostplayer")
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paplay is needed (apt-get install pulseaudio-utils)")
    }

    /// The indexes of the host's `paplay` stream and of its client, once it plays.
    pub fn host_stream(&self) -> (String, String) {
        super::wait_for(10, "the host's stream", || {
            let text = self.pactl_text(&["list", "sink-inputs", "short"]);
            let line = text.lines().find(|l| l.contains("protocol-native"))?;
            let mut words = line.split_whitespace();
            let stream = words.next()?.to_string();
            Some((stream, words.nth(1)?.to_string()))
        })
    }

    /// Start recording the null sink's monitor: 16-bit mono at 8 kHz on the child's stdout.
    pub fn record(&self) -> Child {
        self.client("parec")
            .args([
                "-d",
                "nullsink.monitor",
                "--raw",
                "--format=s16le",
                "--channels=1",
                "--rate=8000",
                "--latency-msec=20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("parec is needed (apt-get install pulseaudio-utils)")
    }
}

/// Stop a recording and give the loudest sample's magnitude (0..=32768).
pub fn peak(rec: Child) -> u32 {
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: a plain kill of our own child, not yet reaped.
    unsafe { libc::kill(rec.id() as libc::pid_t, libc::SIGINT) };
    let out = rec.wait_with_output().unwrap();
    peak_of(&out.stdout)
}

/// The loudest sample's magnitude in 16-bit little-endian audio.
pub fn peak_of(audio: &[u8]) -> u32 {
    audio
        .chunks_exact(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs() as u32)
        .max()
        .unwrap_or(0)
}

impl Drop for Pulse {
    fn drop(&mut self) {
        if self.group {
            // SAFETY: a kill of our own child's process group (it was made its leader).
            unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGTERM) };
        }
        super::terminate(&mut self.child);
    }
}
