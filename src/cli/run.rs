//! `nestbox run`: plan, then launch, then pass the app's exit status on.

use super::{fail, load, ProfileRef};
use crate::host::RealFs;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run CMD instead of the profile's program (the profile's fixed arguments are dropped too)
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// Run the profile in this file instead of one found by name; then every positional is an argument
    #[arg(long, value_name = "PATH")]
    profile_file: Option<PathBuf>,
    /// The profile, then arguments appended to its command
    #[arg(
        value_name = "PROFILE [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

/// Split positionals into the profile and the program's arguments.
pub(crate) fn profile_and_args(
    file: Option<PathBuf>,
    mut rest: Vec<String>,
) -> Result<(ProfileRef, Vec<String>), String> {
    match file {
        Some(path) => Ok((ProfileRef::File(path), rest)),
        None if rest.is_empty() => Err("name a profile, or give --profile-file".into()),
        None => {
            let name = rest.remove(0);
            Ok((ProfileRef::Name(name), rest))
        }
    }
}

pub fn run(args: RunArgs) -> i32 {
    let (which, extra) = match profile_and_args(args.profile_file, args.rest) {
        Ok(v) => v,
        Err(e) => return fail(e, 125),
    };
    let (profile, facts) = match load(&which) {
        Ok(v) => v,
        Err((message, code)) => return fail(message, code),
    };
    let plan = match crate::plan::build(&profile, &facts, &RealFs, args.command.as_deref(), &extra)
    {
        Ok(plan) => plan,
        Err(e) => return fail(&e, e.exit_code()),
    };
    tracing::debug!(plan = %crate::plan::explain_text(&plan), "launching");
    drop((profile, facts));
    match crate::sandbox::launch(&plan) {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
