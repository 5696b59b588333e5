//! `--share-files`: the words of a launch that name files on the host (paths, or file:// URIs, as
//! desktop launchers pass them with %f, %F, %u, %U) are bound into the sandbox, each under
//! `$XDG_RUNTIME_DIR/nestbox-files/N/` inside, and the word rewritten to say where. Only regular
//! files: a URI handed to a launcher may come from anywhere, another sandbox included, and a
//! directory, a socket (`$XDG_RUNTIME_DIR/bus`) or a device would open far more than a document.
//! Other words pass unchanged.
//!
//! A word is walked one component at a time without following links, as a sandbox could have
//! planted one where it can write (`~/Downloads/invoice.pdf -> ../.vimrc`): a link is followed
//! only where no sandbox could have made it (the rule profile binds follow: the home's own
//! top-level links that leave the home, and links outside the home that the user does not own,
//! which a sandbox running as the user cannot have made). Any other link refuses the word with
//! one line. What is reached must be a regular file, never one of /proc, /sys or /dev. The path
//! found has no link left in it, and the child opens it again without following any, so a link
//! planted between here and the bind fails the launch rather than steering it.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// A word of the launch that names a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// Which word.
    pub index: usize,
    /// The file, every link resolved (and each one checked).
    pub host: PathBuf,
    /// The path as the word gave it, made absolute (not resolved).
    pub given: PathBuf,
    /// The word was a file:// URI (and is rewritten as one).
    pub uri: bool,
}

/// A word that names something on the host but is not shared, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{given} is not a regular file; not shared", given = .0.display())]
    NotAFile(PathBuf),
    #[error(
        "{given} passes through {link}, a link a sandbox could have made; not shared (name the file it leads to)",
        given = .given.display(),
        link = .link.display()
    )]
    Link { given: PathBuf, link: PathBuf },
    #[error("{given} is in /proc, /sys or /dev; not shared", given = .0.display())]
    Kernel(PathBuf),
}

/// Who may have made what on the host: the user's home and uid.
pub struct Owner<'a> {
    pub home: &'a Path,
    pub uid: u32,
}

/// The words among `args` that name existing host files; relative paths are taken from `cwd`
/// (the kernel's name for it, free of links). The second list: words that name something that is
/// not shared, and why.
pub fn find(args: &[String], cwd: &Path, owner: &Owner) -> (Vec<Shared>, Vec<Refused>) {
    let mut refused = Vec::new();
    let shared = args
        .iter()
        .enumerate()
        .filter_map(|(index, word)| {
            let (path, uri) = match word.strip_prefix("file://") {
                Some(rest) => (uri_path(rest)?, true),
                None if word.contains("://") || word.starts_with('-') || word.is_empty() => {
                    return None
                }
                None => (PathBuf::from(word), false),
            };
            let given = cwd.join(path);
            match walk(&given, owner) {
                Walk::Missing => None,
                Walk::Refused(r) => {
                    refused.push(r);
                    None
                }
                Walk::File(host) => Some(Shared {
                    index,
                    host,
                    given,
                    uri,
                }),
            }
        })
        .collect();
    (shared, refused)
}

enum Walk {
    /// Nothing there: the word is not a path (or names nothing yet), and passes unchanged.
    Missing,
    Refused(Refused),
    File(PathBuf),
}

/// Follow `given` from `/`, one component at a time, checking each link before following it.
fn walk(given: &Path, owner: &Owner) -> Walk {
    let mut pending: Vec<std::ffi::OsString> = Vec::new();
    crate::host::push_parts(&mut pending, given);
    let mut current = PathBuf::from("/");
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            // `current` has no link in it: its parent is the lexical one.
            current.pop();
            continue;
        }
        let next = current.join(&part);
        let Ok(meta) = std::fs::symlink_metadata(&next) else {
            return Walk::Missing;
        };
        if !meta.file_type().is_symlink() {
            current = next;
            continue;
        }
        hops += 1;
        let Ok(target) = std::fs::read_link(&next) else {
            return Walk::Missing;
        };
        if hops > 40 || !followable(&next, &target, &meta, owner) {
            return Walk::Refused(Refused::Link {
                given: given.to_path_buf(),
                link: next,
            });
        }
        if target.is_absolute() {
            current = PathBuf::from("/");
        }
        crate::host::push_parts(&mut pending, &target);
    }
    if in_kernel_tree(&current) {
        return Walk::Refused(Refused::Kernel(given.to_path_buf()));
    }
    match std::fs::symlink_metadata(&current) {
        Ok(m) if m.is_file() && !kernel_fs(&current) => Walk::File(current),
        Ok(m) if m.is_file() => Walk::Refused(Refused::Kernel(given.to_path_buf())),
        Ok(_) => Walk::Refused(Refused::NotAFile(given.to_path_buf())),
        Err(_) => Walk::Missing,
    }
}

/// Whether the link at `at` (leading to `target`) is the user's own, where no sandbox could have
/// made it: a top-level entry of the home that leads out of it (`~/Downloads ->
/// /data/Downloads`), or a link outside the home that someone other than the user owns.
fn followable(at: &Path, target: &Path, meta: &std::fs::Metadata, owner: &Owner) -> bool {
    match at.strip_prefix(owner.home) {
        Ok(rest) => {
            let top_level = rest.components().count() == 1;
            let leads = at
                .parent()
                .map_or_else(|| target.to_path_buf(), |p| p.join(target));
            let out = std::fs::canonicalize(&leads).map_or(true, |t| !t.starts_with(owner.home));
            top_level && out && !lexically_inside(&leads, owner.home)
        }
        Err(_) => meta.uid() != owner.uid,
    }
}

/// Whether `path`, with `.` and `..` taken lexically, lies in `dir`.
fn lexically_inside(path: &Path, dir: &Path) -> bool {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s),
            _ => {}
        }
    }
    out.starts_with(dir)
}

/// /proc, /sys and /dev by path (the kernel's own trees, whatever a link said).
fn in_kernel_tree(path: &Path) -> bool {
    ["/proc", "/sys", "/dev"]
        .iter()
        .any(|top| path.starts_with(top))
}

/// Whether the file lies on procfs, sysfs, devtmpfs or another of the kernel's own file systems
/// (mounted anywhere).
fn kernel_fs(path: &Path) -> bool {
    const PROC: i64 = 0x9fa0;
    const SYSFS: i64 = 0x6265_6572;
    const DEBUGFS: i64 = 0x6462_6720;
    const SECURITYFS: i64 = 0x7363_6673;
    const CGROUP2: i64 = 0x6367_7270;
    const CGROUP: i64 = 0x0027_e0eb;
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: statfs is plain data, filled by the call; c is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return true;
    }
    [PROC, SYSFS, DEBUGFS, SECURITYFS, CGROUP2, CGROUP].contains(&(st.f_type as i64))
}

/// Where a shared file appears inside: `runtime/nestbox-files/N/NAME`.
pub fn inside(runtime: &Path, n: usize, s: &Shared) -> PathBuf {
    let name = s
        .given
        .file_name()
        .or_else(|| s.host.file_name())
        .map_or_else(|| "file".into(), |n| n.to_os_string());
    runtime.join("nestbox-files").join(n.to_string()).join(name)
}

/// The word that names `path` the way the original word did.
pub fn word(path: &Path, uri: bool) -> String {
    if uri {
        format!("file://{}", percent_encode(&path.to_string_lossy()))
    } else {
        path.display().to_string()
    }
}

/// The path of a file URI after its "file://": an empty host or "localhost", then the path,
/// percent-decoded. Other hosts are not ours.
fn uri_path(rest: &str) -> Option<PathBuf> {
    let path = match rest.strip_prefix("localhost") {
        Some(p) => p,
        None => rest,
    };
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = percent_decode(path)?;
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"/-._~".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_uris_name_files_and_the_rest_pass() {
        let dir = std::env::temp_dir().join(format!("nestbox-share-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub dir")).unwrap();
        std::fs::write(dir.join("sub dir/a b.pdf"), "x").unwrap();
        std::os::unix::fs::symlink("sub dir/a b.pdf", dir.join("link.pdf")).unwrap();
        let args: Vec<String> = [
            "https://example.org/x.pdf",
            "--new-window",
            "sub dir/a b.pdf",
            &format!("file://{}/sub%20dir/a%20b.pdf", dir.display()),
            "link.pdf",
            "missing.pdf",
            "sub dir",
            "file://elsewhere/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let home = Path::new("/nonexistent-home");
        let (found, refused) = find(&args, &dir, &Owner { home, uid });
        let real = std::fs::canonicalize(dir.join("sub dir/a b.pdf")).unwrap();
        assert_eq!(found.iter().map(|s| s.index).collect::<Vec<_>>(), [2, 3]);
        assert!(found.iter().all(|s| s.host == real));
        assert!(found[1].uri && !found[0].uri);
        assert_eq!(
            refused,
            [
                Refused::Link {
                    given: dir.join("link.pdf"),
                    link: dir.join("link.pdf")
                },
                Refused::NotAFile(dir.join("sub dir"))
            ],
            "a link of the user's own outside the home, and a directory, are not shared"
        );
        let at = inside(Path::new("/run/user/1000"), 0, &found[0]);
        assert_eq!(at, Path::new("/run/user/1000/nestbox-files/0/a b.pdf"));
        assert_eq!(word(&at, false), "/run/user/1000/nestbox-files/0/a b.pdf");
        assert_eq!(
            word(&at, true),
            "file:///run/user/1000/nestbox-files/0/a%20b.pdf"
        );
        // A link the user does not own (here: any uid but the owner's) is followed.
        let (found, _) = find(&args[4..5], &dir, &Owner { home, uid: uid + 1 });
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].host, real);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn links_in_the_home_are_followed_only_at_its_top_and_out_of_it() {
        let base = std::env::temp_dir().join(format!("nestbox-share-home-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let home = base.join("home");
        let data = base.join("data");
        std::fs::create_dir_all(home.join("Downloads")).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("a.txt"), "a").unwrap();
        std::fs::write(home.join(".vimrc"), "v").unwrap();
        std::os::unix::fs::symlink(&data, home.join("Data")).unwrap();
        std::os::unix::fs::symlink(".vimrc", home.join("Back")).unwrap();
        std::os::unix::fs::symlink("../.vimrc", home.join("Downloads/x.pdf")).unwrap();
        // SAFETY: getuid cannot fail.
        let owner = Owner {
            home: &home,
            uid: unsafe { libc::getuid() },
        };
        let words: Vec<String> = ["Data/a.txt", "Back", "Downloads/x.pdf"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (found, refused) = find(&words, &home, &owner);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].host, data.join("a.txt"));
        let links: Vec<PathBuf> = refused
            .iter()
            .map(|r| match r {
                Refused::Link { link, .. } => link.clone(),
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(links, [home.join("Back"), home.join("Downloads/x.pdf")]);
        let _ = std::fs::remove_dir_all(&base);
    }
}
