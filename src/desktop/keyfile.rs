//! The key file format of desktop entries (the Desktop Entry Specification, "Basic format" and
//! "Possible value types"): groups, `Key=value` and `Key[locale]=value` lines, comments, and the
//! escapes of string and list values. Pure: text in, values out.

/// One `Key` or `Key[locale]` line of a group, its value as written (escapes not yet undone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub locale: Option<String>,
    pub raw: String,
}

/// A `[Group Name]` and its entries, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub entries: Vec<Entry>,
}

/// A parsed key file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFile {
    pub groups: Vec<Group>,
}

/// Why a key file could not be read: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// Parse a key file. Blank lines and `#` comments are skipped; a key met twice in a group keeps
/// its last value (as GLib does); a group met twice is one group. A raw control character in a
/// value (a carriage return, an escape) is an error: the format writes them as `\r`, `\t`...
pub fn parse(text: &str) -> Result<KeyFile, SyntaxError> {
    let mut file = KeyFile::default();
    let mut current: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let fail = |message: String| SyntaxError {
            line: i + 1,
            message,
        };
        let trimmed = line.trim_end_matches('\r').trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .filter(|n| valid_group_name(n))
                .ok_or_else(|| fail(format!("bad group header {trimmed:?}")))?;
            current = Some(match file.groups.iter().position(|g| g.name == name) {
                Some(at) => at,
                None => {
                    file.groups.push(Group {
                        name: name.to_string(),
                        entries: Vec::new(),
                    });
                    file.groups.len() - 1
                }
            });
            continue;
        }
        let (left, value) = trimmed.split_once('=').ok_or_else(|| {
            fail(format!(
                "{trimmed:?} is neither a group, a key nor a comment"
            ))
        })?;
        let left = left.trim_end();
        let (key, locale) = split_key(left).ok_or_else(|| fail(format!("bad key {left:?}")))?;
        let group = match current {
            Some(at) => &mut file.groups[at],
            None => return Err(fail(format!("key {key:?} before the first group"))),
        };
        let raw = value.trim_start();
        if raw.chars().any(char::is_control) {
            return Err(fail(format!(
                "the value of {left:?} holds a control character"
            )));
        }
        let entry = Entry {
            key: key.to_string(),
            locale: locale.map(str::to_string),
            raw: raw.to_string(),
        };
        match group
            .entries
            .iter_mut()
            .find(|e| e.key == key && e.locale.as_deref() == locale)
        {
            Some(earlier) => *earlier = entry,
            None => group.entries.push(entry),
        }
    }
    Ok(file)
}

fn valid_group_name(n: &str) -> bool {
    !n.is_empty() && !n.contains(['[', ']']) && !n.chars().any(char::is_control)
}

/// `Key` or `Key[locale]`: a key of letters, digits and `-`, a locale of `lang_COUNTRY.ENCODING@MODIFIER`
/// characters.
fn split_key(s: &str) -> Option<(&str, Option<&str>)> {
    let (key, locale) = match s.split_once('[') {
        Some((k, rest)) => (k, Some(rest.strip_suffix(']')?)),
        None => (s, None),
    };
    let key_ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let locale_ok = locale.is_none_or(|l| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
    });
    (key_ok && locale_ok).then_some((key, locale))
}

impl KeyFile {
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }
}

impl Group {
    /// The unlocalized value of `key`, as written.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.key == key && e.locale.is_none())
            .map(|e| e.raw.as_str())
    }

    /// The unlocalized value of `key` as a string, escapes undone.
    pub fn string(&self, key: &str) -> Option<String> {
        self.raw(key).map(unescape)
    }

    /// Every `key[locale]` value, escapes undone, in file order.
    pub fn localized(&self, key: &str) -> Vec<(String, String)> {
        self.entries
            .iter()
            .filter(|e| e.key == key)
            .filter_map(|e| Some((e.locale.clone()?, unescape(&e.raw))))
            .collect()
    }

    /// The unlocalized value of `key` as a list of strings (`a;b;c;`).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.raw(key).map(split_list).unwrap_or_default()
    }

    /// The unlocalized value of `key` as a boolean (`true` or `false`; anything else is none).
    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.raw(key)?.trim_end() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// Undo the escapes of a string value: `\s \n \t \r \\` (an unknown escape is kept as written).
pub fn unescape(raw: &str) -> String {
    unescape_with(raw, &[])
}

fn unescape_with(raw: &str, extra: &[char]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(e) if extra.contains(&e) => out.push(e),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A string value as it must be written: `\\`, `\n`, `\t`, `\r`, and `\s` for a leading space
/// (which a reader would otherwise drop).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' ' if i == 0 => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// Split a list value at unescaped `;`, undoing escapes (`\;` too); the last `;` is optional and
/// empty items are dropped.
pub fn split_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\\');
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ';' => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    items.push(current);
    items
        .iter()
        .map(|i| unescape_with(i, &[';']))
        .filter(|i| !i.trim().is_empty())
        .collect()
}

/// A list value as it must be written: each item escaped (`;` as `\;`), each followed by `;`.
pub fn join_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("{};", escape(i).replace(';', "\\;")))
        .collect()
}
