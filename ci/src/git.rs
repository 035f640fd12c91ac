//! Thin git wrapper with a fixed identity and dates, so that applying the
//! same series twice gives the same commits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

pub struct Git {
    dir: PathBuf,
}

impl Git {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(&self.dir)
            .env("GIT_AUTHOR_NAME", "The bound book")
            .env("GIT_AUTHOR_EMAIL", "book@bound.invalid")
            .env("GIT_COMMITTER_NAME", "The bound book")
            .env("GIT_COMMITTER_EMAIL", "book@bound.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        c
    }

    pub fn output(&self, args: &[&str]) -> Result<Output> {
        self.cmd()
            .args(args)
            .output()
            .with_context(|| format!("running git {}", args.join(" ")))
    }

    /// Runs git and returns its stdout; fails with its stderr.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let out = self.output(args)?;
        if !out.status.success() {
            bail!(
                "git {} failed in {}:\n{}{}",
                args.join(" "),
                self.dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        self.run(&["init", "-q", "-b", "main"])?;
        self.run(&["config", "gc.auto", "0"])?;
        Ok(())
    }

    pub fn rev_parse(&self, rev: &str) -> Result<String> {
        Ok(self
            .run(&["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")])?
            .trim()
            .to_owned())
    }

    /// Applies one patch with plain `git am`. On failure the am session is
    /// aborted (the tree is left at the previous commit) and the error names
    /// the patch and what did not apply.
    pub fn am(&self, patch: &Path) -> Result<()> {
        let p = patch.to_string_lossy();
        let out = self.output(&["am", "-q", &p])?;
        if out.status.success() {
            return Ok(());
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = self.output(&["am", "--abort"]);
        bail!(
            "{} does not apply with `git am`: {}\n--- git am said:\n{}",
            patch.file_name().unwrap_or_default().to_string_lossy(),
            am_failure_summary(&text),
            text.trim_end()
        )
    }

    pub fn reset_hard(&self, rev: &str) -> Result<()> {
        self.run(&["reset", "-q", "--hard", rev])?;
        Ok(())
    }

    /// Files a commit changed.
    pub fn changed_files(&self, rev: &str) -> Result<Vec<String>> {
        Ok(self
            .run(&[
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "-r",
                "--root",
                rev,
            ])?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    pub fn subject(&self, rev: &str) -> Result<String> {
        Ok(self
            .run(&["log", "-1", "--format=%s", rev])?
            .trim()
            .to_owned())
    }
}

/// One line saying which file or hunk failed, from `git am` output.
pub fn am_failure_summary(text: &str) -> String {
    let mut parts = Vec::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("error: patch failed: ") {
            parts.push(format!("hunk at {rest} does not match the tree"));
        } else if let Some(rest) = l.strip_prefix("error: ") {
            if rest.contains("does not exist in index") || rest.contains("already exists") {
                parts.push(rest.to_owned());
            }
        }
    }
    if text.contains("Patch is empty") {
        parts.push("the patch is empty (a cover letter listed as a patch?)".to_owned());
    }
    if text.contains("Patch format detection failed") {
        parts.push("not a git format-patch mail".to_owned());
    }
    if parts.is_empty() {
        "see git's output below".to_owned()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_failing_hunk() {
        let t = "Applying: samples: rust: add a driver\n\
                 error: patch failed: samples/rust/Kconfig:62\n\
                 error: samples/rust/Kconfig: patch does not apply\n\
                 Patch failed at 0001 samples: rust: add a driver\n";
        assert_eq!(
            am_failure_summary(t),
            "hunk at samples/rust/Kconfig:62 does not match the tree"
        );
    }

    #[test]
    fn summarises_missing_file_and_bad_format() {
        assert_eq!(
            am_failure_summary("error: samples/rust/x.rs: does not exist in index\n"),
            "samples/rust/x.rs: does not exist in index"
        );
        assert_eq!(
            am_failure_summary("Patch format detection failed.\n"),
            "not a git format-patch mail"
        );
    }

    #[test]
    fn am_on_a_real_repo_reports_and_aborts() {
        let d = std::env::temp_dir().join(format!("bound-git-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let g = Git::new(&d.join("r"));
        g.init().unwrap();
        std::fs::write(d.join("r/f"), "one\ntwo\n").unwrap();
        g.run(&["add", "f"]).unwrap();
        g.run(&["commit", "-qm", "base"]).unwrap();
        std::fs::write(d.join("r/f"), "one\nTWO\n").unwrap();
        g.run(&["commit", "-qam", "change f"]).unwrap();
        g.run(&["format-patch", "-q", "-1", "-o", "../p"]).unwrap();
        g.reset_hard("HEAD~1").unwrap();
        std::fs::write(d.join("r/f"), "uno\ndos\n").unwrap();
        g.run(&["commit", "-qam", "diverge"]).unwrap();
        let patch = std::fs::read_dir(d.join("p"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let e = format!("{:#}", g.am(&patch).unwrap_err());
        assert!(e.contains("0001-change-f.patch does not apply"), "{e}");
        assert!(e.contains("hunk at f:1"), "{e}");
        // The am session was aborted: a new am can start.
        assert!(!d.join("r/.git/rebase-apply").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
