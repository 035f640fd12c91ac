//! The whole verification: toolchain, tree, series (patch by patch: apply,
//! build, boot its checkpoint, try its compile-fail listings), report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use regex::Regex;

use crate::cache::{sha256_file, store_result, write_atomic, Cache, Key, Staging};
use crate::checkpoint::{config_lacks, Booter};
use crate::diagnostics;
use crate::git::Git;
use crate::kbuild::{self, Kbuild};
use crate::manifest::{Checkpoint, CompileFail, DebugPass, FeatureProbe, Manifest, Measure, Patch};
use crate::measure;
use crate::pin::Pin;
use crate::progress::{check_interrupted, fmt_secs, Progress};
use crate::runner::Binds;
use crate::style;
use crate::toolchain::{self, Toolchain};
use crate::tree;
use bound_report::{
    describe_error, CheckpointResult, CompileFailResult, DebugResult, FeatureResult, MeasureResult,
    PatchResult, Report,
};

#[derive(Clone)]
pub struct Options {
    /// The repository root (holds pin.toml, kernel-config/, ci/guest/).
    pub repo: PathBuf,
    /// The directory holding manifest.toml and the patches.
    pub patches: PathBuf,
    /// Where the report goes; replaced as a whole when the run completes.
    pub out: PathBuf,
    pub cache: Cache,
    pub host_toolchain: bool,
    /// Verify the series only up to and including this patch (the
    /// selftest's edits need no more than that).
    pub stop_after: Option<String>,
    pub debug: DebugMode,
}

/// Whether to run the manifest's debug pass, and with how many cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugMode {
    Off,
    /// The manifest's `cycles`, what CI runs.
    Ci,
    /// The manifest's `full_cycles`.
    Full,
    Cycles(u32),
}

impl std::str::FromStr for DebugMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "ci" => Ok(Self::Ci),
            "full" => Ok(Self::Full),
            n => n
                .parse()
                .ok()
                .filter(|&n: &u32| n > 0)
                .map(Self::Cycles)
                .ok_or_else(|| format!("{s:?}: want off, ci, full or a number of cycles")),
        }
    }
}

impl DebugMode {
    fn cycles(self, pass: &DebugPass) -> Option<u32> {
        match self {
            Self::Off => None,
            Self::Ci => Some(pass.cycles),
            Self::Full => Some(pass.full_cycles),
            Self::Cycles(n) => Some(n),
        }
    }
}

/// Everything one run needs while walking the series.
struct Run<'a> {
    p: &'a Progress,
    cache: &'a Cache,
    manifest: &'a Manifest,
    tc: &'a Toolchain,
    git: Git,
    kb: Kbuild<'a>,
    /// Report directory being written, and where it will end up.
    stage: PathBuf,
    out: PathBuf,
    rust_checked: bool,
    /// Hash of the config fragments.
    fragments_key: String,
}

pub fn toolchain(opts: &Options, p: &Progress) -> Result<Toolchain> {
    let pin = Pin::load(&opts.repo.join("pin.toml"))?;
    if opts.host_toolchain {
        toolchain::host()
    } else {
        toolchain::ensure(&opts.cache, &pin, p)
    }
}

pub fn run(opts: &Options, p: &Progress) -> Result<Report> {
    let started = std::time::Instant::now();
    let pin = Pin::load(&opts.repo.join("pin.toml"))?;
    let manifest = Manifest::load(&opts.patches.join("manifest.toml"))?;
    let fragments = fragments(&opts.repo.join("kernel-config"))?;
    let _lock = opts.cache.lock()?;
    opts.cache.sweep_partials()?;

    p.say("step 1/4: toolchain");
    let tc = toolchain(opts, p)?;
    p.say("step 2/4: tree");
    let tree = tree::ensure(&opts.cache, &pin, p)?;

    let work = opts.cache.entry(
        "work",
        &Key::new("work-v1")
            .str(&tc.key)
            .str(&pin.tree.sha256)
            .short(),
    );
    let binds = Binds {
        src: tree.repo.clone(),
        build: work.join("build"),
        scratch: work.join("scratch"),
    };
    std::fs::create_dir_all(&binds.build)?;
    std::fs::create_dir_all(&binds.scratch)?;

    let git = Git::new(&tree.repo);
    // An interrupted earlier run may have left an am session behind.
    let _ = git.output(&["am", "--abort"]);
    git.run(&["checkout", "-q", "-f", "-B", "book-series", &tree.base])?;
    git.run(&["clean", "-q", "-f", "-d", "-x"])?;

    let stage = Staging::new(&opts.out)?;
    let mut run = Run {
        p,
        cache: &opts.cache,
        manifest: &manifest,
        tc: &tc,
        git,
        kb: Kbuild {
            runner: &tc.runner,
            binds,
            progress: p,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        },
        stage: stage.path().to_path_buf(),
        out: opts.out.clone(),
        rust_checked: false,
        fragments_key: {
            let mut k = Key::new("fragments");
            k.str(&tc.key).str(&pin.tree.sha256);
            for f in &fragments {
                k.file(f)?;
            }
            k.hex()
        },
    };
    run.kb.stage_fragments(&fragments)?;
    let booter = Booter {
        p,
        cache: &opts.cache,
        manifest: &manifest,
        tc: &tc,
        binds: run.kb.binds.clone(),
        forbidden: manifest
            .console
            .forbidden
            .iter()
            .map(|r| Regex::new(r))
            .collect::<Result<_, _>>()?,
        init: std::fs::read_to_string(opts.repo.join("ci/guest/init"))
            .context("reading ci/guest/init")?,
        stage: run.stage.clone(),
        out: run.out.clone(),
    };

    let mut report = Report {
        kernel: pin.tree.kernel.clone(),
        tree_package: pin.tree.package.clone(),
        tree_version: pin.tree.version.clone(),
        tree_sha256: pin.tree.sha256.clone(),
        base_commit: tree.base.clone(),
        toolchain: tc.versions.clone(),
        host_toolchain: opts.host_toolchain,
        ..Default::default()
    };

    let series = match &opts.stop_after {
        None => &manifest.patches[..],
        Some(last) => {
            let i = manifest
                .patches
                .iter()
                .position(|p| &p.file == last)
                .with_context(|| format!("--stop-after {last}: no such patch in the manifest"))?;
            &manifest.patches[..=i]
        }
    };
    p.say(format!(
        "step 3/4: series ({} of {} patches, {} compile-fail listings)",
        series.len(),
        manifest.patches.len(),
        manifest
            .compile_fails
            .iter()
            .filter(|c| series.iter().any(|p| p.file == c.after))
            .count()
    ));
    let mut prefix = Key::new("series-v3");
    prefix.str(&tc.key).str(&pin.tree.sha256);
    for f in &fragments {
        prefix.file(f)?;
    }
    // The last patch's build artefacts and key, for the debug pass.
    let tip = series_with_boots(&mut run, &booter, series, &mut prefix, &mut report)?;

    if let Some((pass, cycles)) = manifest
        .debug
        .as_ref()
        .and_then(|d| opts.debug.cycles(d).map(|n| (d, n)))
    {
        check_interrupted()?;
        if report.failures().is_empty() && report.patches.len() == manifest.patches.len() {
            p.say(format!(
                "step 3b: debug pass at the tip ({} checkpoints, {cycles} cycles each)",
                pass.checkpoints.len()
            ));
            let (built, key) = tip.as_ref().context("the series has no patches")?;
            report.debug = Some(debug_pass(&booter, built, key, pass, cycles)?);
        } else {
            p.say("step 3b: debug pass skipped: the series did not verify");
        }
    }

    // An interrupted build or boot must not be reported as a failure of
    // the patch: stop here, leaving the previous report in place.
    check_interrupted()?;
    p.say("step 4/4: report");
    report.total_seconds = started.elapsed().as_secs_f64();
    report.ok = report.failures().is_empty() && report.patches.len() == series.len();
    write_atomic(
        &stage.path().join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    write_atomic(&stage.path().join("summary.md"), report.summary())?;
    stage.commit()?;
    eprintln!("\n{}", report.summary());
    p.say(format!(
        "report: {} and {}",
        opts.out.join("report.json").display(),
        opts.out.join("summary.md").display()
    ));
    Ok(report)
}

/// A checkpoint for the boot thread: the patch's index in the report, and
/// what [`Booter::checkpoint`] takes.
struct BootJob<'m> {
    index: usize,
    tag: String,
    key: String,
    built: PathBuf,
    cp: &'m Checkpoint,
}

/// The series proper, with each patch's checkpoint booted on a thread of
/// its own while the next patch applies and builds. QEMU runs one vCPU, and
/// much of an incremental kernel build is a single rustc or a single link,
/// so the boot and the build share the cores. The thread boots one
/// checkpoint at a time, in series order; their results join the report
/// when the series is done. Returns the tip's build artefacts and key.
fn series_with_boots<'m>(
    run: &mut Run,
    booter: &Booter,
    series: &'m [Patch],
    prefix: &mut Key,
    report: &mut Report,
) -> Result<Option<(PathBuf, String)>> {
    let (jobs, queue) = std::sync::mpsc::channel::<BootJob<'m>>();
    std::thread::scope(|s| {
        let boots = s.spawn(move || -> Result<Vec<(usize, CheckpointResult)>> {
            let mut booted = Vec::new();
            for job in queue {
                let r = booter.checkpoint(&job.tag, &job.key, &job.built, job.cp)?;
                booted.push((job.index, r));
            }
            Ok(booted)
        });
        let tip = apply_and_build(run, series, prefix, report, &jobs);
        // The thread ends once it has booted what is queued.
        drop(jobs);
        let booted = boots
            .join()
            .map_err(|_| anyhow::anyhow!("the boot thread panicked"))?;
        // An error of the series (an interrupt, say) comes first.
        let tip = tip?;
        for (i, r) in booted? {
            report.patches[i].checkpoint = Some(r);
        }
        Ok(tip)
    })
}

/// Each patch of `series` in turn: apply, check its style, build, measure,
/// queue its checkpoint on `jobs`, try its compile-fail listings.
fn apply_and_build<'m>(
    run: &mut Run,
    series: &'m [Patch],
    prefix: &mut Key,
    report: &mut Report,
    jobs: &std::sync::mpsc::Sender<BootJob<'m>>,
) -> Result<Option<(PathBuf, String)>> {
    let mut tip: Option<(PathBuf, String)> = None;
    for (i, patch) in series.iter().enumerate() {
        check_interrupted()?;
        let tag = format!("[{}/{}] {}", i + 1, series.len(), patch.file);
        let path = run.manifest.path(&patch.file);
        prefix.file(&path)?;
        let mut res = PatchResult {
            file: patch.file.clone(),
            chapter: patch.chapter.clone(),
            sha256: sha256_file(&path)?,
            ..Default::default()
        };
        run.p.say(format!("{tag}: git am"));
        if let Err(e) = run.git.am(&path) {
            report.stopped = Some(format!("{e:#}"));
            report.patches.push(res);
            break;
        }
        res.applied = true;
        res.commit = run.git.rev_parse("HEAD")?;
        res.subject = run.git.subject("HEAD")?;
        res.files = run.git.changed_files("HEAD")?;
        run.export_files(&patch.file, &res.files)?;
        res.style = run.checkpatch(&tag, &path)?;
        std::fs::create_dir_all(run.stage.join("patches"))?;
        std::fs::copy(&path, run.stage.join("patches").join(&patch.file))?;

        let key = prefix.short();
        let built = match run.build(&tag, &key, &patch.file, &mut res) {
            Ok(dir) => dir,
            Err(e) => {
                report.stopped = Some(format!("{e:#}"));
                report.patches.push(res);
                break;
            }
        };
        for m in &patch.measures {
            match run.measure(&tag, &patch.file, &built, m) {
                Ok(r) => res.measures.push(r),
                Err(e) => res.measure_problems.push(format!("{e:#}")),
            }
        }
        for f in &patch.features {
            match run.feature_probe(&tag, &key, &patch.file, f) {
                Ok(r) => res.features.push(r),
                Err(e) => res.measure_problems.push(format!("{e:#}")),
            }
        }
        if let Some(cp) = &patch.checkpoint {
            let job = BootJob {
                index: report.patches.len(),
                tag: tag.clone(),
                key: key.clone(),
                built: built.clone(),
                cp,
            };
            if jobs.send(job).is_err() {
                // The boot thread has stopped; its error is the run's.
                report.patches.push(res);
                break;
            }
        }
        tip = Some((built, key.clone()));
        for cf in run
            .manifest
            .compile_fails
            .iter()
            .filter(|c| c.after == patch.file)
        {
            report
                .compile_fail
                .push(run.compile_fail(&tag, &key, &res.commit, cf)?);
        }
        report.patches.push(res);
    }
    Ok(tip)
}

/// Boots the manifest's debug checkpoints on the tip of the series (its
/// build artefacts in `built`, cache key `key`) with `book.cycles=<cycles>`
/// and `book.reloads=<reloads>`. The series' config turns the kernel's
/// checkers on (`kernel-config/debug.config`), so there is nothing to
/// build; the checkpoints do the stress that the series' own ones do not.
fn debug_pass(
    booter: &Booter,
    built: &Path,
    key: &str,
    pass: &DebugPass,
    cycles: u32,
) -> Result<DebugResult> {
    let tag = "[debug]";
    let mut d = DebugResult {
        cycles,
        reloads: pass.reloads,
        options: pass.options.clone(),
        ..Default::default()
    };
    if let Some(missing) = config_lacks(built, &pass.options)? {
        d.problems.push(format!(
            "the tip's build lacks {missing}; check kernel-config/debug.config"
        ));
        return Ok(d);
    }
    for cp in &pass.checkpoints {
        check_interrupted()?;
        let mut cp = cp.clone();
        cp.cmdline.push(format!("book.cycles={cycles}"));
        cp.cmdline.push(format!("book.reloads={}", pass.reloads));
        d.checkpoints.push(booter.checkpoint(tag, key, built, &cp)?);
    }
    Ok(d)
}

/// The config fragments, in name order.
fn fragments(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "config"))
        .collect();
    v.sort();
    anyhow::ensure!(!v.is_empty(), "no *.config fragments in {}", dir.display());
    Ok(v)
}

impl Run<'_> {
    fn log_path(&self, name: &str) -> (PathBuf, PathBuf) {
        let rel = Path::new("logs").join(name);
        (self.stage.join(&rel), self.out.join(&rel))
    }

    /// Regenerates `.config` unless its inputs (the toolchain, the tree, the
    /// fragments and every Kconfig file of the current tree) are the ones
    /// it was last made from. A `.config` made from the same inputs before,
    /// by this run or an earlier one, comes from the cache: configuring
    /// takes about a minute, and its result depends on nothing else.
    fn ensure_configured(&mut self, log: &Path) -> Result<()> {
        let mut key = Key::new("config-v2");
        key.str(&self.fragments_key);
        for line in self.git.run(&["ls-tree", "-r", "HEAD"])?.lines() {
            if line.contains("Kconfig") {
                key.str(line);
            }
        }
        let (entry, key) = (self.cache.entry("configs", &key.short()), key.hex());
        let stamp = self.kb.binds.build.join(".bound-config-key");
        let config = self.kb.binds.build.join(".config");
        let have = std::fs::read_to_string(&stamp).unwrap_or_default();
        if have != key || !config.is_file() {
            // Invalidate first: an interrupted configure must not look done.
            let _ = std::fs::remove_file(&stamp);
            let cached = std::fs::read(entry.join("config")).unwrap_or_default();
            if !cached.is_empty() {
                // Rewritten only if it differs, so that make sees no change
                // when there is none.
                if std::fs::read(&config).ok().as_deref() != Some(&cached[..]) {
                    write_atomic(&config, &cached)?;
                }
                self.p.say(format!(
                    "configure: .config from the cache ({})",
                    entry.display()
                ));
            } else {
                self.kb.configure(log)?;
                let staging = Staging::new(&entry)?;
                std::fs::copy(&config, staging.path().join("config"))?;
                staging.commit()?;
            }
            write_atomic(&stamp, &key)?;
        }
        if !self.rust_checked {
            self.kb.rust_available(log)?;
            self.rust_checked = true;
        }
        Ok(())
    }

    /// Builds `bzImage` for the current commit unless an identical prefix
    /// of the series was built before; returns the artefact directory.
    fn build(
        &mut self,
        tag: &str,
        key: &str,
        file: &str,
        res: &mut PatchResult,
    ) -> Result<PathBuf> {
        let dir = self.cache.entry("builds", key);
        let stem = file.trim_end_matches(".patch");
        let (log, final_log) = self.log_path(&format!("{stem}.build.log"));
        std::fs::create_dir_all(log.parent().unwrap())?;
        res.build_log = format!("logs/{stem}.build.log");
        if let Ok(meta) = std::fs::read_to_string(dir.join("build.json")) {
            let meta: serde_json::Value = serde_json::from_str(&meta)?;
            res.built = true;
            res.build_cached = true;
            res.build_seconds = meta["seconds"].as_f64().unwrap_or(0.0);
            res.style.extend(serde_json::from_value::<Vec<String>>(
                meta["style"].clone(),
            )?);
            write_atomic(
                &log,
                format!("(build reused from the cache: {})\n", dir.display()),
            )?;
            self.p
                .say(format!("{tag}: build cached (same series prefix)"));
            return Ok(dir);
        }
        self.p
            .say(format!("{tag}: configure and build bzImage and modules"));
        self.ensure_configured(&log)?;
        let (st, took) = self.kb.make(
            &format!("{stem}: make bzImage modules"),
            &["bzImage", "modules"],
            &log,
        )?;
        res.build_seconds = took.as_secs_f64();
        if !st.success() {
            let text = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .replace(&self.tc.runner.src_prefix(&self.kb.binds), "");
            res.build_errors = diagnostics::first_errors(&text, 3);
            anyhow::bail!(
                "{file} does not build (make exited with {st}). First errors:\n{}\nfull log: {}",
                res.build_errors,
                final_log.display()
            );
        }
        res.built = true;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut style = diagnostics::warnings_in(&text, &res.files);
        style.extend(style::rustfmt(
            &self.tc.runner,
            &self.kb.binds,
            self.p,
            &res.files,
            &log,
        )?);
        res.style.extend(style.iter().cloned());
        let staging = Staging::new(&dir)?;
        std::fs::copy(self.kb.bzimage(), staging.path().join("bzImage"))?;
        std::fs::copy(
            self.kb.binds.build.join(".config"),
            staging.path().join("config"),
        )?;
        let modules = staging.path().join("modules");
        std::fs::create_dir_all(&modules)?;
        for ko in self.kb.modules()? {
            let name = ko.file_name().context("module without a name")?;
            std::fs::copy(&ko, modules.join(name))
                .with_context(|| format!("copying {}", ko.display()))?;
        }
        write_atomic(
            &staging.path().join("build.json"),
            serde_json::json!({ "seconds": res.build_seconds, "style": style }).to_string(),
        )?;
        let dir = staging.commit()?;
        self.p.say(format!("{tag}: built in {}", fmt_secs(took)));
        Ok(dir)
    }

    /// Measures the generated code of `m.symbol` in the module the build
    /// in `built` made.
    fn measure(&self, tag: &str, file: &str, built: &Path, m: &Measure) -> Result<MeasureResult> {
        let ko = built.join("modules").join(&m.module);
        anyhow::ensure!(
            ko.is_file(),
            "measure {}: the build made no module {}; is it =m in kernel-config/?",
            m.name,
            m.module
        );
        let copy = self.kb.binds.scratch.join("measure").join(&m.module);
        std::fs::create_dir_all(copy.parent().unwrap())?;
        std::fs::copy(&ko, &copy)?;
        let stem = file.trim_end_matches(".patch");
        let (log, _) = self.log_path(&format!("{stem}.measure-{}.log", m.name));
        let r = measure::run(&self.tc.runner, &self.kb.binds, self.p, m, &copy, &log)?;
        self.p.say(format!(
            "{tag}: measured {}: {} bytes, {} instructions",
            r.symbol, r.bytes, r.instructions
        ));
        Ok(r)
    }

    /// Builds `fp.target` once more with `fp.name` taken out of the tree's
    /// `rust_allowed_features`, and tells whether it needs the feature: the
    /// build fails with an E0658 that names it, or succeeds. Any other
    /// failure is an error. The results are cached per series prefix.
    fn feature_probe(
        &self,
        tag: &str,
        key: &str,
        file: &str,
        fp: &FeatureProbe,
    ) -> Result<FeatureResult> {
        let mut k = Key::new("feature-v1");
        k.str(key).str(&fp.name).str(&fp.target);
        let dir = self.cache.entry("features", &k.short());
        if let Ok(text) = std::fs::read_to_string(dir.join("result.json")) {
            return Ok(serde_json::from_str(&text)?);
        }
        let mk = self.kb.binds.src.join("scripts/Makefile.build");
        let allowed = kbuild::allowed_rust_features(
            &std::fs::read_to_string(&mk).with_context(|| format!("reading {}", mk.display()))?,
        )?;
        anyhow::ensure!(
            allowed.contains(&fp.name),
            "feature probe: {} is not in the tree's rust_allowed_features ({})",
            fp.name,
            allowed.join(",")
        );
        let rest: Vec<&str> = allowed
            .iter()
            .filter(|f| **f != fp.name)
            .map(String::as_str)
            .collect();
        let stem = file.trim_end_matches(".patch");
        let (log, final_log) = self.log_path(&format!("{stem}.without-{}.log", fp.name));
        self.p.say(format!(
            "{tag}: build {} without feature {}",
            fp.target, fp.name
        ));
        let (st, _) = self.kb.make(
            &format!("{stem}: {} without {}", fp.target, fp.name),
            &[
                &fp.target,
                &format!("rust_allowed_features={}", rest.join(",")),
            ],
            &log,
        )?;
        let mut r = FeatureResult {
            name: fp.name.clone(),
            target: fp.target.clone(),
            ..Default::default()
        };
        if !st.success() {
            let text = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .replace(&self.tc.runner.src_prefix(&self.kb.binds), "");
            let d = diagnostics::errors(&text)
                .into_iter()
                .find(|d| d.code == "E0658" && d.text.contains(&fp.name))
                .with_context(|| {
                    format!(
                        "{} failed to build without {}, but not for want of it. First errors:\n{}\nfull log: {}",
                        fp.target,
                        fp.name,
                        diagnostics::first_errors(&text, 3),
                        final_log.display()
                    )
                })?;
            r.needed = true;
            r.error = d.text;
        }
        self.p.say(format!(
            "{tag}: {} {} {}",
            fp.target,
            if r.needed { "needs" } else { "does not need" },
            fp.name
        ));
        store_result(&dir, &r, &[])?;
        Ok(r)
    }

    /// checkpatch on a series or compile-fail patch.
    fn checkpatch(&self, tag: &str, patch: &Path) -> Result<Vec<String>> {
        let name = patch
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let copy = self.kb.binds.scratch.join("checkpatch").join(&name);
        std::fs::create_dir_all(copy.parent().unwrap())?;
        std::fs::copy(patch, &copy)?;
        let (log, _) = self.log_path(&format!(
            "{}.checkpatch.log",
            name.trim_end_matches(".patch")
        ));
        std::fs::create_dir_all(log.parent().unwrap())?;
        let found = style::checkpatch(
            &self.tc.runner,
            &self.kb.binds,
            self.p,
            &copy,
            &log,
            &self.manifest.style.checkpatch_allow,
        )?;
        if !found.is_empty() {
            self.p
                .say(format!("{tag}: checkpatch: {}", found.join("; ")));
        }
        Ok(found)
    }

    /// Copies the files a patch touched, as they stand after it, into the
    /// report (the book shows them).
    fn export_files(&self, file: &str, files: &[String]) -> Result<()> {
        let dest = self
            .stage
            .join("files")
            .join(file.trim_end_matches(".patch"));
        for f in files {
            let src = self.kb.binds.src.join(f);
            if src.is_file() {
                let to = dest.join(f);
                std::fs::create_dir_all(to.parent().unwrap())?;
                std::fs::copy(&src, &to)?;
            }
        }
        Ok(())
    }

    fn compile_fail(
        &mut self,
        tag: &str,
        key: &str,
        commit: &str,
        cf: &CompileFail,
    ) -> Result<CompileFailResult> {
        let path = self.manifest.path(&cf.patch);
        let mut k = Key::new("compile-fail-v2");
        k.str(key).file(&path)?;
        k.str(&cf.target).str(&cf.code).str(&cf.message);
        let dir = self.cache.entry("compile-fail", &k.short());
        let err_rel = format!("compile-fail/{}.txt", cf.name);
        std::fs::create_dir_all(self.stage.join("compile-fail"))?;
        std::fs::copy(
            &path,
            self.stage
                .join("compile-fail")
                .join(format!("{}.patch", cf.name)),
        )?;
        if let Ok(text) = std::fs::read_to_string(dir.join("result.json")) {
            let mut r: CompileFailResult = serde_json::from_str(&text)?;
            write_atomic(&self.stage.join(&err_rel), &r.error)?;
            r.cached = true;
            self.p.say(format!(
                "{tag}: compile-fail {} failed as expected before (cached)",
                cf.name
            ));
            return Ok(r);
        }
        let mut r = CompileFailResult {
            name: cf.name.clone(),
            patch: cf.patch.clone(),
            after: cf.after.clone(),
            code: cf.code.clone(),
            sha256: sha256_file(&path)?,
            ..Default::default()
        };
        r.problems.extend(self.checkpatch(tag, &path)?);
        self.p.say(format!(
            "{tag}: compile-fail {}: apply and build {}",
            cf.name, cf.target
        ));
        if let Err(e) = self.git.am(&path) {
            r.problems.push(format!("{e:#}"));
            return Ok(r);
        }
        let (log, final_log) = self.log_path(&format!("compile-fail-{}.log", cf.name));
        let built = self.ensure_configured(&log).and_then(|()| {
            self.kb
                .make(&format!("compile-fail {}", cf.name), &[&cf.target], &log)
        });
        self.git.reset_hard(commit)?;
        let (st, _) = built?;
        // Paths relative to the tree, as a reader's own build would show them.
        let text = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .replace(&self.tc.runner.src_prefix(&self.kb.binds), "");
        let diags = diagnostics::errors(&text);
        let re = Regex::new(&cf.message)?;
        if st.success() {
            r.problems.push(format!(
                "{} built, but this listing must fail with {}; full log: {}",
                cf.target,
                describe_error(&cf.code),
                final_log.display()
            ));
        } else if let Some(d) = diagnostics::find_expected(&diags, &cf.code, &re) {
            r.pass = r.problems.is_empty();
            r.error = d.text.clone();
        } else {
            r.problems.push(format!(
                "the build failed, but not with {} /{}/. First errors:\n{}\nfull log: {}",
                describe_error(&cf.code),
                cf.message,
                diagnostics::first_errors(&text, 3),
                final_log.display()
            ));
        }
        write_atomic(&self.stage.join(&err_rel), &r.error)?;
        if r.pass {
            store_result(&dir, &r, &[])?;
            self.p.say(format!(
                "{tag}: compile-fail {} fails with {} as expected",
                cf.name,
                describe_error(&cf.code)
            ));
        } else {
            self.p.say(format!(
                "{tag}: compile-fail {} FAILED: {}",
                cf.name,
                r.problems.join("; ")
            ));
        }
        Ok(r)
    }
}
