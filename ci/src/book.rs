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

/// Installs every pinned tool that is not in the cache yet, each with the
/// features `pin.toml` gives it.
pub fn tools(cache: &Cache, pin: &Pin, p: &Progress) -> Result<Tools> {
    let mut bins = Vec::new();
    for (name, version) in &pin.book.tools {
        bins.push(install(
            cache,
            name,
            version,
            pin.book.features.get(name),
            p,
        )?);
    }
    let mdbook = bins
        .iter()
        .map(|b| b.join("mdbook"))
        .find(|m| m.is_file())
        .context("pin.toml [book.tools] has no mdbook")?;
    Ok(Tools { bins, mdbook })
}

/// mdBook with its default features, `serve` and `watch` among them, which
/// the verified build does not need; `cargo xtask serve` installs it on
/// first use.
pub fn mdbook_with_defaults(cache: &Cache, pin: &Pin, p: &Progress) -> Result<PathBuf> {
    let version = pin
        .book
        .tools
        .get("mdbook")
        .context("pin.toml [book.tools] has no mdbook")?;
    Ok(install(cache, "mdbook", version, None, p)?.join("mdbook"))
}

/// The cache entry name of one tool build: its version, and its features
/// when they are not the crate's defaults.
fn entry_name(name: &str, version: &str, features: Option<&Vec<String>>) -> String {
    match features {
        None => format!("{name}-{version}"),
        Some(f) => format!("{name}-{version}-features-{}", f.join("+")),
    }
}

/// `cargo install --locked` of one tool into its own cache entry, unless it
/// is there; returns the entry's `bin/`. The installs share one target
/// directory, so their common dependencies build once, and build with a
/// release profile made for a short compile (the tools run for seconds).
fn install(
    cache: &Cache,
    name: &str,
    version: &str,
    features: Option<&Vec<String>>,
    p: &Progress,
) -> Result<PathBuf> {
    let dir = cache.entry("tools", &entry_name(name, version, features));
    if dir.join("bin").join(name).is_file() {
        return Ok(dir.join("bin"));
    }
    p.say(format!(
        "book: installing {name} {version} with cargo install --locked (a minute or two, once)"
    ));
    let staging = Staging::new(&dir)?;
    let log = staging.path().join("install.log");
    // At the lowest CPU priority: `cargo xtask test` runs this alongside
    // the kernel builds, which must not slow down for it.
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "19", env!("CARGO")]);
    cmd.args(["install", "--locked", "--quiet", "--version", version, name]);
    if let Some(f) = features {
        cmd.arg("--no-default-features");
        if !f.is_empty() {
            cmd.args(["--features", &f.join(",")]);
        }
    }
    cmd.arg("--root")
        .arg(staging.path())
        .arg("--target-dir")
        .arg(cache.entry("tools", "target"));
    for (k, v) in QUICK_RELEASE {
        cmd.env(k, v);
    }
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
    Ok(dir.join("bin"))
}

/// Release-profile overrides for the tool installs: about half the compile
/// time of the crates' own profiles.
const QUICK_RELEASE: [(&str, &str); 5] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
    ("CARGO_PROFILE_RELEASE_INCREMENTAL", "false"),
];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_tell_feature_sets_apart() {
        assert_eq!(entry_name("mdbook", "0.5.4", None), "mdbook-0.5.4");
        let search = vec!["search".to_owned()];
        assert_eq!(
            entry_name("mdbook", "0.5.4", Some(&search)),
            "mdbook-0.5.4-features-search"
        );
        assert_eq!(
            entry_name("mdbook", "0.5.4", Some(&Vec::new())),
            "mdbook-0.5.4-features-"
        );
    }
}
