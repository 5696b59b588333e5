//! Launching a profile, for any front end: a [`Request`] (a profile by name or file, the command
//! line's overrides, the program's words) is loaded on this host into a [`Loaded`] profile, planned,
//! and run by [`run()`]: the sound proxy, the nested display and its clipboard bridge, the registry
//! claim (or a join of the running sandbox), the terminal relay and the log, with typed errors.
//! `nestbox run` and `nestbox explain` are thin over it; the manager starts `nestbox run` as a
//! process of its own (a sandbox is never cloned from a multi-threaded process).
//!
//! What a launch says on its way (notes of the plan, a sound server missing for `auto`, a log that
//! cannot be kept) goes to stderr as `nestbox: ...` lines: the launching process is nestbox.

mod run;
pub mod share;

pub use run::{open_relay, run, Copying};

use crate::host::HostFacts;
use crate::plan::{Plan, PlanError};
use crate::profile::{
    Access, Audio, BindSpec, Gpu, Location, Profile, ProfileError, ProfilePath, SearchPath,
    SharedFiles, X11,
};
use share::Shared;
use std::path::PathBuf;

/// Why a launch did not happen, or failed; [`LaunchError::exit_code`] is nestbox's exit status.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    #[error("name a profile, or give --profile-file")]
    NoProfile,
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    SoundSocket(#[from] crate::pulse::PulseError),
    #[error(transparent)]
    SoundHelper(#[from] crate::pulse::helper::HelperError),
    #[error(transparent)]
    Nested(#[from] crate::xephyr::XephyrError),
    #[error(
        "cannot make a pseudo-terminal for the sandbox (the terminal is never handed over): {0}"
    )]
    Terminal(std::io::Error),
    #[error("a sandbox named {name} is starting but has not come up in {secs} s")]
    Starting { name: String, secs: u64 },
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::LaunchError),
}

impl LaunchError {
    /// 125 for nestbox's own failures; the plan's and the sandbox's own codes (126: not
    /// executable, 127: not found inside).
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Plan(e) => e.exit_code(),
            LaunchError::Sandbox(e) => e.exit_code(),
            _ => 125,
        }
    }
}

/// The modes a launch may override for this once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub x11: Option<X11>,
    pub audio: Option<Audio>,
    pub gpu: Option<Gpu>,
}

/// What to launch.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// A program run instead of the profile's (its fixed arguments dropped too).
    pub command: Option<String>,
    /// The profile in this file instead of one found by name; then every word is an argument.
    pub profile_file: Option<PathBuf>,
    pub overrides: Overrides,
    /// Bind the words that name regular files on the host into the sandbox.
    pub share_files: bool,
    /// The profile's name (without `profile_file`), then the program's words.
    pub words: Vec<String>,
}

/// A profile loaded with the request's overrides, on this host, not yet planned.
pub struct Loaded {
    pub facts: HostFacts,
    pub profile: Profile,
    /// Words for the program.
    pub args: Vec<String>,
    pub command: Option<String>,
    /// Whether a mode was overridden.
    pub overridden: bool,
    /// The words that name host files, with `share_files`.
    pub shared: Vec<Shared>,
}

impl Request {
    /// Load the profile and learn the host's basic facts.
    pub fn load(self) -> Result<Loaded, LaunchError> {
        let facts = HostFacts::probe()?;
        let search = SearchPath::standard(&facts.config_home);
        let (profile, args) = match (self.profile_file, self.words.split_first()) {
            (Some(path), _) => (search.load_file(&path), self.words.as_slice()),
            (None, Some((name, args))) => (search.load(name), args),
            (None, None) => return Err(LaunchError::NoProfile),
        };
        let mut profile = profile?;
        let o = self.overrides;
        let overridden = o.x11.is_some() || o.audio.is_some() || o.gpu.is_some();
        if let Some(mode) = o.x11 {
            profile.x11 = mode;
        }
        if let Some(mode) = o.audio {
            profile.audio = mode;
        }
        if let Some(mode) = o.gpu {
            profile.gpu = mode;
        }
        tracing::debug!(?profile, "profile resolved");
        let shared = match (self.share_files, std::env::current_dir()) {
            (true, Ok(cwd)) => {
                let home = std::fs::canonicalize(&facts.home).unwrap_or(facts.home.clone());
                let owner = share::Owner {
                    home: &home,
                    uid: facts.uid,
                };
                let (shared, refused) = share::find(args, &cwd, &owner);
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
    pub fn plan(self) -> Result<Plan, LaunchError> {
        self.load()?.plan()
    }
}

impl Loaded {
    /// Bind each shared file into the sandbox and point its word there.
    fn bind_shared(&mut self) {
        let runtime = PathBuf::from(format!("/run/user/{}", self.facts.uid));
        for (n, s) in self.shared.iter().enumerate() {
            let dst = share::inside(&runtime, n, s);
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
            self.args[s.index] = share::word(&dst, s.uri);
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
                self.args[s.index] = share::word(&s.host, s.uri);
            }
        }
        visible
    }

    /// The argv a process joining a running sandbox of this profile runs.
    pub fn argv(&self) -> Result<Vec<String>, PlanError> {
        crate::plan::argv(&self.profile, self.command.as_deref(), &self.args)
    }

    /// Probe what the profile needs of the host and make the plan.
    pub fn plan(mut self) -> Result<Plan, LaunchError> {
        self.bind_shared();
        let plan = crate::plan::prepare(
            &self.profile,
            &mut self.facts,
            self.command.as_deref(),
            &self.args,
        )?;
        tracing::debug!(plan = %crate::plan::explain_text(&plan), "plan made");
        Ok(plan)
    }
}
