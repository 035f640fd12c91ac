//! Compiler diagnostics in a kernel build log: extracting rustc errors for
//! compile-fail listings, and the first errors of a failed build.

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// `E0521` for `error[E0521]`, empty for an error without a code.
    pub code: String,
    /// The headline after `error[...]: `.
    pub message: String,
    /// The whole rendered diagnostic, up to the blank line that ends it.
    pub text: String,
}

/// Every error diagnostic in `log`: rustc's `error[E....]: ...` blocks and
/// C compilers' `file:line:col: error: ...` lines. rustc's summary lines
/// ("aborting due to ...") are not diagnostics.
pub fn errors(log: &str) -> Vec<Diagnostic> {
    let rust_head = Regex::new(r"^error(?:\[(E\d{4})\])?: (.*)$").unwrap();
    let c_err = Regex::new(r"^\S+:\d+:\d+: (?:fatal )?error: (.*)$").unwrap();
    let mut out = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(c) = rust_head.captures(line) {
            let message = c[2].to_owned();
            if message.starts_with("aborting due to") {
                continue;
            }
            let mut text = vec![line.to_owned()];
            while let Some(next) = lines.peek() {
                if next.trim().is_empty() || rust_head.is_match(next) {
                    break;
                }
                text.push(lines.next().unwrap().to_owned());
            }
            out.push(Diagnostic {
                code: c.get(1).map_or(String::new(), |m| m.as_str().to_owned()),
                message,
                text: text.join("\n"),
            });
        } else if let Some(c) = c_err.captures(line) {
            out.push(Diagnostic {
                code: String::new(),
                message: c[1].to_owned(),
                text: line.to_owned(),
            });
        }
    }
    out
}

/// Warnings (rustc, clippy and C compilers) whose primary location is in one
/// of `files`, rendered as `path:line: message`.
pub fn warnings_in(log: &str, files: &[String]) -> Vec<String> {
    let rust_head = Regex::new(r"^warning: (.*)$").unwrap();
    let rust_loc = Regex::new(r"^\s*--> ([^:]+):(\d+):\d+$").unwrap();
    let c_warn = Regex::new(r"^([^:\s]+):(\d+):\d+: warning: (.*)$").unwrap();
    let in_files = |path: &str| files.iter().any(|f| path.ends_with(f.as_str()));
    let mut out = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(c) = rust_head.captures(line) {
            let msg = c[1].to_owned();
            if let Some(loc) = lines.peek().and_then(|l| rust_loc.captures(l)) {
                if in_files(&loc[1]) {
                    out.push(format!("{}:{}: warning: {msg}", &loc[1], &loc[2]));
                }
            }
        } else if let Some(c) = c_warn.captures(line) {
            if in_files(&c[1]) {
                out.push(format!("{}:{}: warning: {}", &c[1], &c[2], &c[3]));
            }
        }
    }
    out
}

/// The diagnostic that shows a compile-fail listing failed for the expected
/// reason, if any.
pub fn find_expected<'a>(
    diags: &'a [Diagnostic],
    code: &str,
    message: &Regex,
) -> Option<&'a Diagnostic> {
    diags
        .iter()
        .find(|d| d.code == code && message.is_match(&d.message))
}

/// A short excerpt for a failed build: the first `n` diagnostics, or the
/// last lines of the log when nothing looks like a diagnostic (a linker or
/// make error).
pub fn first_errors(log: &str, n: usize) -> String {
    let d = errors(log);
    if d.is_empty() {
        return crate::console::tail(log, 20);
    }
    d.iter()
        .take(n)
        .map(|d| d.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUSTC: &str = "\
  RUSTC L samples/rust/rust_testdev.o
error[E0521]: borrowed data escapes outside of associated function
  --> samples/rust/rust_testdev.rs:120:19
   |
LL |         pdev: &'bound pci::Device<Core<'_>>,
   |         ---- `pdev` is a reference that is only valid in the associated function body
   |
   = note: requirement occurs because of ...

error: unused variable: `x`
 --> samples/rust/rust_testdev.rs:9:9

error: aborting due to 2 previous errors

For more information about this error, try `rustc --explain E0521`.
make[3]: *** [scripts/Makefile.build:312: samples/rust/rust_testdev.o] Error 1
";

    #[test]
    fn extracts_rustc_errors_with_their_blocks() {
        let d = errors(RUSTC);
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!(d[0].code, "E0521");
        assert_eq!(
            d[0].message,
            "borrowed data escapes outside of associated function"
        );
        assert!(d[0]
            .text
            .contains("only valid in the associated function body"));
        assert!(!d[0].text.contains("unused variable"));
        assert_eq!(d[1].code, "");
    }

    #[test]
    fn matches_expected_code_and_message() {
        let d = errors(RUSTC);
        let re = Regex::new("borrowed data escapes").unwrap();
        assert!(find_expected(&d, "E0521", &re).is_some());
        // Right message, wrong code: a compile-fail listing that fails for
        // another reason must not count.
        assert!(find_expected(&d, "E0597", &re).is_none());
        let other = Regex::new("does not live long enough").unwrap();
        assert!(find_expected(&d, "E0521", &other).is_none());
    }

    #[test]
    fn warnings_only_for_the_patch_files() {
        let log = "\
warning: unused variable: `x`
  --> samples/rust/rust_testdev.rs:9:9
   |
warning: this could be simplified
  --> rust/kernel/pci.rs:10:1
../samples/rust/rust_testdev.c:3:1: warning: unused
";
        let files = ["samples/rust/rust_testdev.rs".to_owned()];
        assert_eq!(
            warnings_in(log, &files),
            ["samples/rust/rust_testdev.rs:9: warning: unused variable: `x`"]
        );
        assert!(warnings_in(log, &[]).is_empty());
    }

    #[test]
    fn c_errors_and_fallback() {
        let log = "drivers/x.c:3:1: error: expected ';' before '}' token\n";
        assert_eq!(errors(log)[0].message, "expected ';' before '}' token");
        let ld = "ld.lld: undefined symbol: foo\nmake: *** [Makefile:1] Error 2\n";
        assert!(first_errors(ld, 3).contains("undefined symbol"));
    }
}
