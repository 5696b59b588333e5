//! `nestbox logs`: what a sandbox's app printed (kept when nestbox's output was not a terminal:
//! started from a desktop launcher, say), also after it ended.

use super::fail;
use crate::host::HostFacts;
use crate::registry::Registry;
use std::io::{Read, Seek, Write};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Keep printing what the app prints, until the sandbox ends
    #[arg(long, short = 'f')]
    follow: bool,
    /// Print the app's bytes as they are. Without it, on a terminal, control characters but
    /// newline and tab are shown escaped (an app's escape sequences never reach your terminal);
    /// into a pipe or a file the bytes always go as they are
    #[arg(long)]
    raw: bool,
    /// The sandbox, by name (nestbox ps lists the running ones)
    #[arg(value_name = "NAME")]
    name: String,
}

pub fn logs(args: LogsArgs) -> i32 {
    let facts = match HostFacts::probe() {
        Ok(f) => f,
        Err(e) => return fail(e, 1),
    };
    let Some(path) = crate::logs::path(&facts.env, &args.name) else {
        return fail(crate::registry::RegistryError::NoRuntimeDir, 1);
    };
    let stdout = std::io::stdout().lock();
    let mut out: Box<dyn Write> = if !args.raw && crate::text::stdout_is_terminal() {
        Box::new(crate::text::Escaping::new(stdout))
    } else {
        Box::new(stdout)
    };
    match crate::logs::print(&path, &mut out) {
        Ok(true) => {}
        Ok(false) => {
            return fail(
                format!(
                    "no output kept for {} (nestbox keeps an app's output when its own is not a terminal)",
                    args.name
                ),
                1,
            )
        }
        Err(e) => return fail(format!("cannot read {}: {e}", path.display()), 1),
    }
    let _ = out.flush();
    if args.follow {
        if let Ok(registry) = Registry::new(&facts.env) {
            follow(&path, &registry, &args.name, &mut out);
        }
    }
    0
}

/// Print what is added to the log until the sandbox lets go of its name (following a rotation).
fn follow(path: &std::path::Path, registry: &Registry, name: &str, out: &mut dyn Write) {
    let mut at = std::fs::metadata(path).map_or(0, |m| m.len());
    loop {
        let running = registry.held(name);
        if let Ok(mut f) = std::fs::File::open(path) {
            let len = f.metadata().map_or(0, |m| m.len());
            if len < at {
                at = 0; // rotated: the new file from its start
            }
            if len > at && f.seek(std::io::SeekFrom::Start(at)).is_ok() {
                let mut buf = Vec::new();
                if f.read_to_end(&mut buf).is_ok() {
                    at += buf.len() as u64;
                    let _ = out.write_all(&buf);
                    let _ = out.flush();
                }
            }
        }
        if !running {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
