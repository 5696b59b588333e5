//! The exact plan for fixture profiles and fake host facts: no namespaces, no files.

use super::*;
use crate::host::{
    write_xauthority, FakeFs, FileKind, HostFacts, XauthEntry, XauthorityFile, FAMILY_LOCAL,
    FAMILY_WILD, MIT_MAGIC_COOKIE,
};
use crate::profile::{Access, BindSpec, Location, Network, Profile, ProfilePath, X11};
use std::path::{Path, PathBuf};

fn facts() -> HostFacts {
    HostFacts {
        uid: 1000,
        gid: 1000,
        user: "ann".into(),
        group: "ann".into(),
        home: "/home/ann".into(),
        shell: "/bin/bash".into(),
        hostname: "desk".into(),
        data_home: "/home/ann/.local/share".into(),
        config_home: "/home/ann/.config".into(),
        env: [
            ("LANG", "de_DE.UTF-8"),
            ("TERM", "xterm-256color"),
            ("SECRET", "x"),
            ("DISPLAY", ":3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        xauthority: None,
        landlock_scopes: true,
        landlock_abi: 6,
        monitor: None,
        abstract_displays: Vec::new(),
        gpu: None,
        exe: None,
        memory: Some(8 << 30),
        nproc_per_namespace: true,
    }
}

/// A merged-/usr Debian host with xterm installed.
fn host() -> FakeFs {
    FakeFs::new()
        .with("/bin", FileKind::Symlink("usr/bin".into()))
        .with("/lib", FileKind::Symlink("usr/lib".into()))
        .with("/lib64", FileKind::Symlink("usr/lib64".into()))
        .with("/sbin", FileKind::Symlink("usr/sbin".into()))
        .with("/usr/lib/x86_64-linux-gnu/libc.so.6", FileKind::File)
        .with_program("/usr/bin/xterm")
        .with("/usr/bin/notes.txt", FileKind::File)
        .with("/usr/share/zoneinfo/Etc/UTC", FileKind::File)
        .with(
            "/etc/localtime",
            FileKind::Symlink("/usr/share/zoneinfo/Etc/UTC".into()),
        )
        .with("/etc/fonts/fonts.conf", FileKind::File)
        .with("/etc/resolv.conf", FileKind::File)
        .with("/etc/hosts", FileKind::File)
        .with("/home/ann/Downloads", FileKind::Dir)
        .with("/tmp/.X11-unix/X3", FileKind::Socket)
}

fn origin() -> Location {
    Location {
        path: "/p/xterm.toml".into(),
        line: 4,
        column: 7,
    }
}

fn bind(spec: &str, access: Access, optional: bool) -> BindSpec {
    let path = if let Some(rel) = spec.strip_prefix("~/") {
        ProfilePath::Home(rel.into())
    } else {
        ProfilePath::Absolute(spec.into())
    };
    BindSpec {
        src: path.clone(),
        dst: path,
        access,
        optional,
        origin: origin(),
    }
}

fn xterm() -> Profile {
    let mut p = Profile::empty("xterm", "/p/xterm.toml".into());
    p.command = Some(vec!["xterm".into(), "-fa".into(), "Mono".into()]);
    p.binds = vec![
        bind("/etc/fonts", Access::ReadOnly, false),
        bind("/etc/localtime", Access::ReadOnly, true),
        bind("/etc/missing", Access::ReadOnly, true),
        bind("~/Downloads", Access::ReadWrite, false),
    ];
    p.pass_env = vec!["SECRET".into()];
    p.env.insert("GREETING".into(), "hi".into());
    p
}

fn ro(path: &str) -> Mount {
    Mount::Bind {
        src: path.into(),
        dst: path.into(),
        kind: BindKind::ReadOnly,
    }
}

fn words(plan: &Plan) -> Vec<String> {
    plan.mounts
        .iter()
        .map(explain::describe_step_for_error)
        .collect()
}

#[test]
fn minimal_profile_gives_the_exact_plan() {
    let plan = build(
        &xterm(),
        &facts(),
        &host(),
        None,
        &["-e".into(), "top".into()],
    )
    .unwrap();
    assert_eq!(plan.hostname, "xterm");
    assert_eq!(
        plan.namespaces,
        Namespaces {
            user: true,
            mount: true,
            pid: true,
            ipc: true,
            uts: true,
            cgroup: true,
            net: true
        }
    );
    assert_eq!(
        plan.uid_map,
        IdMap {
            inside: 1000,
            outside: 1000,
            count: 1
        }
    );
    assert_eq!(plan.process.program, Path::new("/usr/bin/xterm"));
    assert_eq!(plan.process.argv, ["xterm", "-fa", "Mono", "-e", "top"]);
    assert_eq!(plan.process.cwd, Path::new("/home/ann"));
    let dev = |n: &str| Mount::Bind {
        src: format!("/dev/{n}").into(),
        dst: format!("/dev/{n}").into(),
        kind: BindKind::Device,
    };
    let sym = |dst: &str, target: &str| Mount::Symlink {
        target: target.into(),
        dst: dst.into(),
    };
    let tmpfs = |dst: &str, mode| Mount::Tmpfs {
        dst: dst.into(),
        mode,
    };
    let expected_head = [
        tmpfs("/", 0o755),
        ro("/usr"),
        sym("/bin", "usr/bin"),
        sym("/sbin", "usr/sbin"),
        sym("/lib", "usr/lib"),
        sym("/lib64", "usr/lib64"),
    ];
    assert_eq!(plan.mounts[..6], expected_head[..]);
    let rest: Vec<&Mount> = plan.mounts[6..]
        .iter()
        .filter(|m| !matches!(m, Mount::File { .. }))
        .collect();
    let expected_rest = vec![
        Mount::Proc {
            dst: "/proc".into(),
        },
        Mount::Protect {
            dst: "/proc/sys".into(),
        },
        Mount::Protect {
            dst: "/proc/sysrq-trigger".into(),
        },
        Mount::Protect {
            dst: "/proc/irq".into(),
        },
        Mount::Protect {
            dst: "/proc/bus".into(),
        },
        tmpfs("/dev", 0o755),
        dev("null"),
        dev("zero"),
        dev("full"),
        dev("random"),
        dev("urandom"),
        dev("tty"),
        Mount::Devpts {
            dst: "/dev/pts".into(),
        },
        sym("/dev/ptmx", "pts/ptmx"),
        tmpfs("/dev/shm", 0o1777),
        sym("/dev/fd", "/proc/self/fd"),
        sym("/dev/stdin", "/proc/self/fd/0"),
        sym("/dev/stdout", "/proc/self/fd/1"),
        sym("/dev/stderr", "/proc/self/fd/2"),
        sym("/dev/core", "/proc/kcore"),
        tmpfs("/tmp", 0o1777),
        tmpfs("/run/user/1000", 0o700),
        Mount::Bind {
            src: "/home/ann/.local/share/nestbox/homes/xterm".into(),
            dst: "/home/ann".into(),
            kind: BindKind::ReadWrite,
        },
        ro("/etc/fonts"),
        // The symlink is resolved on the host: inside, the source would point elsewhere.
        Mount::Bind {
            src: "/usr/share/zoneinfo/Etc/UTC".into(),
            dst: "/etc/localtime".into(),
            kind: BindKind::ReadOnly,
        },
        Mount::Bind {
            src: "/home/ann/Downloads".into(),
            dst: "/home/ann/Downloads".into(),
            kind: BindKind::ReadWrite,
        },
        Mount::ReadOnly { dst: "/".into() },
    ];
    assert_eq!(rest, expected_rest.iter().collect::<Vec<_>>());
    assert_eq!(
        plan.host_steps,
        vec![HostStep::CreateDir {
            path: "/home/ann/.local/share/nestbox/homes/xterm".into()
        }]
    );
    let files: Vec<(String, String)> = plan
        .mounts
        .iter()
        .filter_map(|m| match m {
            Mount::File { dst, contents, .. } => Some((
                dst.display().to_string(),
                String::from_utf8(contents.bytes.clone()).unwrap(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        files,
        [
            ("/etc/passwd", "ann:x:1000:1000::/home/ann:/bin/bash\n"),
            ("/etc/group", "ann:x:1000:\n"),
            ("/etc/hostname", "xterm\n"),
            (
                "/etc/hosts",
                "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\txterm\n"
            ),
            // Even with no sound: players fail to connect instead of starting a daemon inside.
            (
                "/run/nestbox/pulse-client.conf",
                "# Written by nestbox.\nenable-shm = no\nenable-memfd = no\nautospawn = no\n"
            ),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let env: Vec<String> = plan
        .process
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        env,
        [
            "DBUS_SESSION_BUS_ADDRESS=disabled:",
            "GREETING=hi",
            "HOME=/home/ann",
            "LANG=de_DE.UTF-8",
            "LOGNAME=ann",
            "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games",
            "PULSE_CLIENTCONFIG=/run/nestbox/pulse-client.conf",
            "SECRET=x",
            "SHELL=/bin/bash",
            "TERM=xterm-256color",
            "USER=ann",
            "XDG_RUNTIME_DIR=/run/user/1000",
        ]
    );
    assert_eq!(plan.display, DisplayPlan::None);
}

#[test]
fn network_shared_brings_name_service_files() {
    let mut p = xterm();
    p.network = Network::Shared;
    p.hostname = Some("web".into());
    let plan = build(&p, &facts(), &host(), None, &[]).unwrap();
    assert!(!plan.namespaces.net);
    assert_eq!(plan.hostname, "web");
    assert!(plan.mounts.contains(&ro("/etc/resolv.conf")));
    assert!(plan.mounts.contains(&ro("/etc/hosts")));
    assert!(
        !words(&plan).iter().any(|w| w.contains("nsswitch")),
        "missing optional files are skipped"
    );
    assert!(!plan
        .mounts
        .iter()
        .any(|m| matches!(m, Mount::File { dst, .. } if dst == Path::new("/etc/hosts"))));
}

#[test]
fn tmpfs_home_and_cwd() {
    let mut p = xterm();
    p.home = crate::profile::Home::Tmpfs;
    p.cwd = Some(ProfilePath::Home("Downloads".into()));
    let plan = build(&p, &facts(), &host(), None, &[]).unwrap();
    assert!(plan.mounts.contains(&Mount::Tmpfs {
        dst: "/home/ann".into(),
        mode: 0o700
    }));
    assert!(plan.host_steps.is_empty());
    assert_eq!(plan.home_backing, None);
    assert_eq!(plan.process.cwd, Path::new("/home/ann/Downloads"));
}

fn cookie(family: u16, address: &str, number: &str, data: &[u8]) -> XauthEntry {
    XauthEntry {
        family,
        address: address.into(),
        number: number.into(),
        name: MIT_MAGIC_COOKIE.to_vec(),
        data: data.to_vec(),
    }
}

fn x11_facts(entries: &[XauthEntry]) -> HostFacts {
    let mut f = facts();
    f.xauthority = Some(XauthorityFile {
        path: "/home/ann/.Xauthority".into(),
        contents: Ok(write_xauthority(entries)),
    });
    f
}

#[test]
fn host_display_binds_one_socket_and_a_wildcard_cookie() {
    let mut p = xterm();
    p.x11 = X11::Host;
    let f = x11_facts(&[
        cookie(FAMILY_LOCAL, "desk", "0", b"zero"),
        cookie(FAMILY_LOCAL, "desk", "3", b"three"),
    ]);
    let plan = build(&p, &f, &host(), None, &[]).unwrap();
    let at = plan
        .mounts
        .iter()
        .position(|m| {
            *m == Mount::Tmpfs {
                dst: "/tmp/.X11-unix".into(),
                mode: 0o755,
            }
        })
        .unwrap();
    assert_eq!(plan.mounts[at + 1], ro("/tmp/.X11-unix/X3"));
    assert_eq!(
        plan.mounts[at + 2],
        Mount::ReadOnly {
            dst: "/tmp/.X11-unix".into()
        }
    );
    let Mount::File {
        dst,
        mode,
        contents,
    } = &plan.mounts[at + 3]
    else {
        panic!("no Xauthority step")
    };
    assert_eq!(
        (dst.as_path(), *mode),
        (Path::new("/run/nestbox/Xauthority"), 0o600)
    );
    let written = crate::host::parse_xauthority(&contents.bytes).unwrap();
    assert_eq!(written, vec![cookie(FAMILY_WILD, "", "3", b"three")]);
    assert!(
        !contents.describe.contains("three"),
        "the cookie is never shown"
    );
    assert_eq!(plan.process.env["DISPLAY"], ":3");
    assert_eq!(plan.process.env["XAUTHORITY"], "/run/nestbox/Xauthority");
    let json = serde_json::to_string(&plan).unwrap();
    assert!(
        !json.contains("three") && !json.contains("[116,104"),
        "cookie bytes stay out of JSON"
    );
}

#[test]
fn display_faults_are_clear() {
    let mut p = xterm();
    p.x11 = X11::Host;
    let good = [cookie(FAMILY_LOCAL, "desk", "3", b"c")];
    let err = |f: &HostFacts| build(&p, f, &host(), None, &[]).unwrap_err().to_string();

    let mut f = x11_facts(&good);
    f.env.remove("DISPLAY");
    assert_eq!(
        err(&f),
        "this profile puts its windows on the host display, but DISPLAY is not set"
    );
    f.env.insert("DISPLAY".into(), "localhost:10.0".into());
    assert!(err(&f).contains("network display"), "{}", err(&f));
    f.env.insert("DISPLAY".into(), ":9".into());
    assert_eq!(err(&f), "display :9 has no socket at /tmp/.X11-unix/X9");
    let other = x11_facts(&[cookie(FAMILY_LOCAL, "elsewhere", "3", b"c")]);
    assert!(
        err(&other).starts_with("no cookie for display :3 in /home/ann/.Xauthority"),
        "{}",
        err(&other)
    );
    let mut broken = facts();
    broken.xauthority = Some(XauthorityFile {
        path: "/x".into(),
        contents: Ok(vec![1, 0, 0]),
    });
    assert!(
        err(&broken).starts_with("the X authority file /x is damaged"),
        "{}",
        err(&broken)
    );
}

#[test]
fn missing_bind_source_names_the_profile_line() {
    let mut p = xterm();
    p.binds.push(bind("/srv/nothing", Access::ReadOnly, false));
    let e = build(&p, &facts(), &host(), None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/p/xterm.toml:4:7: cannot bind /srv/nothing: no such file or directory (write ?/srv/nothing to make it optional)"
    );
    assert_eq!(e.exit_code(), 125);
}

#[test]
fn program_resolution() {
    let run = |cmd: &str| build(&xterm(), &facts(), &host(), Some(cmd), &[]);
    assert_eq!(
        run("/bin/xterm").unwrap().process.program,
        Path::new("/bin/xterm")
    );
    let e = run("firefox").unwrap_err();
    assert_eq!(e.exit_code(), 127);
    assert_eq!(
        e.to_string(),
        "program \"firefox\" not found inside the sandbox (searched /usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games)"
    );
    let e = run("notes.txt").unwrap_err();
    assert_eq!(
        (e.exit_code(), e.to_string()),
        (
            126,
            "program /usr/bin/notes.txt inside the sandbox is not an executable file".into()
        )
    );
    // A host file outside the sandbox's tree is not found, even by absolute path.
    let fs = host().with_program("/opt/tool/bin/tool");
    assert_eq!(
        build(&xterm(), &facts(), &fs, Some("/opt/tool/bin/tool"), &[])
            .unwrap_err()
            .exit_code(),
        127
    );
    // The command replaces the profile's fixed arguments too.
    let plan = build(&xterm(), &facts(), &host(), Some("xterm"), &["-v".into()]).unwrap();
    assert_eq!(plan.process.argv, ["xterm", "-v"]);
}

#[test]
fn abstraction_needs_a_command() {
    let p = Profile::empty("x11", PathBuf::from("/p/x11.toml"));
    let e = build(&p, &facts(), &host(), None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "profile x11 is an abstraction with no command; give one with --command"
    );
}

#[test]
fn explain_lists_shares_and_steps() {
    let text = explain_text(&build(&xterm(), &facts(), &host(), None, &[]).unwrap());
    for needle in [
        "new network namespace (loopback only)",
        "uid 1000 -> 1000",
        "read-write  /home/ann/Downloads",
        "Home: /home/ann is kept in /home/ann/.local/share/nestbox/homes/xterm",
        "    1  tmpfs       / (mode 0755, at most 983 MiB)",
        "Memory: every tmpfs inside (/tmp, /dev/shm, $XDG_RUNTIME_DIR, a tmpfs home...) holds at most 983 MiB (tmpfs_size)",
        "Processes: at most 4096 processes and threads at once",
        "GREETING=hi",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn explain_says_what_the_plan_holds_not_what_is_usual() {
    let mut plan = build(&xterm(), &facts(), &host(), None, &[]).unwrap();
    let text = explain_text(&plan);
    assert!(
        text.contains(
            "Namespaces: new user, mount, PID, IPC, UTS and cgroup namespaces; new network"
        ),
        "{text}"
    );
    assert!(
        text.contains("System calls refused (EPERM), to 64-bit and 32-bit (i386) programs alike")
    );
    // Another plan says other things: every line comes from it.
    plan.namespaces.cgroup = false;
    plan.namespaces.ipc = false;
    plan.seccomp.architectures.clear();
    let text = explain_text(&plan);
    assert!(
        text.contains("Namespaces: new user, mount, PID and UTS namespaces; new network"),
        "{text}"
    );
    assert!(text.contains("System calls: no seccomp filter"), "{text}");
    assert!(!text.contains("System calls refused"), "{text}");
    assert!(text.contains("New user namespaces: not refused"), "{text}");
}

#[test]
fn a_threaded_process_cannot_launch() {
    // The test harness runs tests on threads of its own: this process has more than one.
    assert!(!crate::sandbox::single_threaded());
    let plan = build(&xterm(), &facts(), &host(), None, &[]).unwrap();
    let err = crate::sandbox::launch(&plan, None, &mut ()).unwrap_err();
    assert!(
        matches!(err, crate::sandbox::LaunchError::Threaded { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "internal error: nestbox runs more than one thread and cannot start a sandbox safely"
    );
}

#[test]
fn persistent_home_behind_a_symlink_is_resolved_on_the_host() {
    // ~/.local -> /data/ann/local, and the profile's home does not exist yet.
    let fs = host()
        .with(
            "/home/ann/.local",
            FileKind::Symlink("/data/ann/local".into()),
        )
        .with("/data/ann/local/share", FileKind::Dir);
    let plan = build(&xterm(), &facts(), &fs, None, &[]).unwrap();
    let home = Mount::Bind {
        src: "/data/ann/local/share/nestbox/homes/xterm".into(),
        dst: "/home/ann".into(),
        kind: BindKind::ReadWrite,
    };
    assert!(plan.mounts.contains(&home), "{:?}", plan.mounts);
    // The host step still names the path as the user knows it.
    assert_eq!(
        plan.host_steps,
        vec![HostStep::CreateDir {
            path: "/home/ann/.local/share/nestbox/homes/xterm".into()
        }]
    );
}

#[test]
fn default_host_name_is_made_valid() {
    let mut p = xterm();
    p.name = "my_app.beta".into();
    assert_eq!(
        build(&p, &facts(), &host(), None, &[]).unwrap().hostname,
        "my-app-beta"
    );
    p.name = "x".repeat(100);
    assert_eq!(
        build(&p, &facts(), &host(), None, &[])
            .unwrap()
            .hostname
            .len(),
        63
    );
    p.name = "___".into();
    assert_eq!(
        build(&p, &facts(), &host(), None, &[]).unwrap().hostname,
        "sandbox"
    );
}

#[test]
fn command_override_is_checked_like_a_profile_program() {
    for bad in ["", "./xterm", "bin/xterm"] {
        let e = build(&xterm(), &facts(), &host(), Some(bad), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("--command {bad:?} must be a program name or an absolute path")
        );
        assert_eq!(e.exit_code(), 125);
    }
}

mod isolation;
mod media;
mod protect;

#[test]
fn a_link_below_a_home_directory_is_refused_but_the_homes_own_links_are_followed() {
    let fs = host()
        .with("/home/ann/Music", FileKind::Symlink("/data/music".into()))
        .with("/data/music/album", FileKind::Dir)
        .with(
            "/home/ann/Downloads/keys",
            FileKind::Symlink("/home/ann/.ssh".into()),
        )
        .with("/home/ann/.ssh/id_ed25519", FileKind::File);
    let mut p = xterm();
    p.binds = vec![bind("~/Music/album", Access::ReadOnly, false)];
    let plan = build(&p, &facts(), &fs, None, &[]).unwrap();
    assert!(plan.mounts.contains(&Mount::Bind {
        src: "/data/music/album".into(),
        dst: "/home/ann/Music/album".into(),
        kind: BindKind::ReadOnly
    }));
    p.binds = vec![bind("~/Downloads/keys", Access::ReadOnly, false)];
    let e = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    let refusal = "/p/xterm.toml:4:7: will not bind /home/ann/Downloads/keys: /home/ann/Downloads/keys \
                   is a symbolic link inside your home, which a sandbox may have planted; bind the path \
                   it leads to instead";
    assert_eq!(e.to_string(), refusal);
    // Optional: left out, and said.
    p.binds = vec![bind("~/Downloads/keys", Access::ReadOnly, true)];
    let plan = build(&p, &facts(), &fs, None, &[]).unwrap();
    assert!(!plan
        .mounts
        .iter()
        .any(|m| m.dst() == Path::new("/home/ann/Downloads/keys")));
    assert_eq!(plan.notes, [format!("{refusal}; left out")]);
    assert!(explain_text(&plan).contains("Note: /p/xterm.toml:4:7: will not bind"));
}

#[test]
fn a_shared_file_is_bound_at_the_path_walked_and_never_through_a_link() {
    let fs = host()
        .with("/home/ann/Downloads/a.pdf", FileKind::File)
        .with(
            "/home/ann/Downloads/b.pdf",
            FileKind::Symlink("/home/ann/.vimrc".into()),
        )
        .with("/home/ann/.vimrc", FileKind::File);
    let shared = |name: &str| BindSpec {
        src: ProfilePath::Absolute(format!("/home/ann/Downloads/{name}").into()),
        dst: ProfilePath::Absolute(format!("/run/user/1000/nestbox-files/0/{name}").into()),
        access: Access::ReadOnly,
        optional: false,
        origin: Location {
            path: crate::profile::SHARED_FILE_ORIGIN.into(),
            line: 0,
            column: 0,
        },
    };
    let mut p = xterm();
    p.binds.push(shared("a.pdf"));
    let plan = build(&p, &facts(), &fs, None, &[]).unwrap();
    assert!(plan.mounts.contains(&Mount::Bind {
        src: "/home/ann/Downloads/a.pdf".into(),
        dst: "/run/user/1000/nestbox-files/0/a.pdf".into(),
        kind: BindKind::ReadOnly,
    }));
    // A link there now (planted since the word was walked) is never followed to its target.
    let mut p = xterm();
    p.binds.push(shared("b.pdf"));
    let err = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    assert!(matches!(err, PlanError::MissingSource { .. }), "{err}");
}
