use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fake host root under the temp directory, removed when dropped.
struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("nestbox-gpu-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }
    fn path(&self, host: &str) -> PathBuf {
        under(&Root::new(&self.0), Path::new(host))
    }
    fn file(&self, host: &str, contents: &[u8]) -> &Tree {
        let path = self.path(host);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        self
    }
    fn dir(&self, host: &str) -> &Tree {
        fs::create_dir_all(self.path(host)).unwrap();
        self
    }
    fn link(&self, host: &str, target: &str) -> &Tree {
        let path = self.path(host);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
        self
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A new-format cache ("glibc-ld.so.cache1.1") with these (name, path) entries.
fn new_cache(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut strings: Vec<u8> = Vec::new();
    let mut table: Vec<u8> = Vec::new();
    let base = NEW_HEADER + entries.len() * NEW_ENTRY;
    for (key, value) in entries {
        table.extend(1i32.to_ne_bytes());
        table.extend(((base + strings.len()) as u32).to_ne_bytes());
        strings.extend(key.as_bytes().iter().chain(b"\0"));
        table.extend(((base + strings.len()) as u32).to_ne_bytes());
        strings.extend(value.as_bytes().iter().chain(b"\0"));
        table.extend([0; 12]);
    }
    let mut out = NEW_MAGIC.to_vec();
    out.extend((entries.len() as u32).to_ne_bytes());
    out.extend((strings.len() as u32).to_ne_bytes());
    out.extend([0; 20]); // flags, padding, extension_offset, unused
    assert_eq!(out.len(), NEW_HEADER);
    out.extend(table);
    out.extend(strings);
    out
}

/// An old-format cache of `nlibs` blank entries, then `new` at the next 8-byte boundary.
fn old_cache(nlibs: u32, new: &[u8]) -> Vec<u8> {
    let mut out = OLD_MAGIC.to_vec();
    out.push(0);
    out.extend(nlibs.to_ne_bytes());
    out.resize(OLD_HEADER + nlibs as usize * OLD_ENTRY, 0);
    out.resize(out.len().next_multiple_of(8), 0);
    out.extend(new);
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, PathBuf)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
        .collect()
}

const LIBS: &[(&str, &str)] = &[
    ("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),
    ("libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1"),
    ("libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6"),
];

#[test]
fn reads_the_new_format() {
    assert_eq!(parse_ld_so_cache(&new_cache(LIBS)), pairs(LIBS));
    assert_eq!(parse_ld_so_cache(&new_cache(&[])), vec![]);
}

#[test]
fn reads_the_new_format_after_the_old_one() {
    // 1 old entry ends at 28, so the new header starts at 32; 2 end at 40, already aligned.
    for nlibs in [0, 1, 2, 3] {
        let cache = old_cache(nlibs, &new_cache(LIBS));
        assert_eq!(
            parse_ld_so_cache(&cache),
            pairs(LIBS),
            "{nlibs} old entries"
        );
    }
}

#[test]
fn reads_the_old_format_alone() {
    let mut cache = OLD_MAGIC.to_vec();
    cache.push(0);
    cache.extend(2u32.to_ne_bytes());
    for (key, value) in [(0u32, 10u32), (25, 35)] {
        cache.extend(1i32.to_ne_bytes());
        cache.extend(key.to_ne_bytes());
        cache.extend(value.to_ne_bytes());
    }
    cache.extend(b"libz.so.1\0/lib/libz.so.1\0libm.so.6\0/lib/libm.so.6\0");
    assert_eq!(
        parse_ld_so_cache(&cache),
        pairs(&[
            ("libz.so.1", "/lib/libz.so.1"),
            ("libm.so.6", "/lib/libm.so.6")
        ])
    );
}

#[test]
fn a_truncated_cache_gives_a_prefix() {
    let full = pairs(LIBS);
    for cache in [new_cache(LIBS), old_cache(1, &new_cache(LIBS))] {
        for len in 0..cache.len() {
            let got = parse_ld_so_cache(&cache[..len]);
            assert!(full.starts_with(&got), "cut at {len}: {got:?}");
        }
    }
}

#[test]
fn a_bad_entry_ends_the_list() {
    let mut cache = new_cache(LIBS);
    // The second entry's key points past the end; its value has no NUL in the third.
    let second_key = NEW_HEADER + NEW_ENTRY + 4;
    cache[second_key..second_key + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(parse_ld_so_cache(&cache), pairs(&LIBS[..1]));
    let mut cache = new_cache(LIBS);
    cache.pop();
    assert_eq!(parse_ld_so_cache(&cache), pairs(&LIBS[..2]));
}

#[test]
fn garbage_gives_nothing_and_never_panics() {
    let mut huge = NEW_MAGIC.to_vec();
    huge.extend(u32::MAX.to_ne_bytes());
    huge.resize(200, 0xff);
    assert_eq!(parse_ld_so_cache(&huge), vec![]);
    let mut old = OLD_MAGIC.to_vec();
    old.push(0);
    old.extend(u32::MAX.to_ne_bytes());
    assert_eq!(parse_ld_so_cache(&old), vec![]);
    assert_eq!(parse_ld_so_cache(b"glibc-ld.so.cache1.0\0\0\0\0"), vec![]);
    assert_eq!(parse_ld_so_cache(b""), vec![]);

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut byte = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 56) as u8
    };
    for len in 0..400 {
        for magic in [&b""[..], NEW_MAGIC, OLD_MAGIC] {
            let mut bytes = magic.to_vec();
            bytes.extend((0..len).map(|_| byte()));
            let _ = parse_ld_so_cache(&bytes);
        }
    }
}

#[test]
fn reads_this_machines_cache() {
    // Every glibc system nestbox runs on has one (ldconfig writes it).
    let bytes = fs::read("/etc/ld.so.cache").expect("/etc/ld.so.cache, written by ldconfig");
    let libs = parse_ld_so_cache(&bytes);
    let libc = libs.iter().find(|(name, _)| name == "libc.so.6");
    let (_, path) = libc.expect("libc.so.6 in /etc/ld.so.cache");
    assert!(
        path.is_absolute() && path.ends_with("libc.so.6"),
        "{path:?}"
    );
    assert!(path.exists(), "{path:?}");
}

#[test]
fn knows_the_driver_library_names() {
    for name in [
        "libGLX_nvidia.so.0",
        "libEGL_nvidia.so.550.54.15",
        "libGLESv1_CM_nvidia.so.1",
        "libGLESv2_nvidia.so.2",
        "libnvidia-ml.so.1",
        "libnvidia-egl-wayland.so.1.1.13",
        "libcuda.so",
        "libcudadebugger.so.1",
        "libnvcuvid.so.1",
        "libnvoptix.so.1",
        "libvdpau_nvidia.so.1",
    ] {
        assert!(is_nvidia_lib(name), "{name}");
    }
    for name in [
        "libGL.so.1",
        "libnvidia-.so.1",
        "libcudart.so.12",
        "libcuda.sox",
        "libnvidia-ml",
    ] {
        assert!(!is_nvidia_lib(name), "{name}");
    }
}

#[test]
fn an_empty_root_has_nothing() {
    let tree = Tree::new("empty");
    assert_eq!(scan(&tree.0), GpuHost::default());
}

/// Like the H100 host described in the brief (Ubuntu 24.04, merged /usr, driver libraries in
/// /usr/local/nvidia/lib64), with a stale cache entry and some files that are not NVIDIA's.
fn nvidia_tree() -> Tree {
    let tree = Tree::new("nvidia");
    tree.file("/dev/nvidia0", b"")
        .file("/dev/nvidiactl", b"")
        .file("/dev/nvidia-uvm", b"")
        .file("/dev/nvidia-uvm-tools", b"")
        .file("/dev/nvidia-caps/nvidia-cap1", b"")
        .file("/dev/nvidia-caps/nvidia-cap2", b"")
        .file("/dev/null", b"")
        .file("/sys/module/nvidia/version", b"550.54.15\n")
        .dir("/sys/module/nvidia_uvm")
        .dir("/sys/module/nvidiafb")
        .dir("/sys/module/nvme")
        .link("/lib", "usr/lib")
        .link("/bin", "usr/bin")
        .file("/usr/lib/x86_64-linux-gnu/libc.so.6", b"")
        .file("/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0", b"")
        .file("/usr/local/nvidia/lib64/libcuda.so.550.54.15", b"")
        .link(
            "/usr/local/nvidia/lib64/libcuda.so.1",
            "libcuda.so.550.54.15",
        )
        .file("/usr/local/nvidia/lib64/libnvidia-ml.so.1", b"")
        .file("/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1", b"")
        .file("/usr/share/vulkan/icd.d/nvidia_icd.json", b"{}")
        .file("/usr/share/vulkan/icd.d/intel_icd.x86_64.json", b"{}")
        .file("/usr/share/glvnd/egl_vendor.d/10_nvidia.json", b"{}")
        .file("/usr/share/glvnd/egl_vendor.d/50_mesa.json", b"{}")
        .file("/usr/local/nvidia/bin/nvidia-smi", b"")
        .file("/usr/bin/nvidia-debugdump", b"")
        .file("/usr/bin/ls", b"");
    let cache = new_cache(&[
        (
            "libnvidia-ptxjitcompiler.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1",
        ),
        (
            "libnvidia-ml.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ml.so.1",
        ),
        (
            "libnvidia-ml.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ml.so.1",
        ),
        ("libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1"),
        ("libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so"),
        ("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),
        (
            "libEGL_nvidia.so.0",
            "/lib/x86_64-linux-gnu/libEGL_nvidia.so.0",
        ),
    ]);
    tree.file("/etc/ld.so.cache", &cache);
    tree
}

fn paths(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

#[test]
fn finds_an_nvidia_host() {
    let tree = nvidia_tree();
    let host = scan(&tree.0);
    assert_eq!(host.dri, vec![]);
    let nvidia = Nvidia {
        nodes: paths(&[
            "/dev/nvidia0",
            "/dev/nvidiactl",
            "/dev/nvidia-uvm",
            "/dev/nvidia-uvm-tools",
        ]),
        caps: Some(PathBuf::from("/dev/nvidia-caps")),
        modules: paths(&["/sys/module/nvidia", "/sys/module/nvidia_uvm"]),
        version: Some("550.54.15".into()),
        files: paths(&[
            "/lib/x86_64-linux-gnu/libEGL_nvidia.so.0",
            "/usr/bin/nvidia-debugdump",
            "/usr/local/nvidia/bin/nvidia-smi",
            "/usr/local/nvidia/lib64/libcuda.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ml.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1",
            "/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
            "/usr/share/vulkan/icd.d/nvidia_icd.json",
        ]),
    };
    assert_eq!(host.nvidia, Some(nvidia));
    assert!(serde_json::to_string(&host).unwrap().contains("nvidia-smi"));
}

#[test]
fn looks_in_the_library_directories_without_a_cache() {
    let tree = nvidia_tree();
    fs::remove_file(tree.path("/etc/ld.so.cache")).unwrap();
    tree.file("/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0", b"")
        .file("/usr/lib/x86_64-linux-gnu/libGL.so.1", b"")
        .link(
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
            "libcuda.so.1.gone",
        )
        .file("/usr/lib/libnvidia-tls.so.550", b"")
        .dir("/usr/lib/x86_64-linux-gnu/libnvidia-dir.so");
    let files = scan(&tree.0).nvidia.unwrap().files;
    let libs: Vec<_> = files
        .iter()
        .filter(|f| f.to_string_lossy().contains(".so"))
        .collect();
    assert_eq!(
        libs,
        paths(&[
            "/usr/lib/libnvidia-tls.so.550",
            "/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0",
            "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0",
            "/usr/local/nvidia/lib64/libcuda.so.1",
            "/usr/local/nvidia/lib64/libcuda.so.550.54.15",
            "/usr/local/nvidia/lib64/libnvidia-ml.so.1",
            "/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1",
        ])
        .iter()
        .collect::<Vec<_>>()
    );
}

#[test]
fn orders_nvidia_nodes_by_number() {
    let tree = Tree::new("order");
    for node in [
        "nvidia10",
        "nvidia2",
        "nvidia0",
        "nvidiactl",
        "nvidia-modeset",
        "nvidia+1",
    ] {
        tree.file(&format!("/dev/{node}"), b"");
    }
    tree.file("/dev/nvidia-caps", b"not a directory");
    let nvidia = scan(&tree.0).nvidia.unwrap();
    assert_eq!(
        nvidia.nodes,
        paths(&[
            "/dev/nvidia0",
            "/dev/nvidia2",
            "/dev/nvidia10",
            "/dev/nvidiactl",
            "/dev/nvidia-modeset"
        ])
    );
    assert_eq!((nvidia.caps, nvidia.version), (None, None));
    assert_eq!((nvidia.modules, nvidia.files), (vec![], vec![]));
}

/// An Intel GPU as sysfs shows it, with relative links as the kernel makes them.
fn intel_tree() -> Tree {
    let tree = Tree::new("intel");
    let pci = "/sys/devices/pci0000:00/0000:00:02.0";
    tree.file("/dev/dri/card0", b"")
        .file("/dev/dri/renderD128", b"")
        .link("/dev/dri/by-path/pci-0000:00:02.0-card", "../card0")
        .file(&format!("{pci}/vendor"), b"0x8086\n")
        .file(&format!("{pci}/device"), b"0x9a49\n")
        .dir("/sys/bus/pci")
        .link(&format!("{pci}/subsystem"), "../../../bus/pci")
        .link("/sys/class/drm/version", "../../module/drm/version");
    for (name, minor) in [("card0", 0), ("renderD128", 128)] {
        let dir = format!("{pci}/drm/{name}");
        tree.file(&format!("{dir}/dev"), format!("226:{minor}\n").as_bytes())
            .link(&format!("{dir}/device"), "../../../0000:00:02.0")
            .link(
                &format!("/sys/class/drm/{name}"),
                &format!("../../devices/pci0000:00/0000:00:02.0/drm/{name}"),
            )
            .link(
                &format!("/sys/dev/char/226:{minor}"),
                &format!("../../devices/pci0000:00/0000:00:02.0/drm/{name}"),
            );
    }
    tree.file("/etc/ld.so.cache", &new_cache(LIBS));
    tree
}

fn intel_node(name: &str, minor: u32) -> DriNode {
    DriNode {
        node: PathBuf::from(format!("/dev/dri/{name}")),
        dev: Some((226, minor)),
        sys_char: Some(PathBuf::from(format!("/sys/dev/char/226:{minor}"))),
        sys_node: Some(PathBuf::from(format!(
            "/sys/devices/pci0000:00/0000:00:02.0/drm/{name}"
        ))),
        device_dir: Some(PathBuf::from("/sys/devices/pci0000:00/0000:00:02.0")),
    }
}

#[test]
fn finds_an_intel_host() {
    let tree = intel_tree();
    let host = scan(&tree.0);
    assert_eq!(
        host,
        GpuHost {
            dri: vec![intel_node("card0", 0), intel_node("renderD128", 128)],
            nvidia: None,
        }
    );
}

#[test]
fn a_node_without_sysfs_has_no_facts() {
    let tree = Tree::new("bare");
    for name in ["renderD129", "card10", "card2", "controlD64", "card"] {
        tree.file(&format!("/dev/dri/{name}"), b"");
    }
    tree.file("/sys/class/drm/card2/dev", b"garbage\n");
    let bare = |name: &str| DriNode {
        node: PathBuf::from(format!("/dev/dri/{name}")),
        ..DriNode::default()
    };
    assert_eq!(
        scan(&tree.0).dri,
        vec![bare("card2"), bare("card10"), bare("renderD129")]
    );
}

#[test]
fn links_never_lead_out_of_the_root() {
    let tree = Tree::new("escape");
    let drm = "/sys/devices/virtual/drm/card0";
    tree.file("/dev/dri/card0", b"")
        .link("/sys/class/drm/card0", drm)
        .file(&format!("{drm}/dev"), b"226:0\n")
        .link(&format!("{drm}/device"), "../../../../../../../../../../..")
        .link("/sys/dev/char/226:0", "/etc")
        .link("/up", "../../../../../../../../tmp")
        .link("/abs", "/dev")
        .link("/loop1", "loop2")
        .link("/loop2", "loop1")
        .link("/dangling", "nowhere");
    let node = &scan(&tree.0).dri[0];
    assert_eq!(node.dev, Some((226, 0)));
    assert_eq!((&node.sys_char, &node.sys_node), (&None, &None));
    assert_eq!(node.device_dir, Some(PathBuf::from("/")));

    // A fresh Root each time: a Root remembers what it saw, and the tree changes below.
    let resolved = |p: &str| resolve(&Root::new(&tree.0), Path::new(p));
    assert_eq!(
        resolved("/up"),
        None,
        "the host's /tmp is not under the root"
    );
    assert_eq!(
        resolved("/abs/dri/card0"),
        Some(PathBuf::from("/dev/dri/card0"))
    );
    assert_eq!(resolved("/loop1"), None);
    assert_eq!(resolved("/dangling"), None);
    assert_eq!(resolved("/dev/dri/card0/x"), None);
    assert_eq!(
        resolved("/../../dev/./dri"),
        Some(PathBuf::from("/dev/dri"))
    );
    tree.dir("/tmp");
    assert_eq!(resolved("/up"), Some(PathBuf::from("/tmp")));
}

#[test]
fn this_machine_scans_without_panicking() {
    let host = scan(Path::new("/"));
    let has_nvidia = Path::new("/dev/nvidiactl").exists();
    assert_eq!(host.nvidia.is_some(), has_nvidia, "{host:?}");
    let drm = fs::read_dir("/dev/dri").map_or(0, |d| {
        d.filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("card") || n.starts_with("renderD"))
            .count()
    });
    assert_eq!(host.dri.len(), drm, "{host:?}");
    eprintln!("{}", serde_json::to_string_pretty(&host).unwrap());
}
