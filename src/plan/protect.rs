//! Self-protection: whatever a profile binds read-write, the sandbox never writes nestbox's own
//! profiles and homes, the desktop's launchers and autostart entries, or the shell's start-up
//! files. Each of those that a read-write bind would show is bound read-only over itself.

use super::build::Builder;
use super::{BindKind, Mount};
use crate::host::FileKind;
use std::path::{Path, PathBuf};

/// Under the home: files and directories a process that writes them could use to run code as
/// the user outside the sandbox, at the next login or the next shell.
pub(super) const HOME_FILES: &[&str] = &[
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
pub(super) const CONFIG_DIRS: &[&str] = &[
    "nestbox",
    "autostart",
    "environment.d",
    "systemd/user",
    "fish",
    "git",
    "plasma-workspace",
];

/// Under XDG_DATA_HOME.
pub(super) const DATA_DIRS: &[&str] = &["nestbox", "applications", "systemd/user", "dbus-1"];

/// How a read-write bind would reach a protected path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// The bind is the protected path or lies inside it.
    Inside(PathBuf),
    /// The protected path is missing, and the bind shows the directory it would be made in.
    Creatable(PathBuf),
}

impl Builder<'_> {
    /// The start-up files and directories of the desktop and the shell, where they would be, and
    /// nestbox's runtime directory (the registry of running sandboxes, which `enter` trusts).
    fn startup_paths(&self) -> impl Iterator<Item = PathBuf> + '_ {
        let f = self.facts;
        let home = HOME_FILES.iter().map(|p| f.home.join(p));
        let config = CONFIG_DIRS.iter().map(|p| f.config_home.join(p));
        let data = DATA_DIRS.iter().map(|p| f.data_home.join(p));
        let runtime = crate::registry::Registry::base(&f.env);
        home.chain(config).chain(data).chain(runtime)
    }

    /// The host paths to keep read-only, as written: the start-up paths, the directory of the
    /// running nestbox (where its helper `nestbox-pulse` is) and the caller's PATH directories,
    /// whose programs nestbox (Xephyr) or the user may run outside.
    fn protected(&self) -> Vec<PathBuf> {
        let f = self.facts;
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
        self.startup_paths()
            .chain(exe_dir)
            .chain(path_dirs)
            .collect()
    }

    /// Whether a read-write bind of `src` (resolved) would let the sandbox write a protected
    /// path that read-only binds cannot cover: one inside which `src` lies, or one that is
    /// missing or a link leading nowhere (a bind needs something to cover). PATH directories
    /// count too: a missing `~/go/bin` on the PATH could be made and filled.
    pub(super) fn exposure(&self, src: &Path) -> Option<Exposure> {
        self.protected().into_iter().find_map(|p| {
            let at = self.resolve_for_creation(&p);
            if src.starts_with(&at) {
                return Some(Exposure::Inside(p));
            }
            match self.would_be_made_at(&p) {
                Some(made) if made.starts_with(src) => Some(Exposure::Creatable(p)),
                _ => None,
            }
        })
    }

    /// Where writing `p` would make a new file or directory, when it does not exist: at `p`, or,
    /// for a link that leads nowhere (`~/.bashrc -> dotfiles/bashrc` with no `~/dotfiles`), where
    /// the link leads.
    fn would_be_made_at(&self, p: &Path) -> Option<PathBuf> {
        match self.fs.lstat(p) {
            FileKind::Missing => Some(self.resolve_for_creation(p)),
            FileKind::Symlink(target) if self.fs.realpath(p).is_none() => {
                let target = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
                Some(self.resolve_for_creation(&target))
            }
            _ => None,
        }
    }

    /// Every place a read-write (or device) bind shows host path `host`, inside the sandbox
    /// (`~` bound at /host and `~/.config` at its own place show ~/.config/autostart twice).
    fn views(&self, host: &Path) -> Vec<PathBuf> {
        self.views_where(host, true)
    }

    /// Where read-write binds show `host` strictly inside themselves (not as their own root,
    /// which is a mount point already).
    fn inner_views(&self, host: &Path) -> Vec<PathBuf> {
        self.views_where(host, false)
    }

    fn views_where(&self, host: &Path, root_too: bool) -> Vec<PathBuf> {
        self.mounts
            .iter()
            .filter_map(|m| match m {
                Mount::Bind {
                    src,
                    dst,
                    kind: BindKind::ReadWrite | BindKind::Device,
                } => host.strip_prefix(src).ok().map(|rest| (dst, rest)),
                _ => None,
            })
            .filter(|(_, rest)| root_too || !rest.as_os_str().is_empty())
            .map(|(dst, rest)| join(dst, rest))
            .collect()
    }

    /// Bind each protected path a read-write bind shows read-only over itself, at the place the
    /// sandbox sees it. A protected entry that is a link (a dotfile manager's `~/.bashrc`) is
    /// pinned where it is, so it cannot be replaced, and what it leads to is covered too.
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
        let protected: Vec<PathBuf> = self
            .protected()
            .into_iter()
            .filter(|p| self.fs.lstat(p) != FileKind::Missing)
            .collect();
        self.pin_the_way_to(&protected);
        for path in protected {
            let kind = self.fs.lstat(&path);
            if matches!(kind, FileKind::Symlink(_)) {
                // The link itself, where its directory really is.
                let link = match (path.parent(), path.file_name()) {
                    (Some(dir), Some(name)) => self.resolve_for_creation(dir).join(name),
                    _ => continue,
                };
                for dst in self.views(&link) {
                    if !covered.contains(&dst) {
                        self.push(Mount::Protect { dst: dst.clone() });
                        covered.push(dst);
                    }
                }
            }
            let Some(host) = self.fs.realpath(&path) else {
                continue;
            };
            for dst in self.views(&host) {
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

impl Builder<'_> {
    /// A read-only bind pins only the entry it covers: a sandbox with `~` read-write could
    /// still rename `~/.config` away and make a new `~/.config/autostart` in its place. So every
    /// directory on the way from a read-write bind's root to a protected path is bound over
    /// itself (read-write, as it was), and every link on the way pinned as a link: a mount point
    /// cannot be renamed or removed. Pushed before the read-only binds that go on top of them.
    fn pin_the_way_to(&mut self, protected: &[PathBuf]) {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut links: Vec<PathBuf> = Vec::new();
        for path in protected {
            let prefixes: Vec<&Path> = path.ancestors().skip(1).collect();
            for (i, a) in std::iter::once(path.as_path()).chain(prefixes).enumerate() {
                let Some(real) = self.fs.realpath(a) else {
                    continue;
                };
                // The directories above what `a` leads to, and that itself unless it is the
                // protected path (which gets its read-only bind).
                let above = real.ancestors().skip(1).map(Path::to_path_buf);
                dirs.extend(above);
                if i > 0 {
                    dirs.push(real.clone());
                    if matches!(self.fs.lstat(a), FileKind::Symlink(_)) {
                        if let (Some(dir), Some(name)) = (a.parent(), a.file_name()) {
                            links.push(self.resolve_for_creation(dir).join(name));
                        }
                    }
                }
            }
        }
        dirs.sort_by_key(|d| d.components().count());
        dirs.dedup();
        let mut done: Vec<PathBuf> = Vec::new();
        for dir in dirs {
            for dst in self.inner_views(&dir) {
                if !done.contains(&dst) {
                    self.push(Mount::Bind {
                        src: dir.clone(),
                        dst: dst.clone(),
                        kind: BindKind::ReadWrite,
                    });
                    done.push(dst);
                }
            }
        }
        for link in links {
            for dst in self.inner_views(&link) {
                if !done.contains(&dst) {
                    self.push(Mount::Protect { dst: dst.clone() });
                    done.push(dst);
                }
            }
        }
    }
}

fn join(dst: &Path, rest: &Path) -> PathBuf {
    if rest.as_os_str().is_empty() {
        dst.to_path_buf()
    } else {
        dst.join(rest)
    }
}
