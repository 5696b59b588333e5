//! The `nestbox` command line: clap definitions and dispatch, one file per verb. Every failure is one
//! line on stderr, `nestbox: ...`, and an exit code (125 for nestbox's own failures when running).

mod check;
mod desktop;
mod enter;
mod explain;
mod generate;
mod list;
mod logs;
mod profile;
mod ps;
mod run;
mod stop;
mod target;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "nestbox",
    version,
    about = "Run desktop apps in unprivileged, user-namespaced sandboxes, one TOML profile per app",
    after_help = "Profiles are looked up in $XDG_CONFIG_HOME/nestbox/profiles, /etc/nestbox/profiles, then the shipped ones.\n\
                  NESTBOX_LOG=debug shows what nestbox does."
)]
struct Cli {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Start a profile's program in a new sandbox; its exit status is nestbox's
    Run(run::RunArgs),
    /// Print what `run` would do: namespaces, every mount step in order, environment
    Explain(explain::ExplainArgs),
    /// Validate profile files (or names); exit 1 if any is invalid
    Check(check::CheckArgs),
    /// List the profiles found and where each comes from
    List(list::ListArgs),
    /// List the running sandboxes
    Ps(ps::PsArgs),
    /// Stop running sandboxes: SIGTERM to the app, SIGKILL to the whole sandbox after a timeout
    Stop(stop::StopArgs),
    /// Run a command (a shell by default) inside a running sandbox, confined as its app is
    Enter(enter::EnterArgs),
    /// Print what a sandbox's app printed (kept when nestbox's output is not a terminal)
    Logs(logs::LogsArgs),
    /// Make a new profile (from an app's desktop entry)
    Profile(profile::ProfileArgs),
    /// Launchers in the desktop's menus: install, remove, list, sync
    Desktop(desktop::DesktopArgs),
}

/// Parse the command line, run the verb, return the process exit code.
pub fn main() -> i32 {
    if let Ok(filter) = std::env::var("NESTBOX_LOG") {
        let level = filter.parse().unwrap_or(tracing::Level::INFO);
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .without_time()
            .init();
    }
    // For packaging, kept out of the verbs so that completions and man pages do not offer it.
    if std::env::args_os().nth(1).is_some_and(|a| a == "generate") {
        return generate::main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Verb::Run(args) => run::run(args),
        Verb::Explain(args) => explain::explain(args),
        Verb::Check(args) => check::check(args),
        Verb::List(args) => list::list(args),
        Verb::Ps(args) => ps::ps(args),
        Verb::Stop(args) => stop::stop(args),
        Verb::Enter(args) => enter::enter(args),
        Verb::Logs(args) => logs::logs(args),
        Verb::Profile(args) => profile::profile(args),
        Verb::Desktop(args) => desktop::desktop(args),
    }
}

/// Print `nestbox: message` and return `code`.
pub(crate) fn fail(message: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("nestbox: {message}");
    code
}
