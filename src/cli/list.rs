//! `nestbox list`: every profile on the search path, where it comes from, and which ones a profile
//! of the same name earlier on the path hides.

use crate::profile::SearchPath;

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the list as JSON
    #[arg(long)]
    json: bool,
}

pub fn list(args: ListArgs) -> i32 {
    let config_home = match crate::host::HostFacts::probe() {
        Ok(f) => f.config_home,
        Err(e) => return super::fail(e, 125),
    };
    let search = SearchPath::standard(&config_home);
    let entries = search.list();
    if args.json {
        return match serde_json::to_string_pretty(&entries) {
            Ok(text) => {
                println!("{text}");
                0
            }
            Err(e) => super::fail(e, 125),
        };
    }
    let width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:8}  PATH", "NAME", "SOURCE");
    for e in &entries {
        let note = if e.shadowed {
            "  (hidden by the one above)"
        } else if e.changed {
            "  (your changes)"
        } else {
            ""
        };
        println!(
            "{:width$}  {:8}  {}{note}",
            e.name,
            e.kind.to_string(),
            e.path.display()
        );
    }
    0
}
