//! `nestbox explain`: the plan `run` would apply, in words or as JSON.

use super::{fail, load};
use crate::host::RealFs;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Print the plan as JSON
    #[arg(long)]
    json: bool,
    /// Run CMD instead of the profile's program
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// Explain the profile in this file instead of one found by name
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

pub fn explain(args: ExplainArgs) -> i32 {
    let (which, extra) = match super::run::profile_and_args(args.profile_file, args.rest) {
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
    if args.json {
        match serde_json::to_string_pretty(&plan) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(e, 125),
        }
    } else {
        print!("{}", crate::plan::explain_text(&plan));
    }
    0
}
