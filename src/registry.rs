//! The registry of running sandboxes, in `$XDG_RUNTIME_DIR/nestbox/sandboxes`: for each, a lock
//! file that the nestbox running it (and the sandbox's PID 1, which inherits the descriptor) holds
//! while it lives, and an entry (JSON) written atomically once the app runs. A held lock is what
//! "running" means: an entry whose lock nobody holds is stale (its nestbox is gone), and whoever
//! sees it first removes it. Nothing here is inside any sandbox: read-write binds never show it
//! (plan/protect.rs), so what `enter` and a second launch take from it is the host's own copy.

use crate::plan::Inside;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One running sandbox, as its nestbox wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The sandbox's name: the profile's, or NAME@2, NAME@3... for further instances.
    pub name: String,
    pub profile: String,
    /// The profile file it was made from.
    pub source: PathBuf,
    /// The nestbox process that runs it.
    pub nestbox_pid: i32,
    /// The sandbox's PID 1, as the host numbers it, and when it started (clock ticks after boot).
    pub pid1: i32,
    pub pid1_start: u64,
    /// When the sandbox started, in seconds since the epoch.
    pub started: u64,
    /// The app's argv.
    pub command: Vec<String>,
    /// The host directory behind its home, or none for a throw-away one.
    pub home: Option<PathBuf>,
    /// Where the app's output is kept, when nestbox keeps it.
    pub log: Option<PathBuf>,
    /// What a process joining it takes on.
    pub inside: Inside,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no runtime directory to keep the registry of running sandboxes in (XDG_RUNTIME_DIR is not set)")]
    NoRuntimeDir,
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no sandbox named {0:?} is running (nestbox ps lists them)")]
    NotRunning(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> RegistryError + 'a {
    move |source| RegistryError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The registry of one user.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// A sandbox name held: the lock is this process's (and, once cloned, its sandbox's PID 1's)
/// until dropped, when the entry and the lock file go.
#[derive(Debug)]
pub struct Claim {
    pub name: String,
    lock: File,
    lock_path: PathBuf,
    entry_path: PathBuf,
}

impl Registry {
    /// `$XDG_RUNTIME_DIR/nestbox`.
    pub fn base(env: &std::collections::BTreeMap<String, String>) -> Option<PathBuf> {
        env.get("XDG_RUNTIME_DIR")
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join("nestbox"))
    }

    /// The registry under the runtime directory `env` names.
    pub fn new(
        env: &std::collections::BTreeMap<String, String>,
    ) -> Result<Registry, RegistryError> {
        let dir = Self::base(env)
            .ok_or(RegistryError::NoRuntimeDir)?
            .join("sandboxes");
        Ok(Registry { dir })
    }

    /// A registry in `dir` (tests).
    pub fn at(dir: PathBuf) -> Registry {
        Registry { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn make_dir(&self) -> Result<(), RegistryError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io("create", &self.dir))
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.lock"))
    }

    fn entry_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Hold `name`, unless a running sandbox (or one starting) holds it.
    pub fn claim(&self, name: &str) -> Result<Option<Claim>, RegistryError> {
        self.make_dir()?;
        let lock_path = self.lock_path(name);
        loop {
            let lock = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
                .open(&lock_path)
                .map_err(io("open", &lock_path))?;
            if !try_lock(&lock, libc::LOCK_EX) {
                return Ok(None);
            }
            // The file may have been removed (by the holder that just let go) between our open
            // and our lock: then the lock is on a file nobody else will look at. Again.
            if is_at(&lock, &lock_path) {
                // An entry left by a sandbox whose nestbox was killed is stale: we hold its name.
                let _ = std::fs::remove_file(self.entry_path(name));
                return Ok(Some(Claim {
                    name: name.to_string(),
                    lock,
                    entry_path: self.entry_path(name),
                    lock_path,
                }));
            }
        }
    }

    /// Hold the first free name of `profile`'s instances: `profile`, then `profile@2`, ... ('@'
    /// is never in a profile's name, so an instance's name is never another profile's).
    pub fn claim_instance(&self, profile: &str) -> Result<Claim, RegistryError> {
        for n in 1.. {
            let name = if n == 1 {
                profile.to_string()
            } else {
                format!("{profile}@{n}")
            };
            if let Some(c) = self.claim(&name)? {
                return Ok(c);
            }
        }
        unreachable!("the instances of a profile are countless")
    }

    /// Whether a sandbox (running or starting) holds `name`.
    pub fn held(&self, name: &str) -> bool {
        File::open(self.lock_path(name)).is_ok_and(|f| !try_lock(&f, libc::LOCK_SH))
    }

    /// The running sandbox `name`, if its entry is written; a stale one is removed.
    pub fn get(&self, name: &str) -> Option<Entry> {
        let lock_path = self.lock_path(name);
        // No lock file: nothing runs by that name (a claim clears an entry left without one).
        let lock = File::open(&lock_path).ok()?;
        if !try_lock(&lock, libc::LOCK_EX) {
            // Held: running (or starting, with no entry yet). Read only now, after the test.
            let text = std::fs::read_to_string(self.entry_path(name)).ok()?;
            return serde_json::from_str(&text).ok();
        }
        // Ours now, so nobody's: stale, if the file we hold is still the one at the path (a
        // new sandbox may have made its own since we opened this one).
        if is_at(&lock, &lock_path) {
            let _ = std::fs::remove_file(self.entry_path(name));
            let _ = std::fs::remove_file(&lock_path);
        }
        None
    }

    /// Every running sandbox, by name; stale entries are removed on the way.
    pub fn list(&self) -> Vec<Entry> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        names.iter().filter_map(|n| self.get(n)).collect()
    }
}

impl Claim {
    /// Write the entry (to a new file, then renamed over: readers never see half of it).
    pub fn publish(&self, entry: &Entry) -> Result<(), RegistryError> {
        let tmp = self
            .entry_path
            .with_extension(format!("json.{}", std::process::id()));
        let text = serde_json::to_vec(entry).expect("an entry is plain data");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(io("write", &tmp))?;
        f.write_all(&text).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &self.entry_path).map_err(io("write", &self.entry_path))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // The entry first: a reader that finds it also finds the lock, still held.
        let _ = std::fs::remove_file(&self.entry_path);
        let _ = std::fs::remove_file(&self.lock_path);
        let _ = &self.lock;
    }
}

/// Whether open file `f` is the file at `path` still.
fn is_at(f: &File, path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .ok()
        .zip(f.metadata().ok())
        .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev())
}

/// flock without waiting; whether it was taken. (Taken by a reader to test, it is let go when
/// the file is closed.)
fn try_lock(f: &File, how: libc::c_int) -> bool {
    // SAFETY: plain flock on an open file.
    unsafe { libc::flock(f.as_raw_fd(), how | libc::LOCK_NB) == 0 }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(name: &str) -> Registry {
        let dir =
            std::env::temp_dir().join(format!("nestbox-registry-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Registry::at(dir)
    }

    fn entry(name: &str) -> Entry {
        Entry {
            name: name.into(),
            profile: "xterm".into(),
            source: "/p/xterm.toml".into(),
            nestbox_pid: 10,
            pid1: 11,
            pid1_start: 12,
            started: 13,
            command: vec!["xterm".into()],
            home: None,
            log: None,
            inside: Inside {
                namespaces: crate::plan::Namespaces {
                    user: true,
                    mount: true,
                    pid: true,
                    ipc: true,
                    uts: true,
                    cgroup: true,
                    net: true,
                },
                env: Default::default(),
                cwd: "/home/ann".into(),
                confinement: crate::plan::Confinement {
                    landlock_scopes: true,
                    abstract_sockets: crate::plan::AbstractSockets::PrivateNetwork,
                    landlock_abi: 6,
                    writable: vec!["/tmp".into()],
                },
                seccomp: crate::seccomp::SeccompPlan {
                    deny: vec!["bpf".into()],
                    user_namespaces: false,
                    architectures: vec!["x86_64".into()],
                },
                max_processes: Some(4096),
            },
        }
    }

    #[test]
    fn a_claimed_name_is_held_until_dropped() {
        let r = registry("claim");
        let a = r.claim("xterm").unwrap().expect("free");
        assert!(r.held("xterm"));
        assert!(r.claim("xterm").unwrap().is_none(), "held by a");
        assert_eq!(r.get("xterm"), None, "held but not yet published");
        a.publish(&entry("xterm")).unwrap();
        assert_eq!(r.get("xterm"), Some(entry("xterm")));
        let b = r.claim_instance("xterm").unwrap();
        assert_eq!(b.name, "xterm@2");
        b.publish(&entry("xterm@2")).unwrap();
        let names: Vec<String> = r.list().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["xterm", "xterm@2"]);
        drop(a);
        assert!(!r.held("xterm"));
        assert_eq!(r.list().len(), 1);
        assert!(r.claim("xterm").unwrap().is_some(), "free again");
        let _ = std::fs::remove_dir_all(r.dir());
    }

    #[test]
    fn a_stale_entry_is_cleared_by_whoever_sees_it() {
        let r = registry("stale");
        let a = r.claim("gone").unwrap().unwrap();
        a.publish(&entry("gone")).unwrap();
        // Its nestbox died without cleaning up: the files stay, the lock does not.
        let lock = a.lock_path.clone();
        let json = a.entry_path.clone();
        // Let go of the lock without running Drop (as a SIGKILL would).
        // SAFETY: plain flock on an open file.
        unsafe { libc::flock(a.lock.as_raw_fd(), libc::LOCK_UN) };
        std::mem::forget(a);
        assert!(lock.exists() && json.exists());
        assert!(r.list().is_empty());
        assert!(!json.exists() && !lock.exists());
        let _ = std::fs::remove_dir_all(r.dir());
    }
}
