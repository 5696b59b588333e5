//! Display isolation in the plan: nested X, no X, Wayland, and the Landlock scopes that keep the
//! host's abstract sockets out of reach.

use super::*;
use crate::profile::NestedSize;

fn nested_host() -> FakeFs {
    host()
        .with_program("/usr/bin/Xephyr")
        .with_program("/usr/bin/twm")
}

fn nested(network: Network) -> Profile {
    let mut p = xterm();
    p.x11 = X11::Nested;
    p.network = network;
    p
}

fn nested_facts() -> HostFacts {
    let mut f = facts();
    f.env.insert("PATH".into(), "/usr/bin:/bin".into());
    f.monitor = Some(Ok((1920, 1080)));
    f.abstract_displays = vec![0, 3, 100, 101];
    f
}

fn plan(p: &Profile, f: &HostFacts, fs: &FakeFs) -> Result<Plan, PlanError> {
    build(p, f, fs, None, &[])
}

fn x11_steps(plan: &Plan) -> Vec<Mount> {
    plan.mounts
        .iter()
        .filter(|m| m.dst().starts_with("/tmp/.X11-unix") || m.dst() == Path::new(x11::XAUTHORITY))
        .cloned()
        .collect()
}

#[test]
fn nested_display_is_a_placeholder_socket_under_a_number_free_on_the_host() {
    let plan = plan(&nested(Network::Shared), &nested_facts(), &nested_host()).unwrap();
    // 100 and 101 have abstract listeners on the host: the sandbox sees its display as :102.
    assert_eq!(
        x11_steps(&plan),
        [
            Mount::Tmpfs {
                dst: "/tmp/.X11-unix".into(),
                mode: 0o755
            },
            Mount::LaunchSocket {
                dst: "/tmp/.X11-unix/X102".into(),
                of: LaunchSocket::NestedX,
            },
            Mount::ReadOnly {
                dst: "/tmp/.X11-unix".into()
            },
            Mount::NestedXauthority {
                dst: "/run/nestbox/Xauthority".into()
            },
        ]
    );
    assert_eq!(plan.process.env["DISPLAY"], ":102");
    assert_eq!(plan.process.env["XAUTHORITY"], "/run/nestbox/Xauthority");
    let DisplayPlan::Nested { server, inside, .. } = &plan.display else {
        panic!("{:?}", plan.display)
    };
    assert_eq!(inside, ":102");
    assert_eq!(server.host_display, ":3");
    assert_eq!((server.width, server.height), (1728, 972), "nine tenths");
    assert_eq!(server.title, "nestbox: xterm");
    assert_eq!(
        server.command.argv,
        [
            "/usr/bin/Xephyr",
            "-nolisten",
            "tcp",
            "-resizeable",
            "-noreset",
            "-title",
            "nestbox: xterm",
            "-screen",
            "1728x972"
        ]
    );
    // No host cookie is read or given: nothing of the host display goes in.
    assert!(!plan
        .mounts
        .iter()
        .any(|m| matches!(m, Mount::Bind { src, .. } if src.starts_with("/tmp/.X11-unix"))));
    assert_eq!(
        (
            plan.confinement.landlock_scopes,
            plan.confinement.abstract_sockets
        ),
        (true, AbstractSockets::Scoped)
    );
}

#[test]
fn nested_display_in_a_private_network_is_zero() {
    let plan = plan(&nested(Network::None), &nested_facts(), &nested_host()).unwrap();
    assert_eq!(plan.process.env["DISPLAY"], ":0");
    assert_eq!(
        (
            plan.confinement.landlock_scopes,
            plan.confinement.abstract_sockets
        ),
        (true, AbstractSockets::PrivateNetwork)
    );
}

#[test]
fn inside_number_skips_host_listeners() {
    assert_eq!(x11::inside_number(false, &[0, 100]), 0);
    assert_eq!(x11::inside_number(true, &[]), 100);
    assert_eq!(x11::inside_number(true, &[0, 1, 100, 102]), 101);
}

#[test]
fn attaching_the_server_makes_an_ordinary_bind_and_a_wildcard_cookie() {
    let mut plan = plan(&nested(Network::Shared), &nested_facts(), &nested_host()).unwrap();
    plan.attach_nested(Path::new("/tmp/.X11-unix/X5"), b"0123456789abcdef");
    let steps = x11_steps(&plan);
    assert_eq!(
        steps[1],
        Mount::Bind {
            src: "/tmp/.X11-unix/X5".into(),
            dst: "/tmp/.X11-unix/X102".into(),
            kind: BindKind::ReadOnly
        }
    );
    let Mount::File { mode, contents, .. } = &steps[3] else {
        panic!("{:?}", steps[3])
    };
    assert_eq!(*mode, 0o600);
    assert_eq!(
        crate::host::parse_xauthority(&contents.bytes).unwrap(),
        [XauthEntry {
            family: FAMILY_WILD,
            address: vec![],
            number: b"102".to_vec(),
            name: MIT_MAGIC_COOKIE.to_vec(),
            data: b"0123456789abcdef".to_vec(),
        }]
    );
    assert!(!serde_json::to_string(&plan)
        .unwrap()
        .contains("0123456789abcdef"));
}

#[test]
fn nested_size_and_window_manager_come_from_the_profile() {
    let mut p = nested(Network::None);
    p.nested.size = NestedSize::Fixed {
        width: 1024,
        height: 700,
    };
    p.nested.window_manager = Some(vec!["twm".into(), "-f".into(), "/dev/null".into()]);
    let mut f = nested_facts();
    // A fixed size does not need the monitor.
    f.monitor = None;
    let plan = plan(&p, &f, &nested_host()).unwrap();
    let DisplayPlan::Nested {
        server,
        window_manager,
        ..
    } = &plan.display
    else {
        panic!()
    };
    assert_eq!((server.width, server.height), (1024, 700));
    assert_eq!(
        window_manager.as_ref(),
        Some(&Command {
            program: "/usr/bin/twm".into(),
            argv: vec!["twm".into(), "-f".into(), "/dev/null".into()],
        })
    );
    assert_eq!(plan.window_manager(), window_manager.as_ref());
    let text = explain_text(&plan);
    assert!(text.contains("window manager inside, started before the app: /usr/bin/twm"));
    assert!(text.contains("  no clipboard shared\n"), "{text}");
    p.nested.clipboard = crate::profile::Clipboard::In;
    let DisplayPlan::Nested { server, .. } = plan_ok(&p, &f).display else {
        panic!()
    };
    assert_eq!(server.clipboard, crate::profile::Clipboard::In);
    assert!(explain_text(&plan_ok(&p, &f))
        .contains("text copied on your display can be pasted inside (CLIPBOARD, not back out)"));

    // Only a nested display gets one.
    p.x11 = X11::None;
    assert_eq!(plan_ok(&p, &f).window_manager(), None);

    p.x11 = X11::Nested;
    p.nested.window_manager = Some(vec!["no-such-wm".into()]);
    assert!(matches!(
        build(&p, &f, &nested_host(), None, &[]),
        Err(PlanError::ProgramNotFound { program, .. }) if program == "no-such-wm"
    ));
}

fn plan_ok(p: &Profile, f: &HostFacts) -> Plan {
    plan(p, f, &nested_host()).unwrap()
}

#[test]
fn nested_faults_are_clear() {
    let p = nested(Network::None);
    let err = |f: &HostFacts, fs: &FakeFs| plan(&p, f, fs).unwrap_err().to_string();
    assert_eq!(
        err(&nested_facts(), &host()),
        "x11 = \"nested\" needs Xephyr, which is not installed (apt install xserver-xephyr)"
    );
    let mut f = nested_facts();
    f.monitor = Some(Err(
        "cannot ask display :3 for its size: cannot connect".into()
    ));
    assert_eq!(
        err(&f, &nested_host()),
        "cannot ask display :3 for its size: cannot connect (give [nested] size = \"WIDTHxHEIGHT\" to skip asking)"
    );
    f.env.remove("DISPLAY");
    assert_eq!(
        err(&f, &nested_host()),
        "this profile puts its windows on the host display, but DISPLAY is not set"
    );
    f.env.insert("DISPLAY".into(), ":8".into());
    assert_eq!(
        err(&f, &nested_host()),
        "display :8 has no socket at /tmp/.X11-unix/X8"
    );
}

#[test]
fn without_landlock_scopes_a_shared_network_is_refused_unless_accepted() {
    let mut f = nested_facts();
    f.landlock_scopes = false;
    let mut p = nested(Network::Shared);
    let e = plan(&p, &f, &nested_host()).unwrap_err().to_string();
    assert!(
        e.starts_with("this kernel cannot keep the sandbox from the host's abstract Unix sockets")
            && e.contains("around its nested display")
            && e.contains("allow_host_abstract_sockets = true"),
        "{e}"
    );
    p.x11 = X11::None;
    let e = plan(&p, &f, &nested_host()).unwrap_err().to_string();
    assert!(e.contains("around x11 = \"none\""), "{e}");

    p.allow_host_abstract_sockets = true;
    let accepted = plan_ok(&p, &f);
    assert_eq!(
        (
            accepted.confinement.landlock_scopes,
            accepted.confinement.abstract_sockets
        ),
        (false, AbstractSockets::AcceptedByProfile)
    );
    assert!(explain_text(&accepted).contains("Host abstract Unix sockets: REACHABLE"));

    // A private network needs no scope for them.
    p.allow_host_abstract_sockets = false;
    p.network = Network::None;
    assert_eq!(
        plan_ok(&p, &f).confinement.abstract_sockets,
        AbstractSockets::PrivateNetwork
    );
}

#[test]
fn the_host_display_is_seen_under_a_number_without_an_abstract_listener_and_scoped() {
    let mut p = xterm();
    p.x11 = X11::Host;
    p.network = Network::Shared;
    let mut f = x11_facts(&[cookie(FAMILY_LOCAL, "desk", "3", b"c")]);
    f.abstract_displays = vec![0, 3, 100];
    let made = plan(&p, &f, &host()).unwrap();
    assert_eq!(
        (
            made.confinement.landlock_scopes,
            made.confinement.abstract_sockets
        ),
        (true, AbstractSockets::Scoped)
    );
    assert_eq!(made.process.env["DISPLAY"], ":101");
    assert!(made.mounts.contains(&Mount::Bind {
        src: "/tmp/.X11-unix/X3".into(),
        dst: "/tmp/.X11-unix/X101".into(),
        kind: BindKind::ReadOnly,
    }));
    // The cookie is the host's, for the number inside.
    let xauth = made
        .mounts
        .iter()
        .find_map(|m| match m {
            Mount::File { dst, contents, .. } if dst.ends_with("Xauthority") => Some(contents),
            _ => None,
        })
        .unwrap();
    let entries = crate::host::parse_xauthority(&xauth.bytes).unwrap();
    assert_eq!(entries[0].number, b"101");
    // A kernel without the scope: as before, reachable, and said so.
    f.landlock_scopes = false;
    let made = plan(&p, &f, &host()).unwrap();
    assert_eq!(
        made.confinement.abstract_sockets,
        AbstractSockets::SharedWithHostDisplay
    );
    // Off the host's network, the display keeps its number (the sandbox has no listeners).
    p.network = Network::None;
    let f = x11_facts(&[cookie(FAMILY_LOCAL, "desk", "3", b"c")]);
    let made = plan(&p, &f, &host()).unwrap();
    assert_eq!(made.process.env["DISPLAY"], ":3");
}

#[test]
fn no_display_has_no_x_at_all_and_is_scoped() {
    let mut p = xterm();
    p.network = Network::Shared;
    let plan = plan(&p, &facts(), &host()).unwrap();
    assert_eq!(plan.display, DisplayPlan::None);
    assert!(x11_steps(&plan).is_empty());
    assert!(!plan.process.env.contains_key("DISPLAY"));
    assert!(!plan.process.env.contains_key("XAUTHORITY"));
    assert!(plan.confinement.landlock_scopes);
    assert!(explain_text(&plan).contains("Host abstract Unix sockets: out of reach: Landlock"));
}

#[test]
fn wayland_binds_the_compositor_socket() {
    let mut p = xterm();
    p.wayland = true;
    let mut f = facts();
    f.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/1000".into());
    f.env.insert("WAYLAND_DISPLAY".into(), "wayland-1".into());
    let fs = host().with("/run/user/1000/wayland-1", FileKind::Socket);
    let plan = plan(&p, &f, &fs).unwrap();
    assert!(plan.mounts.contains(&Mount::Bind {
        src: "/run/user/1000/wayland-1".into(),
        dst: "/run/user/1000/wayland-0".into(),
        kind: BindKind::ReadOnly
    }));
    assert_eq!(plan.process.env["WAYLAND_DISPLAY"], "wayland-0");
    assert_eq!(plan.wayland, Some("/run/user/1000/wayland-1".into()));

    // An absolute WAYLAND_DISPLAY names the socket itself.
    f.env.insert("WAYLAND_DISPLAY".into(), "/tmp/w/sock".into());
    let fs = host().with("/tmp/w/sock", FileKind::Socket);
    assert_eq!(plan_with(&p, &f, &fs).wayland, Some("/tmp/w/sock".into()));

    // Off: nothing of the caller's WAYLAND_DISPLAY leaks in.
    p.wayland = false;
    assert!(!plan_with(&p, &f, &fs)
        .process
        .env
        .contains_key("WAYLAND_DISPLAY"));
}

fn plan_with(p: &Profile, f: &HostFacts, fs: &FakeFs) -> Plan {
    plan(p, f, fs).unwrap()
}

#[test]
fn wayland_faults_are_clear() {
    let mut p = xterm();
    p.wayland = true;
    let mut f = facts();
    let err = |f: &HostFacts| plan(&p, f, &host()).unwrap_err().to_string();
    assert_eq!(err(&f), "wayland = true, but XDG_RUNTIME_DIR is not set");
    f.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/1000".into());
    assert_eq!(
        err(&f),
        "wayland = true, but there is no compositor socket at /run/user/1000/wayland-0 (is a Wayland session running, and WAYLAND_DISPLAY right?)"
    );
}

#[test]
fn landlock_lets_the_app_write_only_where_the_mounts_do() {
    let plan = plan(&nested(Network::None), &nested_facts(), &nested_host()).unwrap();
    assert_eq!(plan.confinement.landlock_abi, 6);
    let w: Vec<String> = plan
        .confinement
        .writable
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // One rule for each place, none beneath another (/dev covers /dev/null and /dev/pts).
    assert_eq!(w, ["/proc", "/dev", "/tmp", "/run/user/1000", "/home/ann"]);
    for not in ["/", "/usr", "/etc/fonts", "/run/nestbox/Xauthority"] {
        assert!(!w.contains(&not.to_string()), "{not} in {w:?}");
    }
    let text = explain_text(&plan);
    assert!(text.contains("Landlock file rules (ABI 6)"), "{text}");
}

#[test]
fn without_landlock_the_file_rules_are_left_out_and_explain_says_so() {
    let mut f = nested_facts();
    f.landlock_abi = 0;
    let plan = plan(&nested(Network::None), &f, &nested_host()).unwrap();
    assert_eq!(plan.confinement.landlock_abi, 0);
    assert!(explain_text(&plan).contains(
        "Landlock file rules: none (this kernel has no Landlock); the mounts alone decide"
    ));
}
