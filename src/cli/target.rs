//! What `run` and `explain` work on: a profile (by name or file), an optional replacement command,
//! and the program's arguments; and the plan made from them.

use super::fail;
use super::share::Shared;
use crate::host::HostFacts;
use crate::plan::Plan;
use crate::profile::{
    Access, Audio, BindSpec, Gpu, Location, Profile, ProfilePath, SearchPath, SharedFiles, X11,
};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Run CMD instead of the profile's program (the profile's fixed arguments are dropped too)
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// Use the profile in this file instead of one found by name; then every positional is an argument
    #[arg(long, value_name = "PATH")]
    profile_file: Option<PathBuf>,
    /// Override the profile's X11 mode: host (share the host display), nested (a Xephyr window of its own) or none
    #[arg(long, value_name = "MODE")]
    x11: Option<X11>,
    /// Override the profile's sound: pulse (the user's PulseAudio server, through nestbox's filtering proxy on a socket of the sandbox's own), auto (pulse when a server runs) or none
    #[arg(long, value_name = "MODE")]
    audio: Option<Audio>,
    /// Override the profile's graphics devices: auto, dri, nvidia or none
    #[arg(long, value_name = "MODE")]
    gpu: Option<Gpu>,
    /// Bind the words that name regular files on the host (paths, file:// URIs) into the sandbox,
    /// read-write, and pass on where they are inside (desktop launchers
    /// use this)
    #[arg(long)]
    share_files: bool,
    /// The profile, then arguments appended to its command
    #[arg(
        value_name = "PROFILE [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

/// A profile loaded with the command line's overrides, on this host, not yet planned.
pub struct Loaded {
    pub facts: HostFacts,
    pub profile: Profile,
    /// Words for the program.
    pub args: Vec<String>,
    pub command: Option<String>,
    /// Whether --x11, --audio or --gpu was given.
    pub overridden: bool,
    /// The words that name host files, with --share-files.
    pub shared: Vec<Shared>,
}

impl Target {
    /// Load the profile and learn the host's basic facts; on failure, print the one line and
    /// give the exit code.
    pub fn load(self) -> Result<Loaded, i32> {
        let facts = HostFacts::probe().map_err(|e| fail(e, 125))?;
        let search = SearchPath::standard(&facts.config_home);
        let (profile, args) = match (self.profile_file, self.rest.split_first()) {
            (Some(path), _) => (search.load_file(&path), self.rest.as_slice()),
            (None, Some((name, args))) => (search.load(name), args),
            (None, None) => return Err(fail("name a profile, or give --profile-file", 125)),
        };
        let mut profile = profile.map_err(|e| fail(e, 125))?;
        let overridden = self.x11.is_some() || self.audio.is_some() || self.gpu.is_some();
        if let Some(mode) = self.x11 {
            profile.x11 = mode;
        }
        if let Some(mode) = self.audio {
            profile.audio = mode;
        }
        if let Some(mode) = self.gpu {
            profile.gpu = mode;
        }
        tracing::debug!(?profile, "profile resolved");
        let shared = match (self.share_files, std::env::current_dir()) {
            (true, Ok(cwd)) => {
                let home = std::fs::canonicalize(&facts.home).unwrap_or(facts.home.clone());
                let owner = super::share::Owner {
                    home: &home,
                    uid: facts.uid,
                };
                let (shared, refused) = super::share::find(args, &cwd, &owner);
                for r in refused {
                    eprintln!("nestbox: --share-files: {r}");
                }
                shared
            }
            _ => Vec::new(),
        };
        Ok(Loaded {
            facts,
            profile,
            args: args.to_vec(),
            command: self.command,
            overridden,
            shared,
        })
    }

    /// Load the profile, probe the host and make the plan.
    pub fn plan(self) -> Result<Plan, i32> {
        self.load()?.plan()
    }
}

impl Loaded {
    /// Bind each shared file into the sandbox and point its word there.
    fn bind_shared(&mut self) {
        let runtime = PathBuf::from(format!("/run/user/{}", self.facts.uid));
        for (n, s) in self.shared.iter().enumerate() {
            let dst = super::share::inside(&runtime, n, s);
            self.profile.binds.push(BindSpec {
                src: ProfilePath::Absolute(s.host.clone()),
                dst: ProfilePath::Absolute(dst.clone()),
                access: match self.profile.shared_files {
                    SharedFiles::ReadOnly => Access::ReadOnly,
                    SharedFiles::ReadWrite => Access::ReadWrite,
                },
                optional: false,
                origin: Location {
                    path: crate::profile::SHARED_FILE_ORIGIN.into(),
                    line: 0,
                    column: 0,
                },
            });
            self.args[s.index] = super::share::word(&dst, s.uri);
        }
    }

    /// Whether every shared file is there in the sandbox whose PID 1 is `pid1`, at its host
    /// path; if so, the words are made to name them so.
    pub fn shared_visible_in(&mut self, pid1: i32) -> bool {
        use std::os::unix::fs::MetadataExt;
        let visible = self.shared.iter().all(|s| {
            match (
                crate::sandbox::seen_inside(pid1, &s.host),
                std::fs::metadata(&s.host),
            ) {
                (Some(inside), Ok(m)) => inside == (m.dev(), m.ino()),
                _ => false,
            }
        });
        if visible {
            for s in &self.shared {
                self.args[s.index] = super::share::word(&s.host, s.uri);
            }
        }
        visible
    }

    /// The argv a process joining a running sandbox of this profile runs.
    pub fn argv(&self) -> Result<Vec<String>, crate::plan::PlanError> {
        crate::plan::argv(&self.profile, self.command.as_deref(), &self.args)
    }

    /// Probe what the profile needs of the host and make the plan; on failure, print the one
    /// line and give the exit code.
    pub fn plan(mut self) -> Result<Plan, i32> {
        self.bind_shared();
        let plan = crate::plan::prepare(
            &self.profile,
            &mut self.facts,
            self.command.as_deref(),
            &self.args,
        )
        .map_err(|e| fail(&e, e.exit_code()))?;
        tracing::debug!(plan = %crate::plan::explain_text(&plan), "plan made");
        Ok(plan)
    }
}
