//! `mdbook-bound`: renders the 'bound book's listings from the verifier's
//! report. See `book.rs` for the protocol and `directive.rs` for the syntax.
//!
//! Configuration (`[preprocessor.bound]` in book.toml, paths relative to
//! the book root):
//!
//! - `report = "target/verify"`, overridden by env `BOUND_REPORT`;
//! - `patches = "patches"`, the series as it is now (stale check), env
//!   `BOUND_PATCHES`;
//! - `strict = true`, or env `BOUND_STRICT=1`: any unverified listing is an
//!   error instead of a warning on the page.

mod book;
mod boot;
mod caption;
mod compare;
mod debug;
mod directive;
mod excerpt;
mod expand;
mod markdown;
mod patch;
mod report;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // Every renderer gets the expanded listings.
        Some("supports") => ExitCode::SUCCESS,
        Some(other) => {
            eprintln!(
                "mdbook-bound: unknown command {other:?} (usage: mdbook-bound [supports RENDERER])"
            );
            ExitCode::from(2)
        }
        None => match run() {
            Ok(code) => code,
            Err(e) => {
                eprintln!("mdbook-bound: error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn setting(config: &Value, key: &str, env: &str, default: &str) -> String {
    std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            config
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        })
}

fn strict(config: &Value) -> bool {
    match std::env::var("BOUND_STRICT") {
        Ok(v) if !v.is_empty() => !matches!(v.as_str(), "0" | "false" | "no"),
        _ => config
            .get("strict")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn resolve(root: &Path, p: String) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        root.join(p)
    }
}

fn run() -> Result<ExitCode> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the book from stdin")?;
    let input: Value = serde_json::from_str(&input).context("parsing the book JSON on stdin")?;
    let (ctx, mut book) = book::split_input(input)?;
    if !ctx.mdbook_version.starts_with("0.5.") {
        eprintln!(
            "mdbook-bound: warning: written for mdBook 0.5, called by mdBook {}",
            ctx.mdbook_version
        );
    }
    let report_dir = resolve(
        &ctx.root,
        setting(&ctx.config, "report", "BOUND_REPORT", "target/verify"),
    );
    let env = expand::Env {
        report: report::Loaded::load(&report_dir).map_err(|e| format!("{e:#}")),
        patches_dir: resolve(
            &ctx.root,
            setting(&ctx.config, "patches", "BOUND_PATCHES", "patches"),
        ),
        strict: strict(&ctx.config),
    };

    let bad = book::expand(&env, &mut book)?;
    if env.strict && !bad.is_empty() {
        eprintln!(
            "mdbook-bound: error: {} unverified listing(s) in strict mode (report {}):",
            bad.len(),
            report_dir.display()
        );
        for b in &bad {
            eprintln!("  {b}");
        }
        return Ok(ExitCode::FAILURE);
    }
    for b in &bad {
        eprintln!("mdbook-bound: warning: unverified listing: {b}");
    }
    serde_json::to_writer(std::io::stdout().lock(), &book).context("writing the book")?;
    Ok(ExitCode::SUCCESS)
}
