//! `nestbox run`: the command line of a launch; the launch itself is [`crate::launch`].

use super::fail;
use super::target::Target;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Start a sandbox of its own even when this profile's is running (it gets a throw-away home
    /// when the running one has the persistent home). Without it, the program starts inside the
    /// running sandbox
    #[arg(long)]
    new_instance: bool,
    #[command(flatten)]
    target: Target,
}

pub fn run(args: RunArgs) -> i32 {
    match crate::launch::run(args.target.request(), args.new_instance) {
        Ok(code) => code,
        Err(e) => fail(&e, e.exit_code()),
    }
}
