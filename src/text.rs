//! Text from a sandbox (an app's output, the words it was launched with, a profile's values) as
//! nestbox shows it on a terminal: every control character but newline and tab written as an
//! escape (`\x1b`, `\u{9b}` for the C1 controls), and bytes that are not UTF-8 as `\xHH`, so that
//! no escape sequence an app printed (a clipboard write, a window title, a cleared screen with a
//! fake prompt) reaches the user's terminal. journalctl and systemctl do the same. A pipe or a
//! file gets the bytes as they are where the command says so (`nestbox logs`).

use std::borrow::Cow;
use std::io::Write;

/// Whether `c` is shown escaped.
fn escaped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `s`, escaped for a terminal.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

fn push(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if !escaped(c) {
        out.push(c);
    } else if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// Whether nestbox's stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    // SAFETY: isatty on our own stdout.
    unsafe { libc::isatty(1) == 1 }
}

/// A writer that escapes what goes through it (bytes, in chunks that may split a character).
pub struct Escaping<W: Write> {
    inner: W,
    /// The start of a character the last chunk ended in.
    pending: Vec<u8>,
}

impl<W: Write> Escaping<W> {
    pub fn new(inner: W) -> Escaping<W> {
        Escaping {
            inner,
            pending: Vec::new(),
        }
    }

    /// Write what is pending as it is: bytes that never became a character.
    pub fn finish(&mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        self.inner
            .write_all(escape_bytes(&rest, true).0.as_bytes())?;
        self.inner.flush()
    }
}

/// `bytes` escaped; with `last` false, an incomplete character at the end is left over (its
/// length is the second value).
fn escape_bytes(bytes: &[u8], last: bool) -> (String, usize) {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend_from_slice_escaped(s);
                return (out, 0);
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                // `good` is valid UTF-8, by the error's own word.
                out.extend_from_slice_escaped(std::str::from_utf8(good).unwrap_or_default());
                match e.error_len() {
                    None if !last => return (out, bad.len()),
                    None => {
                        for b in bad {
                            let _ = write!(out, "\\x{b:02x}");
                        }
                        return (out, 0);
                    }
                    Some(n) => {
                        for b in &bad[..n] {
                            let _ = write!(out, "\\x{b:02x}");
                        }
                        rest = &bad[n..];
                    }
                }
            }
        }
    }
}

trait PushEscaped {
    fn extend_from_slice_escaped(&mut self, s: &str);
}

impl PushEscaped for String {
    fn extend_from_slice_escaped(&mut self, s: &str) {
        for c in s.chars() {
            push(self, c);
        }
    }
}

impl<W: Write> Drop for Escaping<W> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(buf);
        let (text, left) = escape_bytes(&data, false);
        self.inner.write_all(text.as_bytes())?;
        self.pending = data[data.len() - left..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// JSON as nestbox prints it: serde_json escapes the C0 controls, not the C1 ones (U+0080 to
/// U+009F, which some terminals take as CSI and friends); these only occur inside strings, where
/// `\u00XX` means the same.
pub fn json_c1_escaped(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        return Cow::Borrowed(json);
    }
    Cow::Owned(
        json.chars()
            .map(|c| {
                if ('\u{80}'..='\u{9f}').contains(&c) {
                    format!("\\u{:04x}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_but_newline_and_tab_are_escaped() {
        assert_eq!(escape("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape("\x1b]52;c;aGk=\x07\x1b[2J\r$ \u{9b}31m\u{7f}"),
            "\\x1b]52;c;aGk=\\x07\\x1b[2J\\x0d$ \\u{9b}31m\\x7f"
        );
    }

    #[test]
    fn a_stream_split_anywhere_reads_the_same() {
        let input = "é\x1b[31mü\u{9b}x"
            .as_bytes()
            .iter()
            .copied()
            .chain([0xff, b'\n'])
            .collect::<Vec<u8>>();
        let whole = {
            let mut w = Escaping::new(Vec::new());
            w.write_all(&input).unwrap();
            w.finish().unwrap();
            std::mem::take(&mut w.inner)
        };
        assert_eq!(
            String::from_utf8(whole.clone()).unwrap(),
            "é\\x1b[31mü\\u{9b}x\\xff\n"
        );
        for cut in 0..input.len() {
            let mut w = Escaping::new(Vec::new());
            w.write_all(&input[..cut]).unwrap();
            w.write_all(&input[cut..]).unwrap();
            w.finish().unwrap();
            assert_eq!(w.inner, whole, "cut at {cut}");
        }
        // A character left unfinished at the end is shown as its bytes.
        let mut w = Escaping::new(Vec::new());
        w.write_all(&[b'a', 0xc3]).unwrap();
        w.finish().unwrap();
        assert_eq!(
            String::from_utf8(std::mem::take(&mut w.inner)).unwrap(),
            "a\\xc3"
        );
    }

    #[test]
    fn json_gets_its_c1_controls_escaped() {
        assert_eq!(
            json_c1_escaped("[\"a\\u001b\u{9b}b\"]"),
            "[\"a\\u001b\\u009bb\"]"
        );
    }
}
