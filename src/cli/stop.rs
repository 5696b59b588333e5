//! `nestbox stop`: end running sandboxes, SIGTERM first (the app gets it), SIGKILL after a while.

use super::fail;
use crate::host::HostFacts;
use crate::registry::Registry;
use crate::sandbox::Pid1;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds the app has to end after SIGTERM before the whole sandbox is killed
    #[arg(long, short = 't', default_value_t = 10, value_name = "SECS")]
    timeout: u64,
    /// Sandboxes to stop, by name (nestbox ps lists them)
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
}

pub fn stop(args: StopArgs) -> i32 {
    let registry = match HostFacts::probe()
        .map_err(|e| e.to_string())
        .and_then(|f| Registry::new(&f.env).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => return fail(e, 1),
    };
    let mut code = 0;
    for name in &args.names {
        if let Err(e) = stop_one(&registry, name, Duration::from_secs(args.timeout)) {
            code = fail(e, 1);
        }
    }
    code
}

fn stop_one(registry: &Registry, name: &str, timeout: Duration) -> Result<(), String> {
    let entry = registry
        .get(name)
        .ok_or_else(|| crate::registry::RegistryError::NotRunning(name.into()).to_string())?;
    // Gone between the look and now: stopped all the same.
    let Some(pid1) = Pid1::open(entry.pid1, entry.pid1_start) else {
        return Ok(());
    };
    // PID 1 passes SIGTERM on to the app; when the app ends, PID 1 ends, and the rest with it.
    pid1.signal(libc::SIGTERM)
        .map_err(|e| format!("cannot signal {name}: {}", e.desc().to_lowercase()))?;
    if !pid1.wait_gone(timeout) {
        eprintln!(
            "nestbox: {name} did not end within {} s of SIGTERM; killing it",
            timeout.as_secs()
        );
        let _ = pid1.signal(libc::SIGKILL);
        pid1.wait_gone(Duration::from_secs(5));
    }
    // Its nestbox lets go of the name right after: wait for that, so `ps` no longer shows it.
    for _ in 0..200 {
        if !registry.held(name) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
