//! Finding and parsing `{{#bound-...}}` directives in chapter Markdown.
//!
//! Syntax: `{{#bound-KIND ARG... KEY=VALUE...}}`. An argument or value may be
//! double-quoted to hold spaces (`from="fn probe"`); inside quotes only `\"`
//! and `\\` are escapes, every other backslash is kept (regexes stay
//! readable). A directive preceded by a backslash (`\{{#bound-...}}`) is not
//! expanded: the backslash is dropped and the text kept, for documenting the
//! directives themselves.

use std::collections::BTreeMap;

const OPEN: &str = "{{#bound-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Patch,
    File,
    Boot,
    CompileFail,
    Caption,
    Debug,
    Compare,
}

impl Kind {
    fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "patch" => Kind::Patch,
            "file" => Kind::File,
            "boot" => Kind::Boot,
            "compile-fail" => Kind::CompileFail,
            "caption" => Kind::Caption,
            "debug" => Kind::Debug,
            "compare" => Kind::Compare,
            _ => return None,
        })
    }

    /// Number of positional arguments and the options the directive takes.
    fn signature(self) -> (usize, &'static [&'static str]) {
        match self {
            Kind::Patch | Kind::CompileFail | Kind::Caption => (1, &[]),
            Kind::File => (2, &["from", "to"]),
            Kind::Boot => (1, &["grep"]),
            Kind::Debug => (0, &[]),
            Kind::Compare => (1, &["from", "to", "call", "parents"]),
        }
    }

    pub fn usage(self) -> &'static str {
        match self {
            Kind::Patch => "{{#bound-patch FILE|COMPILE-FAIL-NAME}}",
            Kind::File => "{{#bound-file FILE PATH [from=REGEX] [to=REGEX]}}",
            Kind::Boot => "{{#bound-boot CHECKPOINT [grep=REGEX]}}",
            Kind::CompileFail => "{{#bound-compile-fail NAME}}",
            Kind::Caption => "{{#bound-caption FILE}}",
            Kind::Debug => "{{#bound-debug}}",
            Kind::Compare => "{{#bound-compare FILE from=REGEX to=REGEX call=REGEX parents=REGEX}}",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub kind: Kind,
    pub args: Vec<String>,
    pub opts: BTreeMap<String, String>,
}

/// A piece of chapter content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    /// A directive, with its source text. The parse result is an error
    /// message for a malformed directive.
    Directive {
        text: String,
        parsed: Result<Directive, String>,
    },
}

/// Splits chapter content into text and directives.
pub fn scan(content: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = content;
    while let Some(at) = rest.find(OPEN) {
        if rest[..at].ends_with('\\') {
            text.push_str(&rest[..at - 1]);
            text.push_str(OPEN);
            rest = &rest[at + OPEN.len()..];
            continue;
        }
        text.push_str(&rest[..at]);
        let body = &rest[at + 3..];
        match tokenize(body) {
            Some((tokens, len)) => {
                let src = &rest[at..at + 3 + len];
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                out.push(Segment::Directive {
                    text: src.to_owned(),
                    parsed: parse(&tokens),
                });
                rest = &rest[at + 3 + len..];
            }
            None => {
                let line_end = rest[at..].find('\n').map_or(rest.len(), |n| at + n);
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                out.push(Segment::Directive {
                    text: rest[at..line_end].to_owned(),
                    parsed: Err("unterminated directive (no closing `}}`)".to_owned()),
                });
                rest = &rest[line_end..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

/// Splits `bound-KIND args...}}` into words; returns them and the length
/// consumed including the closing `}}`, or `None` when unterminated.
fn tokenize(s: &str) -> Option<(Vec<String>, usize)> {
    let mut tokens = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        // A directive stays on one line.
        while chars
            .next_if(|&(_, c)| c.is_whitespace() && c != '\n')
            .is_some()
        {}
        let (i, c) = *chars.peek()?;
        if c == '\n' {
            return None;
        }
        if s[i..].starts_with("}}") {
            return Some((tokens, i + 2));
        }
        let mut tok = String::new();
        let mut quoted = false;
        while let Some(&(i, c)) = chars.peek() {
            if quoted {
                chars.next();
                match c {
                    '\n' => return None,
                    '"' => quoted = false,
                    '\\' => match chars.peek() {
                        Some(&(_, n @ ('"' | '\\'))) => {
                            tok.push(n);
                            chars.next();
                        }
                        _ => tok.push('\\'),
                    },
                    _ => tok.push(c),
                }
            } else if c.is_whitespace() || s[i..].starts_with("}}") {
                break;
            } else {
                chars.next();
                if c == '"' {
                    quoted = true;
                } else {
                    tok.push(c);
                }
            }
        }
        if quoted {
            return None;
        }
        tokens.push(tok);
    }
}

fn parse(tokens: &[String]) -> Result<Directive, String> {
    let name = tokens[0].strip_prefix("bound-").unwrap_or(&tokens[0]);
    let kind = Kind::from_name(name).ok_or_else(|| {
        format!(
            "unknown directive `bound-{name}` (known: patch, file, boot, compile-fail, caption, debug, compare)"
        )
    })?;
    let (nargs, allowed) = kind.signature();
    let mut args = Vec::new();
    let mut opts = BTreeMap::new();
    for t in &tokens[1..] {
        match t.split_once('=') {
            Some((k, v)) if allowed.contains(&k) => {
                regex::Regex::new(v).map_err(|e| format!("option {k}: bad regex {v:?}: {e}"))?;
                if opts.insert(k.to_owned(), v.to_owned()).is_some() {
                    return Err(format!("option {k} given twice"));
                }
            }
            Some((k, _)) if !allowed.is_empty() && args.len() == nargs => {
                return Err(format!("unknown option `{k}`; usage: {}", kind.usage()));
            }
            _ => args.push(t.clone()),
        }
    }
    if args.len() != nargs {
        return Err(format!(
            "expected {nargs} argument(s), got {}; usage: {}",
            args.len(),
            kind.usage()
        ));
    }
    Ok(Directive { kind, args, opts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_directive(s: &str) -> Result<Directive, String> {
        let segs = scan(s);
        let ds: Vec<_> = segs
            .into_iter()
            .filter_map(|s| match s {
                Segment::Directive { parsed, .. } => Some(parsed),
                Segment::Text(_) => None,
            })
            .collect();
        assert_eq!(ds.len(), 1, "{s}");
        ds.into_iter().next().unwrap()
    }

    #[test]
    fn splits_text_and_directives() {
        let segs = scan("a {{#bound-patch 0001-x.patch}} b\n{{#bound-caption 0001-x.patch}}");
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[0], Segment::Text("a ".into()));
        match &segs[1] {
            Segment::Directive { text, parsed } => {
                assert_eq!(text, "{{#bound-patch 0001-x.patch}}");
                let d = parsed.as_ref().unwrap();
                assert_eq!(d.kind, Kind::Patch);
                assert_eq!(d.args, ["0001-x.patch"]);
            }
            _ => panic!(),
        }
        assert_eq!(segs[2], Segment::Text(" b\n".into()));
    }

    #[test]
    fn file_with_quoted_regex_options() {
        let d = only_directive(r#"{{#bound-file 0001-x.patch a/b.rs from="^impl Drop" to="^}"}}"#)
            .unwrap();
        assert_eq!(d.kind, Kind::File);
        assert_eq!(d.args, ["0001-x.patch", "a/b.rs"]);
        assert_eq!(d.opts["from"], "^impl Drop");
        assert_eq!(d.opts["to"], "^}");
    }

    #[test]
    fn quoted_braces_and_escapes() {
        let d = only_directive(r#"{{#bound-boot cp grep="a\"b }} \d"}}"#).unwrap();
        assert_eq!(d.opts["grep"], r#"a"b }} \d"#);
    }

    #[test]
    fn escaped_directive_is_kept_as_text() {
        let segs = scan(r"see \{{#bound-patch FILE}} here");
        assert_eq!(
            segs,
            [Segment::Text("see {{#bound-patch FILE}} here".into())]
        );
    }

    #[test]
    fn malformed_directives_are_reported() {
        assert!(only_directive("{{#bound-nope x}}")
            .unwrap_err()
            .contains("unknown directive"));
        assert!(only_directive("{{#bound-patch}}")
            .unwrap_err()
            .contains("expected 1 argument"));
        assert!(only_directive("{{#bound-file a b c}}")
            .unwrap_err()
            .contains("usage"));
        assert!(only_directive("{{#bound-boot cp grep=(}}")
            .unwrap_err()
            .contains("bad regex"));
        assert!(only_directive("{{#bound-boot cp colour=red}}")
            .unwrap_err()
            .contains("unknown option"));
        let segs = scan("x {{#bound-patch a\nnext line");
        assert!(
            matches!(&segs[1], Segment::Directive { text, parsed: Err(e) }
            if text == "{{#bound-patch a" && e.contains("unterminated"))
        );
        assert_eq!(segs[2], Segment::Text("\nnext line".into()));
    }
}
