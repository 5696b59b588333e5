//! Where sandboxes can write on the host, so that a launcher never runs or shows a file one of
//! them could replace: the persistent homes, and every read-write (or device) bind of the
//! profiles given. Pure: the caller loads the profiles and resolves links.

use crate::profile::{Access, Profile, ProfilePath};
use std::path::{Path, PathBuf};

/// A host directory some sandbox can write, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writable {
    pub path: PathBuf,
    /// "the sandboxes' persistent homes", or the profile and the place of its bind.
    pub why: String,
}

/// The homes directory (`$XDG_DATA_HOME/nestbox/homes`), then each profile's read-write and
/// device binds, their `~` made `home`.
pub fn writable_places(homes: &Path, home: &Path, profiles: &[Profile]) -> Vec<Writable> {
    let mut out = vec![Writable {
        path: homes.to_path_buf(),
        why: "the sandboxes' persistent homes".to_string(),
    }];
    for p in profiles {
        for b in &p.binds {
            if b.access == Access::ReadOnly {
                continue;
            }
            let path = match &b.src {
                ProfilePath::Absolute(a) => a.clone(),
                ProfilePath::Home(rel) if rel.as_os_str().is_empty() => home.to_path_buf(),
                ProfilePath::Home(rel) => home.join(rel),
            };
            out.push(Writable {
                path,
                why: format!("a read-write bind of profile {} ({})", p.name, b.origin),
            });
        }
    }
    out
}

/// The first place that holds `path` (or is it).
pub fn holder<'a>(path: &Path, places: &'a [Writable]) -> Option<&'a Writable> {
    places.iter().find(|w| path.starts_with(&w.path))
}
