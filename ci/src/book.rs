//! The book: its pinned tools (mdBook, mdbook-mermaid, mdbook-linkcheck2),
//! installed once per version into the cache, and `mdbook build` with the
//! `mdbook-bound` preprocessor rendering every listing from the report.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cache::{Cache, Staging};
use crate::pin::Pin;
use crate::progress::Progress;

/// The installed tools: one `bin/` directory per tool.
pub struct Tools {
    pub bins: Vec<PathBuf>,
    pub mdbook: PathBuf,
}

impl Tools {
    /// `PATH` with the tools first.
    pub fn path(&self) -> Result<OsString> {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        Ok(std::env::join_paths(
            self.bins
                .iter()
                .cloned()
                .chain(std::env::split_paths(&rest)),
        )?)
    }
}

/// Installs every pinned tool that is not in the cache yet.
pub fn tools(cache: &Cache, pin: &Pin, p: &Progress) -> Result<Tools> {
    let mut bins = Vec::new();
    for (name, version) in &pin.book.tools {
        let dir = cache.entry("tools", &format!("{name}-{version}"));
        if !dir.join("bin").join(name).is_file() {
            p.say(format!(
                "book: installing {name} {version} with cargo install --locked (a few minutes, once)"
            ));
            let staging = Staging::new(&dir)?;
            let log = staging.path().join("install.log");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args([
                "install",
                "--locked",
                "--quiet",
                "--version",
                version,
                name,
                "--root",
            ])
            .arg(staging.path());
            let (st, took) = p.run_logged(
                &format!("cargo install {name}"),
                &mut cmd,
                &log,
                Duration::from_secs(30),
            )?;
            if !st.success() {
                bail!(
                    "book: `cargo install --locked --version {version} {name}` failed:\n{}",
                    crate::console::tail(&std::fs::read_to_string(&log).unwrap_or_default(), 15)
                );
            }
            staging.commit()?;
            p.say(format!(
                "book: {name} {version} installed in {}",
                crate::progress::fmt_secs(took)
            ));
        }
        bins.push(dir.join("bin"));
    }
    let mdbook = cache
        .entry("tools", &format!("mdbook-{}", pin.book.tools["mdbook"]))
        .join("bin/mdbook");
    Ok(Tools { bins, mdbook })
}

/// Where and how to build.
pub struct BuildSpec<'a> {
    pub repo: &'a Path,
    /// Report directory and series the listings come from.
    pub report: &'a Path,
    pub patches: &'a Path,
    /// Any unverified listing is an error.
    pub strict: bool,
    /// Output directory (mdbook's `-d`).
    pub dest: &'a Path,
}

/// `mdbook build`; returns its combined output.
pub fn build(tools: &Tools, spec: &BuildSpec, p: &Progress) -> Result<String> {
    p.say(format!(
        "book: mdbook build{} into {}",
        if spec.strict {
            " (strict: every listing must be verified)"
        } else {
            ""
        },
        spec.dest.display()
    ));
    let out = Command::new(&tools.mdbook)
        .arg("build")
        .arg("-d")
        .arg(spec.dest)
        .current_dir(spec.repo)
        .env("PATH", tools.path()?)
        .env("BOUND_STRICT", if spec.strict { "1" } else { "0" })
        .env("BOUND_REPORT", spec.report)
        .env("BOUND_PATCHES", spec.patches)
        .output()
        .context("running mdbook build")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("book: mdbook build failed:\n{}", text.trim_end());
    }
    Ok(text)
}
