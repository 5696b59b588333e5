//! `nestbox run`: plan, then launch, then pass the app's exit status on.

use super::{fail, target::Target};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    target: Target,
}

pub fn run(args: RunArgs) -> i32 {
    let plan = match args.target.plan() {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    match crate::sandbox::launch(&plan) {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
