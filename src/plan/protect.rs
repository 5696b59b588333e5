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
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".xprofile",
    ".xsessionrc",
    ".xinitrc",
    ".pam_environment",
    ".ssh",
    ".gnupg",
    ".local/bin",
];

/// Under XDG_CONFIG_HOME.
const CONFIG_DIRS: &[&str] = &[
    "nestbox",
    "autostart",
    "environment.d",
    "systemd/user",
    "fish",
];

/// Under XDG_DATA_HOME.
const DATA_DIRS: &[&str] = &["nestbox", "applications"];

impl Builder<'_> {
    /// The host paths to keep read-only, as they exist on the host, and the running nestbox.
    fn protected(&self) -> Vec<PathBuf> {
        let f = self.facts;
        let home = HOME_FILES.iter().map(|p| f.home.join(p));
        let config = CONFIG_DIRS.iter().map(|p| f.config_home.join(p));
        let data = DATA_DIRS.iter().map(|p| f.data_home.join(p));
        home.chain(config)
            .chain(data)
            .chain(f.exe.clone())
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
            let inside = self.mounts.iter().rev().find_map(|m| match m {
                Mount::Bind {
                    src,
                    dst,
                    kind: BindKind::ReadWrite | BindKind::Device,
                } => host.strip_prefix(src).ok().map(|rest| join(dst, rest)),
                _ => None,
            });
            if let Some(dst) = inside {
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
