//! `nestbox explain`: the plan in words. The JSON form is the plan's own serialization.

use super::build::DEVICES;
use super::{AbstractSockets, BindKind, DisplayPlan, HostStep, LaunchSocket, Mount, Plan};
use crate::profile::Clipboard;
use std::fmt::Write;
use std::path::Path;

fn bind_word(kind: BindKind) -> &'static str {
    match kind {
        BindKind::ReadOnly => "read-only",
        BindKind::ReadWrite => "read-write",
        BindKind::Device => "device",
    }
}

fn launch_socket_words(of: LaunchSocket) -> &'static str {
    match of {
        LaunchSocket::NestedX => "the nested X server's socket",
        LaunchSocket::Pulse => "the sandbox's own PulseAudio socket",
    }
}

fn step(m: &Mount) -> String {
    match m {
        Mount::Tmpfs { dst, mode } => format!("tmpfs       {} (mode {mode:04o})", dst.display()),
        Mount::Bind { src, dst, kind } if src == dst => {
            format!("bind        {} ({})", dst.display(), bind_word(*kind))
        }
        Mount::Bind { src, dst, kind } => {
            format!(
                "bind        {} <- {} ({})",
                dst.display(),
                src.display(),
                bind_word(*kind)
            )
        }
        Mount::Proc { dst } => format!("proc        {}", dst.display()),
        Mount::Devpts { dst } => format!("devpts      {} (new instance)", dst.display()),
        Mount::Symlink { target, dst } => {
            format!("symlink     {} -> {}", dst.display(), target.display())
        }
        Mount::File {
            dst,
            mode,
            contents,
        } => {
            format!(
                "file        {} (mode {mode:04o}): {}",
                dst.display(),
                contents.describe
            )
        }
        Mount::Protect { dst } => format!("protect     {} (read-only over itself)", dst.display()),
        Mount::ReadOnly { dst } => format!("read-only   {}", dst.display()),
        Mount::LaunchSocket { dst, of } => format!(
            "bind        {} <- {}, made at launch (read-only)",
            dst.display(),
            launch_socket_words(*of)
        ),
        Mount::NestedXauthority { dst } => format!(
            "file        {} (mode 0600): the nested server's cookie, made at launch, wildcard family",
            dst.display()
        ),
    }
}

/// The plan as a person reads it: what is shared, what is not, then every step.
pub fn explain_text(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = overview(&mut out, plan)
        .and_then(|()| sharing(&mut out, plan))
        .and_then(|()| nested(&mut out, plan))
        .and_then(|()| super::media::explain(&mut out, plan))
        .and_then(|()| steps(&mut out, plan));
    for note in &plan.notes {
        out.push_str(&format!("Note: {note}\n"));
    }
    out
}

/// Namespaces, ids, host name and the process.
fn overview(w: &mut String, plan: &Plan) -> std::fmt::Result {
    let net = if plan.namespaces.net {
        "new network namespace (loopback only)"
    } else {
        "the host's network"
    };
    let (u, g) = (plan.uid_map, plan.gid_map);
    writeln!(w, "Profile {} ({})", plan.profile, plan.source.display())?;
    writeln!(
        w,
        "\nNamespaces: {}; {net}",
        namespace_words(&plan.namespaces)
    )?;
    writeln!(
        w,
        "Id maps: uid {} -> {} ({} id), gid {} -> {} ({} id): {}",
        u.inside,
        u.outside,
        u.count,
        g.inside,
        g.outside,
        g.count,
        if u.inside == 0 {
            "root stays root, without capabilities (nestbox is meant for ordinary users)"
        } else {
            "the same user inside, never root"
        }
    )?;
    writeln!(w, "Host name: {}", plan.hostname)?;
    writeln!(
        w,
        "Program: {} (argv: {:?})",
        plan.process.program.display(),
        plan.process.argv
    )?;
    writeln!(
        w,
        "  run as PID 2 under a PID 1 that reaps and forwards signals; in a new session;"
    )?;
    writeln!(
        w,
        "  killed with nestbox; no_new_privs; every capability dropped; working directory {}",
        plan.process.cwd.display()
    )
}

/// The namespaces the sandbox makes of its own, but the network's (said on its own).
fn namespace_words(ns: &super::Namespaces) -> String {
    let made: Vec<&str> = [
        (ns.user, "user"),
        (ns.mount, "mount"),
        (ns.pid, "PID"),
        (ns.ipc, "IPC"),
        (ns.uts, "UTS"),
        (ns.cgroup, "cgroup"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    match made.split_last() {
        None => "none of its own".into(),
        Some((last, [])) => format!("a new {last} namespace"),
        Some((last, rest)) => format!("new {} and {last} namespaces", rest.join(", ")),
    }
}

/// What the sandbox shares with the host, what it does not, and where its home lives.
fn sharing(w: &mut String, plan: &Plan) -> std::fmt::Result {
    writeln!(w, "\nShared with the host:")?;
    for m in &plan.mounts {
        let Mount::Bind { src, dst, kind } = m else {
            continue;
        };
        let standard_device = *kind == BindKind::Device
            && DEVICES
                .iter()
                .any(|d| dst.as_path() == Path::new("/dev").join(d));
        if !standard_device {
            let from = if src == dst {
                String::new()
            } else {
                format!(" (host {})", src.display())
            };
            writeln!(w, "  {:<10}  {}{from}", bind_word(*kind), dst.display())?;
        }
    }
    writeln!(w, "  devices     /dev/{}", DEVICES.join(", /dev/"))?;
    display(w, plan)?;
    if let Some(socket) = &plan.wayland {
        writeln!(
            w,
            "  wayland     the compositor's socket {} (read-only), as WAYLAND_DISPLAY=wayland-0",
            socket.display()
        )?;
    }
    if !plan.namespaces.net {
        writeln!(w, "  network     the host's interfaces")?;
    }
    let abstract_sockets = match plan.confinement.abstract_sockets {
        AbstractSockets::PrivateNetwork => {
            "out of reach: the sandbox has a network namespace of its own"
        }
        AbstractSockets::Scoped => "out of reach: Landlock's abstract-Unix-socket scope",
        AbstractSockets::SharedWithHostDisplay => {
            "REACHABLE: this kernel has no Landlock abstract-socket scope (Linux 6.12), and x11 = \"host\" shares the host's display anyway"
        }
        AbstractSockets::AcceptedByProfile => {
            "REACHABLE, the host display's among them: this kernel cannot scope them and the profile accepts it"
        }
    };
    if !plan.protected.is_empty() {
        writeln!(w, "Kept read-only under read-write binds (nestbox's files, launchers, autostart, shell start-up files):")?;
        for p in &plan.protected {
            writeln!(w, "  {}", p.display())?;
        }
    }
    writeln!(w, "Host abstract Unix sockets: {abstract_sockets}")?;
    let c = &plan.confinement;
    if c.landlock_abi == 0 {
        writeln!(
            w,
            "Landlock file rules: none (this kernel has no Landlock); the mounts alone decide"
        )?;
    } else {
        writeln!(
            w,
            "Landlock file rules (ABI {}): read everything the sandbox sees; write only beneath {}",
            c.landlock_abi,
            c.writable
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    seccomp(w, &plan.seccomp)?;
    writeln!(
        w,
        "Signals to processes outside: {}",
        if plan.confinement.landlock_scopes {
            "refused by Landlock's signal scope (and none are visible: new PID namespace)"
        } else {
            "none are visible (new PID namespace)"
        }
    )?;
    writeln!(w, "\nNot shared: the host's processes, System V IPC, host name, the rest of the home and of /,")?;
    writeln!(
        w,
        "  /tmp and /run (private tmpfs), the host's session bus{}",
        if plan.namespaces.net {
            ", the network"
        } else {
            ""
        }
    )?;
    match &plan.session_bus {
        None => writeln!(w, "Session bus: none (DBUS_SESSION_BUS_ADDRESS=disabled:)")?,
        Some(bus) => writeln!(
            w,
            "Session bus: the sandbox's own ({} started before the app, at {}); the host's stays out of reach",
            bus.program.display(),
            plan.process
                .env
                .get("DBUS_SESSION_BUS_ADDRESS")
                .map_or("?", String::as_str)
        )?,
    }
    writeln!(
        w,
        "Files handed to a launch (--share-files, as desktop launchers do): {}",
        match plan.shared_files {
            crate::profile::SharedFiles::ReadOnly => "read-only, each file alone",
            crate::profile::SharedFiles::ReadWrite =>
                "read-write, each file alone (the profile says shared_files = \"read-write\")",
        }
    )?;
    limits(w, plan)?;
    match &plan.home_backing {
        Some(dir) => writeln!(
            w,
            "Home: {} is kept in {}",
            plan.home.display(),
            dir.display()
        ),
        None => writeln!(
            w,
            "Home: {} is a tmpfs, gone when the sandbox ends",
            plan.home.display()
        ),
    }
}

/// The seccomp filter, as the plan has it: what it refuses, and to which programs.
fn seccomp(w: &mut String, s: &crate::seccomp::SeccompPlan) -> std::fmt::Result {
    let arch = |a: &str| s.architectures.iter().any(|x| x == a);
    if s.architectures.is_empty() {
        writeln!(
            w,
            "System calls: no seccomp filter (nestbox has none for this architecture yet: x86_64 only)"
        )?;
        return writeln!(
            w,
            "New user namespaces: {}",
            if s.user_namespaces {
                "allowed (the profile says user_namespaces = true)"
            } else {
                "not refused: there is no filter to refuse them"
            }
        );
    }
    let programs = if arch("x86_64") && arch("i386") {
        "to 64-bit and 32-bit (i386) programs alike".to_string()
    } else {
        format!("to {} programs", s.architectures.join(" and "))
    };
    let x32 = if arch("x86_64") {
        "; x32 calls (ENOSYS)"
    } else {
        ""
    };
    writeln!(
        w,
        "System calls refused (EPERM), {programs}: {}; the TIOCSTI and TIOCLINUX ioctls; personality() but PER_LINUX{x32}; programs of any other architecture are killed",
        s.deny.join(", ")
    )?;
    writeln!(
        w,
        "New user namespaces: {}",
        if s.user_namespaces {
            "allowed (the profile says user_namespaces = true)"
        } else {
            "refused (unshare and clone with CLONE_NEWUSER: EPERM; clone3: ENOSYS)"
        }
    )
}

/// How the app reaches a display, if at all.
fn display(w: &mut String, plan: &Plan) -> std::fmt::Result {
    match &plan.display {
        DisplayPlan::None => writeln!(w, "  display     none (no X socket, no DISPLAY)"),
        DisplayPlan::Host {
            display,
            inside,
            socket,
            xauthority,
        } => writeln!(
            w,
            "  display     host display {display}, seen inside as {inside}: socket {} read-only, cookie in {} (wildcard family, read-only)",
            socket.display(),
            xauthority.display()
        ),
        DisplayPlan::Nested { inside, .. } => writeln!(
            w,
            "  display     none of the host's: a nested X server, seen inside as {inside}, with a cookie of its own"
        ),
    }
}

/// The nested X server: what starts it, and how it lives and dies with the sandbox.
fn nested(w: &mut String, plan: &Plan) -> std::fmt::Result {
    let DisplayPlan::Nested {
        server,
        window_manager,
        ..
    } = &plan.display
    else {
        return Ok(());
    };
    writeln!(
        w,
        "\nNested display: {} in a {}x{} window titled {:?} on host display {}",
        server.command.program.display(),
        server.width,
        server.height,
        server.title,
        server.host_display
    )?;
    writeln!(
        w,
        "  started before the sandbox: {}",
        server.command.argv.join(" ")
    )?;
    writeln!(
        w,
        "  with -displayfd, and -auth naming a fresh cookie held in memory (never on disk)"
    )?;
    let clipboard = match server.clipboard {
        Clipboard::None => "no clipboard shared",
        Clipboard::In => {
            "text copied on your display can be pasted inside (CLIPBOARD, not back out): every text copied on your display is readable by the app inside, as soon as it is copied, pasted or not"
        }
        Clipboard::Out => "text copied inside can be pasted on your display (CLIPBOARD, not in)",
        Clipboard::Both => "text copied on either side can be pasted on the other (CLIPBOARD): every text copied on your display is readable by the app inside, as soon as it is copied, pasted or not",
    };
    writeln!(w, "  {clipboard}")?;
    writeln!(
        w,
        "  closing its window ends the sandbox; the sandbox ending stops it"
    )?;
    match window_manager {
        Some(wm) => writeln!(
            w,
            "  window manager inside, started before the app: {} (argv: {:?})",
            wm.program.display(),
            wm.argv
        ),
        None => writeln!(
            w,
            "  no window manager (name one in [nested] window_manager)"
        ),
    }
}

/// Host steps, mount steps and the environment, in order.
fn steps(w: &mut String, plan: &Plan) -> std::fmt::Result {
    if !plan.host_steps.is_empty() {
        writeln!(w, "\nOn the host first:")?;
        for s in &plan.host_steps {
            let HostStep::CreateDir { path } = s;
            writeln!(w, "  create {} (mode 0700) if missing", path.display())?;
        }
    }
    writeln!(w, "\nMount steps, in order:")?;
    for (i, m) in plan.mounts.iter().enumerate() {
        match m {
            Mount::Tmpfs { dst, mode } => writeln!(
                w,
                "  {:>3}  tmpfs       {} (mode {mode:04o}, at most {})",
                i + 1,
                dst.display(),
                human_size(plan.limits.tmpfs_size)
            )?,
            _ => writeln!(w, "  {:>3}  {}", i + 1, step(m))?,
        }
    }
    writeln!(w, "\nEnvironment (nothing else of the caller's):")?;
    for (k, v) in &plan.process.env {
        writeln!(w, "  {k}={v}")?;
    }
    Ok(())
}

/// A size as a person writes it: "512 MiB", "3.0 GiB".
fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// What the sandbox may take of the host's memory and processes.
fn limits(w: &mut String, plan: &Plan) -> std::fmt::Result {
    writeln!(
        w,
        "Memory: every tmpfs inside (/tmp, /dev/shm, $XDG_RUNTIME_DIR, a tmpfs home...) holds at most {} (tmpfs_size); a write past it fails with ENOSPC",
        human_size(plan.limits.tmpfs_size)
    )?;
    match plan.limits.max_processes {
        Some(n) => writeln!(
            w,
            "Processes: at most {n} processes and threads at once (max_processes, as RLIMIT_NPROC, counted within the sandbox's user namespace: your other processes do not count against it, and it cannot take more than {n} of yours)"
        ),
        None => writeln!(
            w,
            "Processes: no limit of the sandbox's own (before Linux 5.14, RLIMIT_NPROC counts all your processes, not the sandbox's alone)"
        ),
    }
}

/// What a mount step does, as the object of "cannot ...", for the child's error line.
pub fn describe_step_for_error(m: &Mount) -> String {
    match m {
        Mount::Tmpfs { dst, .. } => format!("mount a tmpfs on {} in the sandbox", dst.display()),
        Mount::Bind { src, dst, .. } if src == dst => {
            format!("bind {} into the sandbox", src.display())
        }
        Mount::Bind { src, dst, .. } => format!(
            "bind {} into the sandbox at {}",
            src.display(),
            dst.display()
        ),
        Mount::Proc { dst } => format!("mount /proc at {} in the sandbox", dst.display()),
        Mount::Devpts { dst } => format!("mount a devpts at {} in the sandbox", dst.display()),
        Mount::Symlink { dst, .. } => format!("create symlink {} in the sandbox", dst.display()),
        Mount::File { dst, .. } => format!("write {} in the sandbox", dst.display()),
        Mount::Protect { dst } => format!("make {} read-only in the sandbox", dst.display()),
        Mount::ReadOnly { dst } => format!("make {} read-only in the sandbox", dst.display()),
        Mount::LaunchSocket { dst, of } => format!(
            "bind {} into the sandbox at {}",
            launch_socket_words(*of),
            dst.display()
        ),
        Mount::NestedXauthority { dst } => format!("write {} in the sandbox", dst.display()),
    }
}
