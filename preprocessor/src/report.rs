//! Loading the verifier's report directory (`cargo xtask verify` output).
//!
//! The report's types are the verifier's own (crate `bound-report`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use bound_report::{CheckpointResult, CompileFailResult, DebugResult, PatchResult, Report};

/// A loaded report and where its files are.
#[derive(Debug)]
pub struct Loaded {
    pub dir: PathBuf,
    pub report: Report,
}

impl Loaded {
    pub fn load(dir: &Path) -> Result<Loaded> {
        let path = dir.join("report.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (run `cargo xtask verify` first)",
                path.display()
            )
        })?;
        let report =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Loaded {
            dir: dir.to_owned(),
            report,
        })
    }

    /// Problems with the run as a whole, which make every listing unverified.
    pub fn run_problems(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(s) = &self.report.stopped {
            v.push(format!("the verification run stopped early: {s}"));
        }
        if !self.report.ok {
            v.push("the verification run failed (report.ok is false)".to_owned());
        }
        v
    }

    pub fn patch(&self, file: &str) -> Result<&PatchResult, String> {
        self.report
            .patches
            .iter()
            .find(|p| p.file == file)
            .ok_or_else(|| format!("patch {file} is not in the report"))
    }

    pub fn compile_fail(&self, name: &str) -> Result<&CompileFailResult, String> {
        self.report
            .compile_fail
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("compile-fail listing {name} is not in the report"))
    }

    /// The checkpoint and the patch it belongs to.
    pub fn checkpoint(&self, name: &str) -> Result<(&PatchResult, &CheckpointResult), String> {
        self.report
            .patches
            .iter()
            .find_map(|p| {
                p.checkpoint
                    .as_ref()
                    .filter(|c| c.name == name)
                    .map(|c| (p, c))
            })
            .ok_or_else(|| format!("checkpoint {name} is not in the report"))
    }

    /// Reads a file of the report directory.
    pub fn read(&self, rel: &str) -> Result<String, String> {
        let path = self.dir.join(rel);
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {} from the report: {e}", path.display()))
    }
}

pub use bound_report::sha256_file;

/// Why the current `patches_dir/rel` is not what was verified, if it is not.
pub fn stale(patches_dir: &Path, rel: &str, verified_sha256: &str) -> Option<String> {
    let path = patches_dir.join(rel);
    match sha256_file(&path) {
        Err(e) => Some(format!(
            "{} is not in the working tree any more ({e})",
            path.display()
        )),
        Ok(sha) if sha != verified_sha256 => Some(format!(
            "stale: {} changed since it was verified (sha256 {} now, {} verified); rerun `cargo xtask verify`",
            path.display(),
            &sha[..12],
            verified_sha256.get(..12).unwrap_or(verified_sha256)
        )),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_partial_report_and_finds_items() {
        let dir = std::env::temp_dir().join(format!("bound-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("report.json"),
            r#"{"ok": false, "patches": [{"file": "0001-a.patch", "sha256": "x",
                "checkpoint": {"name": "cp", "pass": true}}], "compile_fail": [], "extra": 1}"#,
        )
        .unwrap();
        let l = Loaded::load(&dir).unwrap();
        assert_eq!(l.run_problems().len(), 1);
        assert!(l.patch("0001-a.patch").is_ok());
        assert!(l
            .patch("0002-b.patch")
            .unwrap_err()
            .contains("not in the report"));
        assert_eq!(l.checkpoint("cp").unwrap().0.file, "0001-a.patch");
        assert!(l.compile_fail("cf").is_err());

        std::fs::write(dir.join("p.patch"), "abc").unwrap();
        let sha = sha256_file(&dir.join("p.patch")).unwrap();
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(stale(&dir, "p.patch", &sha), None);
        assert!(stale(&dir, "p.patch", "0000").unwrap().contains("stale"));
        assert!(stale(&dir, "q.patch", &sha)
            .unwrap()
            .contains("not in the working tree"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
