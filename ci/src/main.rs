//! `cargo xtask`: the 'bound book's single entry point.
//!
//! The steps read like the pipeline: toolchain, tree, series (apply, build,
//! boot, compile-fail), report. See README.md for the two commands most
//! people need.

mod apt;
mod boot;
mod cache;
mod console;
mod diagnostics;
mod git;
mod initramfs;
mod kbuild;
mod manifest;
mod pin;
mod progress;
mod report;
mod runner;
mod selftest;
mod style;
mod toolchain;
mod tree;
mod verify;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::cache::Cache;
use crate::progress::{Progress, INTERRUPTED};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Verify the 'bound book's kernel patch series"
)]
struct Cli {
    /// Cache directory (default: $BOUND_CACHE, else ~/.cache/bound-book).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
    /// Use the host's kernel toolchain instead of the pinned Debian root.
    /// It must pass `make LLVM=1 rustavailable`; versions are reported, not pinned.
    #[arg(long, global = true)]
    host_toolchain: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Step 1: create (or check) the pinned toolchain root and print its versions.
    Toolchain,
    /// Step 2: download, check and unpack the pinned kernel tree.
    Tree,
    /// Steps 1-4: apply, build and boot the whole series; write the report.
    Verify {
        /// Report directory (default: target/verify).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Directory with manifest.toml and the patches (default: patches).
        #[arg(long)]
        patches: Option<PathBuf>,
    },
    /// Breaks the series on purpose (does not apply, does not build, does
    /// not probe, warns) and checks that verification fails each time.
    Selftest,
    /// Everything CI runs: host unit tests, the verification, the selftest.
    Test,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ci/ has a parent")
        .to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e:#}");
            if INTERRUPTED.load(Ordering::SeqCst) {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn real_main(cli: Cli) -> Result<()> {
    let repo = repo_root();
    let p = Progress::new();
    let opts = |out: Option<PathBuf>, patches: Option<PathBuf>| -> Result<verify::Options> {
        Ok(verify::Options {
            repo: repo.clone(),
            patches: patches.unwrap_or_else(|| repo.join("patches")),
            out: out.unwrap_or_else(|| repo.join("target/verify")),
            cache: Cache::new(cli.cache_dir.clone())?,
            host_toolchain: cli.host_toolchain,
        })
    };
    match cli.cmd {
        Cmd::Toolchain => {
            let o = opts(None, None)?;
            let _lock = o.cache.lock()?;
            verify::toolchain(&o, &p)?;
        }
        Cmd::Tree => {
            let o = opts(None, None)?;
            let _lock = o.cache.lock()?;
            let pin = pin::Pin::load(&repo.join("pin.toml"))?;
            tree::ensure(&o.cache, &pin, &p)?;
        }
        Cmd::Verify { out, patches } => verify_ok(&opts(out, patches)?, &p)?,
        Cmd::Selftest => selftest::run(&opts(None, None)?, &p)?,
        Cmd::Test => {
            p.say("host tests: cargo test --workspace");
            let st = Command::new(env!("CARGO"))
                .args(["test", "--workspace", "--quiet"])
                .current_dir(&repo)
                .status()
                .context("running cargo test")?;
            if !st.success() {
                bail!("host unit tests failed (cargo test --workspace)");
            }
            verify_ok(&opts(None, None)?, &p)?;
            selftest::run(&opts(None, None)?, &p)?;
            p.say("all tests passed");
        }
    }
    Ok(())
}

fn verify_ok(o: &verify::Options, p: &Progress) -> Result<()> {
    let r = verify::run(o, p)?;
    if !r.ok {
        bail!(
            "the series did not verify:\n{}\nreport: {}",
            r.failures().join("\n"),
            o.out.join("report.json").display()
        );
    }
    Ok(())
}
