//! A PulseAudio daemon of the test's own: run as the test user, in the test's runtime directory
//! (so nestbox finds it where libpulse would), with one null sink whose monitor the test records.

use super::{wait_for, TestEnv};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub struct Pulse {
    child: Child,
    /// The server's main socket: `$XDG_RUNTIME_DIR/pulse/native` of the test's world.
    pub socket: PathBuf,
    home: PathBuf,
    runtime: PathBuf,
}

impl Pulse {
    /// Start it; `extra` are more daemon options (such as `--disallow-module-loading`).
    pub fn start(env: &TestEnv, extra: &[&str]) -> Pulse {
        let socket = env.runtime.join("pulse/native");
        let child = Command::new("pulseaudio")
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
            .env_clear()
            .env("HOME", &env.home)
            .env("XDG_RUNTIME_DIR", &env.runtime)
            .env("XDG_CONFIG_HOME", &env.config)
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio is needed (apt-get install pulseaudio)");
        let p = Pulse {
            child,
            socket,
            home: env.home.clone(),
            runtime: env.runtime.clone(),
        };
        wait_for(20, "pulseaudio to answer", || {
            p.pactl(&["info"]).status.success().then_some(())
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

    /// `pactl -s unix:SOCKET ARGS` (another socket of the server's, say): its stdout on success.
    pub fn pactl_on(&self, socket: &Path, args: &[&str]) -> Option<String> {
        let out = self
            .client("pactl")
            .arg("-s")
            .arg(format!("unix:{}", socket.display()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The lines of `pactl list modules short` for module-native-protocol-unix on `socket`.
    pub fn modules_on(&self, socket: &Path) -> Vec<String> {
        let want = format!("socket={}", socket.display());
        self.modules()
            .into_iter()
            .filter(|l| l.contains("module-native-protocol-unix"))
            .filter(|l| l.split_whitespace().any(|w| w == want))
            .collect()
    }

    /// `pactl list modules short`, as lines.
    pub fn modules(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.pactl(&["list", "modules", "short"]).stdout)
            .lines()
            .map(String::from)
            .collect()
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
    out.stdout
        .chunks_exact(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs() as u32)
        .max()
        .unwrap_or(0)
}

impl Drop for Pulse {
    fn drop(&mut self) {
        super::terminate(&mut self.child);
    }
}
