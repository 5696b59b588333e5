//! Changing a user's profile key by key: hand-written comments and order kept, a new file that
//! extends the shipped one, nothing saved that would not check.

use super::*;
use crate::profile::{EditError, ProfileEdit};

const HAND_WRITTEN: &str = "# my firefox: no network at work\nextends = [\"app\"]\n\n\
[sandbox]\n# keep it offline\nnetwork = \"none\" # really\nopt = true\n";

#[test]
fn a_changed_key_keeps_the_comments_and_order_around_it() {
    let fx = Fixture::new();
    fx.shipped("app", "[run]\ncommand = [\"app\"]\n");
    fx.user("app", HAND_WRITTEN);
    let mut e = ProfileEdit::open(&fx.search(), "app").unwrap();
    e.set(Some("sandbox"), "network", "shared").unwrap();
    e.set(Some("sandbox"), "wayland", true).unwrap();
    assert_eq!(
        e.text(),
        "# my firefox: no network at work\nextends = [\"app\"]\n\n\
         [sandbox]\n# keep it offline\nnetwork = \"shared\" # really\nopt = true\nwayland = true\n"
    );
    assert!(e.reset(Some("sandbox"), "opt").unwrap());
    assert!(!e.reset(Some("sandbox"), "opt").unwrap());
    assert!(!e.reset(Some("nested"), "size").unwrap());
    let saved = e.save(&fx.search(), "app").unwrap();
    assert_eq!(saved.network, Network::Shared);
    assert!(saved.wayland && !saved.opt);
    assert_eq!(
        std::fs::read_to_string(fx.user.join("app.toml")).unwrap(),
        e.text()
    );
}

#[test]
fn a_first_change_makes_a_file_that_extends_the_shipped_profile() {
    let fx = Fixture::new();
    let shipped = fx.shipped("app", "[run]\ncommand = [\"app\"]\n[sandbox]\nsys = true\n");
    let mut e = ProfileEdit::open(&fx.search(), "app").unwrap();
    e.set(Some("audio"), "record", true).unwrap();
    let saved = e.save(&fx.search(), "app").unwrap();
    assert_eq!(saved.files, vec![shipped, fx.user.join("app.toml")]);
    assert!(saved.sys && saved.audio_access.record);
    let text = std::fs::read_to_string(fx.user.join("app.toml")).unwrap();
    assert!(
        text.starts_with("# Your changes to the app profile"),
        "{text}"
    );
    assert!(
        text.ends_with("extends = [\"app\"]\n\n[audio]\nrecord = true\n"),
        "{text}"
    );
    // Reset the last key: the table goes with it.
    assert!(e.reset(Some("audio"), "record").unwrap());
    assert!(!e.text().contains("[audio]"), "{}", e.text());
}

#[test]
fn what_would_not_check_is_never_saved() {
    let fx = Fixture::new();
    fx.shipped("app", "[run]\ncommand = [\"app\"]\n");
    let file = fx.user("app", HAND_WRITTEN);
    let mut e = ProfileEdit::open(&fx.search(), "app").unwrap();
    e.set(Some("sandbox"), "network", "everywhere").unwrap();
    match e.save(&fx.search(), "app") {
        Err(EditError::Invalid(err)) => {
            assert!(
                err.to_string()
                    .starts_with(&format!("{}:6:", file.display())),
                "{err}"
            )
        }
        other => panic!(
            "expected an invalid profile, got {:?}",
            other.map(|p| p.name)
        ),
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), HAND_WRITTEN);
    // A key that is a value where a table is meant, and a file that is not TOML.
    e.set(None, "sandbox2", 1).unwrap();
    assert!(matches!(
        e.set(Some("sandbox2"), "x", 1),
        Err(EditError::NotATable { .. })
    ));
    fx.user("broken", "[sandbox\n");
    assert!(matches!(
        ProfileEdit::open(&fx.search(), "broken"),
        Err(EditError::Parse { .. })
    ));
    assert!(matches!(
        ProfileEdit::open(&fx.search(), "../x"),
        Err(EditError::Invalid(ProfileError::BadName(_)))
    ));
}
