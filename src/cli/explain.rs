//! `nestbox explain`: the plan `run` would apply, in words or as JSON.

use super::{fail, target::Target};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Print the plan as JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

pub fn explain(args: ExplainArgs) -> i32 {
    let plan = match args.target.plan() {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if args.json {
        match serde_json::to_string_pretty(&plan) {
            Ok(text) => println!("{}", crate::text::json_c1_escaped(&text)),
            Err(e) => return fail(e, 125),
        }
    } else {
        // The profile's values (its [env], its words) may hold escape sequences.
        let text = crate::plan::explain_text(&plan);
        if crate::text::stdout_is_terminal() {
            print!("{}", crate::text::escape(&text));
        } else {
            print!("{text}");
        }
    }
    0
}
