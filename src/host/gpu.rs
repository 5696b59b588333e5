//! The host's graphics devices and NVIDIA driver files, found by reading under a host root ("/" on
//! a real host, a fake tree in tests). Nothing is mounted or changed here: the planner decides what
//! to bind and the sandbox binds it. Symlinks are followed by hand, inside the root, so that a fake
//! tree (or a hostile link) never leads to a path outside it.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// The graphics devices of the host and, when it has one, its NVIDIA driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GpuHost {
    /// Every `/dev/dri/card*` and `/dev/dri/renderD*`, cards first, each in numeric order.
    pub dri: Vec<DriNode>,
    /// `None` when `/dev/nvidiactl` is absent: without it the driver's files are of no use.
    pub nvidia: Option<Nvidia>,
}

/// One DRM node and the sysfs entries that Mesa and libdrm read to identify its device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DriNode {
    /// The node itself, such as `/dev/dri/renderD128`.
    pub node: PathBuf,
    /// Major and minor, from `/sys/class/drm/NAME/dev` or else the node's own `st_rdev`.
    pub dev: Option<(u32, u32)>,
    /// `/sys/dev/char/MAJOR:MINOR`, when it exists: libdrm finds the device through it.
    pub sys_char: Option<PathBuf>,
    /// Where `sys_char` leads, such as `/sys/devices/pci0000:00/0000:00:02.0/drm/renderD128`.
    pub sys_node: Option<PathBuf>,
    /// Where `/sys/class/drm/NAME/device` leads: the PCI (or platform, virtio) device directory
    /// with the vendor, device, uevent and subsystem entries that Mesa reads.
    pub device_dir: Option<PathBuf>,
}

/// The NVIDIA driver as the host has it: its nodes, kernel modules and user-space files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Nvidia {
    /// `/dev/nvidia0..N` in numeric order, then `nvidiactl`, `nvidia-modeset`, `nvidia-uvm` and
    /// `nvidia-uvm-tools`, the ones present.
    pub nodes: Vec<PathBuf>,
    /// `/dev/nvidia-caps`, when it is a directory.
    pub caps: Option<PathBuf>,
    /// `/sys/module/nvidia` and every `/sys/module/nvidia_*`, sorted.
    pub modules: Vec<PathBuf>,
    /// The kernel driver's version, which the user-space libraries must match.
    pub version: Option<String>,
    /// Libraries, ICD and vendor JSON files and tools, sorted, each as named (not resolved).
    pub files: Vec<PathBuf>,
}

/// Symlinks followed in one resolution before giving up, as the kernel does.
const MAX_HOPS: usize = 40;

/// Look at the graphics devices and NVIDIA driver under `root`.
pub fn scan(root: &Path) -> GpuHost {
    let root = &Root::new(root);
    let host = GpuHost {
        dri: scan_dri(root),
        nvidia: scan_nvidia(root),
    };
    tracing::debug!(?host, "graphics devices");
    host
}

/// The root directory scanned, with what was learnt of its paths: resolving a hundred paths
/// walks the same few directories over and over, and every system call counts at launch.
struct Root<'a> {
    path: &'a Path,
    /// Per path under the root: missing (`None`), not a link (`Some(None)`), or a link's target.
    links: std::cell::RefCell<BTreeMap<PathBuf, Option<Option<PathBuf>>>>,
}

impl<'a> Root<'a> {
    fn new(path: &'a Path) -> Root<'a> {
        Root {
            path,
            links: Default::default(),
        }
    }

    /// What `at` (a path under the root) is, remembered: see [`Root::links`].
    fn link(&self, at: &Path) -> Option<Option<PathBuf>> {
        if let Some(known) = self.links.borrow().get(at) {
            return known.clone();
        }
        let found = match fs::symlink_metadata(at) {
            Err(_) => None,
            Ok(m) if !m.file_type().is_symlink() => Some(None),
            Ok(_) => fs::read_link(at).ok().map(Some),
        };
        self.links
            .borrow_mut()
            .insert(at.to_path_buf(), found.clone());
        found
    }
}

/// `host` (an absolute host path) as a path under `root`.
fn under(root: &Root, host: &Path) -> PathBuf {
    let mut path = root.path.to_path_buf();
    path.extend(host.components().filter_map(|c| match c {
        Component::Normal(name) => Some(name),
        _ => None,
    }));
    path
}

/// The parts of a path that resolution walks, with `..` kept as `..` (no file can have that name).
fn parts(path: &Path) -> impl DoubleEndedIterator<Item = OsString> + '_ {
    path.components().filter_map(|c| match c {
        Component::Normal(name) => Some(name.to_owned()),
        Component::ParentDir => Some(OsString::from("..")),
        _ => None,
    })
}

/// The host path that `host` leads to, symlinks followed within `root`: an absolute target is read
/// relative to the root and `..` stops at it. `None` when something on the way is missing or the
/// links go round more than [`MAX_HOPS`] times.
fn resolve(root: &Root, host: &Path) -> Option<PathBuf> {
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: VecDeque<OsString> = parts(host).collect();
    let mut hops = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            done.pop();
            continue;
        }
        let mut at = root.path.to_path_buf();
        at.extend(&done);
        at.push(&name);
        let Some(target) = root.link(&at)? else {
            done.push(name);
            continue;
        };
        hops += 1;
        if hops > MAX_HOPS {
            return None;
        }
        if target.is_absolute() {
            done.clear();
        }
        for part in parts(&target).rev() {
            todo.push_front(part);
        }
    }
    let mut found = PathBuf::from("/");
    found.extend(done);
    Some(found)
}

/// What `host` leads to, as the kernel reports it (no symlinks are left on the way).
fn metadata(root: &Root, host: &Path) -> Option<fs::Metadata> {
    fs::symlink_metadata(under(root, &resolve(root, host)?)).ok()
}

fn is_file(root: &Root, host: &Path) -> bool {
    metadata(root, host).is_some_and(|m| !m.is_dir())
}

fn is_dir(root: &Root, host: &Path) -> bool {
    metadata(root, host).is_some_and(|m| m.is_dir())
}

fn read(root: &Root, host: &Path) -> Option<Vec<u8>> {
    fs::read(under(root, &resolve(root, host)?)).ok()
}

fn read_text(root: &Root, host: &Path) -> Option<String> {
    String::from_utf8(read(root, host)?).ok()
}

/// The names in a directory; names that are not UTF-8 are none the scan looks for.
fn list_dir(root: &Root, host: &Path) -> Vec<String> {
    let Some(dir) = resolve(root, host) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(under(root, &dir)) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

/// The number in `card12` (with `prefix` "card"): digits only, so `card0-DP-1` is no node.
fn index(name: &str, prefix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn scan_dri(root: &Root) -> Vec<DriNode> {
    let dir = Path::new("/dev/dri");
    let mut names: Vec<(u8, u64, String)> = list_dir(root, dir)
        .into_iter()
        .filter_map(|name| {
            let key = match index(&name, "card") {
                Some(n) => (0, n),
                None => (1, index(&name, "renderD")?),
            };
            Some((key.0, key.1, name))
        })
        .filter(|(_, _, name)| is_file(root, &dir.join(name)))
        .collect();
    names.sort();
    names
        .iter()
        .map(|(_, _, name)| dri_node(root, name))
        .collect()
}

fn dri_node(root: &Root, name: &str) -> DriNode {
    let node = Path::new("/dev/dri").join(name);
    let class = Path::new("/sys/class/drm").join(name);
    let dev = read_text(root, &class.join("dev"))
        .and_then(|text| parse_dev(&text))
        .or_else(|| rdev(root, &node));
    let sys_char =
        dev.map(|(major, minor)| PathBuf::from(format!("/sys/dev/char/{major}:{minor}")));
    let sys_node = sys_char.as_deref().and_then(|p| resolve(root, p));
    DriNode {
        sys_char: sys_char.filter(|_| sys_node.is_some()),
        sys_node,
        device_dir: resolve(root, &class.join("device")),
        dev,
        node,
    }
}

/// `226:128\n` as sysfs writes it in a `dev` file.
fn parse_dev(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The numbers of a real character device, for a node sysfs says nothing about.
fn rdev(root: &Root, node: &Path) -> Option<(u32, u32)> {
    let meta = metadata(root, node)?;
    let rdev = meta.rdev();
    meta.file_type()
        .is_char_device()
        .then(|| (libc::major(rdev), libc::minor(rdev)))
}

fn scan_nvidia(root: &Root) -> Option<Nvidia> {
    resolve(root, Path::new("/dev/nvidiactl"))?;
    let caps = Path::new("/dev/nvidia-caps");
    let version = read_text(root, Path::new("/sys/module/nvidia/version"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    Some(Nvidia {
        nodes: nvidia_nodes(root),
        caps: is_dir(root, caps).then(|| caps.to_path_buf()),
        modules: nvidia_modules(root),
        version,
        files: nvidia_files(root),
    })
}

fn nvidia_nodes(root: &Root) -> Vec<PathBuf> {
    let dev = Path::new("/dev");
    let mut numbered: Vec<(u64, String)> = list_dir(root, dev)
        .into_iter()
        .filter_map(|name| Some((index(&name, "nvidia")?, name)))
        .collect();
    numbered.sort();
    let fixed = [
        "nvidiactl",
        "nvidia-modeset",
        "nvidia-uvm",
        "nvidia-uvm-tools",
    ];
    numbered
        .into_iter()
        .map(|(_, name)| name)
        .chain(fixed.map(String::from))
        .map(|name| dev.join(name))
        .filter(|node| resolve(root, node).is_some())
        .collect()
}

fn nvidia_modules(root: &Root) -> Vec<PathBuf> {
    let dir = Path::new("/sys/module");
    let mut modules: Vec<PathBuf> = list_dir(root, dir)
        .into_iter()
        .filter(|name| name == "nvidia" || name.starts_with("nvidia_"))
        .map(|name| dir.join(name))
        .filter(|path| is_dir(root, path))
        .collect();
    modules.sort();
    modules
}

/// Decides from a file's name whether the scan wants it.
type Wanted = fn(&str) -> bool;

/// Where the loader looks when there is no ld.so cache to ask.
const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/local/nvidia/lib64",
];

/// The driver's files other than libraries whose names vary: where each kind lives and what it
/// is called. Those directories are small; the fixed names below are looked at one by one.
const FILE_GROUPS: &[(&[&str], Wanted)] = &[
    (&["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"], |n| {
        n.starts_with("nvidia_icd") && n.ends_with(".json")
    }),
    (
        &[
            "/usr/share/glvnd/egl_vendor.d",
            "/etc/glvnd/egl_vendor.d",
            "/usr/share/egl/egl_external_platform.d",
            "/etc/egl/egl_external_platform.d",
        ],
        |n| n.contains("nvidia") && n.ends_with(".json"),
    ),
];

/// The driver's files with fixed names, in directories too large to list at every launch
/// (/usr/bin): each directory and the names looked for in it.
const FIXED_FILES: &[(&[&str], &[&str])] = &[
    (
        &[
            "/usr/share/vulkan/implicit_layer.d",
            "/etc/vulkan/implicit_layer.d",
        ],
        &["nvidia_layers.json"],
    ),
    (&["/etc/OpenCL/vendors"], &["nvidia.icd"]),
    (
        &[
            "/usr/bin",
            "/bin",
            "/usr/local/bin",
            "/usr/local/nvidia/bin",
        ],
        &["nvidia-smi", "nvidia-debugdump"],
    ),
];

/// Library names (before `.so`) of the driver that do not start with `libnvidia-`.
const LIB_STEMS: &[&str] = &[
    "libGLX_nvidia",
    "libEGL_nvidia",
    "libGLESv1_CM_nvidia",
    "libGLESv2_nvidia",
    "libcuda",
    "libcudadebugger",
    "libnvcuvid",
    "libnvoptix",
    "libvdpau_nvidia",
];

/// Whether `name` is one of the driver's libraries, such as `libnvidia-ml.so.1`.
fn is_nvidia_lib(name: &str) -> bool {
    let Some((stem, rest)) = name.split_once(".so") else {
        return false;
    };
    (rest.is_empty() || rest.starts_with('.'))
        && (LIB_STEMS.contains(&stem)
            || stem
                .strip_prefix("libnvidia-")
                .is_some_and(|s| !s.is_empty()))
}

fn nvidia_files(root: &Root) -> Vec<PathBuf> {
    let mut files: BTreeSet<PathBuf> = nvidia_libraries(root).into_iter().collect();
    for (dirs, wanted) in FILE_GROUPS {
        files.extend(find_in(root, dirs, *wanted));
    }
    for (dirs, names) in FIXED_FILES {
        let mut seen = BTreeSet::new();
        for dir in dirs.iter().map(Path::new) {
            // A directory met under two names (/bin and /usr/bin) is looked in once.
            let Some(real) = resolve(root, dir).filter(|r| seen.insert(r.clone())) else {
                continue;
            };
            files.extend(
                names
                    .iter()
                    .filter(|n| is_file(root, &real.join(n)))
                    .map(|n| dir.join(n)),
            );
        }
    }
    files.into_iter().collect()
}

/// The driver's libraries as the loader would find them: from the ld.so cache, kept only when
/// they exist (the cache may be stale), or from the usual directories when there is no cache.
fn nvidia_libraries(root: &Root) -> Vec<PathBuf> {
    let cache = read(root, Path::new("/etc/ld.so.cache"))
        .map(|bytes| parse_ld_so_cache(&bytes))
        .unwrap_or_default();
    if cache.is_empty() {
        return find_in(root, LIB_DIRS, is_nvidia_lib);
    }
    // Each directory is listed once, rather than each file looked at: the cache names a hundred
    // files in a handful of directories, and every system call counts at launch. A name listed
    // but unusable (a dangling link) is skipped later, when its bind finds no source.
    let mut listings: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    cache
        .into_iter()
        .filter(|(name, path)| is_nvidia_lib(name) && path.is_absolute())
        .filter(|(_, path)| {
            let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
                return false;
            };
            listings
                .entry(dir.to_path_buf())
                .or_insert_with(|| list_dir(root, dir).into_iter().collect())
                .contains(file.to_string_lossy().as_ref())
        })
        .map(|(_, path)| path)
        .collect()
}

/// The files in `dirs` that `wanted` accepts, named through the directory as listed. A directory
/// met twice under two names (`/bin` and `/usr/bin` on a merged-/usr host) is read once, under its
/// first name, so that one file is not bound twice.
fn find_in(root: &Root, dirs: &[&str], wanted: Wanted) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for dir in dirs.iter().map(Path::new) {
        if !resolve(root, dir).is_some_and(|real| seen.insert(real)) {
            continue;
        }
        let mut names = list_dir(root, dir);
        names.retain(|name| wanted(name) && is_file(root, &dir.join(name)));
        found.extend(names.into_iter().map(|name| dir.join(name)));
    }
    found
}

/// glibc's `cache_file_new`: "glibc-ld.so.cache" and version "1.1".
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
/// glibc's old `cache_file`: magic, then `nlibs` aligned to 4 bytes.
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const OLD_HEADER: usize = 16;
const OLD_ENTRY: usize = 12;

/// The (library name, path) pairs of an /etc/ld.so.cache, in file order. The new format may
/// follow the old one, 8-byte aligned; a cache with the old one alone is read too. Anything
/// malformed ends the list there.
pub fn parse_ld_so_cache(bytes: &[u8]) -> Vec<(String, PathBuf)> {
    if bytes.starts_with(NEW_MAGIC) {
        return parse_new(bytes);
    }
    if !bytes.starts_with(OLD_MAGIC) {
        return Vec::new();
    }
    let Some(nlibs) = u32_at(bytes, 12) else {
        return Vec::new();
    };
    let Some(strings) = (nlibs as usize)
        .checked_mul(OLD_ENTRY)
        .and_then(|n| n.checked_add(OLD_HEADER))
    else {
        return Vec::new();
    };
    let new = strings
        .checked_next_multiple_of(8)
        .and_then(|at| bytes.get(at..))
        .filter(|new| new.starts_with(NEW_MAGIC));
    match new {
        Some(new) => parse_new(new),
        None => parse_table(bytes, OLD_HEADER, OLD_ENTRY, nlibs, bytes.get(strings..)),
    }
}

/// A new-format cache from its header on; its string offsets count from the header.
fn parse_new(bytes: &[u8]) -> Vec<(String, PathBuf)> {
    let nlibs = u32_at(bytes, NEW_MAGIC.len()).unwrap_or(0);
    parse_table(bytes, NEW_HEADER, NEW_ENTRY, nlibs, Some(bytes))
}

/// Entries of `size` bytes from `first`, each with its key and value offsets at 4 and 8. An
/// empty name or path is no real entry but zeros read as one, and ends the list.
fn parse_table(
    bytes: &[u8],
    first: usize,
    size: usize,
    count: u32,
    strings: Option<&[u8]>,
) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let Some(strings) = strings else {
        return found;
    };
    let offsets = (0..count as usize).map_while(|i| i.checked_mul(size)?.checked_add(first));
    for at in offsets {
        let Some(entry) = bytes.get(at..at.saturating_add(size)) else {
            break;
        };
        let key = u32_at(entry, 4).and_then(|off| c_str(strings, off));
        let value = u32_at(entry, 8).and_then(|off| c_str(strings, off));
        let (Some(key), Some(value)) = (key, value) else {
            break;
        };
        if key.is_empty() || value.is_empty() {
            break;
        }
        if let Ok(key) = std::str::from_utf8(key) {
            found.push((key.to_owned(), PathBuf::from(OsStr::from_bytes(value))));
        }
    }
    found
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(word.try_into().ok()?))
}

/// The NUL-terminated string at `offset`.
fn c_str(strings: &[u8], offset: u32) -> Option<&[u8]> {
    let rest = strings.get(offset as usize..)?;
    Some(&rest[..rest.iter().position(|&b| b == 0)?])
}

#[cfg(test)]
#[path = "gpu_tests.rs"]
mod tests;
