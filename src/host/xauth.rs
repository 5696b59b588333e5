//! The Xauthority file format (libXau): a sequence of entries, each a big-endian u16 family then four
//! length-prefixed fields: address, display number, auth name, auth data. Parsing and writing are pure.

/// `FamilyLocal`: a Unix-socket display, matched by host name.
pub const FAMILY_LOCAL: u16 = 256;
/// `FamilyWild`: matches any address, so the cookie still works after the sandbox's host name changes.
pub const FAMILY_WILD: u16 = 0xffff;
pub const MIT_MAGIC_COOKIE: &[u8] = b"MIT-MAGIC-COOKIE-1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XauthEntry {
    pub family: u16,
    pub address: Vec<u8>,
    pub number: Vec<u8>,
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("truncated entry at byte {0}")]
pub struct XauthError(pub usize);

/// Parse a whole Xauthority file.
pub fn parse_xauthority(mut bytes: &[u8]) -> Result<Vec<XauthEntry>, XauthError> {
    let total = bytes.len();
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let at = total - bytes.len();
        let take_u16 = |b: &mut &[u8]| -> Result<u16, XauthError> {
            let (head, tail) = b.split_first_chunk::<2>().ok_or(XauthError(at))?;
            *b = tail;
            Ok(u16::from_be_bytes(*head))
        };
        let family = take_u16(&mut bytes)?;
        let mut field = || -> Result<Vec<u8>, XauthError> {
            let len = usize::from(take_u16(&mut bytes)?);
            let (value, tail) = bytes.split_at_checked(len).ok_or(XauthError(at))?;
            bytes = tail;
            Ok(value.to_vec())
        };
        let (address, number, name, data) = (field()?, field()?, field()?, field()?);
        entries.push(XauthEntry {
            family,
            address,
            number,
            name,
            data,
        });
    }
    Ok(entries)
}

/// Serialize entries in the same format.
pub fn write_xauthority(entries: &[XauthEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.family.to_be_bytes());
        for f in [&e.address, &e.number, &e.name, &e.data] {
            let len = u16::try_from(f.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&f[..usize::from(len)]);
        }
    }
    out
}

/// The cookie libXau would pick for local display `number` on host `hostname`: a
/// MIT-MAGIC-COOKIE-1 entry for that number (or for any, when its number is empty), of the local
/// family with our host name, or wildcard.
pub fn find_cookie<'a>(
    entries: &'a [XauthEntry],
    number: u32,
    hostname: &str,
) -> Option<&'a XauthEntry> {
    let number = number.to_string();
    entries.iter().find(|e| {
        e.name == MIT_MAGIC_COOKIE
            && (e.number == number.as_bytes() || e.number.is_empty())
            && (e.family == FAMILY_WILD
                || (e.family == FAMILY_LOCAL && e.address == hostname.as_bytes()))
    })
}

/// The seeds' `xauth nextract - $DISPLAY | sed -e 's/^..../ffff/' | xauth nmerge -`, for display
/// `number` inside the sandbox: the same cookie, wildcard family, no address.
pub fn wildcard_copy(cookie: &XauthEntry, number: u32) -> XauthEntry {
    XauthEntry {
        family: FAMILY_WILD,
        address: Vec::new(),
        number: number.to_string().into_bytes(),
        name: cookie.name.clone(),
        data: cookie.data.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(family: u16, address: &str, number: &str) -> XauthEntry {
        XauthEntry {
            family,
            address: address.into(),
            number: number.into(),
            name: MIT_MAGIC_COOKIE.to_vec(),
            data: vec![0xab; 16],
        }
    }

    #[test]
    fn round_trip() {
        let entries = vec![
            entry(FAMILY_LOCAL, "box", "0"),
            entry(FAMILY_WILD, "", "12"),
        ];
        let bytes = write_xauthority(&entries);
        // family, then address, number, name and data, each with a u16 length
        assert_eq!(
            bytes.len(),
            (2 + 2 + 3 + 2 + 1 + 2 + 18 + 2 + 16) + (2 + 2 + 2 + 2 + 2 + 18 + 2 + 16)
        );
        assert_eq!(parse_xauthority(&bytes).unwrap(), entries);
    }

    #[test]
    fn known_bytes() {
        // What `xauth add :5 . 00ff` writes on host "h".
        let bytes = [1, 0, 0, 1, b'h', 0, 1, b'5', 0, 18]
            .iter()
            .copied()
            .chain(MIT_MAGIC_COOKIE.iter().copied())
            .chain([0, 2, 0x00, 0xff])
            .collect::<Vec<u8>>();
        let e = parse_xauthority(&bytes).unwrap();
        assert_eq!(
            e,
            vec![XauthEntry {
                data: vec![0, 0xff],
                ..entry(FAMILY_LOCAL, "h", "5")
            }]
        );
        let wild = write_xauthority(&[wildcard_copy(&e[0], 55)]);
        assert_eq!(&wild[..8], &[0xff, 0xff, 0, 0, 0, 2, b'5', b'5']);
    }

    #[test]
    fn truncated_is_an_error() {
        let bytes = write_xauthority(&[entry(FAMILY_LOCAL, "box", "0")]);
        for cut in [1, 3, 10, bytes.len() - 1] {
            assert!(parse_xauthority(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(parse_xauthority(&[]), Ok(vec![]));
    }

    #[test]
    fn picks_the_cookie_libxau_would() {
        let mut other_host = entry(FAMILY_LOCAL, "elsewhere", "0");
        other_host.data = vec![1];
        let mut other_display = entry(FAMILY_LOCAL, "box", "1");
        other_display.data = vec![2];
        let mine = entry(FAMILY_LOCAL, "box", "0");
        let all = vec![other_host, other_display, mine.clone()];
        assert_eq!(find_cookie(&all, 0, "box"), Some(&mine));
        assert_eq!(find_cookie(&all, 3, "box"), None);
        let any_display = entry(FAMILY_LOCAL, "box", "");
        assert_eq!(
            find_cookie(std::slice::from_ref(&any_display), 7, "box"),
            Some(&any_display)
        );
        let wild = entry(FAMILY_WILD, "", "3");
        assert_eq!(
            find_cookie(std::slice::from_ref(&wild), 3, "any"),
            Some(&wild)
        );
    }
}
