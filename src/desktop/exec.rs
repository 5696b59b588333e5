//! The `Exec` key (Desktop Entry Specification, "The Exec key"): split a command line into its
//! arguments by the spec's quoting rules, take the field codes out, and quote arguments back into
//! a command line. Pure. The value given and returned here is the string value, its key-file
//! escapes (`\\`) already undone or not yet applied: see [`super::keyfile`].

/// The four field codes that stand for files or URLs given to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCode {
    /// `%f`: one file.
    File,
    /// `%F`: any number of files.
    Files,
    /// `%u`: one URL (or file).
    Url,
    /// `%U`: any number of URLs (or files).
    Urls,
}

impl FileCode {
    fn from_char(c: char) -> Option<FileCode> {
        Some(match c {
            'f' => FileCode::File,
            'F' => FileCode::Files,
            'u' => FileCode::Url,
            'U' => FileCode::Urls,
            _ => return None,
        })
    }

    /// As written in an Exec line: `%f`, `%F`, `%u` or `%U`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileCode::File => "%f",
            FileCode::Files => "%F",
            FileCode::Url => "%u",
            FileCode::Urls => "%U",
        }
    }
}

/// `VAR=value` pairs, in order.
pub type EnvVars = Vec<(String, String)>;

/// An Exec line taken apart: the program and its fixed arguments, and the first file code it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLine {
    pub argv: Vec<String>,
    pub file_code: Option<FileCode>,
}

impl ExecLine {
    /// The program the line runs, past an `env VAR=value ...` prefix.
    pub fn program(&self) -> Option<&str> {
        let mut args = self.argv.iter();
        let first = args.next()?;
        if first != "env" && first != "/usr/bin/env" && first != "/bin/env" {
            return Some(first);
        }
        args.find(|a| !a.contains('=') && !a.starts_with('-'))
            .map(String::as_str)
    }

    /// The `VAR=value` words of an `env` prefix, and the command after them; none when the line
    /// has env options (such as `-u`) that a profile cannot say.
    pub fn split_env(&self) -> Option<(EnvVars, Vec<String>)> {
        let is_env = matches!(
            self.argv.first().map(String::as_str),
            Some("env" | "/usr/bin/env" | "/bin/env")
        );
        if !is_env {
            return Some((Vec::new(), self.argv.clone()));
        }
        let mut vars = Vec::new();
        let mut rest = self.argv[1..].iter();
        for arg in rest.by_ref() {
            if arg.starts_with('-') {
                return None;
            }
            match arg.split_once('=') {
                Some((k, v)) => vars.push((k.to_string(), v.to_string())),
                None => {
                    let mut cmd = vec![arg.clone()];
                    cmd.extend(rest.cloned());
                    return Some((vars, cmd));
                }
            }
        }
        None
    }
}

/// Split an Exec value into arguments: words apart by spaces or tabs, `"..."` quoting with `\"`,
/// `` \` ``, `\$` and `\\` inside; outside quotes a backslash keeps the next character and `'...'`
/// quotes too (as GLib's parser, which most desktops use, accepts). Then field codes: `%f %F %u
/// %U` are noted and dropped with the argument they stand alone in, `%i %c %k` and the deprecated
/// `%d %D %n %N %v %m` dropped, `%%` made `%`.
pub fn parse_exec(value: &str) -> Result<ExecLine, String> {
    let words = split_words(value)?;
    let mut argv = Vec::new();
    let mut file_code = None;
    for word in words {
        let (text, codes) = expand_codes(&word)?;
        for c in codes {
            file_code = file_code.or(FileCode::from_char(c));
        }
        // An argument that was nothing but field codes goes with them.
        if text.is_empty() && !word.is_empty() {
            continue;
        }
        argv.push(text);
    }
    if argv.is_empty() {
        return Err("the Exec line names no program".into());
    }
    Ok(ExecLine { argv, file_code })
}

/// The words of a command line, quotes removed.
fn split_words(value: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '`' | '$' | '\\')) => w.push(e),
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("the Exec line ends inside quotes".into()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("the Exec line ends inside quotes".into()),
                    }
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("the Exec line ends inside quotes".into()),
                    }
                }
            }
            '\\' => {
                let n = chars.next().ok_or("the Exec line ends with a backslash")?;
                word.get_or_insert_with(String::new).push(n);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// One argument with its field codes taken out, and the codes it had.
fn expand_codes(word: &str) -> Result<(String, Vec<char>), String> {
    let mut text = String::new();
    let mut codes = Vec::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => text.push('%'),
            Some(
                c @ ('f' | 'F' | 'u' | 'U' | 'i' | 'c' | 'k' | 'd' | 'D' | 'n' | 'N' | 'v' | 'm'),
            ) => codes.push(c),
            Some(c) => return Err(format!("the Exec line has an unknown field code %{c}")),
            None => return Err("the Exec line ends with a lone %".into()),
        }
    }
    Ok((text, codes))
}

/// Characters that make the spec require an argument to be quoted.
const RESERVED: &[char] = &[
    ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')',
    '`',
];

/// One argument as an Exec line writes it: `%` doubled, and quoted (with `"`, `` ` ``, `$`, `\`
/// escaped) when it holds a reserved character or is empty.
pub fn quote_arg(arg: &str) -> String {
    let arg = arg.replace('%', "%%");
    if !arg.is_empty() && !arg.contains(RESERVED) {
        return arg;
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A command line from arguments, each quoted as needed, and a field code at the end.
pub fn join_exec(argv: &[&str], file_code: Option<FileCode>) -> String {
    let mut words: Vec<String> = argv.iter().map(|a| quote_arg(a)).collect();
    words.extend(file_code.map(|c| c.as_str().to_string()));
    words.join(" ")
}
