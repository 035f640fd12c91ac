//! Small Markdown helpers shared by the renderers.

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn fence(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let f = "`".repeat(longest.max(2) + 1);
    let body = body.trim_end_matches('\n');
    format!("{f}{lang}\n{body}\n{f}\n")
}

/// Escapes text so Markdown shows it literally, keeping line structure (so
/// ` - item` lists of a commit message still render as lists).
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' | '!'
        ) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The `> [!WARNING]` admonition for a listing that is not verified.
pub fn warning(directive: &str, problems: &[String]) -> String {
    let mut s = format!(
        "> [!WARNING]\n> **Unverified listing.** `{}` could not be checked against the CI report:\n>\n",
        directive.replace('`', "'")
    );
    for p in problems {
        for (i, line) in p.lines().enumerate() {
            let lead = if i == 0 { "> - " } else { ">   " };
            s.push_str(lead);
            s.push_str(&escape(line));
            s.push('\n');
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_outgrows_backticks() {
        assert_eq!(fence("rust", "a\n"), "```rust\na\n```\n");
        assert_eq!(fence("", "x ```` y"), "`````\nx ```` y\n`````\n");
    }

    #[test]
    fn escape_and_warning() {
        assert_eq!(
            escape("ARef<pci::Device> *x*"),
            r"ARef\<pci::Device\> \*x\*"
        );
        let w = warning("{{#bound-patch a}}", &["missing\nsecond".into()]);
        assert!(w.starts_with("> [!WARNING]\n"));
        assert!(w.contains("> - missing\n>   second\n"));
    }
}
