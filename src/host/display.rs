//! X11 `DISPLAY` strings. Only local displays (a socket in /tmp/.X11-unix) can be shared.

use serde::Serialize;

/// A local X display: `:N`, `:N.S`, `unix:N` or `unix:N.S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Display {
    pub number: u32,
    pub screen: Option<u32>,
}

impl Display {
    /// The host socket of this display.
    pub fn socket(&self) -> std::path::PathBuf {
        format!("/tmp/.X11-unix/X{}", self.number).into()
    }
}

impl std::fmt::Display for Display {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.screen {
            Some(s) => write!(f, ":{}.{}", self.number, s),
            None => write!(f, ":{}", self.number),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayError {
    #[error("DISPLAY={0} is a network display (such as ssh -X makes); nestbox can only share a local display")]
    Remote(String),
    #[error(
        "DISPLAY={0:?} is not a display name nestbox understands (expected :N, :N.S or unix:N)"
    )]
    Malformed(String),
}

/// Parse a `DISPLAY` value.
pub fn parse_display(s: &str) -> Result<Display, DisplayError> {
    let malformed = || DisplayError::Malformed(s.to_string());
    let (host, rest) = s.rsplit_once(':').ok_or_else(malformed)?;
    if host.contains(':') || rest.is_empty() {
        // IPv6 and DECnet (`host::N`) forms are network displays or nonsense here.
        return Err(if host.is_empty() {
            malformed()
        } else {
            DisplayError::Remote(s.to_string())
        });
    }
    if !(host.is_empty() || host == "unix") {
        return Err(DisplayError::Remote(s.to_string()));
    }
    let (number, screen) = match rest.split_once('.') {
        Some((n, sc)) => (n, Some(sc)),
        None => (rest, None),
    };
    let digits = |t: &str| !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(number) || !screen.is_none_or(digits) {
        return Err(malformed());
    }
    Ok(Display {
        number: number.parse().map_err(|_| malformed())?,
        screen: screen
            .map(|s| s.parse().map_err(|_| malformed()))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_forms() {
        assert_eq!(
            parse_display(":0"),
            Ok(Display {
                number: 0,
                screen: None
            })
        );
        assert_eq!(
            parse_display(":12.1"),
            Ok(Display {
                number: 12,
                screen: Some(1)
            })
        );
        assert_eq!(
            parse_display("unix:3"),
            Ok(Display {
                number: 3,
                screen: None
            })
        );
        assert_eq!(
            parse_display("unix:3.0"),
            Ok(Display {
                number: 3,
                screen: Some(0)
            })
        );
        assert_eq!(
            parse_display(":7").unwrap().socket().to_str(),
            Some("/tmp/.X11-unix/X7")
        );
    }

    #[test]
    fn network_displays_are_refused() {
        for s in [
            "localhost:10.0",
            "host.example:0",
            "10.0.0.1:0",
            "[::1]:0",
            "host::0",
        ] {
            assert!(
                matches!(parse_display(s), Err(DisplayError::Remote(_))),
                "{s}"
            );
        }
    }

    #[test]
    fn garbage_is_malformed() {
        for s in [
            "",
            "0",
            ":",
            ":x",
            ":0.",
            ":0.x",
            ":-1",
            "/tmp/.X11-unix/X0",
            ":99999999999",
        ] {
            assert!(
                matches!(parse_display(s), Err(DisplayError::Malformed(_))),
                "{s}"
            );
        }
    }
}
