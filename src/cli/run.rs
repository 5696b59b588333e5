//! `nestbox run`: plan, start the nested display if the plan has one, launch, then pass the app's
//! exit status on (and stop the nested display).

use super::{fail, target::Target};
use crate::plan::DisplayPlan;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    target: Target,
}

pub fn run(args: RunArgs) -> i32 {
    let mut plan = match args.target.plan() {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let server = match &plan.display {
        DisplayPlan::Nested { server, .. } => match crate::xephyr::start(server) {
            Ok(s) => Some(s),
            Err(e) => return fail(&e, 125),
        },
        _ => None,
    };
    if let Some(s) = &server {
        tracing::debug!(number = s.number, "nested display up");
        plan.attach_nested(&s.socket(), &s.cookie);
    }
    let result = crate::sandbox::launch(&plan, server.as_ref().map(|s| s.pid()));
    // Stop the nested display before nestbox says anything more or exits.
    drop(server);
    match result {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
