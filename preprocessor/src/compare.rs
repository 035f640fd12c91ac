//! `{{#bound-compare FILE from=REGEX to=REGEX call=REGEX parents=REGEX}}`: the table
//! that compares the styles of Part II, one row per patch that the
//! verifier measured (`[[patch.measure]]`), from that patch's verified
//! files and build:
//!
//! - the driver's code for its fence: the non-blank, non-comment lines of
//!   FILE from the line matching `from` up to, not including, the line
//!   matching `to`;
//! - the call site: the first line of FILE matching `call`;
//! - the C parents of the driver's type: the lines of FILE, outside
//!   comments, that match `parents` (each declares one);
//! - the `unsafe` blocks and impls in FILE;
//! - each unstable feature the verifier probed, and whether it was needed;
//! - each measured function: its size, and whether its instructions are
//!   those of the first patch's build.

use regex::Regex;

use crate::excerpt;
use crate::report::{Loaded, PatchResult};

/// What the directive asks for.
pub struct Spec<'a> {
    pub file: &'a str,
    pub from: &'a Regex,
    pub to: &'a Regex,
    pub call: &'a Regex,
    pub parents: &'a Regex,
}

/// Lines of Rust that are neither blank nor only a comment.
pub fn code_lines(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .count()
}

/// `unsafe` blocks, impls and functions: the keyword outside comments.
pub fn unsafe_count(text: &str) -> usize {
    let re = Regex::new(r"\bunsafe\b").unwrap();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .map(|l| re.find_iter(l).count())
        .sum()
}

/// The region `[from, to)` of `text`.
fn region(text: &str, from: &Regex, to: &Regex) -> Result<String, String> {
    let r = excerpt::region(text, Some(from), Some(to))?;
    let mut lines: Vec<&str> = r.lines().collect();
    lines.pop();
    Ok(lines.join("\n"))
}

/// One row's cells from the patch's copy of `spec.file`.
fn source_cells(text: &str, spec: &Spec) -> Result<Vec<String>, String> {
    let code = region(text, spec.from, spec.to)?;
    let call = text
        .lines()
        .find(|l| spec.call.is_match(l))
        .ok_or_else(|| format!("no line matches call=/{}/", spec.call.as_str()))?;
    let parents = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| spec.parents.is_match(l))
        .count();
    Ok(vec![
        code_lines(&code).to_string(),
        format!("`{}`", call.trim()),
        parents.to_string(),
        unsafe_count(text).to_string(),
    ])
}

pub fn render(l: &Loaded, spec: &Spec, problems: &mut Vec<String>) -> Result<String, String> {
    let rows: Vec<&PatchResult> = l
        .report
        .patches
        .iter()
        .filter(|p| !p.measures.is_empty())
        .collect();
    let first = rows
        .first()
        .ok_or("the report has no patch with measurements")?;
    let mut header = vec![
        "patch".to_owned(),
        "driver's fence code (lines)".to_owned(),
        "call site".to_owned(),
        "C parents of the job".to_owned(),
        "`unsafe` in the driver".to_owned(),
    ];
    let features: Vec<&str> = first.features.iter().map(|f| f.name.as_str()).collect();
    for f in &features {
        header.push(format!("driver needs `{f}`"));
    }
    for m in &first.measures {
        header.push(format!("`{}`: bytes", m.name));
        header.push(format!("`{}`: same code as {}", m.name, short(&first.file)));
    }
    let mut s = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for p in &rows {
        if !p.measure_problems.is_empty() {
            problems.extend(p.measure_problems.iter().cloned());
        }
        let stem = p.file.trim_end_matches(".patch");
        let text = l.read(&format!("files/{stem}/{}", spec.file))?;
        let mut cells = vec![format!("{}: {}", short(&p.file), p.subject)];
        cells.extend(source_cells(&text, spec).map_err(|e| format!("{}: {e}", p.file))?);
        for f in &features {
            let r = p
                .features
                .iter()
                .find(|r| r.name == *f)
                .ok_or_else(|| format!("{}: feature {f} was not probed", p.file))?;
            cells.push(if r.needed { "yes" } else { "no" }.to_owned());
        }
        for m0 in &first.measures {
            let m = p
                .measures
                .iter()
                .find(|m| m.name == m0.name)
                .ok_or_else(|| format!("{}: {} was not measured", p.file, m0.name))?;
            cells.push(m.bytes.to_string());
            cells.push(
                if std::ptr::eq(*p, *first) {
                    "-"
                } else if m.sha256 == m0.sha256 {
                    "identical"
                } else {
                    "differs"
                }
                .to_owned(),
            );
        }
        s.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    Ok(s)
}

/// `0011` for `0011-samples-....patch`.
fn short(file: &str) -> &str {
    file.split('-').next().unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
use kernel::prelude::*;

#[vtable]
impl FenceOps for EduJob {
    // A comment.
    fn signaled(fence: &FenceObject<Self>) -> bool {
        fence.inner().pending.load(Relaxed) == 0
    }
}

impl Drop for EduJob {
    fn drop(&mut self) {}
}

fn handle() {
    // SAFETY: not really.
    unsafe { f() };
    EduJob::command_done(job); // unsafe in a comment
}
";

    #[test]
    fn counts_code_lines_of_the_region_and_unsafe_outside_comments() {
        let spec = Spec {
            file: "x.rs",
            from: &Regex::new(r"^#\[vtable\]$").unwrap(),
            to: &Regex::new("^impl Drop for EduJob").unwrap(),
            call: &Regex::new(r"command_done\(").unwrap(),
            parents: &Regex::new(r"FenceObject<Self>|impl_has_work!").unwrap(),
        };
        assert_eq!(
            source_cells(SAMPLE, &spec).unwrap(),
            [
                "6",
                "`EduJob::command_done(job); // unsafe in a comment`",
                "1",
                "1"
            ]
        );
        let bad = Spec {
            call: &Regex::new("nowhere").unwrap(),
            ..spec
        };
        assert!(source_cells(SAMPLE, &bad).is_err());
    }
}
