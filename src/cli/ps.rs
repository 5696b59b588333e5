//! `nestbox ps`: the running sandboxes, from the registry.

use super::fail;
use crate::host::HostFacts;
use crate::registry::Registry;
use crate::running::{self, uptime};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Print JSON (an array of objects) instead of a table
    #[arg(long)]
    json: bool,
}

/// One row: the registry's entry and what /proc says of it now.
#[derive(Debug, Serialize)]
struct Row<'a> {
    name: &'a str,
    profile: &'a str,
    source: &'a std::path::Path,
    /// The nestbox process that runs it, and the sandbox's PID 1 (host pids).
    pid: i32,
    pid1: i32,
    /// How many processes are inside.
    processes: usize,
    started: u64,
    command: &'a [String],
    home: Option<&'a std::path::Path>,
    log: Option<&'a std::path::Path>,
}

pub fn ps(args: PsArgs) -> i32 {
    let facts = match HostFacts::probe() {
        Ok(f) => f,
        Err(e) => return fail(e, 1),
    };
    let registry = match Registry::new(&facts.env) {
        Ok(r) => r,
        Err(e) => return fail(e, 1),
    };
    let sandboxes = running::list(&registry);
    let rows: Vec<Row> = sandboxes
        .iter()
        .map(|r| Row {
            name: &r.entry.name,
            profile: &r.entry.profile,
            source: &r.entry.source,
            pid: r.entry.nestbox_pid,
            pid1: r.entry.pid1,
            processes: r.processes,
            started: r.entry.started,
            command: &r.entry.command,
            home: r.entry.home.as_deref(),
            log: r.entry.log.as_deref(),
        })
        .collect();
    if args.json {
        let json = serde_json::to_string_pretty(&rows).expect("rows are plain data");
        println!("{}", crate::text::json_c1_escaped(&json));
        return 0;
    }
    // The launch words are the launcher's: never raw on a terminal (or anywhere: a table is read).
    print!(
        "{}",
        crate::text::escape(&table(&rows, crate::registry::now()))
    );
    0
}

fn table(rows: &[Row], now: u64) -> String {
    let mut lines = vec![[
        "NAME".to_string(),
        "PROFILE".into(),
        "PID".into(),
        "PROCS".into(),
        "UP".into(),
        "COMMAND".into(),
    ]];
    for r in rows {
        lines.push([
            r.name.into(),
            r.profile.into(),
            r.pid.to_string(),
            r.processes.to_string(),
            uptime(now.saturating_sub(r.started)),
            r.command.join(" "),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        for (i, w) in widths.iter().enumerate() {
            out.push_str(&format!("{:<w$}  ", l[i], w = w));
        }
        out.push_str(&l[5]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lines_up() {
        let cmd = vec!["xterm".to_string(), "-fa".into(), "Mono".into()];
        let rows = [Row {
            name: "xterm@2",
            profile: "xterm",
            source: std::path::Path::new("/p/xterm.toml"),
            pid: 4242,
            pid1: 4243,
            processes: 3,
            started: 1000,
            command: &cmd,
            home: None,
            log: None,
        }];
        assert_eq!(
            table(&rows, 1000 + 3725),
            "NAME     PROFILE  PID   PROCS  UP    COMMAND\n\
             xterm@2  xterm    4242  3      1h2m  xterm -fa Mono\n"
        );
    }
}
