//! `nestbox run`: plan, start the nested display if the plan has one, launch, then pass the app's
//! exit status on (and stop the nested display).

use super::{fail, target::Target};
use crate::plan::DisplayPlan;
use crate::profile::Clipboard;
use crate::xephyr::clipboard;

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
    let mut bridge = None;
    if let Some(s) = &server {
        tracing::debug!(number = s.number, "nested display up");
        plan.attach_nested(&s.socket(), &s.cookie);
        if let DisplayPlan::Nested { server: p, .. } = &plan.display {
            if p.clipboard != Clipboard::None {
                match clipboard::start(&p.host_display, s.number, &s.cookie, p.clipboard) {
                    Ok(b) => bridge = Some(b),
                    Err(e) => return fail(&e, 125),
                }
            }
        }
    }
    let result = crate::sandbox::launch(&plan, server.as_ref().map(|s| s.pid()));
    // Stop the bridge and the nested display before nestbox says anything more or exits.
    drop(bridge);
    drop(server);
    match result {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
