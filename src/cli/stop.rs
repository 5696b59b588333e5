//! `nestbox stop`: end running sandboxes, SIGTERM first (the app gets it), SIGKILL after a while.

use super::fail;
use crate::host::HostFacts;
use crate::registry::Registry;
use crate::running::{self, Stopped};
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
    let timeout = Duration::from_secs(args.timeout);
    for name in &args.names {
        match running::stop(&registry, name, timeout) {
            Ok(Stopped::Ended) => {}
            Ok(Stopped::Killed) => eprintln!(
                "nestbox: {name} did not end within {} s of SIGTERM; killed it",
                args.timeout
            ),
            Err(e) => code = fail(e, 1),
        }
    }
    code
}
