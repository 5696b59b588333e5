//! Graphics, for real, with what this machine has (no GPU): OpenGL inside a gpu sandbox on the
//! test's Xvfb (Mesa's llvmpipe), a bound character device used inside, and the one line a profile
//! gets when it asks for a GPU the host lacks. NVIDIA binds were checked on a GPU machine: see
//! docs/media.md.

#[macro_use]
mod common;

use common::*;

fn gpu_profile(env: &TestEnv, gpu: &str, extra: &str) {
    env.profile(
        "g",
        &format!(
            "extends = [\"base\", \"x11\", \"gpu\"]\n[run]\ncommand = [\"sh\", \"-c\"]\n\
             [sandbox]\ngpu = \"{gpu}\"\n{extra}"
        ),
    );
}

#[test]
fn glxinfo_inside_a_gpu_sandbox_renders() {
    unprivileged!("glxinfo_inside_a_gpu_sandbox_renders");
    let mut env = TestEnv::new("gpu-glx");
    let x = Xvfb::start(&env);
    env.use_display(&x);
    gpu_profile(&env, "auto", "");
    let o = env.run(&[
        "run",
        "g",
        "glxinfo -B | grep -E 'direct rendering|OpenGL renderer string'",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(out.contains("direct rendering: Yes"), "{out}");
    assert!(out.contains("OpenGL renderer string: llvmpipe"), "{out}");
}

#[test]
fn a_bound_character_device_is_usable_inside() {
    unprivileged!("a_bound_character_device_is_usable_inside");
    let env = TestEnv::new("gpu-dev");
    // GPU nodes are bound the same way ("device" binds: device nodes usable); this machine has
    // none, so /dev/full stands in under another name.
    gpu_profile(
        &env,
        "auto",
        "[filesystem]\ndev = [\"/dev/full:/dev/standin\"]\n",
    );
    let o = env.run(&[
        "run",
        "--x11",
        "none",
        "g",
        "head -c 4 /dev/standin | od -An -tx1; dd if=/dev/zero of=/dev/standin bs=1 count=1",
    ]);
    assert_eq!(stdout(&o).split_whitespace().collect::<Vec<_>>(), ["00"; 4]);
    assert!(
        stderr(&o).contains("No space left on device"),
        "a write reaches the device itself: {}",
        stderr(&o)
    );
}

/// What a profile asking for a GPU gets, on whatever host this is: the devices where the host
/// has them, one line where it lacks them. Each half asserts on the hosts it fits, so the test
/// checks something everywhere.
#[test]
fn a_gpu_profile_gets_the_hosts_devices_or_one_line() {
    unprivileged!("a_gpu_profile_gets_the_hosts_devices_or_one_line");
    let env = TestEnv::new("gpu-host");
    gpu_profile(&env, "nvidia", "");
    let has_nvidia = std::path::Path::new("/dev/nvidiactl").exists();
    let has_dri = std::path::Path::new("/dev/dri").exists();
    let o = env.run(&["run", "--x11", "none", "g", "ls /dev /dev/dri 2>/dev/null"]);
    if has_nvidia {
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("nvidiactl"), "{}", stdout(&o));
        let text = stdout(&env.run(&["explain", "--x11", "none", "g"]));
        assert!(text.contains("/dev/nvidiactl"), "{text}");
    } else {
        assert_one_line_error(
            &o,
            125,
            "gpu = \"nvidia\", but this host has no NVIDIA device",
        );
    }
    let o = env.run(&["run", "--x11", "none", "--gpu", "dri", "g", "ls /dev/dri"]);
    if has_dri {
        assert!(o.status.success(), "{}", stderr(&o));
        let host: Vec<String> = std::fs::read_dir("/dev/dri")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("card") || n.starts_with("renderD"))
            .collect();
        for node in &host {
            assert!(
                stdout(&o).contains(node.as_str()),
                "{node} in {}",
                stdout(&o)
            );
        }
    } else {
        assert_one_line_error(&o, 125, "gpu = \"dri\", but this host has no /dev/dri");
    }
    // auto takes what there is, and explain says what that was.
    let o = env.run(&["run", "--x11", "none", "--gpu", "auto", "g", "ls /dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let listed = stdout(&o);
    assert_eq!(listed.contains("dri"), has_dri, "{listed}");
    assert_eq!(listed.contains("nvidiactl"), has_nvidia, "{listed}");
    let text = stdout(&env.run(&["explain", "--x11", "none", "--gpu", "auto", "g"]));
    if !has_dri {
        assert!(text.contains("DRI: no /dev/dri nodes"), "{text}");
    }
    if !has_nvidia {
        assert!(text.contains("NVIDIA: none (no /dev/nvidiactl)"), "{text}");
    }
}

#[test]
fn a_dri_device_gets_its_sys_entries_read_only() {
    unprivileged!("a_dri_device_gets_its_sys_entries_read_only");
    let mut env = TestEnv::new("gpu-sys");
    // This machine has no DRI node: describe /dev/full (1:7) as one, with its real /sys entries,
    // so that the whole DRI path (device bind, /sys tmpfs, device directory, /sys/dev/char link,
    // subsystem directory, read-only) runs for real.
    let facts = env.dir.join("gpu.json");
    std::fs::write(
        &facts,
        r#"{"dri": [{"node": "/dev/full", "dev": [1, 7], "sys_char": "/sys/dev/char/1:7",
            "sys_node": "/sys/devices/virtual/mem/full",
            "device_dir": "/sys/devices/virtual/mem/full"}], "nvidia": null}"#,
    )
    .unwrap();
    env.extra_env
        .push(("NESTBOX_GPU_FACTS".into(), facts.display().to_string()));
    gpu_profile(&env, "dri", "");
    let o = env.run(&[
        "run",
        "--x11",
        "none",
        "g",
        "ls /sys; readlink /sys/dev/char/1:7; cat /sys/dev/char/1:7/dev; \
         realpath /sys/dev/char/1:7/subsystem; \
         for f in /sys/x /sys/class/mem/x /sys/devices/virtual/mem/full/x; do \
           touch $f 2>/dev/null && echo \"wrote $f\"; done; \
         dd if=/dev/zero of=/dev/full bs=1 count=1 2>&1 | grep -c 'No space left'",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "class\ndev\ndevices\n/sys/devices/virtual/mem/full\n1:7\n/sys/class/mem\n1\n"
    );
    let text = stdout(&env.run(&["explain", "--x11", "none", "g"]));
    assert!(
        text.contains("DRI: /dev/full (1:7), device /sys/devices/virtual/mem/full"),
        "{text}"
    );
    let o = env.run(&["run", "--x11", "none", "g", "true"]);
    assert!(o.status.success());
    // A broken description is one line.
    std::fs::write(&facts, "{").unwrap();
    let o = env.run(&["run", "--x11", "none", "g", "true"]);
    assert_one_line_error(&o, 125, "NESTBOX_GPU_FACTS=");
}
