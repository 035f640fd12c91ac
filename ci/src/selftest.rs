//! Proof that verification can fail: each entry of `patches/selftest.toml`
//! breaks one patch of the real series (so that it no longer applies, no
//! longer builds, no longer probes, or warns at runtime), runs the whole
//! verification on the broken copy, and requires it to fail with the
//! expected message.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use regex::Regex;
use serde::Deserialize;

use crate::cache::Staging;
use crate::progress::Progress;
use crate::verify;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selftests {
    #[serde(rename = "break")]
    breaks: Vec<Break>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Break {
    name: String,
    /// The series patch to break.
    patch: String,
    /// Exact text that occurs once in the patch...
    find: String,
    /// ...and what it becomes. Keep the line count, so the patch stays
    /// well-formed and only the intended thing breaks.
    replace: String,
    /// Regex the verification's failure message must match.
    expect: String,
}

fn load(path: &Path) -> Result<Selftests> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let t: Selftests = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    for b in &t.breaks {
        ensure!(
            b.find.lines().count() == b.replace.lines().count(),
            "selftest {}: `replace` must have as many lines as `find`",
            b.name
        );
        Regex::new(&b.expect).with_context(|| format!("selftest {}: bad regex", b.name))?;
    }
    Ok(t)
}

/// Applies one break to a patch text.
fn mutate(patch: &str, b: &Break) -> Result<String> {
    let n = patch.matches(&b.find).count();
    if n != 1 {
        bail!(
            "selftest {}: the text to replace occurs {n} times in {} (must be once); \
             update patches/selftest.toml to match the patch",
            b.name,
            b.patch
        );
    }
    Ok(patch.replacen(&b.find, &b.replace, 1))
}

/// A copy of the series with one patch broken, and without the compile-fail
/// cases (they are not what is being tested here).
fn broken_series(src: &Path, dest: &Path, b: &Break) -> Result<()> {
    for e in std::fs::read_dir(src)?.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            copy_dir(&p, &dest.join(&name))?;
        } else if name == "manifest.toml" {
            let mut v: toml::Table = toml::from_str(&std::fs::read_to_string(&p)?)?;
            v.remove("compile_fail");
            std::fs::write(dest.join(&name), toml::to_string(&v)?)?;
        } else if name == b.patch {
            std::fs::write(dest.join(&name), mutate(&std::fs::read_to_string(&p)?, b)?)?;
        } else {
            std::fs::copy(&p, dest.join(&name))?;
        }
    }
    ensure!(
        dest.join(&b.patch).is_file(),
        "selftest {}: patch {} is not in the series",
        b.name,
        b.patch
    );
    Ok(())
}

fn copy_dir(src: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    for e in std::fs::read_dir(src)?.flatten() {
        let to = dest.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}

pub fn run(opts: &verify::Options, p: &Progress) -> Result<()> {
    let tests = load(&opts.patches.join("selftest.toml"))?;
    let work = Staging::new(&opts.repo.join("target/selftest"))?;
    let mut failed = Vec::new();
    for b in &tests.breaks {
        p.say(format!(
            "selftest {}: break {} and verify; it must fail",
            b.name, b.patch
        ));
        let dir = work.path().join(&b.name);
        broken_series(&opts.patches, &dir.join("patches"), b)?;
        let o = verify::Options {
            repo: opts.repo.clone(),
            patches: dir.join("patches"),
            out: dir.join("report"),
            cache: opts.cache.clone(),
            host_toolchain: opts.host_toolchain,
        };
        let msg = match verify::run(&o, p) {
            Ok(r) if r.ok => {
                failed.push(format!("{}: the broken series verified as PASS", b.name));
                continue;
            }
            Ok(r) => r.failures().join("\n"),
            Err(e) => format!("{e:#}"),
        };
        if Regex::new(&b.expect)?.is_match(&msg) {
            p.say(format!(
                "selftest {}: failed as it must: {}",
                b.name,
                first_line(&msg)
            ));
        } else {
            failed.push(format!(
                "{}: verification failed, but the message does not match /{}/:\n{msg}",
                b.name, b.expect
            ));
        }
    }
    if !failed.is_empty() {
        bail!("selftest failures:\n{}", failed.join("\n"));
    }
    work.commit()?;
    p.say(format!(
        "selftest: all {} broken series were caught",
        tests.breaks.len()
    ));
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brk(find: &str, replace: &str) -> Break {
        Break {
            name: "t".into(),
            patch: "0001-a.patch".into(),
            find: find.into(),
            replace: replace.into(),
            expect: "x".into(),
        }
    }

    #[test]
    fn mutate_requires_a_unique_match() {
        let patch = "+a\n+b\n+a\n";
        assert!(mutate(patch, &brk("+a", "+z")).is_err());
        assert!(mutate(patch, &brk("+q", "+z")).is_err());
        assert_eq!(mutate(patch, &brk("+b", "+z")).unwrap(), "+a\n+z\n+a\n");
    }

    #[test]
    fn repo_selftests_match_the_series() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../patches");
        for b in load(&dir.join("selftest.toml")).unwrap().breaks {
            let text = std::fs::read_to_string(dir.join(&b.patch)).unwrap();
            let m = mutate(&text, &b).unwrap();
            assert_eq!(m.lines().count(), text.lines().count(), "{}", b.name);
        }
    }
}
