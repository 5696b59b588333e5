//! Sound and graphics in the plan, over fake hosts: what is bound, what is set, and the one line a
//! profile gets when the host lacks what it asks for.

use super::*;
use crate::host::gpu::{DriNode, Nvidia};
use crate::host::GpuHost;
use crate::profile::{Audio, Gpu};

fn with_audio() -> Profile {
    let mut p = xterm();
    p.audio = Audio::Pulse;
    p
}

fn media_steps(plan: &Plan) -> Vec<Mount> {
    plan.mounts
        .iter()
        .filter(|m| {
            let d = m.dst().to_string_lossy();
            [
                "/sys",
                "/dev/dri",
                "/dev/nvidia",
                "/run/user/1000/pulse",
                "/etc/vulkan",
                "/opt/nv",
                "/usr/lib/x86_64-linux-gnu/libGLX",
            ]
            .iter()
            .any(|p| d.starts_with(p))
        })
        .cloned()
        .collect()
}

#[test]
fn pulse_gets_a_launch_socket_in_the_runtime_dir_and_its_variables() {
    let mut f = facts();
    f.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/1000".into());
    let fs = host().with("/run/user/1000/pulse/native", FileKind::Socket);
    let plan = build(&with_audio(), &f, &fs, None, &[]).unwrap();
    assert_eq!(
        media_steps(&plan),
        [Mount::LaunchSocket {
            dst: "/run/user/1000/pulse/native".into(),
            of: LaunchSocket::Pulse,
        }]
    );
    // After the runtime directory's tmpfs, so that it lands inside it.
    let at = |d: &str| plan.mounts.iter().position(|m| m.dst() == Path::new(d));
    assert!(at("/run/user/1000") < at("/run/user/1000/pulse/native"));
    assert_eq!(
        plan.process.env["PULSE_SERVER"],
        "unix:/run/user/1000/pulse/native"
    );
    assert_eq!(
        plan.process.env["PULSE_CLIENTCONFIG"],
        "/run/nestbox/pulse-client.conf"
    );
    let AudioPlan::Pulse {
        server,
        sockets_dir,
        ..
    } = &plan.audio
    else {
        panic!("{:?}", plan.audio)
    };
    assert_eq!(server.socket, Path::new("/run/user/1000/pulse/native"));
    assert_eq!(sockets_dir, Path::new("/run/user/1000/nestbox/pulse"));
    let text = explain_text(&plan);
    assert!(
        text.contains("the sandbox's own PulseAudio socket"),
        "{text}"
    );
    assert!(
        text.contains("recording (microphones, and what other apps play): no (an access error)"),
        "{text}"
    );
}

#[test]
fn no_audio_no_socket_no_server_variable() {
    let plan = build(&xterm(), &facts(), &host(), None, &[]).unwrap();
    assert_eq!(plan.audio, AudioPlan::None);
    assert!(media_steps(&plan).is_empty());
    assert!(!plan.process.env.contains_key("PULSE_SERVER"));
}

#[test]
fn pulse_without_a_server_is_one_line() {
    let e = build(&with_audio(), &facts(), &host(), None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "audio = \"pulse\": no PulseAudio server is running: nothing listens at \
         /var/run/pulse/native (and PULSE_SERVER and client.conf name no server)"
    );
    assert_eq!(e.exit_code(), 125);
}

fn intel() -> (GpuHost, FakeFs) {
    let pci = "/sys/devices/pci0000:00/0000:00:02.0";
    let node = |name: &str, minor: u32| DriNode {
        node: format!("/dev/dri/{name}").into(),
        dev: Some((226, minor)),
        sys_char: Some(format!("/sys/dev/char/226:{minor}").into()),
        sys_node: Some(format!("{pci}/drm/{name}").into()),
        device_dir: Some(pci.into()),
    };
    let gpu = GpuHost {
        dri: vec![node("card0", 0), node("renderD128", 128)],
        nvidia: None,
    };
    let fs = host()
        .with("/dev/dri/card0", FileKind::CharDevice)
        .with("/dev/dri/renderD128", FileKind::CharDevice)
        .with(&format!("{pci}/vendor"), FileKind::File)
        .with(
            &format!("{pci}/subsystem"),
            FileKind::Symlink("../../../bus/pci".into()),
        )
        .with("/sys/bus/pci/drivers", FileKind::Dir);
    (gpu, fs)
}

fn with_gpu(mode: Gpu) -> Profile {
    let mut p = xterm();
    p.gpu = mode;
    p
}

fn gpu_facts(gpu: GpuHost) -> HostFacts {
    let mut f = facts();
    f.gpu = Some(gpu);
    f
}

#[test]
fn dri_binds_the_nodes_and_the_sys_entries_mesa_reads() {
    let (gpu, fs) = intel();
    for mode in [Gpu::Dri, Gpu::Auto] {
        let plan = build(&with_gpu(mode), &gpu_facts(gpu.clone()), &fs, None, &[]).unwrap();
        let dev = |p: &str| Mount::Bind {
            src: p.into(),
            dst: p.into(),
            kind: BindKind::Device,
        };
        let pci = "/sys/devices/pci0000:00/0000:00:02.0";
        assert_eq!(
            media_steps(&plan),
            [
                dev("/dev/dri/card0"),
                dev("/dev/dri/renderD128"),
                Mount::Tmpfs {
                    dst: "/sys".into(),
                    mode: 0o755
                },
                ro(pci),
                // libdrm asks realpath() of the device's subsystem link: it must resolve.
                Mount::Tmpfs {
                    dst: "/sys/bus/pci".into(),
                    mode: 0o755
                },
                Mount::ReadOnly {
                    dst: "/sys/bus/pci".into()
                },
                Mount::Symlink {
                    target: format!("{pci}/drm/card0").into(),
                    dst: "/sys/dev/char/226:0".into()
                },
                Mount::Symlink {
                    target: format!("{pci}/drm/renderD128").into(),
                    dst: "/sys/dev/char/226:128".into()
                },
                Mount::ReadOnly { dst: "/sys".into() },
            ]
        );
        let g = plan.gpu.as_ref().unwrap();
        assert_eq!(g.devices.len(), 2);
        assert_eq!(g.sys, [PathBuf::from(pci)]);
    }
}

#[test]
fn with_the_whole_of_sys_shared_only_the_nodes_are_added() {
    let (gpu, fs) = intel();
    let mut p = with_gpu(Gpu::Dri);
    p.sys = true;
    let plan = build(
        &p,
        &gpu_facts(gpu),
        &fs.with("/sys/kernel", FileKind::Dir),
        None,
        &[],
    )
    .unwrap();
    let steps = media_steps(&plan);
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0], ro("/sys"));
}

fn nvidia_host() -> (GpuHost, FakeFs) {
    let nv = Nvidia {
        nodes: vec![
            "/dev/nvidia0".into(),
            "/dev/nvidiactl".into(),
            "/dev/nvidia-uvm".into(),
        ],
        caps: Some("/dev/nvidia-caps".into()),
        modules: vec!["/sys/module/nvidia".into(), "/sys/module/nvidia_uvm".into()],
        version: Some("580.159.04".into()),
        files: vec![
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1".into(),
            "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0".into(),
            "/etc/vulkan/icd.d/nvidia_icd.json".into(),
            "/opt/nv/lib/libnvidia-ml.so.1".into(),
        ],
    };
    let fs = host()
        .with("/dev/nvidia0", FileKind::CharDevice)
        .with("/dev/nvidiactl", FileKind::CharDevice)
        .with("/dev/nvidia-uvm", FileKind::CharDevice)
        .with("/dev/nvidia-caps/nvidia-cap1", FileKind::CharDevice)
        .with("/sys/module/nvidia/version", FileKind::File)
        .with("/sys/module/nvidia_uvm/refcnt", FileKind::File)
        .with("/usr/lib/x86_64-linux-gnu/libcuda.so.1", FileKind::File)
        // As Debian installs it: through the alternatives system, outside /usr.
        .with(
            "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0",
            FileKind::Symlink("/etc/alternatives/glx--libGLX_nvidia.so.0".into()),
        )
        .with(
            "/etc/alternatives/glx--libGLX_nvidia.so.0",
            FileKind::Symlink("/usr/lib/nvidia/current/libGLX_nvidia.so.0".into()),
        )
        .with("/usr/lib/nvidia/current/libGLX_nvidia.so.0", FileKind::File)
        .with("/etc/vulkan/icd.d/nvidia_icd.json", FileKind::File)
        .with(
            "/opt/nv/lib/libnvidia-ml.so.1",
            FileKind::Symlink("libnvidia-ml.so.580.159.04".into()),
        )
        .with("/opt/nv/lib/libnvidia-ml.so.580.159.04", FileKind::File);
    (
        GpuHost {
            dri: Vec::new(),
            nvidia: Some(nv),
        },
        fs,
    )
}

#[test]
fn nvidia_binds_nodes_modules_and_only_the_driver_files_not_already_seen() {
    let (gpu, fs) = nvidia_host();
    let plan = build(&with_gpu(Gpu::Nvidia), &gpu_facts(gpu), &fs, None, &[]).unwrap();
    let dev = |p: &str| Mount::Bind {
        src: p.into(),
        dst: p.into(),
        kind: BindKind::Device,
    };
    assert_eq!(
        media_steps(&plan),
        [
            dev("/dev/nvidia0"),
            dev("/dev/nvidiactl"),
            dev("/dev/nvidia-uvm"),
            dev("/dev/nvidia-caps"),
            Mount::Tmpfs {
                dst: "/sys".into(),
                mode: 0o755
            },
            ro("/sys/module/nvidia"),
            ro("/sys/module/nvidia_uvm"),
            Mount::ReadOnly { dst: "/sys".into() },
            // The link leads out of /usr: inside it would dangle, so its target is bound there.
            Mount::Bind {
                src: "/usr/lib/nvidia/current/libGLX_nvidia.so.0".into(),
                dst: "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0".into(),
                kind: BindKind::ReadOnly
            },
            ro("/etc/vulkan/icd.d/nvidia_icd.json"),
            // Resolved on the host, bound at the name the loader looks for.
            Mount::Bind {
                src: "/opt/nv/lib/libnvidia-ml.so.580.159.04".into(),
                dst: "/opt/nv/lib/libnvidia-ml.so.1".into(),
                kind: BindKind::ReadOnly
            },
        ]
    );
    let g = plan.gpu.as_ref().unwrap();
    // libcuda is under /usr, which every sandbox sees.
    assert_eq!(g.driver_files_visible, 1);
    assert_eq!(g.driver_files.len(), 3);
    let text = explain_text(&plan);
    assert!(text.contains("580.159.04"), "{text}");
}

#[test]
fn asking_for_what_the_host_lacks_is_one_line_and_auto_takes_nothing() {
    let (nv, nv_fs) = nvidia_host();
    let e = build(&with_gpu(Gpu::Dri), &gpu_facts(nv), &nv_fs, None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "gpu = \"dri\", but this host has no /dev/dri render or card nodes (is a DRM driver loaded?)"
    );
    let (intel, intel_fs) = intel();
    let e = build(
        &with_gpu(Gpu::Nvidia),
        &gpu_facts(intel),
        &intel_fs,
        None,
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "gpu = \"nvidia\", but this host has no NVIDIA device (/dev/nvidiactl is missing: is the nvidia driver loaded?)"
    );
    let plan = build(
        &with_gpu(Gpu::Auto),
        &gpu_facts(GpuHost::default()),
        &host(),
        None,
        &[],
    )
    .unwrap();
    assert!(media_steps(&plan).is_empty());
    assert!(plan.gpu.as_ref().unwrap().devices.is_empty());
}

#[test]
fn auto_audio_without_a_server_starts_silent_and_says_why() {
    let mut p = xterm();
    p.audio = Audio::Auto;
    let plan = build(&p, &facts(), &host(), None, &[]).unwrap();
    assert!(
        matches!(&plan.audio, AudioPlan::Missing { reason } if reason.contains("/var/run/pulse/native"))
    );
    assert!(media_steps(&plan).is_empty());
    assert!(!plan.process.env.contains_key("PULSE_SERVER"));
    assert!(explain_text(&plan).contains("Sound: none, since audio = \"auto\" found no server"));
    // With a server (and a runtime directory for the sandbox's socket), auto is pulse.
    let fs = host().with("/var/run/pulse/native", FileKind::Socket);
    let mut f = facts();
    f.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/1000".into());
    let plan = build(&p, &f, &fs, None, &[]).unwrap();
    assert!(matches!(plan.audio, AudioPlan::Pulse { .. }));
}

#[test]
fn driver_files_a_profile_bind_shows_are_not_bound_again() {
    let (gpu, fs) = nvidia_host();
    let mut p = with_gpu(Gpu::Nvidia);
    p.binds.push(bind("/etc/vulkan", Access::ReadOnly, true));
    p.binds
        .push(bind("/etc/alternatives", Access::ReadOnly, true));
    let plan = build(&p, &gpu_facts(gpu), &fs, None, &[]).unwrap();
    let g = plan.gpu.as_ref().unwrap();
    assert_eq!(
        g.driver_files,
        [PathBuf::from("/opt/nv/lib/libnvidia-ml.so.1")]
    );
    assert_eq!(g.driver_files_visible, 3);
}

#[test]
fn pulse_without_a_runtime_directory_never_binds_the_main_socket() {
    let fs = host().with("/run/user/1000/pulse/native", FileKind::Socket);
    let mut f = facts();
    f.env.insert(
        "PULSE_SERVER".into(),
        "unix:/run/user/1000/pulse/native".into(),
    );
    let e = build(&with_audio(), &f, &fs, None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "audio = \"pulse\": XDG_RUNTIME_DIR is not set: no private place for the sandbox's sound socket"
    );
    let mut auto = with_audio();
    auto.audio = crate::profile::Audio::Auto;
    let plan = build(&auto, &f, &fs, None, &[]).unwrap();
    assert!(matches!(plan.audio, AudioPlan::Missing { .. }));
    assert!(media_steps(&plan).is_empty());
    assert!(!plan.process.env.contains_key("PULSE_SERVER"));
}
