//! `nestbox generate`: shell completions and man pages, made from the command line's own
//! definitions at build time (data/meson.build installs them), so they never drift from `--help`.
//! Not one of the verbs, so that neither offers it.

use super::{fail, Cli};
use clap::{CommandFactory, Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "nestbox generate",
    about = "Shell completions and man pages, for packaging"
)]
struct GenerateArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Print the completion script for SHELL
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Write nestbox.1 and a page per command (nestbox-run.1...) into DIR
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// `nestbox generate ...`: the words after `nestbox` are this command's.
pub fn main() -> i32 {
    let args = match GenerateArgs::try_parse_from(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let mut cmd = Cli::command();
    match args.what {
        What::Completions { shell } => {
            clap_complete::generate(shell, &mut cmd, "nestbox", &mut std::io::stdout());
            0
        }
        What::Man { dir } => match man_pages(cmd, &dir) {
            Ok(written) => {
                for path in written {
                    println!("{}", path.display());
                }
                0
            }
            Err(e) => fail(
                format!("cannot write man pages in {}: {e}", dir.display()),
                1,
            ),
        },
    }
}

/// `nestbox.1`, then `nestbox-VERB.1` for each visible verb; the paths written.
fn man_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let cmd = cmd.disable_help_subcommand(true);
    let mut pages = vec![("nestbox".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("nestbox-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((name, page));
    }
    let mut written = Vec::new();
    for (name, page) in pages {
        let mut text = Vec::new();
        clap_mangen::Man::new(page).render(&mut text)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
