//! `patches/manifest.toml`: which patches make the series, in order, and
//! what each one must prove (checkpoints and compile-fail cases).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub console: ConsoleRules,
    /// The machine QEMU gives every checkpoint.
    pub guest: Guest,
    #[serde(default)]
    pub style: StyleRules,
    #[serde(default, rename = "patch")]
    pub patches: Vec<Patch>,
    #[serde(default, rename = "compile_fail")]
    pub compile_fails: Vec<CompileFail>,
    /// The debug pass over the tip of the series.
    #[serde(default)]
    pub debug: Option<DebugPass>,
    /// The directory the manifest was read from; paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The guest machine of every boot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guest {
    /// QEMU's `-m`: a number of MiB or GiB, such as `256M`.
    pub memory: String,
}

/// Rules applied to every boot console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleRules {
    /// Regexes that must not match anywhere in a console (splats).
    pub forbidden: Vec<String>,
}

/// Style checks applied to every patch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleRules {
    /// checkpatch message types that do not fail a patch.
    #[serde(default)]
    pub checkpatch_allow: Vec<String>,
}

/// The debug pass: stress checkpoints booted on the tip of the series,
/// whose build has the kernel's checkers on (`kernel-config/debug.config`)
/// and the samples as modules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugPass {
    /// Unbind/bind cycles per driver in the test command, passed to the
    /// guest as `book.cycles=N`.
    pub cycles: u32,
    /// The full count, for `cargo xtask verify --debug full`.
    pub full_cycles: u32,
    /// rmmod/insmod cycles per sample module, in every mode, passed to the
    /// guest as `book.reloads=N`.
    pub reloads: u32,
    /// Kconfig symbols that must be `y` in the tip's build; the report and
    /// the book list them.
    pub options: Vec<String>,
    #[serde(default, rename = "checkpoint")]
    pub checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// File name under `patches/`.
    pub file: String,
    /// The book chapter that shows this patch.
    #[serde(default)]
    pub chapter: Option<String>,
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
    #[serde(default, rename = "measure")]
    pub measures: Vec<Measure>,
    #[serde(default, rename = "feature")]
    pub features: Vec<FeatureProbe>,
}

/// An unstable feature to take out of the kernel's `rust_allowed_features`
/// for one more build of `target` (`[[patch.feature]]`): the report says
/// whether the patch's code needs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureProbe {
    pub name: String,
    /// The make target, e.g. `samples/rust/rust_edu.o`.
    pub target: String,
}

/// A function whose generated code the verifier measures in the build of
/// a patch (`[[patch.measure]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// What is measured; patches that measure the same thing use the same
    /// name, and the book compares them.
    pub name: String,
    /// The module file, as the build's `modules.order` names it, e.g.
    /// `rust_edu.ko`.
    pub module: String,
    /// Regex on the demangled symbol names of the module; exactly one must
    /// match.
    pub symbol: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub name: String,
    /// Guest script under `patches/`, sourced by the harness's `/init`.
    pub script: String,
    /// QEMU `-device` arguments, in order.
    pub devices: Vec<String>,
    /// Kconfig symbols (without `CONFIG_`) that must be `y` for this boot.
    #[serde(default)]
    pub config: Vec<String>,
    /// Regexes that must appear in the console, in this order.
    #[serde(default)]
    pub expect: Vec<String>,
    /// Hard limit for the boot, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// KUnit suites that must run at boot and pass (parsed from the KTAP
    /// in the console).
    #[serde(default)]
    pub kunit: Vec<String>,
    /// Extra kernel command-line arguments for this boot.
    #[serde(default)]
    pub cmdline: Vec<String>,
}

fn default_timeout() -> u64 {
    120
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileFail {
    pub name: String,
    /// Patch under `patches/`, applied with `git am` on top of `after`.
    pub patch: String,
    /// The series patch (file name) it applies on top of.
    pub after: String,
    /// The make target that must fail, e.g. `samples/rust/rust_testdev.o`.
    pub target: String,
    /// Expected rustc error code, e.g. `E0521`; `""` for an error that
    /// rustc prints without a code, such as "lifetime may not live long
    /// enough".
    pub code: String,
    /// Regex the error's message line must match.
    pub message: String,
}

fn check_checkpoint<'a>(c: &'a Checkpoint, names: &mut BTreeSet<&'a str>) -> Result<()> {
    ensure!(
        names.insert(c.name.as_str()),
        "checkpoint name {} is used twice",
        c.name
    );
    ensure!(
        !c.devices.is_empty(),
        "checkpoint {}: devices is empty",
        c.name
    );
    ensure!(
        c.timeout_secs > 0,
        "checkpoint {}: timeout_secs is 0",
        c.name
    );
    for re in &c.expect {
        Regex::new(re).with_context(|| format!("checkpoint {}: bad regex {re:?}", c.name))?;
    }
    for a in &c.cmdline {
        ensure!(
            !a.is_empty() && a.bytes().all(|b| b.is_ascii_graphic() && b != b'\''),
            "checkpoint {}: cmdline argument {a:?} must be one word without quotes",
            c.name
        );
    }
    Ok(())
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut m = Self::parse(&text).with_context(|| format!("in {}", path.display()))?;
        m.dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        m.check_files()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(m)
    }

    /// Parses and checks everything that does not need the file system.
    pub fn parse(text: &str) -> Result<Self> {
        let m: Manifest = toml::from_str(text)?;
        ensure!(
            Regex::new("^[1-9][0-9]*[MG]$")?.is_match(&m.guest.memory),
            "guest.memory: {:?} is not a size such as 256M or 1G",
            m.guest.memory
        );
        for re in &m.console.forbidden {
            Regex::new(re).with_context(|| format!("console.forbidden: bad regex {re:?}"))?;
        }
        let mut files = BTreeSet::new();
        let mut names = BTreeSet::new();
        for p in &m.patches {
            ensure!(
                files.insert(p.file.as_str()),
                "patch {} is listed twice",
                p.file
            );
            if let Some(c) = &p.checkpoint {
                check_checkpoint(c, &mut names)?;
            }
            let mut measured = BTreeSet::new();
            for m in &p.measures {
                ensure!(
                    measured.insert(m.name.as_str()),
                    "patch {}: measure {} is listed twice",
                    p.file,
                    m.name
                );
                Regex::new(&m.symbol).with_context(|| {
                    format!("patch {}: measure {}: bad symbol regex", p.file, m.name)
                })?;
            }
        }
        if let Some(d) = &m.debug {
            ensure!(
                d.cycles > 0 && d.cycles <= d.full_cycles,
                "debug: need 0 < cycles <= full_cycles"
            );
            ensure!(d.reloads > 0, "debug: need reloads > 0");
            ensure!(!d.checkpoints.is_empty(), "debug: no checkpoints");
            for c in &d.checkpoints {
                check_checkpoint(c, &mut names)?;
            }
        }
        for cf in &m.compile_fails {
            ensure!(
                names.insert(cf.name.as_str()),
                "name {} is used twice",
                cf.name
            );
            ensure!(
                files.contains(cf.after.as_str()),
                "compile_fail {}: `after` names {}, which is not a patch of the series",
                cf.name,
                cf.after
            );
            ensure!(
                cf.code.is_empty()
                    || (cf.code.len() == 5
                        && cf.code.starts_with('E')
                        && cf.code[1..].bytes().all(|b| b.is_ascii_digit())),
                "compile_fail {}: code {:?} is not a rustc error code like E0521 \
                 (use \"\" for an error without a code)",
                cf.name,
                cf.code
            );
            Regex::new(&cf.message)
                .with_context(|| format!("compile_fail {}: bad regex {:?}", cf.name, cf.message))?;
        }
        Ok(m)
    }

    /// Checks that every referenced file exists and that every series patch
    /// file in the directory is listed (a forgotten patch is an error).
    fn check_files(&self) -> Result<()> {
        let mut referenced = Vec::new();
        for p in &self.patches {
            referenced.push(p.file.clone());
            if let Some(c) = &p.checkpoint {
                referenced.push(c.script.clone());
            }
        }
        for cf in &self.compile_fails {
            referenced.push(cf.patch.clone());
        }
        for c in self.debug.iter().flat_map(|d| &d.checkpoints) {
            referenced.push(c.script.clone());
        }
        for r in &referenced {
            ensure!(
                self.dir.join(r).is_file(),
                "{} is named in the manifest but {} does not exist",
                r,
                self.dir.join(r).display()
            );
        }
        let listed: BTreeSet<&str> = self.patches.iter().map(|p| p.file.as_str()).collect();
        for e in std::fs::read_dir(&self.dir)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".patch")
                && !is_cover_letter(&name)
                && !listed.contains(name.as_str())
            {
                bail!("patches/{name} is not listed in the manifest; add a [[patch]] entry for it");
            }
        }
        self.check_cover_letter()
    }

    /// The cover letter, where there is one, must list every patch of the
    /// series in order under a `[PATCH 0/N]` subject.
    fn check_cover_letter(&self) -> Result<()> {
        let Some(cover) = std::fs::read_dir(&self.dir)?
            .flatten()
            .map(|e| e.path())
            .find(|p| is_cover_letter(&p.file_name().unwrap_or_default().to_string_lossy()))
        else {
            return Ok(());
        };
        let text = std::fs::read_to_string(&cover)?;
        let total = self.patches.len();
        ensure!(
            text.contains(&format!("[PATCH 0/{total}]")),
            "{}: the subject must say [PATCH 0/{total}]",
            cover.display()
        );
        let mut at = 0;
        for p in &self.patches {
            let mail = std::fs::read_to_string(self.path(&p.file))?;
            let subject =
                patch_subject(&mail).with_context(|| format!("{} has no Subject: line", p.file))?;
            let Some(found) = text[at..].find(&subject) else {
                bail!(
                    "{} does not list {subject:?} after the patches before it; \
                     update its shortlog",
                    cover.display()
                );
            };
            at += found + subject.len();
        }
        Ok(())
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

pub fn is_cover_letter(name: &str) -> bool {
    name.starts_with("0000-")
}

/// The `Subject:` of a format-patch mail, unfolded, without `[PATCH ...]`.
pub fn patch_subject(mail: &str) -> Option<String> {
    let mut lines = mail.lines().skip_while(|l| !l.starts_with("Subject: "));
    let mut s = lines.next()?.trim_start_matches("Subject: ").to_owned();
    for l in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
        s.push_str(l.trim_end());
    }
    let s = match s.strip_prefix('[') {
        Some(rest) => rest
            .split_once("] ")
            .map_or(s.clone(), |(_, r)| r.to_owned()),
        None => s,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[console]
forbidden = ['WARNING:', 'BUG:']

[guest]
memory = "256M"

[[patch]]
file = "0001-a.patch"
chapter = "before"
[patch.checkpoint]
name = "a"
script = "checkpoints/a.sh"
devices = ["pci-testdev"]
expect = ['probe: .* count 1']

[[compile_fail]]
name = "escape"
patch = "compile-fail/escape.patch"
after = "0001-a.patch"
target = "samples/rust/x.o"
code = "E0521"
message = "borrowed data escapes"
"#;

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.patches.len(), 1);
        let c = m.patches[0].checkpoint.as_ref().unwrap();
        assert_eq!(c.timeout_secs, 120);
        assert_eq!(m.compile_fails[0].code, "E0521");
    }

    #[test]
    fn rejects_compile_fail_after_unknown_patch() {
        let bad = GOOD.replace("after = \"0001-a.patch\"", "after = \"0009-z.patch\"");
        let e = format!("{:#}", Manifest::parse(&bad).unwrap_err());
        assert!(e.contains("0009-z.patch"), "{e}");
    }

    #[test]
    fn rejects_bad_regex_and_unknown_keys() {
        assert!(Manifest::parse(&GOOD.replace("count 1", "count (")).is_err());
        assert!(Manifest::parse(&GOOD.replace("chapter =", "chapterr =")).is_err());
        assert!(Manifest::parse(&GOOD.replace("E0521", "0521")).is_err());
        assert!(Manifest::parse(&GOOD.replace("E0521", "E05x1")).is_err());
    }

    #[test]
    fn rejects_a_guest_memory_that_is_no_size() {
        for bad in ["256", "256 M", "0M", "1T", "-1G", ""] {
            let text = GOOD.replace("memory = \"256M\"", &format!("memory = {bad:?}"));
            let e = format!("{:#}", Manifest::parse(&text).unwrap_err());
            assert!(e.contains("guest.memory"), "{bad}: {e}");
        }
        assert!(Manifest::parse(&GOOD.replace("memory = \"256M\"", "memory = \"1G\"")).is_ok());
    }

    #[test]
    fn accepts_an_error_without_a_code() {
        let m = Manifest::parse(&GOOD.replace("code = \"E0521\"", "code = \"\"")).unwrap();
        assert_eq!(m.compile_fails[0].code, "");
    }

    #[test]
    fn subjects_are_unfolded() {
        let mail = "From x\nSubject: [PATCH 1/2] samples: rust: add a driver for\n QEMU's pci-testdev\n\nBody\n";
        assert_eq!(
            patch_subject(mail).as_deref(),
            Some("samples: rust: add a driver for QEMU's pci-testdev")
        );
    }

    #[test]
    fn repo_manifest_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../patches/manifest.toml");
        let m = Manifest::load(&dir).unwrap();
        assert!(!m.patches.is_empty());
    }
}
