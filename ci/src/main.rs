//! `cargo xtask`: the 'bound book's single entry point.
//!
//! The steps read like the pipeline: toolchain, tree, series (apply, build,
//! boot, compile-fail), report. See README.md for the two commands most
//! people need.

mod apt;
mod book;
mod boot;
mod browser;
mod cache;
mod checkpoint;
mod console;
mod diagnostics;
mod git;
mod initramfs;
mod kbuild;
mod ktap;
mod manifest;
mod measure;
mod pin;
mod progress;
mod runner;
mod selftest;
mod style;
mod toolchain;
mod tree;
mod verify;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::time::Duration;

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
    /// The debug pass over the tip of the series (KASAN, lockdep, kmemleak,
    /// fault injection): `ci` runs the manifest's CI cycle count, `full` its
    /// full count, a number that many cycles per driver, `off` skips it.
    #[arg(long, global = true, default_value = "ci")]
    debug: verify::DebugMode,
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
        /// Verify only up to and including this patch (file name).
        #[arg(long)]
        stop_after: Option<String>,
    },
    /// Steps 1-4, then the book: every listing rendered from the report, in
    /// strict mode (an unverified listing is an error). Output: book/html.
    Book,
    /// Serve the book locally with `mdbook serve` (after `cargo xtask book`).
    Serve,
    /// Breaks the series on purpose (does not apply, does not build, does
    /// not probe, warns) and checks that verification fails each time; edits
    /// a line and checks that the rendered book shows the edit.
    Selftest,
    /// Everything CI runs: host unit tests (with the preprocessor's mdbook
    /// integration test), the verification, the strict book build, a headless
    /// Chromium check of the rendered book, and the selftest.
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
            stop_after: None,
            debug: cli.debug,
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
        Cmd::Verify {
            out,
            patches,
            stop_after,
        } => {
            let o = verify::Options {
                stop_after,
                ..opts(out, patches)?
            };
            verify_ok(&o, &p)?
        }
        Cmd::Book => {
            let o = opts(None, None)?;
            verify_ok(&o, &p)?;
            let tools = book_tools(&o, &p)?;
            build_book(&o, &tools, &p)?;
            let dir = o.repo.join("book/html");
            p.say(format!(
                "the book: {}
serve it locally with: cargo xtask serve",
                dir.join("index.html").display()
            ));
        }
        Cmd::Serve => {
            let o = opts(None, None)?;
            let tools = book_tools(&o, &p)?;
            let mdbook = book::mdbook_with_defaults(
                &o.cache,
                &pin::Pin::load(&o.repo.join("pin.toml"))?,
                &p,
            )?;
            let st = Command::new(mdbook)
                .args(["serve", "--open"])
                .current_dir(&o.repo)
                .env("PATH", tools.path()?)
                .env("BOUND_REPORT", &o.out)
                .status()
                .context("running mdbook serve")?;
            if !st.success() {
                bail!("mdbook serve exited with {st}");
            }
        }
        Cmd::Selftest => {
            let o = opts(None, None)?;
            let tools = book_tools(&o, &p)?;
            selftest::run(&o, &p, &tools, &o.repo.join("book"))?;
        }
        Cmd::Test => {
            let o = opts(None, None)?;
            // On a cold cache the book's tools and the host tests take
            // minutes to compile. They run at the lowest CPU priority while
            // the series verifies, on the core that a QEMU boot or a
            // configure step leaves idle.
            let (verified, host) = std::thread::scope(|s| {
                let host = s.spawn(|| -> Result<book::Tools> {
                    let tools = book_tools(&o, &p)?;
                    host_tests(&repo, &tools, &p)?;
                    Ok(tools)
                });
                let verified = verify_ok(&o, &p);
                if verified.is_err() {
                    p.say("verification failed; the error follows once the host tests stop");
                }
                (verified, host.join())
            });
            verified?;
            let tools = host.map_err(|_| anyhow::anyhow!("the host tests panicked"))??;
            build_book(&o, &tools, &p)?;
            browser_check(&o, &p)?;
            selftest::run(&o, &p, &tools, &o.repo.join("book"))?;
            p.say("all tests passed");
        }
    }
    Ok(())
}

/// `cargo test --workspace` at the lowest CPU priority, its output in
/// `target/host-tests.log`.
fn host_tests(repo: &Path, tools: &book::Tools, p: &Progress) -> Result<()> {
    let log = repo.join("target/host-tests.log");
    std::fs::create_dir_all(repo.join("target"))?;
    std::fs::write(&log, "")?;
    p.say(format!(
        "host tests: cargo test --workspace, at nice 19 (log: {})",
        log.display()
    ));
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "19", env!("CARGO"), "test", "--workspace", "--quiet"])
        .current_dir(repo)
        .env("MDBOOK", &tools.mdbook)
        .env("PATH", tools.path()?);
    let (st, took) = p.run_logged("host tests", &mut cmd, &log, Duration::from_secs(60))?;
    if !st.success() {
        bail!(
            "host unit tests failed (cargo test --workspace, {st}):\n{}\nfull log: {}",
            console::tail(&std::fs::read_to_string(&log).unwrap_or_default(), 30),
            log.display()
        );
    }
    p.say(format!(
        "host tests: passed in {}",
        progress::fmt_secs(took)
    ));
    Ok(())
}

fn book_tools(o: &verify::Options, p: &Progress) -> Result<book::Tools> {
    let pin = pin::Pin::load(&o.repo.join("pin.toml"))?;
    let _lock = o.cache.tools_lock()?;
    book::tools(&o.cache, &pin, p)
}

/// The strict build of the real book into `book/`.
fn build_book(o: &verify::Options, tools: &book::Tools, p: &Progress) -> Result<()> {
    book::build(
        tools,
        &book::BuildSpec {
            repo: &o.repo,
            report: &o.out,
            patches: &o.patches,
            strict: true,
            dest: &o.repo.join("book"),
        },
        p,
    )?;
    Ok(())
}

/// Headless Chromium on the built book: the first chapter shows its diff
/// and boot log, mermaid drew its diagrams, search finds the chapter. Keeps
/// a screenshot and the DOMs in target/book-check/.
fn browser_check(o: &verify::Options, p: &Progress) -> Result<()> {
    browser::ensure_chromium(p)?;
    let work = o.repo.join("target/book-check");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let port = browser::serve(&o.repo.join("book/html"))?;
    p.say(format!(
        "browser check: headless Chromium on http://127.0.0.1:{port}/"
    ));
    let missing = browser::check_pages(
        port,
        &[
            browser::PageCheck {
                page: "part1/before.html",
                must_contain: &[
                    ("the patch as a highlighted diff", "language-diff"),
                    ("an added line of the diff", "hljs-addition"),
                    ("the boot log", "BOOK: PASS drop-before-revoke"),
                    ("the compiler error", "error[E0521]"),
                    (
                        "a mermaid sequence diagram drawn as SVG",
                        "aria-roledescription=\"sequence\"",
                    ),
                    (
                        "a mermaid flowchart drawn as SVG",
                        "aria-roledescription=\"flowchart-v2\"",
                    ),
                ],
            },
            browser::PageCheck {
                page: "part1/after.html",
                must_contain: &[
                    ("the conversion as a highlighted diff", "hljs-deletion"),
                    ("the boot log", "BOOK: PASS drop-reset"),
                    (
                        "a mermaid sequence diagram drawn as SVG",
                        "aria-roledescription=\"sequence\"",
                    ),
                ],
            },
            browser::PageCheck {
                page: "index.html?search=try_access",
                must_contain: &[(
                    "a search hit in the first chapter",
                    "part1/before.html?highlight=try_access",
                )],
            },
        ],
        &work,
    )?;
    if !missing.is_empty() {
        bail!(
            "browser check: the rendered book lacks:\n  - {}\nDOMs are in {}",
            missing.join("\n  - "),
            work.display()
        );
    }
    let shot = work.join("part1-before.png");
    browser::screenshot(port, "part1/before.html", &shot, &work)?;
    p.say(format!(
        "browser check: PASS; screenshot {}",
        shot.display()
    ));
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
