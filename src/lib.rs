//! nestbox: run desktop apps in unprivileged, user-namespaced sandboxes, one TOML profile per app.
//!
//! A launch is facts, plan, apply:
//! - [`profile`] reads TOML profiles, follows `extends`, validates (touches only profile files);
//! - [`host`] finds the facts of this machine and user (ids, XDG dirs, DISPLAY, Xauthority,
//!   the monitor's size, Landlock's abilities);
//! - [`plan`] is a pure function of the two: namespaces, ordered mount steps, environment, program;
//! - [`sandbox`] applies a plan: clone, mounts, pivot_root, PID 1, exec. It knows nothing of TOML.
//! - [`seccomp`] knows system calls by name and compiles the plan's refusals to BPF.
//! - [`xephyr`] runs the nested X server a plan may ask for around the sandbox's life, and its
//!   clipboard bridge; [`pulse`] the sound helper that holds a sandbox's PulseAudio socket.
//! - [`registry`] keeps the running sandboxes, for `ps`, `stop`, `enter` and a second launch to
//!   find; [`logs`] what their apps print.
//! - [`desktop`] reads apps' desktop entries and makes launchers and starting profiles from them.
//!
//! [`cli`] is the `nestbox` command over these.

pub mod atomic;
pub mod cli;
pub mod desktop;
pub mod host;
pub mod launch;
pub mod logs;
pub mod plan;
pub mod profile;
pub mod pulse;
mod reap;
pub mod registry;
pub mod running;
pub mod sandbox;
pub mod seccomp;
pub mod settings;
pub mod spawn;
pub mod terminal;
pub mod text;
pub mod xephyr;
