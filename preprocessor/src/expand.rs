//! Expanding one chapter: each directive becomes its listing, plus a
//! warning (or, in strict mode, an error) when it is not verified.

use std::path::PathBuf;

use regex::Regex;

use crate::directive::{scan, Directive, Kind, Segment};
use crate::markdown::{fence, warning};
use crate::report::{stale, Loaded};
use crate::{boot, caption, compare, debug, excerpt, patch};

/// What the directives are rendered from.
pub struct Env {
    /// The report, or why it could not be loaded.
    pub report: Result<Loaded, String>,
    /// The series as it is now (`patches/`), to detect stale listings.
    pub patches_dir: PathBuf,
    pub strict: bool,
}

/// A directive that is not verified, for strict mode's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    pub chapter: String,
    pub directive: String,
    pub problems: Vec<String>,
}

impl std::fmt::Display for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chapter {}: `{}`:", self.chapter, self.directive)?;
        for p in &self.problems {
            write!(f, "\n    - {}", p.replace('\n', "\n      "))?;
        }
        Ok(())
    }
}

/// Expands `content`; returns the new content and the unverified directives.
pub fn chapter(env: &Env, chapter: &str, content: &str) -> (String, Vec<Unverified>) {
    let mut out = String::with_capacity(content.len());
    let mut bad = Vec::new();
    for seg in scan(content) {
        match seg {
            Segment::Text(t) => out.push_str(&t),
            Segment::Directive { text, parsed } => {
                let (listing, problems) = match parsed {
                    Ok(d) => render(env, &d),
                    Err(e) => (None, vec![format!("malformed directive: {e}")]),
                };
                if !problems.is_empty() {
                    out.push_str(&warning(&text, &problems));
                    bad.push(Unverified {
                        chapter: chapter.to_owned(),
                        directive: text,
                        problems,
                    });
                }
                if let Some(l) = listing {
                    out.push_str(&l);
                }
            }
        }
    }
    (out, bad)
}

/// The listing (if it could be produced at all) and what is wrong with it.
pub fn render(env: &Env, d: &Directive) -> (Option<String>, Vec<String>) {
    let l = match &env.report {
        Ok(l) => l,
        Err(e) => return (None, vec![e.clone()]),
    };
    let mut problems = l.run_problems();
    let listing = listing(env, l, d, &mut problems);
    match listing {
        Ok(s) => (Some(s), problems),
        Err(e) => {
            problems.push(e);
            (None, problems)
        }
    }
}

fn listing(
    env: &Env,
    l: &Loaded,
    d: &Directive,
    problems: &mut Vec<String>,
) -> Result<String, String> {
    let regex = |k: &str| {
        d.opts
            .get(k)
            .map(|r| Regex::new(r).expect("checked by the parser"))
    };
    match d.kind {
        Kind::Patch => {
            // A series patch, or the patch of a compile-fail listing.
            let text = match (l.patch(&d.args[0]), l.compile_fail(&d.args[0])) {
                (Ok(p), _) => {
                    check_patch(env, p, problems);
                    l.read(&format!("patches/{}", p.file))?
                }
                (Err(_), Ok(c)) => {
                    check_compile_fail(env, c, problems);
                    l.read(&format!("compile-fail/{}.patch", c.name))?
                }
                (Err(_), Err(_)) if !d.args[0].ends_with(".patch") => {
                    return Err(format!(
                        "{} is neither a patch nor a compile-fail listing in the report",
                        d.args[0]
                    ))
                }
                (Err(e), Err(_)) => return Err(e),
            };
            let parsed = patch::parse(&text).map_err(|e| format!("{:#}", e))?;
            Ok(patch::render(&parsed))
        }
        Kind::File => {
            let p = l.patch(&d.args[0])?;
            check_patch(env, p, problems);
            let path = &d.args[1];
            if !p.files.iter().any(|f| f == path) {
                problems.push(format!("{path} is not among the files {} touches", p.file));
            }
            let stem = p.file.trim_end_matches(".patch");
            let text = l.read(&format!("files/{stem}/{path}"))?;
            let region = excerpt::region(&text, regex("from").as_ref(), regex("to").as_ref())?;
            Ok(fence(excerpt::language(path), &region))
        }
        Kind::Boot => {
            let (p, c) = l.checkpoint(&d.args[0])?;
            check_patch(env, p, problems);
            let log = if c.console_log.is_empty() {
                format!("console/{}.log", c.name)
            } else {
                c.console_log.clone()
            };
            let console = l.read(&log)?;
            let grep = regex("grep")
                .unwrap_or_else(|| Regex::new(boot::DEFAULT_GREP).expect("valid default"));
            Ok(fence("text", &boot::trim(&console, &grep)))
        }
        Kind::CompileFail => {
            let c = l.compile_fail(&d.args[0])?;
            check_compile_fail(env, c, problems);
            let text = l
                .read(&format!("compile-fail/{}.txt", c.name))
                .or_else(|e| {
                    if c.error.is_empty() {
                        Err(e)
                    } else {
                        Ok(c.error.clone())
                    }
                })?;
            Ok(fence("text", &text))
        }
        Kind::Debug => {
            let dbg = l.report.debug.as_ref().ok_or_else(|| {
                "the report has no debug pass (run `cargo xtask verify`, without `--debug off`)"
                    .to_owned()
            })?;
            problems.extend(debug::problems(dbg));
            Ok(debug::render(dbg))
        }
        Kind::Compare => {
            let need = |k: &str| {
                regex(k)
                    .ok_or_else(|| format!("compare needs {k}=REGEX; usage: {}", d.kind.usage()))
            };
            let (from, to, call, parents) =
                (need("from")?, need("to")?, need("call")?, need("parents")?);
            for p in l.report.patches.iter().filter(|p| !p.measures.is_empty()) {
                check_patch(env, p, problems);
            }
            compare::render(
                l,
                &compare::Spec {
                    file: &d.args[0],
                    from: &from,
                    to: &to,
                    call: &call,
                    parents: &parents,
                },
                problems,
            )
        }
        Kind::Caption => {
            let name = &d.args[0];
            if let Ok(p) = l.patch(name) {
                check_patch(env, p, problems);
                Ok(caption::for_patch(&l.report, p))
            } else if let Ok(c) = l.compile_fail(name) {
                check_compile_fail(env, c, problems);
                Ok(caption::for_compile_fail(&l.report, c))
            } else {
                Err(format!(
                    "{name} is neither a patch nor a compile-fail listing in the report"
                ))
            }
        }
    }
}

fn check_patch(env: &Env, p: &crate::report::PatchResult, problems: &mut Vec<String>) {
    if !p.applied {
        problems.push(format!("patch {} did not apply", p.file));
    } else if !p.built {
        problems.push(format!("patch {} did not build", p.file));
    }
    if let Some(c) = p.checkpoint.as_ref().filter(|c| !c.pass) {
        problems.push(format!(
            "checkpoint {} failed: {}",
            c.name,
            c.problems.join("; ")
        ));
    }
    problems.extend(stale(&env.patches_dir, &p.file, &p.sha256));
}

fn check_compile_fail(env: &Env, c: &crate::report::CompileFailResult, problems: &mut Vec<String>) {
    if !c.pass {
        problems.push(format!(
            "compile-fail {} did not fail as expected: {}",
            c.name,
            c.problems.join("; ")
        ));
    }
    problems.extend(stale(&env.patches_dir, &c.patch, &c.sha256));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_without_report() -> Env {
        Env {
            report: Err("no report at /nowhere".into()),
            patches_dir: PathBuf::from("/nowhere"),
            strict: false,
        }
    }

    #[test]
    fn missing_report_gives_warning_and_keeps_text() {
        let (out, bad) = chapter(
            &env_without_report(),
            "part1/before.md",
            "Intro\n\n{{#bound-patch 0001-a.patch}}\n\nOutro\n",
        );
        assert!(out.starts_with("Intro\n\n> [!WARNING]\n"), "{out}");
        assert!(out.contains("no report at /nowhere"));
        assert!(out.ends_with("\n\nOutro\n"));
        assert_eq!(bad.len(), 1);
        let msg = bad[0].to_string();
        assert!(msg.contains("chapter part1/before.md: `{{#bound-patch 0001-a.patch}}`"));
    }

    #[test]
    fn malformed_directive_is_unverified() {
        let (_, bad) = chapter(&env_without_report(), "a.md", "{{#bound-bogus}}");
        assert!(bad[0].problems[0].contains("malformed directive"));
    }
}
