//! `{{#bound-file}}`: a file as it stands after a patch, whole or a region.

use regex::Regex;

/// The info string of a code block for `path`.
pub fn language(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.').map(|(_, e)| e) {
        // mdBook would offer to run Rust blocks on the playground.
        Some("rs") => "rust,noplayground",
        Some("c" | "h") => "c",
        Some("sh") => "sh",
        Some("toml") => "toml",
        Some("py") => "python",
        Some("json") => "json",
        Some("md") => "markdown",
        Some("S") => "x86asm",
        _ if name == "Makefile" || name == "Kbuild" => "makefile",
        _ => "text",
    }
}

/// The inclusive line range from the first line matching `from` to the next
/// line (after it) matching `to`; the whole text when neither is given.
pub fn region(text: &str, from: Option<&Regex>, to: Option<&Regex>) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = match from {
        None => 0,
        Some(re) => lines
            .iter()
            .position(|l| re.is_match(l))
            .ok_or_else(|| format!("no line matches from=/{}/", re.as_str()))?,
    };
    let end = match to {
        None => lines.len(),
        Some(re) => {
            let after = if from.is_some() { start + 1 } else { start };
            lines[after..]
                .iter()
                .position(|l| re.is_match(l))
                .map(|n| after + n + 1)
                .ok_or_else(|| {
                    format!(
                        "no line matches to=/{}/ after line {}",
                        re.as_str(),
                        start + 1
                    )
                })?
        }
    };
    Ok(lines[start..end].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str =
        "use a;\n\nimpl Drop for X {\n    fn drop(&mut self) {\n    }\n}\n\nfn tail() {}\n";

    #[test]
    fn whole_and_regions() {
        assert_eq!(region(SRC, None, None).unwrap(), SRC.trim_end());
        let from = Regex::new("^impl Drop").unwrap();
        let to = Regex::new("^}").unwrap();
        assert_eq!(
            region(SRC, Some(&from), Some(&to)).unwrap(),
            "impl Drop for X {\n    fn drop(&mut self) {\n    }\n}"
        );
        assert_eq!(
            region(SRC, Some(&Regex::new("fn tail").unwrap()), None).unwrap(),
            "fn tail() {}"
        );
        assert_eq!(
            region(SRC, None, Some(&Regex::new("^$").unwrap())).unwrap(),
            "use a;\n"
        );
    }

    #[test]
    fn missing_matches_are_errors() {
        let nope = Regex::new("nope").unwrap();
        assert!(region(SRC, Some(&nope), None)
            .unwrap_err()
            .contains("from=/nope/"));
        let from = Regex::new("fn tail").unwrap();
        assert!(region(SRC, Some(&from), Some(&Regex::new("^}").unwrap()))
            .unwrap_err()
            .contains("after line 8"));
    }

    #[test]
    fn languages() {
        assert_eq!(
            language("samples/rust/rust_testdev.rs"),
            "rust,noplayground"
        );
        assert_eq!(language("samples/rust/Makefile"), "makefile");
        assert_eq!(language("samples/rust/Kconfig"), "text");
        assert_eq!(language("drivers/base/dd.c"), "c");
    }
}
