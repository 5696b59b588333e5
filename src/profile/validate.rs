//! Checks one parsed file and turns its raw values into the typed pieces of a [`Profile`].
//! Each error points at the value's line and column.

use super::schema::RawProfile;
use super::{Access, BindSpec, Location, NestedSize, Profile, ProfileError, ProfilePath};
use std::path::{Component, Path, PathBuf};
use toml::Spanned;

/// Variables nestbox itself sets inside; a profile may not override them.
const MANAGED_ENV: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "XDG_RUNTIME_DIR",
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
    "PULSE_SERVER",
    "PULSE_CLIENTCONFIG",
    "DBUS_SESSION_BUS_ADDRESS",
];

/// Whether nestbox sets variable `name` inside itself, so that a profile may not.
pub fn managed_env(name: &str) -> bool {
    MANAGED_ENV.contains(&name)
}

pub(super) struct FileText<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl FileText<'_> {
    fn at<T>(&self, v: &Spanned<T>) -> Location {
        Location::at(self.path, self.text, v.span().start)
    }
    fn fail<T>(&self, v: &Spanned<T>, msg: impl Into<String>) -> ProfileError {
        ProfileError::invalid(self.at(v), msg)
    }
}

/// Parse a path as a profile writes it: `/abs/path`, `~` or `~/rel`. No `.`, `..` or NUL.
pub(super) fn parse_path(s: &str) -> Result<ProfilePath, String> {
    if s.contains('\0') {
        return Err("a path cannot contain a NUL byte".into());
    }
    let (path, home) = if s == "~" {
        (PathBuf::new(), true)
    } else if let Some(rest) = s.strip_prefix("~/") {
        (PathBuf::from(rest), true)
    } else if s.starts_with('/') {
        (PathBuf::from(s), false)
    } else {
        return Err(format!("path {s:?} must be absolute or start with ~/"));
    };
    for c in path.components() {
        match c {
            Component::ParentDir | Component::CurDir => {
                return Err(format!("path {s:?} may not contain '.' or '..'"));
            }
            Component::RootDir if home => return Err(format!("path {s:?} has an empty part")),
            _ => {}
        }
    }
    if s.ends_with("/.") || s.contains("/./") {
        return Err(format!("path {s:?} may not contain '.' or '..'"));
    }
    Ok(if home {
        ProfilePath::Home(path)
    } else {
        ProfilePath::Absolute(path)
    })
}

/// Parse `?src[:dst]`.
fn parse_bind(s: &str, access: Access) -> Result<(ProfilePath, ProfilePath, bool), String> {
    let (optional, s) = match s.strip_prefix('?') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (src, dst) = match s.split_once(':') {
        Some((a, b)) => (parse_path(a)?, parse_path(b)?),
        None => {
            let p = parse_path(s)?;
            (p.clone(), p)
        }
    };
    if dst == ProfilePath::Absolute(PathBuf::from("/")) {
        return Err("cannot bind over the sandbox's root directory".into());
    }
    if access == Access::Device
        && !matches!(src, ProfilePath::Absolute(ref p) if p.starts_with("/dev"))
    {
        return Err(format!("device bind {s:?} must name a path under /dev"));
    }
    Ok((src, dst, optional))
}

fn valid_env_name(k: &str) -> bool {
    !k.is_empty()
        && !k.contains('=')
        && !k.contains('\0')
        && !k.starts_with(|c: char| c.is_ascii_digit())
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 64
        && !h.starts_with('-')
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Check `raw` and lay it over `into` (the merge of everything it extends).
pub(super) fn apply(
    into: &mut Profile,
    raw: RawProfile,
    file: &FileText,
) -> Result<(), ProfileError> {
    if let Some(d) = raw.description {
        into.description = Some(d);
    }
    if let Some(id) = &raw.desktop_entry {
        if !super::valid_desktop_id(id.get_ref()) {
            return Err(file.fail(
                id,
                format!(
                    "desktop_entry {:?} must be a desktop file name such as \"firefox-esr.desktop\" (letters, digits, '-', '_', '.')",
                    id.get_ref()
                ),
            ));
        }
        into.desktop_entry = Some(id.get_ref().clone());
    }
    if let Some(cmd) = &raw.run.command {
        into.command = Some(command(file, cmd, "command")?);
    }
    if let Some(cwd) = &raw.run.cwd {
        into.cwd = Some(parse_path(cwd.get_ref()).map_err(|m| file.fail(cwd, m))?);
    }
    for name in &raw.run.pass_env {
        if !valid_env_name(name.get_ref()) {
            return Err(file.fail(name, format!("{:?} is not a variable name", name.get_ref())));
        }
        if MANAGED_ENV.contains(&name.get_ref().as_str()) {
            return Err(file.fail(
                name,
                format!(
                    "{} is set by nestbox and cannot be passed from the host",
                    name.get_ref()
                ),
            ));
        }
        push_unique(&mut into.pass_env, name.get_ref().clone());
    }
    if let Some(h) = &raw.sandbox.hostname {
        if !valid_hostname(h.get_ref()) {
            return Err(file.fail(h, format!("{:?} is not a valid host name", h.get_ref())));
        }
        into.hostname = Some(h.get_ref().clone());
    }
    let s = &raw.sandbox;
    if let Some(caps) = &s.capabilities {
        return Err(file.fail(
            caps,
            "nestbox grants no capabilities: every set is emptied before the app starts (what an app may do as your own user, it can do without them)".to_string(),
        ));
    }
    into.network = s.network.unwrap_or(into.network);
    into.x11 = s.x11.unwrap_or(into.x11);
    into.wayland = s.wayland.unwrap_or(into.wayland);
    into.allow_host_abstract_sockets = s
        .allow_host_abstract_sockets
        .unwrap_or(into.allow_host_abstract_sockets);
    if let Some(size) = &raw.nested.size {
        into.nested.size = parse_size(size.get_ref()).map_err(|m| file.fail(size, m))?;
    }
    into.nested.clipboard = raw.nested.clipboard.unwrap_or(into.nested.clipboard);
    if let Some(wm) = &raw.nested.window_manager {
        into.nested.window_manager = Some(command(file, wm, "window_manager")?);
    }
    for (list, allow) in [(&raw.seccomp.allow, true), (&raw.seccomp.deny, false)] {
        for name in list {
            let n = name.get_ref();
            if crate::seccomp::AVAILABLE && crate::seccomp::number(n).is_none() {
                return Err(file.fail(name, format!("{n:?} is not a system call")));
            }
            let (add, take) = if allow {
                (&mut into.seccomp.allow, &mut into.seccomp.deny)
            } else {
                (&mut into.seccomp.deny, &mut into.seccomp.allow)
            };
            take.retain(|x| x != n);
            push_unique(add, n.clone());
        }
    }
    if let Some(u) = raw.seccomp.user_namespaces {
        into.seccomp.user_namespaces = u;
    }
    into.audio = s.audio.unwrap_or(into.audio);
    let a = &raw.audio;
    into.audio_access.record = a.record.unwrap_or(into.audio_access.record);
    into.audio_access.device_volume = a.device_volume.unwrap_or(into.audio_access.device_volume);
    into.gpu = s.gpu.unwrap_or(into.gpu);
    into.home = s.home.unwrap_or(into.home);
    into.session_bus = s.session_bus.unwrap_or(into.session_bus);
    into.shared_files = s.shared_files.unwrap_or(into.shared_files);
    if let Some(size) = &s.tmpfs_size {
        into.tmpfs_size =
            super::parse_tmpfs_size(size.get_ref()).map_err(|m| file.fail(size, m))?;
    }
    if let Some(n) = &s.max_processes {
        if !(16..=1 << 22).contains(n.get_ref()) {
            return Err(file.fail(n, "max_processes must be 16 to 4194304"));
        }
        into.max_processes = *n.get_ref();
    }
    into.sys = s.sys.unwrap_or(into.sys);
    into.opt = s.opt.unwrap_or(into.opt);
    let lists = [
        (&raw.filesystem.ro, Access::ReadOnly),
        (&raw.filesystem.rw, Access::ReadWrite),
        (&raw.filesystem.dev, Access::Device),
    ];
    for (list, access) in lists {
        for entry in list {
            let (src, dst, optional) =
                parse_bind(entry.get_ref(), access).map_err(|m| file.fail(entry, m))?;
            // A later entry for the same destination replaces the earlier one.
            into.binds.retain(|b| b.dst != dst);
            into.binds.push(BindSpec {
                src,
                dst,
                access,
                optional,
                origin: file.at(entry),
            });
        }
    }
    for (key, value) in &raw.env {
        if !valid_env_name(key) {
            return Err(file.fail(value, format!("{key:?} is not a variable name")));
        }
        if MANAGED_ENV.contains(&key.as_str()) {
            return Err(file.fail(
                value,
                format!("{key} is set by nestbox and cannot be changed by a profile"),
            ));
        }
        if value.get_ref().contains('\0') {
            return Err(file.fail(value, "a value cannot contain a NUL byte"));
        }
        into.env.insert(key.clone(), value.get_ref().clone());
    }
    Ok(())
}

/// A program and its arguments: `command`, `window_manager`.
fn command(
    file: &FileText,
    cmd: &Spanned<Vec<String>>,
    key: &str,
) -> Result<Vec<String>, ProfileError> {
    let argv = cmd.get_ref();
    if argv.is_empty() || argv[0].is_empty() {
        return Err(file.fail(cmd, format!("{key} must name a program")));
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return Err(file.fail(cmd, format!("{key} cannot contain a NUL byte")));
    }
    let program = &argv[0];
    if program.contains('/') && !program.starts_with('/') {
        return Err(file.fail(
            cmd,
            format!("program {program:?} must be a name or an absolute path"),
        ));
    }
    Ok(argv.clone())
}

/// The smallest and largest side of a nested display, in pixels.
pub const NESTED_SIZE_RANGE: std::ops::RangeInclusive<u16> = 64..=16384;

/// `"fit"` or `"WIDTHxHEIGHT"`.
pub fn parse_size(s: &str) -> Result<NestedSize, String> {
    if s == "fit" {
        return Ok(NestedSize::Fit);
    }
    let bad = || format!("size {s:?} must be \"fit\" or WIDTHxHEIGHT, such as \"1280x800\"");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let side = |t: &str| -> Result<u16, String> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match t.parse::<u16>() {
            Ok(v) if NESTED_SIZE_RANGE.contains(&v) => Ok(v),
            _ => Err(format!(
                "size {s:?}: each side must be {} to {} pixels",
                NESTED_SIZE_RANGE.start(),
                NESTED_SIZE_RANGE.end()
            )),
        }
    };
    Ok(NestedSize::Fixed {
        width: side(w)?,
        height: side(h)?,
    })
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}
