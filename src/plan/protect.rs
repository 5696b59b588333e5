//! Self-protection: whatever a profile binds read-write, the sandbox never writes nestbox's own
//! profiles and homes, the desktop's launchers and autostart entries, or the shell's start-up
//! files. Each of those that a read-write bind would show is bound read-only over itself.

use super::build::Builder;
use super::{BindKind, Mount};
use std::path::{Path, PathBuf};

/// Under the home: files and directories a process that writes them could use to run code as
/// the user outside the sandbox, at the next login or the next shell.
const HOME_FILES: &[&str] = &[
    ".bashrc",
    ".bash_aliases",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".zlogout",
    ".xsession",
    ".xprofile",
    ".xsessionrc",
    ".xinitrc",
    ".pam_environment",
    ".ssh",
    ".gnupg",
    ".local/bin",
    ".local/lib",
    ".gitconfig",
    "bin",
    ".cargo/bin",
];

/// Under XDG_CONFIG_HOME.
const CONFIG_DIRS: &[&str] = &[
    "nestbox",
    "autostart",
    "environment.d",
    "systemd/user",
    "fish",
    "git",
    "plasma-workspace",
];

/// Under XDG_DATA_HOME.
const DATA_DIRS: &[&str] = &["nestbox", "applications", "systemd/user", "dbus-1"];

impl Builder<'_> {
    /// The host paths to keep read-only, as they exist on the host; also the directory of the
    /// running nestbox (where its helper `nestbox-pulse` is) and the caller's PATH directories,
    /// whose programs nestbox (Xephyr) or the user may run outside.
    fn protected(&self) -> Vec<PathBuf> {
        let f = self.facts;
        let home = HOME_FILES.iter().map(|p| f.home.join(p));
        let config = CONFIG_DIRS.iter().map(|p| f.config_home.join(p));
        let data = DATA_DIRS.iter().map(|p| f.data_home.join(p));
        let exe_dir = f
            .exe
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let path_dirs: Vec<PathBuf> = f
            .env
            .get("PATH")
            .map(|p| {
                p.split(':')
                    .filter(|d| d.starts_with('/'))
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        home.chain(config)
            .chain(data)
            .chain(exe_dir)
            .chain(path_dirs)
            // Most are missing: a look first, before resolving the rest.
            .filter(|p| self.fs.lstat(p).exists())
            .filter_map(|p| self.fs.realpath(&p))
            .collect()
    }

    /// Bind each protected path a read-write bind shows read-only over itself, at the place the
    /// sandbox sees it.
    pub(super) fn protect_host_files(&mut self) -> Vec<PathBuf> {
        let mut covered = Vec::new();
        // Only the profile's own read-write binds can show any of them (the sandbox's home is
        // a directory of its own, devices are nodes): with none, nothing to look at.
        let own_home = Path::new("nestbox/homes").join(&self.profile.name);
        let any = self.mounts.iter().any(|m| {
            matches!(m, Mount::Bind { src, kind: BindKind::ReadWrite, .. } if !src.ends_with(&own_home))
        });
        if !any {
            return covered;
        }
        for host in self.protected() {
            // Every view a read-write bind gives of it (`~` bound at /host and `~/.config` at
            // its own place show ~/.config/autostart twice).
            let views: Vec<PathBuf> = self
                .mounts
                .iter()
                .filter_map(|m| match m {
                    Mount::Bind {
                        src,
                        dst,
                        kind: BindKind::ReadWrite | BindKind::Device,
                    } => host.strip_prefix(src).ok().map(|rest| join(dst, rest)),
                    _ => None,
                })
                .collect();
            for dst in views {
                if covered.contains(&dst) {
                    continue;
                }
                self.push(Mount::Bind {
                    src: host.clone(),
                    dst: dst.clone(),
                    kind: BindKind::ReadOnly,
                });
                covered.push(dst);
            }
        }
        covered
    }
}

fn join(dst: &Path, rest: &Path) -> PathBuf {
    if rest.as_os_str().is_empty() {
        dst.to_path_buf()
    } else {
        dst.join(rest)
    }
}
