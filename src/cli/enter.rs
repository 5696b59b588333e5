//! `nestbox enter`: a command (a shell by default) inside a running sandbox, as its user, confined
//! as the app is, on a pseudo-terminal nestbox relays to the caller's.

use super::fail;
use crate::host::HostFacts;
use crate::registry::{Registry, RegistryError};
use crate::sandbox::{JoinArgs, Pid1};
use crate::terminal::SuspendKey;

#[derive(Debug, clap::Args)]
pub struct EnterArgs {
    /// The sandbox, by name (nestbox ps lists them)
    #[arg(value_name = "NAME")]
    name: String,
    /// The command to run inside, and its arguments (default: the sandbox's $SHELL, or /bin/sh)
    #[arg(
        value_name = "CMD [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

pub fn enter(args: EnterArgs) -> i32 {
    let facts = match HostFacts::probe() {
        Ok(f) => f,
        Err(e) => return fail(e, 125),
    };
    let registry = match Registry::new(&facts.env) {
        Ok(r) => r,
        Err(e) => return fail(e, 125),
    };
    let Some(mut entry) = registry.get(&args.name) else {
        return fail(RegistryError::NotRunning(args.name), 125);
    };
    let Some(pid1) = Pid1::open(entry.pid1, entry.pid1_start) else {
        return fail(RegistryError::NotRunning(args.name), 125);
    };
    // The caller's terminal type: the app's was the first caller's.
    match facts.env.get("TERM") {
        Some(term) => entry.inside.env.insert("TERM".into(), term.clone()),
        None => entry.inside.env.remove("TERM"),
    };
    let argv = if args.command.is_empty() {
        vec![entry
            .inside
            .env
            .get("SHELL")
            .cloned()
            .unwrap_or_else(|| "/bin/sh".into())]
    } else {
        args.command
    };
    let join = JoinArgs { argv: &argv };
    // A pseudo-terminal of its own: the shell's job control is inside, and nothing it leaves
    // behind holds the caller's terminal once it returns.
    let mut relay = match crate::launch::open_relay(SuspendKey::PassedOn) {
        Ok(r) => r,
        Err(e) => return fail(&e, e.exit_code()),
    };
    let mut watch = crate::launch::Copying {
        tee: None,
        relay: relay.as_mut(),
        joined: true,
    };
    let result = crate::sandbox::join(&pid1, &entry.inside, join, &mut watch);
    drop(relay);
    match result {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
