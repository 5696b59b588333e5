//! `nestbox check`: validate profiles, their `extends` chains included. Needs no display or host.

use crate::profile::SearchPath;
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Profile files, or names of profiles on the search path
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

pub fn check(args: CheckArgs) -> i32 {
    let config_home = match crate::host::HostFacts::probe() {
        Ok(f) => f.config_home,
        Err(e) => return super::fail(e, 1),
    };
    let search = SearchPath::standard(&config_home);
    let mut bad = 0;
    for arg in &args.files {
        let result = if arg.contains('/') || arg.ends_with(".toml") {
            search.load_file(Path::new(arg))
        } else {
            search.load(arg)
        };
        match result {
            Ok(p) => println!(
                "{arg}: ok ({})",
                p.files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            Err(e) => {
                eprintln!("{e}");
                bad += 1;
            }
        }
    }
    i32::from(bad > 0)
}
