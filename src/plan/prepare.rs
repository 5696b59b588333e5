//! From a profile to a plan on this host, as every front end needs it: learn what the profile
//! needs to know of the host (the X authority and abstract displays for a display, the monitor
//! for a nested display that fits it, the graphics devices), then build the plan.

use super::{build, Plan, PlanError};
use crate::host::{GpuHost, HostFacts, RealFs};
use crate::profile::{Gpu, NestedSize, Network, Profile, X11};
use std::collections::BTreeMap;
use std::path::Path;

/// Probe what `profile` needs of the host into `facts`, and make the plan for running `command`
/// (or the profile's own) with `args`.
pub fn prepare(
    profile: &Profile,
    facts: &mut HostFacts,
    command: Option<&str>,
    args: &[String],
) -> Result<Plan, PlanError> {
    match profile.x11 {
        X11::Host => {
            facts.read_xauthority();
            if profile.network == Network::Shared {
                facts.read_abstract_displays();
            }
        }
        X11::Nested => {
            if profile.nested.size == NestedSize::Fit {
                facts.read_monitor();
            }
            if profile.network == Network::Shared {
                facts.read_abstract_displays();
            }
        }
        X11::None => {}
    }
    if profile.gpu != Gpu::None {
        facts.gpu = Some(gpu_facts(&facts.env)?);
    }
    build(profile, facts, &RealFs, command, args)
}

/// The host's graphics devices: scanned, or, for tests and bug reports, as described in the JSON
/// file `NESTBOX_GPU_FACTS` names (the shape `explain --json` shows under `gpu.found`).
fn gpu_facts(env: &BTreeMap<String, String>) -> Result<GpuHost, PlanError> {
    let Some(path) = env.get("NESTBOX_GPU_FACTS") else {
        return Ok(crate::host::gpu::scan(Path::new("/")));
    };
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        .map_err(|message| PlanError::GpuFacts {
            path: path.clone(),
            message,
        })
}
