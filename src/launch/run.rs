//! The launch itself: hold the profile's name in the registry (or run the program inside its
//! running sandbox), plan, open what the plan needs at launch (the sandbox's PulseAudio socket,
//! the nested display and its clipboard bridge, the terminal relay, the log), launch, and give
//! the app's exit status (closing what was opened).

use super::{LaunchError, Loaded, Request};
use crate::plan::{sound_dir, AudioPlan, DisplayPlan, LaunchSocket, Plan};
use crate::profile::{Clipboard, Home};
use crate::pulse::helper::{self, Helper};
use crate::pulse::SandboxSocket;
use crate::registry::{Claim, Entry, Registry};
use crate::sandbox::{JoinArgs, Pid1};
use crate::terminal::{Relay, SuspendKey};
use crate::xephyr::clipboard;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a launch waits for a sandbox of the same profile that is starting, to join it.
const STARTING_WAIT: Duration = Duration::from_secs(15);

/// Launch `request` in a new sandbox, or, when its profile's sandbox runs and `new_instance` is
/// not asked for, run the program inside that one: the app's exit status (128+N for signal N).
pub fn run(request: Request, new_instance: bool) -> Result<i32, LaunchError> {
    let mut loaded = request.load()?;
    // Without a runtime directory there is no registry: the sandbox runs, unlisted.
    let registry = Registry::new(&loaded.facts.env).ok();
    let claim = match &registry {
        None => None,
        Some(r) => match claim_or_join(r, &mut loaded, new_instance)? {
            Claimed::Name(claim) => Some(claim),
            Claimed::RanInside(code) => return Ok(code),
        },
    };
    // The app's output, kept for `nestbox logs` (nestbox's own lines from here on too).
    let log = claim
        .as_ref()
        .and_then(|c| crate::logs::path(&loaded.facts.env, &c.name));
    let mut tee = log.as_deref().and_then(|p| open_tee(p, true));
    let result = launch(loaded, claim.as_ref(), log, &mut tee);
    // A launch that fails says why in the log too: the caller prints that line after this.
    match (tee, &result) {
        (Some(tee), Err(e)) => tee.end_with(&format!("nestbox: {e}")),
        (tee, _) => drop(tee),
    }
    result
}

/// Set up what the plan needs around the sandbox and run it: the app's exit status.
fn launch(
    loaded: Loaded,
    claim: Option<&crate::registry::Claim>,
    log: Option<std::path::PathBuf>,
    tee: &mut Option<crate::logs::Tee>,
) -> Result<i32, LaunchError> {
    let mut plan = loaded.plan()?;
    for note in &plan.notes {
        eprintln!("nestbox: {note}");
    }
    // The sound socket first: its helper starts while Xephyr does.
    let sound = start_sound(&mut plan)?;
    let server = match &plan.display {
        DisplayPlan::Nested { server, .. } => Some(crate::xephyr::start(server)?),
        _ => None,
    };
    let mut bridge = None;
    if let Some(s) = &server {
        tracing::debug!(number = s.number, "nested display up");
        plan.attach_nested(&s.socket(), &s.cookie);
        if let DisplayPlan::Nested { server: p, .. } = &plan.display {
            if p.clipboard != Clipboard::None {
                bridge = Some(clipboard::start(
                    &p.host_display,
                    s.number,
                    &s.cookie,
                    p.clipboard,
                )?);
            }
        }
    }
    if plan.seccomp.architectures.is_empty() {
        eprintln!("nestbox: no seccomp filter on this architecture yet (x86_64 only)");
    }
    if plan.confinement.landlock_abi == 0 {
        eprintln!("nestbox: this kernel has no Landlock: the file rules are left out (the mounts still apply)");
    }
    // The user's terminal stays out of the sandbox (its helpers, started above, are not in it).
    let mut relay = open_relay(SuspendKey::StopsTheSandbox)?;
    let mut watch = Registering {
        claim,
        plan: &plan,
        log: tee.as_ref().and(log),
        copying: Copying {
            tee: tee.as_mut(),
            relay: relay.as_mut(),
            joined: false,
        },
    };
    let result = crate::sandbox::launch(&plan, server.as_ref().map(|s| s.pid()), &mut watch);
    // The terminal back as it was, then close the bridge, the sandbox's sound socket and the
    // nested display before nestbox says anything more or exits.
    drop(relay);
    drop(bridge);
    drop(sound);
    drop(server);
    Ok(result?)
}

/// The helper serving the sandbox's sound socket, and the socket's directory; dropped, the helper
/// stops, then the directory goes (the helper removes it too, when nestbox cannot).
struct Sound {
    helper: Option<Helper>,
    dir: std::path::PathBuf,
}

impl Drop for Sound {
    fn drop(&mut self) {
        drop(self.helper.take());
        crate::pulse::remove_socket_dir(&self.dir);
    }
}

/// Make the sandbox's own sound socket in `$XDG_RUNTIME_DIR/nestbox/pulse/PID-NAME` and start the
/// helper that relays it to the user's server, allowing what the profile allows; bind it in.
fn start_sound(plan: &mut Plan) -> Result<Option<Sound>, LaunchError> {
    let AudioPlan::Pulse {
        server,
        sockets_dir,
        access,
        ..
    } = &plan.audio
    else {
        return Ok(None);
    };
    let dir = sound_dir(sockets_dir, &std::process::id().to_string(), &plan.profile);
    let socket = match SandboxSocket::open(&server.socket, &dir, *access) {
        Ok(s) => s,
        Err(e) => return no_sound(plan, e).map(|()| None),
    };
    let helper = match helper::start(&socket) {
        Ok(h) => h,
        Err(e) => return no_sound(plan, e).map(|()| None),
    };
    tracing::debug!(socket = %socket.path().display(), "sound socket open");
    plan.attach_socket(LaunchSocket::Pulse, socket.path());
    // Only the helper holds the socket from here: the sandbox's PID 1, cloned from nestbox,
    // inherits none of it.
    Ok(Some(Sound {
        helper: Some(helper),
        dir: socket.release(),
    }))
}

/// No sound server at launch: the end of it for `audio = "pulse"`; for `"auto"`, one line and a
/// sandbox without sound.
fn no_sound<E>(plan: &mut Plan, e: E) -> Result<(), LaunchError>
where
    E: std::error::Error + Into<LaunchError>,
{
    match &plan.audio {
        AudioPlan::Pulse {
            required: false, ..
        } => {
            eprintln!("nestbox: no sound: {e}");
            plan.drop_sound(e.to_string());
            Ok(())
        }
        _ => Err(e.into()),
    }
}

/// What [`claim_or_join`] came to.
enum Claimed {
    /// The name is held: go on launching.
    Name(Claim),
    /// The program ran inside the running sandbox and exited with this status.
    RanInside(i32),
}

/// Hold the profile's sandbox name, or, when a sandbox of the profile runs and no new instance
/// is asked for, run the program inside it.
fn claim_or_join(
    r: &Registry,
    loaded: &mut Loaded,
    new_instance: bool,
) -> Result<Claimed, LaunchError> {
    let name = loaded.profile.name.clone();
    if new_instance {
        if let Some(c) = r.claim(&name)? {
            return Ok(Claimed::Name(c));
        }
        let c = r.claim_instance(&name)?;
        if loaded.profile.home == Home::Persistent {
            eprintln!(
                "nestbox: {name} is running with the persistent home; {} gets a throw-away home",
                c.name
            );
            loaded.profile.home = Home::Tmpfs;
        }
        return Ok(Claimed::Name(c));
    }
    let deadline = Instant::now() + STARTING_WAIT;
    loop {
        if let Some(c) = r.claim(&name)? {
            return Ok(Claimed::Name(c));
        }
        // Held: running, or starting (its entry is written once the app runs).
        if let Some(entry) = r.get(&name) {
            if let Some(pid1) = Pid1::open(entry.pid1, entry.pid1_start) {
                if entry.source != loaded.profile.source {
                    // Another profile by that name (--profile-file): never inside its sandbox.
                    eprintln!(
                        "nestbox: the sandbox {name} runs {}; {} starts apart",
                        entry.source.display(),
                        loaded.profile.source.display()
                    );
                    return claim_or_join(r, loaded, true);
                }
                if !loaded.shared_visible_in(entry.pid1) {
                    // Nothing new can be bound into a running sandbox.
                    eprintln!(
                        "nestbox: {name} is running and does not see the files given; they open in a new instance"
                    );
                    return claim_or_join(r, loaded, true);
                }
                match join_running(&entry, &pid1, loaded) {
                    // It ended as we came: start anew.
                    Err(LaunchError::Sandbox(crate::sandbox::LaunchError::Os {
                        errno, ..
                    })) if errno == nix::errno::Errno::ESRCH
                        || errno == nix::errno::Errno::EINVAL =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                    Ok(code) => return Ok(Claimed::RanInside(code)),
                }
            }
        }
        if Instant::now() > deadline {
            return Err(LaunchError::Starting {
                name,
                secs: STARTING_WAIT.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A second launch of a running profile: its program, with this launch's words, inside.
fn join_running(entry: &Entry, pid1: &Pid1, loaded: &Loaded) -> Result<i32, LaunchError> {
    let argv = loaded.argv()?;
    if loaded.overridden {
        eprintln!(
            "nestbox: {} is running; starting inside it (--x11, --audio and --gpu shape new sandboxes only)",
            entry.name
        );
    }
    tracing::debug!(name = %entry.name, ?argv, "joining the running sandbox");
    let args = JoinArgs { argv: &argv };
    let mut tee = entry.log.as_deref().and_then(|p| open_tee(p, false));
    let mut relay = open_relay(SuspendKey::StopsTheSandbox)?;
    let mut watch = Copying {
        tee: tee.as_mut(),
        relay: relay.as_mut(),
        joined: true,
    };
    let result = crate::sandbox::join(pid1, &entry.inside, args, &mut watch);
    drop(relay);
    drop(tee);
    Ok(result?)
}

/// A pseudo-terminal in place of the user's terminal, where nestbox's stdin, stdout or stderr is
/// one. One that cannot be made stops the launch: the user's terminal is never handed over
/// instead.
pub fn open_relay(suspend: SuspendKey) -> Result<Option<Relay>, LaunchError> {
    Relay::start(suspend).map_err(LaunchError::Terminal)
}

/// Route stdout and stderr through the log at `path`; a log that cannot be kept is said once.
fn open_tee(path: &std::path::Path, rotates: bool) -> Option<crate::logs::Tee> {
    crate::logs::Tee::start(path, rotates).unwrap_or_else(|e| {
        eprintln!(
            "nestbox: cannot keep the app's output in {}: {e}",
            path.display()
        );
        None
    })
}

/// Copies the app's output into its log, and relays the user's terminal, while nestbox waits.
pub struct Copying<'a> {
    pub tee: Option<&'a mut crate::logs::Tee>,
    pub relay: Option<&'a mut Relay>,
    /// The process started is a joined one (it stops with nestbox itself), not a sandbox's PID 1
    /// (which does not: what it started does).
    pub joined: bool,
}

impl crate::sandbox::Watch for Copying<'_> {
    fn cloned(&mut self, pid: libc::pid_t) {
        if let Some(r) = self.relay.as_mut() {
            r.handed_over(pid, self.joined);
        }
    }

    fn private_fds(&self) -> Vec<std::os::fd::RawFd> {
        self.relay
            .as_ref()
            .map_or_else(Vec::new, |r| r.private_fds())
    }

    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        let mut fds = self.tee.as_ref().map_or_else(Vec::new, |t| t.fds());
        fds.extend(self.relay.as_ref().map_or_else(Vec::new, |r| r.fds()));
        fds
    }

    fn readable(&mut self, fd: std::os::fd::RawFd) -> bool {
        match self.relay.as_mut() {
            Some(r) if r.owns(fd) => r.readable(fd),
            _ => self.tee.as_mut().is_some_and(|t| t.readable(fd)),
        }
    }

    fn signal(&mut self, sig: libc::c_int) -> bool {
        self.relay.as_mut().is_some_and(|r| r.signal(sig))
    }

    fn tick_every(&self) -> Option<std::time::Duration> {
        self.relay.as_ref().and_then(|r| r.tick_every())
    }

    fn tick(&mut self) {
        if let Some(r) = self.relay.as_mut() {
            r.tick();
        }
    }
}

/// Writes the registry's entry once the app runs, and copies its output into its log.
struct Registering<'a> {
    claim: Option<&'a Claim>,
    plan: &'a Plan,
    log: Option<PathBuf>,
    copying: Copying<'a>,
}

impl crate::sandbox::Watch for Registering<'_> {
    fn cloned(&mut self, pid1: libc::pid_t) {
        self.copying.cloned(pid1);
    }

    fn private_fds(&self) -> Vec<std::os::fd::RawFd> {
        self.copying.private_fds()
    }

    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        self.copying.fds()
    }

    fn readable(&mut self, fd: std::os::fd::RawFd) -> bool {
        self.copying.readable(fd)
    }

    fn signal(&mut self, sig: libc::c_int) -> bool {
        self.copying.signal(sig)
    }

    fn tick_every(&self) -> Option<std::time::Duration> {
        self.copying.tick_every()
    }

    fn tick(&mut self) {
        self.copying.tick();
    }

    fn running(&mut self, pid1: libc::pid_t) {
        let Some(claim) = self.claim else {
            return;
        };
        let Some(pid1_start) = crate::sandbox::process_start_time(pid1) else {
            eprintln!("nestbox: the sandbox runs, but nestbox ps will not list it: its PID 1 cannot be read in /proc");
            return;
        };
        let entry = Entry {
            name: claim.name.clone(),
            profile: self.plan.profile.clone(),
            source: self.plan.source.clone(),
            nestbox_pid: std::process::id() as i32,
            pid1,
            pid1_start,
            started: crate::registry::now(),
            command: self.plan.process.argv.clone(),
            home: self.plan.home_backing.clone(),
            log: self.log.clone(),
            inside: self.plan.inside(),
        };
        if let Err(e) = claim.publish(&entry) {
            eprintln!("nestbox: the sandbox runs, but nestbox ps will not list it: {e}");
        }
    }
}
