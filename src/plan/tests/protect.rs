//! Self-protection and links in bind sources: what a read-write bind may show, what is pinned,
//! and what is refused.

use super::*;

#[test]
fn a_home_link_leading_back_into_the_home_is_refused() {
    // A sandbox with the whole home could have made ~/Music lead to ~/.ssh.
    let fs = host()
        .with("/home/ann/Music", FileKind::Symlink(".ssh".into()))
        .with("/home/ann/.ssh/id_ed25519", FileKind::File);
    let mut p = xterm();
    p.binds = vec![bind("~/Music", Access::ReadOnly, false)];
    let e = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    assert!(
        e.to_string().contains("/home/ann/Music is a symbolic link"),
        "{e}"
    );
}

/// A host where every start-up path nestbox protects exists (as a directory; the kind does not
/// matter to the plan), so read-write binds of the home are allowed.
fn host_with_startup_paths() -> FakeFs {
    let mut fs = host();
    let f = facts();
    for p in crate::plan::protect::HOME_FILES {
        fs = fs.with(&f.home.join(p).display().to_string(), FileKind::Dir);
    }
    for p in crate::plan::protect::CONFIG_DIRS {
        fs = fs.with(&f.config_home.join(p).display().to_string(), FileKind::Dir);
    }
    for p in crate::plan::protect::DATA_DIRS {
        fs = fs.with(&f.data_home.join(p).display().to_string(), FileKind::Dir);
    }
    fs
}

#[test]
fn a_read_write_bind_that_would_let_a_start_up_file_be_created_is_refused() {
    let mut p = xterm();
    p.binds = vec![bind("/home/ann", Access::ReadWrite, false)];
    let fs = host_with_startup_paths().with("/home/ann/.bash_profile", FileKind::Missing);
    let e = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/p/xterm.toml:4:7: will not bind /home/ann read-write: the sandbox could create \
         /home/ann/.bash_profile, which nestbox keeps from every sandbox; bind a directory inside \
         it instead, or create /home/ann/.bash_profile yourself and it is kept read-only"
    );
    assert_eq!(e.exit_code(), 125);
    // A missing directory deeper down counts too.
    let fs = host_with_startup_paths()
        .with("/home/ann/.config/systemd", FileKind::Missing)
        .with("/home/ann/.config/systemd/user", FileKind::Missing);
    p.binds = vec![bind("~/.config", Access::ReadWrite, false)];
    let e = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains("could create /home/ann/.config/systemd/user"),
        "{e}"
    );
    // Read-only is fine, and so is read-write once everything exists.
    p.binds = vec![bind("/home/ann", Access::ReadOnly, false)];
    build(&p, &facts(), &fs, None, &[]).unwrap();
    p.binds = vec![bind("/home/ann", Access::ReadWrite, false)];
    build(&p, &facts(), &host_with_startup_paths(), None, &[]).unwrap();
}

#[test]
fn a_read_write_bind_inside_a_protected_directory_is_refused() {
    let mut p = xterm();
    p.binds = vec![bind(
        "~/.config/autostart/x.desktop",
        Access::ReadWrite,
        true,
    )];
    let e = build(&p, &facts(), &host(), None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/p/xterm.toml:4:7: will not bind /home/ann/.config/autostart/x.desktop read-write: \
         nestbox keeps /home/ann/.config/autostart from every sandbox; bind it read-only"
    );
}

#[test]
fn a_linked_start_up_file_is_pinned_as_a_link_and_its_target_kept_read_only() {
    let fs = host_with_startup_paths()
        .with(
            "/home/ann/.bashrc",
            FileKind::Symlink("dotfiles/bashrc".into()),
        )
        .with("/home/ann/dotfiles/bashrc", FileKind::File);
    let mut p = xterm();
    p.binds = vec![bind("/home/ann", Access::ReadWrite, false)];
    let plan = build(&p, &facts(), &fs, None, &[]).unwrap();
    let pin = plan
        .mounts
        .iter()
        .position(|m| {
            *m == Mount::Protect {
                dst: "/home/ann/.bashrc".into(),
            }
        })
        .expect("the link is pinned");
    let home = plan
        .mounts
        .iter()
        .position(|m| matches!(m, Mount::Bind { src, kind: BindKind::ReadWrite, .. } if src == Path::new("/home/ann")))
        .unwrap();
    assert!(home < pin, "pinned after the home is bound");
    assert!(plan.mounts.contains(&ro("/home/ann/dotfiles/bashrc")));
}

#[test]
fn the_directories_on_the_way_to_a_protected_path_are_pinned_before_it() {
    let mut p = xterm();
    p.binds = vec![bind("/home/ann", Access::ReadWrite, false)];
    let fs = host_with_startup_paths()
        .with(
            "/home/ann/.config",
            FileKind::Symlink("dotfiles/config".into()),
        )
        .with("/home/ann/dotfiles/config/autostart", FileKind::Dir);
    let mut facts = facts();
    facts.config_home = "/home/ann/.config".into();
    let plan = build(&p, &facts, &fs, None, &[]).unwrap();
    let at = |m: &Mount| plan.mounts.iter().position(|x| x == m);
    let pin = |d: &str| Mount::Bind {
        src: d.into(),
        dst: d.into(),
        kind: BindKind::ReadWrite,
    };
    // A sandbox could rename ~/.local or ~/dotfiles (or replace the ~/.config link) and make the
    // protected directories anew: each is a mount point now.
    for d in [
        "/home/ann/.local",
        "/home/ann/.local/share",
        "/home/ann/dotfiles",
        "/home/ann/dotfiles/config",
    ] {
        assert!(at(&pin(d)).is_some(), "{d} pinned: {:#?}", plan.mounts);
    }
    let link = at(&Mount::Protect {
        dst: "/home/ann/.config".into(),
    })
    .expect("the link pinned");
    let autostart = at(&ro("/home/ann/dotfiles/config/autostart")).expect("autostart read-only");
    assert!(at(&pin("/home/ann/dotfiles/config")).unwrap() < autostart);
    assert!(link < autostart);
    // The home itself is the bind's root, a mount point already.
    assert_eq!(
        plan.mounts
            .iter()
            .filter(|m| **m == pin("/home/ann"))
            .count(),
        1
    );
}

#[test]
fn a_dangling_start_up_link_and_a_missing_path_directory_count_as_creatable() {
    let mut p = xterm();
    p.binds = vec![bind("/home/ann", Access::ReadWrite, false)];
    // ~/.bashrc leads into a ~/dotfiles that is not there: writing it would make the target.
    let fs = host_with_startup_paths().with(
        "/home/ann/.bashrc",
        FileKind::Symlink("dotfiles/bashrc".into()),
    );
    let e = build(&p, &facts(), &fs, None, &[]).unwrap_err();
    assert!(
        e.to_string().contains("could create /home/ann/.bashrc"),
        "{e}"
    );
    // A PATH directory in the home, missing, could be made and filled.
    let mut f = facts();
    f.env
        .insert("PATH".into(), "/home/ann/go/bin:/usr/bin".into());
    let e = build(&p, &f, &host_with_startup_paths(), None, &[]).unwrap_err();
    assert!(
        e.to_string().contains("could create /home/ann/go/bin"),
        "{e}"
    );
}
