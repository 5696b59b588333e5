//! What `run` and `explain` take on the command line: a profile (by name or file), an optional
//! replacement command, overrides, and the program's arguments; a [`Request`] for the library.

use super::fail;
use crate::launch::{Overrides, Request};
use crate::plan::Plan;
use crate::profile::{Audio, Gpu, X11};
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

impl Target {
    /// The launch the command line asks for.
    pub fn request(self) -> Request {
        Request {
            command: self.command,
            profile_file: self.profile_file,
            overrides: Overrides {
                x11: self.x11,
                audio: self.audio,
                gpu: self.gpu,
            },
            share_files: self.share_files,
            words: self.rest,
        }
    }

    /// Load the profile, probe the host and make the plan; on failure, print the one line and
    /// give the exit code.
    pub fn plan(self) -> Result<Plan, i32> {
        self.request().plan().map_err(|e| fail(&e, e.exit_code()))
    }
}
