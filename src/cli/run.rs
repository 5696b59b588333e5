//! `nestbox run`: plan, open what the plan needs at launch (the nested display, the sandbox's
//! PulseAudio socket), launch, then pass the app's exit status on (and close what was opened).

use super::{fail, target::Target};
use crate::plan::{sound_dir, AudioPlan, DisplayPlan, LaunchSocket, Plan};
use crate::profile::Clipboard;
use crate::pulse::helper::{self, Helper, Opened, Pending};
use crate::xephyr::clipboard;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    target: Target,
}

pub fn run(args: RunArgs) -> i32 {
    let mut plan = match args.target.plan() {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    // The sound helper first: it loads libpulse and talks to the server while Xephyr starts.
    let sound = match start_sound(&mut plan) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let server = match &plan.display {
        DisplayPlan::Nested { server, .. } => match crate::xephyr::start(server) {
            Ok(s) => Some(s),
            Err(e) => return fail(&e, 125),
        },
        _ => None,
    };
    let mut bridge = None;
    if let Some(s) = &server {
        tracing::debug!(number = s.number, "nested display up");
        plan.attach_nested(&s.socket(), &s.cookie);
        if let DisplayPlan::Nested { server: p, .. } = &plan.display {
            if p.clipboard != Clipboard::None {
                match clipboard::start(&p.host_display, s.number, &s.cookie, p.clipboard) {
                    Ok(b) => bridge = Some(b),
                    Err(e) => return fail(&e, 125),
                }
            }
        }
    }
    let sound = match sound.map(|pending| finish_sound(&mut plan, pending)) {
        None => None,
        Some(Ok(helper)) => helper,
        Some(Err(code)) => return code,
    };
    if !crate::seccomp::AVAILABLE {
        eprintln!("nestbox: no seccomp filter on this architecture yet (x86_64 only)");
    }
    if plan.confinement.landlock_abi == 0 {
        eprintln!("nestbox: this kernel has no Landlock: the file rules are left out (the mounts still apply)");
    }
    let result = crate::sandbox::launch(&plan, server.as_ref().map(|s| s.pid()));
    // Close the bridge, the sandbox's sound socket and the nested display before nestbox says
    // anything more or exits.
    drop(bridge);
    drop(sound);
    drop(server);
    match result {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}

/// Start the helper that makes the sandbox's own socket on the PulseAudio server, in
/// `$XDG_RUNTIME_DIR/nestbox/pulse/PID-NAME`. Without a runtime directory to make it in, the
/// server's main socket is bound instead, and there is no helper.
fn start_sound(plan: &mut Plan) -> Result<Option<(Pending, PathBuf)>, i32> {
    let AudioPlan::Pulse {
        server,
        sockets_dir,
        ..
    } = &plan.audio
    else {
        return Ok(None);
    };
    let main = server.socket.clone();
    let Some(dir) = sockets_dir else {
        plan.attach_socket(LaunchSocket::Pulse, &main);
        return Ok(None);
    };
    let dir = sound_dir(dir, &std::process::id().to_string(), &plan.profile);
    match helper::start(&main, &dir) {
        Ok(pending) => Ok(Some((pending, main))),
        Err(e) => no_sound(plan, e).map(|()| None),
    }
}

/// The helper's answer: its socket bound in, or, where the server refused (said on stderr), the
/// server's main socket.
fn finish_sound(
    plan: &mut Plan,
    (pending, main): (Pending, PathBuf),
) -> Result<Option<Helper>, i32> {
    match pending.answer() {
        Ok(Opened::Own(h)) => {
            tracing::debug!(socket = %h.socket().display(), "sound socket open");
            plan.attach_socket(LaunchSocket::Pulse, h.socket());
            Ok(Some(h))
        }
        Ok(Opened::Refused(reason)) => {
            eprintln!("nestbox: {reason}; binding its main socket read-only instead");
            plan.attach_socket(LaunchSocket::Pulse, &main);
            Ok(None)
        }
        Err(e) => no_sound(plan, e).map(|()| None),
    }
}

/// No sound server at launch: the end of it for `audio = "pulse"`; for `"auto"`, one line and a
/// sandbox without sound.
fn no_sound(plan: &mut Plan, e: helper::HelperError) -> Result<(), i32> {
    match &plan.audio {
        AudioPlan::Pulse {
            required: false, ..
        } => {
            eprintln!("nestbox: no sound: {e}");
            plan.drop_sound(e.to_string());
            Ok(())
        }
        _ => Err(fail(&e, 125)),
    }
}
