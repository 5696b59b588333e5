//! `nestbox ps`: the running sandboxes, from the registry.

use super::fail;
use crate::host::HostFacts;
use crate::registry::Registry;
use serde::Serialize;
use std::collections::HashMap;

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
    let entries = registry.list();
    let counts = processes_by_pid_namespace();
    let rows: Vec<Row> = entries
        .iter()
        .map(|e| Row {
            name: &e.name,
            profile: &e.profile,
            source: &e.source,
            pid: e.nestbox_pid,
            pid1: e.pid1,
            processes: pid_namespace(e.pid1)
                .and_then(|ns| counts.get(&ns).copied())
                .unwrap_or(0),
            started: e.started,
            command: &e.command,
            home: e.home.as_deref(),
            log: e.log.as_deref(),
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

/// 42s, 5m, 3h12m, 2d4h.
fn uptime(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// The PID namespace of process `pid` (its /proc link's target, "pid:[4026532]").
fn pid_namespace(pid: i32) -> Option<std::ffi::OsString> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.into_os_string())
}

/// How many of the user's processes each PID namespace holds: one pass over /proc for all rows.
fn processes_by_pid_namespace() -> HashMap<std::ffi::OsString, usize> {
    let mut counts = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return counts;
    };
    for e in dir.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(ns) = pid_namespace(pid) {
            *counts.entry(ns).or_insert(0) += 1;
        }
    }
    counts
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

    #[test]
    fn uptimes_read_well() {
        assert_eq!(uptime(5), "5s");
        assert_eq!(uptime(600), "10m");
        assert_eq!(uptime(90061), "1d1h");
    }
}
