//! The kernel's own style checks on each patch: `scripts/checkpatch.pl
//! --strict`, rustfmt with the tree's configuration, and no compiler or
//! clippy warning in the files the patch touches (builds run with
//! `CLIPPY=1`).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use regex::Regex;

use crate::progress::Progress;
use crate::runner::{Binds, Runner};

/// checkpatch's findings, minus the allowed types, as `TYPE: message (line N)`.
pub fn parse_checkpatch(output: &str, allow: &[String]) -> Vec<String> {
    let re = Regex::new(r"^[^:]*:(\d+): (ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$").unwrap();
    output
        .lines()
        .filter_map(|l| re.captures(l))
        .filter(|c| !allow.iter().any(|a| a == &c[3]))
        .map(|c| {
            format!(
                "checkpatch {}:{}: {} (patch line {})",
                &c[2], &c[3], &c[4], &c[1]
            )
        })
        .collect()
}

/// Runs checkpatch on `patch` (a host path under the scratch directory).
pub fn checkpatch(
    runner: &Runner,
    binds: &Binds,
    p: &Progress,
    patch: &Path,
    log: &Path,
    allow: &[String],
) -> Result<Vec<String>> {
    let script = format!(
        r#"cd "$SRC" && perl scripts/checkpatch.pl --strict --terse --show-types --no-summary {}"#,
        runner.scratch_path(binds, patch)
    );
    let before = std::fs::read_to_string(log).unwrap_or_default().len();
    let (st, _) = p.run_logged(
        "checkpatch",
        &mut runner.script(binds, &script),
        log,
        Duration::from_secs(30),
    )?;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut found = parse_checkpatch(&text[before..], allow);
    if !st.success() && parse_checkpatch(&text[before..], &[]).is_empty() {
        // It failed without reporting anything: it did not run properly.
        found.push(format!(
            "checkpatch.pl failed to run ({st}); see {}",
            log.display()
        ));
    }
    Ok(found)
}

/// `rustfmt --check` on the Rust files a patch touches, with the tree's
/// `.rustfmt.toml`: what `make rustfmtcheck` checks, limited to the files
/// that can have changed (the whole-tree target takes a minute).
pub fn rustfmt(
    runner: &Runner,
    binds: &Binds,
    p: &Progress,
    files: &[String],
    log: &Path,
) -> Result<Vec<String>> {
    let rs: Vec<&String> = files.iter().filter(|f| f.ends_with(".rs")).collect();
    if rs.is_empty() {
        return Ok(Vec::new());
    }
    let args: Vec<String> = rs.iter().map(|f| format!("'{f}'")).collect();
    let script = format!(r#"cd "$SRC" && rustfmt --check {}"#, args.join(" "));
    let before = std::fs::read_to_string(log).unwrap_or_default().len();
    let (st, _) = p.run_logged(
        "rustfmt",
        &mut runner.script(binds, &script),
        log,
        Duration::from_secs(30),
    )?;
    if st.success() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let diff: Vec<&str> = text[before..]
        .lines()
        .filter(|l| l.starts_with("Diff in"))
        .collect();
    Ok(vec![if diff.is_empty() {
        format!("rustfmt --check failed ({st}); see {}", log.display())
    } else {
        format!("rustfmt --check: {}", diff.join("; "))
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpatch_findings_minus_allowed_types() {
        let out = "\
/p/0001-x.patch:83: WARNING:FILE_PATH_CHANGES: added, moved or deleted file(s), does MAINTAINERS need updating?
/p/0001-x.patch:120: CHECK:LINE_SPACING: Please use a blank line after function/struct/union/enum declarations
/p/0001-x.patch:7: ERROR:MISSING_SIGN_OFF: Missing Signed-off-by: line(s)
Traceback (most recent call last):
";
        let allow = ["FILE_PATH_CHANGES".to_owned()];
        assert_eq!(
            parse_checkpatch(out, &allow),
            [
                "checkpatch CHECK:LINE_SPACING: Please use a blank line after function/struct/union/enum declarations (patch line 120)",
                "checkpatch ERROR:MISSING_SIGN_OFF: Missing Signed-off-by: line(s) (patch line 7)",
            ]
        );
        assert!(parse_checkpatch(out, &[]).len() == 3);
    }
}
