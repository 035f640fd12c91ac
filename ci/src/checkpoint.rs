//! One checkpoint of the manifest: boot it on a build's artefacts, judge
//! the console, and cache a pass. A `Booter` holds only shared references
//! and its own copies, so the series can boot one patch's checkpoint on a
//! thread of its own while it builds the next patch.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use regex::Regex;

use crate::boot::{self, BootSpec};
use crate::cache::{store_result, Cache, Key};
use crate::console;
use crate::initramfs;
use crate::kbuild::missing_symbols;
use crate::ktap;
use crate::manifest::{Checkpoint, Manifest};
use crate::progress::Progress;
use crate::runner::Binds;
use crate::toolchain::{self, Toolchain};
use bound_report::CheckpointResult;

pub struct Booter<'a> {
    pub p: &'a Progress,
    pub cache: &'a Cache,
    pub manifest: &'a Manifest,
    pub tc: &'a Toolchain,
    pub binds: Binds,
    /// The manifest's `console.forbidden`, compiled.
    pub forbidden: Vec<Regex>,
    /// The guest's `/init` (`ci/guest/init`).
    pub init: String,
    /// Report directory being written, and where it will end up.
    pub stage: PathBuf,
    pub out: PathBuf,
}

impl Booter<'_> {
    pub fn checkpoint(
        &self,
        tag: &str,
        key: &str,
        built: &Path,
        cp: &Checkpoint,
    ) -> Result<CheckpointResult> {
        let script = std::fs::read_to_string(self.manifest.path(&cp.script))
            .with_context(|| format!("reading checkpoint script {}", cp.script))?;
        let mut k = Key::new("boot-v1");
        k.str(key)
            .str(&cp.name)
            .str(&cp.script)
            .str(&script)
            .str(&self.init);
        for d in cp.devices.iter().chain(&cp.expect).chain(&cp.config) {
            k.str(d);
        }
        k.str(&cp.timeout_secs.to_string());
        // Only when set, so that checkpoints without KUnit keep their keys.
        for suite in &cp.kunit {
            k.str("kunit").str(suite);
        }
        for arg in &cp.cmdline {
            k.str("cmdline").str(arg);
        }
        k.str("memory").str(&self.manifest.guest.memory);
        let dir = self.cache.entry("boots", &k.short());
        let console_rel = format!("console/{}.log", cp.name);
        let console_path = self.stage.join(&console_rel);
        std::fs::create_dir_all(console_path.parent().unwrap())?;

        if let Ok(text) = std::fs::read_to_string(dir.join("result.json")) {
            let mut r: CheckpointResult = serde_json::from_str(&text)?;
            std::fs::copy(dir.join("console.log"), &console_path)?;
            r.cached = true;
            self.p.say(format!(
                "{tag}: checkpoint {} passed before with these inputs (cached)",
                cp.name
            ));
            return Ok(r);
        }

        let mut r = CheckpointResult {
            name: cp.name.clone(),
            devices: cp.devices.clone(),
            console_log: console_rel,
            ..Default::default()
        };
        if let Some(missing) = config_lacks(built, &cp.config)? {
            r.problems.push(format!(
                "the kernel config lacks {missing}; enable them in kernel-config/*.config"
            ));
            self.p.say(format!(
                "{tag}: checkpoint {} FAILED: {}",
                cp.name, r.problems[0]
            ));
            return Ok(r);
        }

        self.p.say(format!(
            "{tag}: checkpoint {}: boot with {} (timeout {} s)",
            cp.name,
            cp.devices.join(", "),
            cp.timeout_secs
        ));
        let scratch = self.binds.scratch.join(format!("boot-{}", cp.name));
        std::fs::create_dir_all(&scratch)?;
        let kernel = scratch.join("bzImage");
        let initrd = scratch.join("initramfs.cpio");
        std::fs::copy(built.join("bzImage"), &kernel)?;
        initramfs::write(
            &initrd,
            &toolchain::busybox(&self.tc.runner),
            &self.init,
            &script,
            &built_modules(built)?,
        )?;
        let b = boot::run(
            &self.tc.runner,
            &self.binds,
            &BootSpec {
                name: &cp.name,
                kernel: &kernel,
                initrd: &initrd,
                devices: &cp.devices,
                timeout_secs: cp.timeout_secs,
                console_log: &console_path,
                cmdline: &cp.cmdline,
                memory: &self.manifest.guest.memory,
            },
        )?;
        let expect: Vec<Regex> = cp
            .expect
            .iter()
            .map(|e| Regex::new(e))
            .collect::<Result<_, _>>()?;
        let (guest, mut problems) =
            console::judge(&b.console, b.timed_out, &self.forbidden, &expect);
        if let Some(how) = &b.abnormal_exit {
            problems.insert(
                0,
                format!("QEMU did not exit by itself ({how}): it was killed, or it crashed"),
            );
        }
        r.kunit = ktap::suites(&b.console);
        problems.extend(ktap::check(&r.kunit, &cp.kunit));
        r.pass = problems.is_empty();
        r.boot_seconds = b.seconds;
        r.guest = guest.checks;
        r.figures = guest.figures;
        r.problems = problems;
        r.console = b.console;
        if r.pass {
            store_result(&dir, &r, &[(&console_path, "console.log")])?;
            self.p.say(format!(
                "{tag}: checkpoint {} PASS ({} guest checks, boot {:.1} s)",
                cp.name,
                r.guest.len(),
                r.boot_seconds
            ));
        } else {
            self.p.say(format!(
                "{tag}: checkpoint {} FAILED:\n  - {}\n  console: {}",
                cp.name,
                r.problems.join("\n  - "),
                self.out.join(&r.console_log).display()
            ));
        }
        Ok(r)
    }
}

/// The symbols of `wanted` that the build in `built` lacks, as
/// `CONFIG_A=y, CONFIG_B=y`, or `None` if it has them all (`=y` or `=m`).
pub fn config_lacks(built: &Path, wanted: &[String]) -> Result<Option<String>> {
    let config = std::fs::read_to_string(built.join("config"))?;
    let missing = missing_symbols(&config, wanted);
    Ok((!missing.is_empty()).then(|| {
        missing
            .iter()
            .map(|s| format!("CONFIG_{s}=y"))
            .collect::<Vec<_>>()
            .join(", ")
    }))
}

/// The modules of a build artefact directory, as (name, contents), in name
/// order.
fn built_modules(built: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let dir = built.join("modules");
    let mut v = Vec::new();
    if dir.is_dir() {
        for e in std::fs::read_dir(&dir)? {
            let path = e?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let data =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            v.push((name.into_owned(), data));
        }
    }
    v.sort();
    Ok(v)
}
