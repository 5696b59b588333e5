//! `--share-files`: the words of a launch that name files on the host (paths, or file:// URIs, as
//! desktop launchers pass them with %f, %F, %u, %U) are bound into the sandbox, each under
//! `$XDG_RUNTIME_DIR/nestbox-files/N/` inside, and the word rewritten to say where. Only regular
//! files, bound read-write (the app may save them): a URI handed to a launcher may come from
//! anywhere, another sandbox included, and a directory, a socket (`$XDG_RUNTIME_DIR/bus`) or a
//! device would open far more than a document. Other words pass unchanged.

use std::path::{Path, PathBuf};

/// A word of the launch that names a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// Which word.
    pub index: usize,
    /// The file, symlinks resolved.
    pub host: PathBuf,
    /// The path as the word gave it, made absolute (not resolved).
    pub given: PathBuf,
    /// The word was a file:// URI (and is rewritten as one).
    pub uri: bool,
}

/// The words among `args` that name existing host files; relative paths are taken from `cwd`.
/// The second list: words that name something else that exists (a directory, a socket), which
/// are not shared.
pub fn find(args: &[String], cwd: &Path) -> (Vec<Shared>, Vec<PathBuf>) {
    let mut others = Vec::new();
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
            let host = std::fs::canonicalize(&given).ok()?;
            if !std::fs::metadata(&host).ok()?.is_file() {
                others.push(given);
                return None;
            }
            Some(Shared {
                index,
                host,
                given,
                uri,
            })
        })
        .collect();
    (shared, others)
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
        let (found, others) = find(&args, &dir);
        let real = std::fs::canonicalize(dir.join("sub dir/a b.pdf")).unwrap();
        assert_eq!(found.iter().map(|s| s.index).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(found.iter().all(|s| s.host == real));
        assert!(found[1].uri && !found[0].uri);
        assert_eq!(found[2].given, dir.join("link.pdf"));
        assert_eq!(others, [dir.join("sub dir")], "a directory is not shared");
        let at = inside(Path::new("/run/user/1000"), 0, &found[0]);
        assert_eq!(at, Path::new("/run/user/1000/nestbox-files/0/a b.pdf"));
        assert_eq!(word(&at, false), "/run/user/1000/nestbox-files/0/a b.pdf");
        assert_eq!(
            word(&at, true),
            "file:///run/user/1000/nestbox-files/0/a%20b.pdf"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
