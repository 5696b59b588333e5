//! Shared harness for the integration tests: every test runs the real `nestbox` binary as an
//! unprivileged user. Run as root, a test re-runs itself as the test user (NESTBOX_TEST_USER,
//! default `nestbox-test`) with runuser, and reports that run's result.

#![allow(dead_code)]

pub mod app;
pub mod pulse;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const NESTBOX: &str = env!("CARGO_BIN_EXE_nestbox");

/// First line of every test: as root, run this test again as the test user and stop here.
macro_rules! unprivileged {
    ($name:expr) => {
        if rerun_as_test_user($name) {
            return;
        }
    };
}

/// Call first in every test: `if common::rerun_as_test_user("name") { return; }`.
/// As root, runs this one test again as the test user and asserts it passed there.
pub fn rerun_as_test_user(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        return false;
    }
    let user = std::env::var("NESTBOX_TEST_USER").unwrap_or_else(|_| "nestbox-test".into());
    if nix::unistd::User::from_name(&user).ok().flatten().is_none() {
        panic!("tests must run unprivileged: as root, create the test user first (useradd -m {user}), as scripts/test does");
    }
    let shots = artifact_dir();
    fs::set_permissions(&shots, fs::Permissions::from_mode(0o1777)).unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("runuser")
        .args(["-u", &user, "--"])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env_remove("XAUTHORITY")
        .env("TMPDIR", "/tmp")
        .output()
        .expect("runuser");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "as {user}:\n{text}"
    );
    true
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A private world for one test: its own HOME, XDG dirs and profile directory.
pub struct TestEnv {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub config: PathBuf,
    pub data: PathBuf,
    pub runtime: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new(name: &str) -> TestEnv {
        let base = std::env::var_os("NESTBOX_TEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = base.join(format!("nestbox-test-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let env = TestEnv {
            home: dir.join("home"),
            config: dir.join("config"),
            data: dir.join("data"),
            runtime: dir.join("runtime"),
            dir,
            extra_env: Vec::new(),
        };
        for d in [
            &env.home,
            &env.config.join("nestbox/profiles"),
            &env.data,
            &env.runtime,
        ] {
            fs::create_dir_all(d).unwrap();
        }
        fs::set_permissions(&env.runtime, fs::Permissions::from_mode(0o700)).unwrap();
        env
    }

    /// Launch on display `x`, with its cookie.
    pub fn use_display(&mut self, x: &Xvfb) {
        self.extra_env.push(("DISPLAY".into(), x.display.clone()));
        self.extra_env
            .push(("XAUTHORITY".into(), x.xauthority.display().to_string()));
    }

    /// Write a user profile.
    pub fn profile(&self, name: &str, text: &str) -> PathBuf {
        let path = self
            .config
            .join("nestbox/profiles")
            .join(format!("{name}.toml"));
        fs::write(&path, text).unwrap();
        path
    }

    /// `nestbox ARGS` in this world, with a clean environment.
    pub fn nestbox(&self, args: &[&str]) -> Command {
        let mut c = Command::new(NESTBOX);
        c.args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.config)
            .env("XDG_DATA_HOME", &self.data)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    /// Run and collect the output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.nestbox(args).output().expect("cannot start nestbox")
    }

    /// The persistent home of `profile` on the host.
    pub fn backing_home(&self, profile: &str) -> PathBuf {
        self.data.join("nestbox/homes").join(profile)
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert nestbox failed with `code` and exactly one line on stderr containing `needle`.
pub fn assert_one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "want one line, got: {err}");
    assert!(err.contains(needle), "want {needle:?} in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

/// Poll `f` until it gives Some, or panic after `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Host pids whose command line contains `marker`.
pub fn pids_with(marker: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(marker) {
                out.push(pid);
            }
        }
    }
    out
}

/// An Xvfb of the test's own, started with `-auth` so that its cookie is really required.
pub struct Xvfb {
    child: Child,
    pub number: u32,
    pub display: String,
    /// A client Xauthority holding the cookie (FamilyLocal, this host's name).
    pub xauthority: PathBuf,
    pub cookie: Vec<u8>,
}

/// 16 random bytes, as letters (xcb's AuthInfo takes the cookie as a string).
pub fn random_cookie() -> Vec<u8> {
    let mut c = vec![0u8; 16];
    use std::io::Read;
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut c)
        .unwrap();
    c.iter().map(|b| b'a' + b % 26).collect()
}

pub fn xauth_file(path: &Path, number: u32, cookie: &[u8]) {
    use nestbox::host::{write_xauthority, XauthEntry, FAMILY_LOCAL, MIT_MAGIC_COOKIE};
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    let entry = XauthEntry {
        family: FAMILY_LOCAL,
        address: host.into_bytes(),
        number: number.to_string().into_bytes(),
        name: MIT_MAGIC_COOKIE.to_vec(),
        data: cookie.to_vec(),
    };
    fs::write(path, write_xauthority(&[entry])).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

impl Xvfb {
    pub fn start(env: &TestEnv) -> Xvfb {
        Xvfb::start_sized(env, "800x600x24")
    }

    /// An Xvfb with a screen of this `WIDTHxHEIGHTxDEPTH`.
    pub fn start_sized(env: &TestEnv, screen: &str) -> Xvfb {
        use std::io::{BufRead, BufReader};
        let cookie = random_cookie();
        let server_auth = env.dir.join("server-auth");
        xauth_file(&server_auth, 0, &cookie);
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-noreset",
                "-screen",
                "0",
                screen,
                "-auth",
            ])
            .arg(&server_auth)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed (apt-get install xvfb)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let number: u32 = line
            .trim()
            .parse()
            .expect("Xvfb did not report its display");
        let xauthority = env.dir.join("Xauthority");
        xauth_file(&xauthority, number, &cookie);
        Xvfb {
            child,
            number,
            display: format!(":{number}"),
            xauthority,
            cookie,
        }
    }

    /// A host-side X client command on this display, with the cookie.
    pub fn client(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display)
            .env("XAUTHORITY", &self.xauthority);
        c
    }

    /// `WxH+X+Y` of the top-level window whose title contains `title`, as xwininfo reports it.
    pub fn geometry(&self, title: &str) -> Option<String> {
        // "  0x200022 "title": ("xterm" "XTerm")  484x316+0+0  +20+20": size, then the position.
        let tree = self.tree();
        let line = tree.lines().find(|l| l.contains(title))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let size = words[words.len() - 2].split('+').next()?;
        Some(format!("{size}{}", words[words.len() - 1]))
    }

    /// The text of this display's CLIPBOARD, as xclip reads it: empty when nobody holds it, and
    /// when its owner gives no answer within 2 s. An owner that goes away (a clipboard bridge
    /// ending with its sandbox) after xclip asked never answers, and xclip would wait for ever.
    pub fn clipboard(&self) -> String {
        let mut xclip = self
            .client("xclip")
            .args(["-o", "-selection", "clipboard"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("xclip is needed (apt-get install xclip)");
        let deadline = Instant::now() + Duration::from_secs(2);
        while xclip.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = xclip.kill();
                let _ = xclip.wait();
                return String::new();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let o = xclip.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Copy `text` to this display's CLIPBOARD (xclip goes on serving it in the background).
    pub fn copy(&self, text: &str) {
        use std::io::Write;
        let mut copy = self
            .client("xclip")
            .args(["-i", "-selection", "clipboard"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("xclip is needed (apt-get install xclip)");
        write!(copy.stdin.take().unwrap(), "{text}").unwrap();
        copy.wait().unwrap();
    }

    /// A screenshot of the whole display, kept as an artifact.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let shot = artifact(name);
        let status = self
            .client("import")
            .args(["-window", "root"])
            .arg(&shot)
            .status()
            .unwrap();
        assert!(status.success(), "import failed");
        shot
    }

    /// The share of pixels in `geometry` of `shot` that are near `color` (such as "#ff0000").
    pub fn share_of_color(&self, shot: &Path, geometry: &str, color: &str) -> f64 {
        let out = Command::new("convert")
            .arg(shot)
            .args(["-crop", geometry, "+repage", "-fuzz", "15%"])
            .args(["-fill", "black", "+opaque", color])
            .args(["-fill", "white", "-opaque", color])
            .args(["-format", "%[fx:mean]", "info:"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0)
    }

    /// Paint the root window one colour (0xRRGGBB on the default 24-bit visual), so that windows
    /// stand out from it in screenshots.
    pub fn paint_root(&self, rgb: u32) {
        let (conn, root) = self.connect();
        conn.send_request(&xcb::x::ChangeWindowAttributes {
            window: root,
            value_list: &[xcb::x::Cw::BackPixel(rgb)],
        });
        conn.send_request(&xcb::x::ClearArea {
            exposures: false,
            window: root,
            x: 0,
            y: 0,
            width: 0,
            height: 0,
        });
        conn.send_and_check_request(&xcb::x::NoOperation {})
            .unwrap();
    }

    /// An xcb connection with the cookie, and the root window.
    fn connect(&self) -> (xcb::Connection, xcb::x::Window) {
        let cookie = String::from_utf8(self.cookie.clone()).unwrap();
        let auth = xcb::AuthInfo {
            name: "MIT-MAGIC-COOKIE-1",
            data: &cookie,
        };
        let (conn, screen) =
            xcb::Connection::connect_to_display_with_auth_info(Some(&self.display), auth).unwrap();
        let root = conn
            .get_setup()
            .roots()
            .nth(screen as usize)
            .unwrap()
            .root();
        (conn, root)
    }

    /// Close the window titled `title` as a window manager's close button does: WM_DELETE_WINDOW
    /// when the window takes part in that protocol, else XKillClient on its connection.
    pub fn close_window(&self, title: &str) {
        let cookie = String::from_utf8(self.cookie.clone()).unwrap();
        let auth = xcb::AuthInfo {
            name: "MIT-MAGIC-COOKIE-1",
            data: &cookie,
        };
        let (conn, screen) =
            xcb::Connection::connect_to_display_with_auth_info(Some(&self.display), auth).unwrap();
        let root = conn
            .get_setup()
            .roots()
            .nth(screen as usize)
            .unwrap()
            .root();
        let atom = |name: &str| {
            let c = conn.send_request(&xcb::x::InternAtom {
                only_if_exists: false,
                name: name.as_bytes(),
            });
            conn.wait_for_reply(c).unwrap().atom()
        };
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let tree = conn
            .wait_for_reply(conn.send_request(&xcb::x::QueryTree { window: root }))
            .unwrap();
        let window = tree
            .children()
            .iter()
            .copied()
            .find(|&w| {
                let c = conn.send_request(&xcb::x::GetProperty {
                    delete: false,
                    window: w,
                    property: xcb::x::ATOM_WM_NAME,
                    r#type: xcb::x::ATOM_STRING,
                    long_offset: 0,
                    long_length: 256,
                });
                let reply = conn.wait_for_reply(c).unwrap();
                String::from_utf8_lossy(reply.value::<u8>()).contains(title)
            })
            .unwrap_or_else(|| panic!("no window titled {title:?}"));
        let c = conn.send_request(&xcb::x::GetProperty {
            delete: false,
            window,
            property: protocols,
            r#type: xcb::x::ATOM_ATOM,
            long_offset: 0,
            long_length: 32,
        });
        let takes_delete = conn
            .wait_for_reply(c)
            .unwrap()
            .value::<xcb::x::Atom>()
            .contains(&delete);
        if takes_delete {
            let event = xcb::x::ClientMessageEvent::new(
                window,
                protocols,
                xcb::x::ClientMessageData::Data32([xcb::Xid::resource_id(&delete), 0, 0, 0, 0]),
            );
            conn.send_and_check_request(&xcb::x::SendEvent {
                propagate: false,
                destination: xcb::x::SendEventDest::Window(window),
                event_mask: xcb::x::EventMask::NO_EVENT,
                event: &event,
            })
            .unwrap();
        } else {
            conn.send_and_check_request(&xcb::x::KillClient {
                resource: xcb::Xid::resource_id(&window),
            })
            .unwrap();
        }
        // Checked requests: the server has carried them out before this connection closes (a
        // request still unread when the client hangs up may be dropped).
    }

    /// The window tree as `xwininfo -root -tree` prints it.
    pub fn tree(&self) -> String {
        let o = self
            .client("xwininfo")
            .args(["-root", "-tree"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Xvfb {
    /// SIGTERM, so that Xvfb removes its socket: one left by a SIGKILL looks like a socket some
    /// nested display failed to clean up, to the tests that look for those.
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// SIGTERM to a server the test started, SIGKILL if it is still there 3 s later; reaped.
pub fn terminate(child: &mut Child) {
    // SAFETY: a plain kill of our own child, not reaped before the wait below.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    for _ in 0..300 {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Where tests keep screenshots for people to look at (CI keeps them as artifacts).
pub fn artifact(name: &str) -> PathBuf {
    artifact_dir().join(name)
}

fn artifact_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Regular files below `root` (not following symlinks) whose bytes contain `needle`.
pub fn files_holding(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return found;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            found.extend(files_holding(&e.path(), needle));
        } else if t.is_file() {
            if let Ok(bytes) = fs::read(e.path()) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(e.path());
                }
            }
        }
    }
    found
}

/// An interactive bash of the host on a pseudo-terminal of the test's own, as a user's terminal
/// would run it, in the world of `env` (nestbox on its PATH as `nestbox`).
pub struct HostShell {
    child: Child,
    master: std::fs::File,
    /// Everything the terminal showed so far.
    pub screen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// The terminal's name (/dev/pts/N), as the shell's descriptors point at it.
    pub tty: PathBuf,
}

impl HostShell {
    pub fn start(env: &TestEnv) -> HostShell {
        use std::io::Read;
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        // SAFETY: plain calls on the descriptor posix_openpt gives, checked.
        let (master, tty) = unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0 && libc::grantpt(m) == 0 && libc::unlockpt(m) == 0);
            let mut name = [0 as libc::c_char; 64];
            assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
            let name = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_str()
                .unwrap()
                .to_string();
            (OwnedFd::from_raw_fd(m), PathBuf::from(name))
        };
        let slave = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&tty)
            .unwrap();
        let bin = env.dir.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let _ = std::os::unix::fs::symlink(NESTBOX, bin.join("nestbox"));
        // The world's environment, as nestbox gets it in every test.
        let cmd = env.nestbox(&[]);
        let mut bash = Command::new("bash");
        bash.args(["--norc", "--noprofile", "-i"])
            .env_clear()
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("PS1", "HOST$ ")
            .env("TERM", "xterm")
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: setsid and TIOCSCTTY in the child before exec: the terminal becomes its own.
        unsafe {
            bash.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = bash.spawn().expect("bash");
        let master = std::fs::File::from(master);
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut reader, into) = (master.try_clone().unwrap(), screen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let shell = HostShell {
            child,
            master,
            screen,
            tty,
        };
        shell.wait_for("HOST$ ", 10);
        shell
    }

    /// Type `text` (with the newline it needs).
    pub fn type_in(&self, text: &str) {
        use std::io::Write;
        (&self.master).write_all(text.as_bytes()).unwrap();
    }

    /// What the terminal showed, as text.
    pub fn shown(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Wait until the terminal has shown `needle` `count` times in all.
    pub fn wait_for_count(&self, needle: &str, count: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.shown().matches(needle).count() < count {
            if Instant::now() > deadline {
                let shown = self.shown();
                let tail: String = shown
                    .chars()
                    .rev()
                    .take(400)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                panic!("timed out waiting for {needle:?} on the terminal; it ends with {tail:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, needle: &str, secs: u64) {
        self.wait_for_count(needle, 1, secs);
    }
}

impl Drop for HostShell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes inside a sandbox (in another PID namespace than the test's) whose command line
/// holds `marker` and that have a descriptor open on `tty`.
pub fn holds_terminal(marker: &str, tty: &Path) -> Vec<u32> {
    let ours = fs::read_link("/proc/self/ns/pid").unwrap();
    pids_with(marker)
        .into_iter()
        .filter(|pid| fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|ns| ns != ours))
        .filter(|pid| {
            fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|d| {
                d.flatten()
                    .any(|e| fs::read_link(e.path()).is_ok_and(|t| t == tty))
            })
        })
        .collect()
}

/// `nestbox ARGS` (whose app waits on its stdin) started as a careless caller would: a secret
/// in its environment (SECRET_TOKEN) and a secret file on descriptor 9 without close-on-exec.
/// The child, with its stdin piped, and the secret file.
pub fn spawn_careless(env: &TestEnv, args: &[&str]) -> (Child, PathBuf) {
    let secret = env.dir.join("secret.txt");
    fs::write(&secret, "s").unwrap();
    let mut cmd = env.nestbox(args);
    cmd.env("SECRET_TOKEN", "hunter2").stdin(Stdio::piped());
    leak_fd(&mut cmd, 9, &secret);
    (cmd.spawn().unwrap(), secret)
}

/// That helper process `pid` got neither of [`spawn_careless`]'s secrets, and does have `var`
/// (one of the variables it is meant to get).
pub fn assert_no_secrets(pid: u32, secret: &Path, var: &str) {
    let (names, fds) = helper_inheritance(pid);
    assert!(!names.iter().any(|n| n == "SECRET_TOKEN"), "{names:?}");
    assert!(names.iter().any(|n| n == var), "{names:?}");
    assert!(!fds.contains(&secret.to_path_buf()), "{fds:?}");
}

/// A command that inherits descriptor `fd` (not close-on-exec) open on `path`, as a careless
/// caller would leave one to nestbox.
pub fn leak_fd(cmd: &mut Command, fd: i32, path: &Path) {
    use std::os::fd::IntoRawFd;
    use std::os::unix::process::CommandExt;
    let leaked = fs::File::open(path).unwrap().into_raw_fd();
    // SAFETY: dup2 between fork and exec; the copy at `fd` is not close-on-exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(leaked, fd) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// What a helper process `pid` got: its environment's names, and where its descriptors above
/// stderr point.
pub fn helper_inheritance(pid: u32) -> (Vec<String>, Vec<PathBuf>) {
    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let names = environ
        .split(|&b| b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let v = String::from_utf8_lossy(v);
            v.split('=').next().unwrap_or("").to_string()
        })
        .collect();
    let fds = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) > Some(2))
                .filter_map(|e| fs::read_link(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    (names, fds)
}
