//! The verification report: `report.json`, written by the verifier
//! (`cargo xtask verify`, in `ci/`) and read by the book's preprocessor
//! (`mdbook-bound`), and its human summary table.
//!
//! Every struct defaults missing fields, so a report written by a slightly
//! older or newer verifier still loads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The SHA-256 (lowercase hex) of a file, streamed: what the `sha256`
/// fields of the report hold, and what the book compares them with to find
/// stale listings.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The sha256 of `data`, in hex.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The generated code of one function in a module that a patch built
/// (`[[patch.measure]]` in the manifest).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MeasureResult {
    /// The manifest's name for what is measured; the same name in several
    /// patches measures the same thing in each.
    pub name: String,
    pub module: String,
    /// The demangled symbol that was measured.
    pub symbol: String,
    /// Its size in the module's symbol table.
    pub bytes: u64,
    pub instructions: usize,
    /// sha256 of `listing`: equal listings mean identical instructions.
    pub sha256: String,
    /// The instructions, without addresses, with relocations.
    pub listing: String,
}

/// Whether a patch's build of a target needs an unstable feature: the
/// target built again with the feature taken out of the kernel's
/// `rust_allowed_features` (`[[patch.feature]]` in the manifest).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureResult {
    pub name: String,
    pub target: String,
    /// The build without the feature failed because of it.
    pub needed: bool,
    /// The first error that named the feature, when it was needed.
    pub error: String,
}

/// One check the guest reported (`BOOK: PASS name` / `BOOK: FAIL name why`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuestCheck {
    pub name: String,
    pub pass: bool,
    pub why: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// True when every patch applied and built, and every checkpoint and
    /// compile-fail case passed.
    pub ok: bool,
    pub kernel: String,
    pub tree_package: String,
    pub tree_version: String,
    pub tree_sha256: String,
    pub base_commit: String,
    /// Package -> version of the toolchain that verified the series.
    pub toolchain: BTreeMap<String, String>,
    pub host_toolchain: bool,
    pub total_seconds: f64,
    pub patches: Vec<PatchResult>,
    pub compile_fail: Vec<CompileFailResult>,
    /// The debug pass over the tip, when it ran.
    pub debug: Option<DebugResult>,
    /// Set when the run stopped early, with the reason.
    pub stopped: Option<String>,
}

/// The stress checkpoints booted on the tip of the series, whose build has
/// the kernel's checkers on (KASAN, lockdep, kmemleak, ...).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DebugResult {
    /// Unbind/bind cycles per driver that the guest was asked for.
    pub cycles: u32,
    /// rmmod/insmod cycles per sample module that the guest was asked for.
    pub reloads: u32,
    /// The debug options required, all found `=y` in the built config.
    pub options: Vec<String>,
    pub checkpoints: Vec<CheckpointResult>,
    pub problems: Vec<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PatchResult {
    pub file: String,
    /// sha256 of the patch file that was verified.
    pub sha256: String,
    pub subject: String,
    pub chapter: Option<String>,
    pub applied: bool,
    pub commit: String,
    pub built: bool,
    /// True when the build was reused from the cache (inputs unchanged).
    pub build_cached: bool,
    pub build_seconds: f64,
    pub build_log: String,
    pub build_errors: String,
    /// checkpatch findings, rustfmtcheck failures and warnings in the
    /// patch's files; any entry fails the patch.
    pub style: Vec<String>,
    pub files: Vec<String>,
    pub checkpoint: Option<CheckpointResult>,
    pub measures: Vec<MeasureResult>,
    pub features: Vec<FeatureResult>,
    /// Why a measurement or feature probe could not be made; any entry
    /// fails the patch.
    pub measure_problems: Vec<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckpointResult {
    pub name: String,
    pub pass: bool,
    pub cached: bool,
    pub devices: Vec<String>,
    pub boot_seconds: f64,
    pub guest: Vec<GuestCheck>,
    pub problems: Vec<String>,
    /// Path of the console log, relative to the report directory.
    pub console_log: String,
    pub console: String,
    /// The KUnit suites the console reported, whether required or not.
    pub kunit: Vec<KunitSuite>,
    /// Figures the guest reported with `BOOK: FIGURE name value`.
    pub figures: BTreeMap<String, String>,
}

impl KunitSuite {
    /// `rust_dma_fence 4/4 passed` (plus skips and failures, if any).
    pub fn summary(&self) -> String {
        let total = self.passed + self.failed + self.skipped;
        let mut s = format!("{} {}/{} passed", self.name, self.passed, total);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        if self.failed > 0 || !self.ok {
            s.push_str(&format!(", {} FAILED", self.failed));
        }
        s
    }
}

/// One KUnit suite's results, parsed from the KTAP in a boot console.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KunitSuite {
    pub name: String,
    /// The suite printed its own result line.
    pub finished: bool,
    /// That result line said `ok`.
    pub ok: bool,
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    /// Names of the failed tests.
    pub failures: Vec<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CompileFailResult {
    pub name: String,
    pub patch: String,
    /// sha256 of the compile-fail patch that was verified.
    pub sha256: String,
    pub after: String,
    pub pass: bool,
    pub cached: bool,
    /// Expected rustc error code; empty for an error that has none.
    pub code: String,
    /// The matching diagnostic as rustc rendered it.
    pub error: String,
    pub problems: Vec<String>,
}

/// Names an expected rustc error for people: "error E0521", or "an error
/// without a code" for `code` empty (rustc gives some borrow-check errors,
/// such as "lifetime may not live long enough", no code).
pub fn describe_error(code: &str) -> String {
    if code.is_empty() {
        "an error without a code".to_string()
    } else {
        format!("error {code}")
    }
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        if let Some(s) = &self.stopped {
            f.push(s.clone());
        }
        for p in self.patches.iter().filter(|p| !p.style.is_empty()) {
            f.push(format!(
                "patch {} is not style-clean:\n  - {}",
                p.file,
                p.style.join("\n  - ")
            ));
        }
        for p in &self.patches {
            if let Some(c) = p.checkpoint.as_ref().filter(|c| !c.pass) {
                f.push(format!(
                    "checkpoint {} (patch {}) failed:\n  - {}",
                    c.name,
                    p.file,
                    c.problems.join("\n  - ")
                ));
            }
        }
        for p in self
            .patches
            .iter()
            .filter(|p| !p.measure_problems.is_empty())
        {
            f.push(format!(
                "patch {}: measurement failed:\n  - {}",
                p.file,
                p.measure_problems.join("\n  - ")
            ));
        }
        for c in self.compile_fail.iter().filter(|c| !c.pass) {
            f.push(format!(
                "compile-fail {} ({}) failed:\n  - {}",
                c.name,
                c.patch,
                c.problems.join("\n  - ")
            ));
        }
        if let Some(d) = &self.debug {
            if !d.problems.is_empty() {
                f.push(format!("debug pass:\n  - {}", d.problems.join("\n  - ")));
            }
            for c in d.checkpoints.iter().filter(|c| !c.pass) {
                f.push(format!(
                    "debug checkpoint {} failed:\n  - {}",
                    c.name,
                    c.problems.join("\n  - ")
                ));
            }
        }
        f
    }

    /// A Markdown table, one row per patch and per compile-fail case.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "# Series verification: {}\n\nLinux {} ({} {}), rustc {}, bindgen {}, QEMU {}\n\n",
            if self.ok { "PASS" } else { "FAIL" },
            self.kernel,
            self.tree_package,
            self.tree_version,
            self.toolchain.get("rustc").map_or("?", String::as_str),
            self.toolchain.get("bindgen").map_or("?", String::as_str),
            self.toolchain
                .get("qemu-system-x86")
                .map_or("?", String::as_str),
        );
        s.push_str("| patch | applied | built | build s | checkpoint | boot s |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for p in &self.patches {
            let (cp, boot) = match &p.checkpoint {
                None => ("-".to_owned(), "-".to_owned()),
                Some(c) => (
                    format!(
                        "{} {}{}{}",
                        c.name,
                        if c.pass { "PASS" } else { "FAIL" },
                        if c.cached { " (cached)" } else { "" },
                        c.kunit
                            .iter()
                            .map(KunitSuite::summary)
                            .map(|k| format!("; KUnit {k}"))
                            .collect::<String>()
                    ),
                    format!("{:.1}", c.boot_seconds),
                ),
            };
            s.push_str(&format!(
                "| {} | {} | {}{} | {:.1} | {} | {} |\n",
                p.file,
                yes(p.applied),
                yes(p.built),
                if p.build_cached { " (cached)" } else { "" },
                p.build_seconds,
                cp,
                boot
            ));
        }
        if !self.compile_fail.is_empty() {
            s.push_str("\n| compile-fail | after | expected | result |\n|---|---|---|---|\n");
            for c in &self.compile_fail {
                s.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    c.name,
                    c.after,
                    describe_error(&c.code),
                    if c.pass { "fails as expected" } else { "FAIL" }
                ));
            }
        }
        if let Some(d) = &self.debug {
            s.push_str(&format!(
                "\nDebug pass ({} cycles per driver, {} module reloads; {}):\n\n\
                 | checkpoint | result | boot s | figures |\n|---|---|---|---|\n",
                d.cycles,
                d.reloads,
                d.options.join(", ")
            ));
            for c in &d.checkpoints {
                s.push_str(&format!(
                    "| {} | {}{} | {:.1} | {} |\n",
                    c.name,
                    if c.pass { "PASS" } else { "FAIL" },
                    if c.cached { " (cached)" } else { "" },
                    c.boot_seconds,
                    c.figures
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for p in &d.problems {
                s.push_str(&format!("\n{p}\n"));
            }
        }
        if let Some(st) = &self.stopped {
            s.push_str(&format!("\nStopped early: {st}\n"));
        }
        s.push_str(&format!("\nTotal: {:.0} s\n", self.total_seconds));
        s
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_failures_name_the_failing_checkpoint() {
        let r = Report {
            kernel: "7.3.4".into(),
            patches: vec![PatchResult {
                file: "0001-a.patch".into(),
                applied: true,
                built: true,
                checkpoint: Some(CheckpointResult {
                    name: "a".into(),
                    pass: false,
                    problems: vec!["the guest never reported `BOOK: END`".into()],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let s = r.summary();
        assert!(
            s.contains("| 0001-a.patch | yes | yes | 0.0 | a FAIL | 0.0 |"),
            "{s}"
        );
        let f = r.failures();
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("checkpoint a (patch 0001-a.patch) failed"));
    }
}
