//! Proof that verification can fail, and that the book follows the patches.
//!
//! Each `[[break]]` of `patches/selftest.toml` breaks one patch of the real
//! series (so that it no longer applies, no longer builds, no longer probes,
//! or warns at runtime), runs the whole verification on the broken copy, and
//! requires it to fail with the expected message. Each `[[render]]` edits a
//! line, verifies the edited series, renders the book from that report and
//! requires the edit to show up on the page (in the diff, the file listing
//! and the boot log).

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use regex::Regex;
use serde::Deserialize;

use crate::book::{self, Tools};
use crate::cache::Staging;
use crate::progress::Progress;
use crate::verify;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selftests {
    #[serde(rename = "break")]
    breaks: Vec<Break>,
    #[serde(default)]
    render: Vec<Render>,
    #[serde(default)]
    interrupt: Vec<Interrupt>,
    #[serde(default)]
    kill_qemu: Vec<KillQemu>,
}

/// QEMU killed from outside while it boots a checkpoint: the run must fail
/// that checkpoint, saying why, and must not cache it; the next run must
/// boot it again and pass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KillQemu {
    name: String,
    /// The patch whose checkpoint is booted (the run stops after it).
    patch: String,
    /// Seconds between the start of the boot and the SIGKILL.
    after_secs: u64,
}

/// An edit that forces a rebuild, and a SIGINT sent to the verifier while
/// it builds: the run must stop with nothing half-written and no report,
/// and the next run must rebuild and pass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Interrupt {
    name: String,
    patch: String,
    find: String,
    replace: String,
    /// Seconds between the start of that patch's build and the SIGINT.
    after_secs: u64,
}

/// An edit whose effect must reach the rendered book.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Render {
    name: String,
    patch: String,
    find: String,
    replace: String,
    /// Page of the built book (under `html/`) that must show the edit.
    page: String,
    /// Text that must appear on that page in a code block of each of these
    /// classes (e.g. `language-diff` for the patch, `language-text` for the
    /// boot log), and nowhere on the page built from the unedited series.
    shows: String,
    in_blocks: Vec<String>,
}

/// A `Break` with no expected failure: an edit whose effect is checked
/// otherwise.
fn edit(name: &str, patch: &str, find: &str, replace: &str) -> Break {
    Break {
        name: name.to_owned(),
        patch: patch.to_owned(),
        find: find.to_owned(),
        replace: replace.to_owned(),
        expect: String::new(),
    }
}

impl Render {
    fn edit(&self) -> Break {
        edit(&self.name, &self.patch, &self.find, &self.replace)
    }
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
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
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

/// Options that verify the series edited by `b`, in `work/<name>/`.
fn edited_series(opts: &verify::Options, work: &Path, b: &Break) -> Result<verify::Options> {
    let dir = work.join(&b.name);
    broken_series(&opts.patches, &dir.join("patches"), b)?;
    Ok(verify::Options {
        repo: opts.repo.clone(),
        patches: dir.join("patches"),
        out: dir.join("report"),
        cache: opts.cache.clone(),
        host_toolchain: opts.host_toolchain,
        // Patches after the edited one cannot tell anything about the
        // harness; verifying them would only rebuild the whole series.
        stop_after: Some(b.patch.clone()),
        // The debug pass runs on the whole series only.
        debug: verify::DebugMode::Off,
    })
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

/// `book_dir`: the book built from the unedited series, for the render tests.
pub fn run(opts: &verify::Options, p: &Progress, tools: &Tools, book_dir: &Path) -> Result<()> {
    let tests = load(&opts.patches.join("selftest.toml"))?;
    let work = Staging::new(&opts.repo.join("target/selftest"))?;
    let mut failed = Vec::new();
    for b in &tests.breaks {
        p.say(format!(
            "selftest {}: break {} and verify; it must fail",
            b.name, b.patch
        ));
        let o = edited_series(opts, work.path(), b)?;
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
    for r in &tests.render {
        p.say(format!(
            "selftest {}: edit {} and render the book from it",
            r.name, r.patch
        ));
        if let Err(e) = render(opts, p, tools, book_dir, work.path(), r) {
            failed.push(format!("{}: {e:#}", r.name));
        }
    }
    for i in &tests.interrupt {
        p.say(format!(
            "selftest {}: interrupt a build of {} with SIGINT",
            i.name, i.patch
        ));
        if let Err(e) = interrupt(opts, p, work.path(), i) {
            failed.push(format!("{}: {e:#}", i.name));
        }
    }
    for k in &tests.kill_qemu {
        p.say(format!(
            "selftest {}: kill QEMU while it boots the checkpoint of {}",
            k.name, k.patch
        ));
        if let Err(e) = kill_qemu(opts, p, work.path(), k) {
            failed.push(format!("{}: {e:#}", k.name));
        }
    }
    if !failed.is_empty() {
        bail!("selftest failures:\n{}", failed.join("\n"));
    }
    work.commit()?;
    p.say(format!(
        "selftest: all {} broken series were caught, {} edits reached the book, \
         {} interrupted builds and {} killed boots were redone",
        tests.breaks.len(),
        tests.render.len(),
        tests.interrupt.len(),
        tests.kill_qemu.len()
    ));
    Ok(())
}

fn render(
    opts: &verify::Options,
    p: &Progress,
    tools: &Tools,
    book_dir: &Path,
    work: &Path,
    r: &Render,
) -> Result<()> {
    let dir = work.join(&r.name);
    let o = edited_series(opts, work, &r.edit())?;
    verify::run(&o, p)?;
    book::build(
        tools,
        &book::BuildSpec {
            repo: &opts.repo,
            report: &o.out,
            patches: &o.patches,
            strict: false,
            dest: &dir.join("book"),
        },
        p,
    )?;
    let page = |book: &Path| -> Result<String> {
        let page = book.join("html").join(&r.page);
        std::fs::read_to_string(&page).with_context(|| format!("reading {}", page.display()))
    };
    let before = page(book_dir)?.matches(&r.shows).count();
    ensure!(
        before == 0,
        "{:?} is already on {} before the edit ({before} times); pick another edit",
        r.shows,
        r.page
    );
    let found = blocks_containing(&page(&dir.join("book"))?, &r.shows);
    let missing: Vec<&String> = r.in_blocks.iter().filter(|c| !found.contains(*c)).collect();
    ensure!(
        missing.is_empty(),
        "after the edit, {} does not show {:?} in a {} block (found it in: {:?})",
        r.page,
        r.shows,
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        found
    );
    p.say(format!(
        "selftest {}: the edit shows in the {} blocks of {} (absent before)",
        r.name,
        r.in_blocks.join(", "),
        r.page
    ));
    Ok(())
}

impl Interrupt {
    fn edit(&self) -> Break {
        edit(&self.name, &self.patch, &self.find, &self.replace)
    }
}

/// Starts `cargo xtask verify` of the series `o` up to `stop_after` as a
/// child process group of its own, with its output in `log_path`.
fn spawn_verify(
    opts: &verify::Options,
    o: &verify::Options,
    stop_after: &str,
    log_path: &Path,
) -> Result<std::process::Child> {
    let log = std::fs::File::create(log_path)?;
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("--cache-dir").arg(opts.cache.root());
    if opts.host_toolchain {
        cmd.arg("--host-toolchain");
    }
    cmd.args(["--debug", "off", "verify", "--stop-after", stop_after])
        .arg("--patches")
        .arg(&o.patches)
        .arg("--out")
        .arg(&o.out);
    crate::progress::spawn_group(
        cmd.stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log),
    )
    .context("starting the verifier")
}

/// Waits for a verifier that [`spawn_verify`] started to exit, and calls
/// `act` once, `after` past the moment its log first contains `marker`.
/// If `act` fails, or the run takes longer than 15 minutes (it never got
/// to `what`), stops it and fails.
fn watch_verify(
    child: &mut std::process::Child,
    log_path: &Path,
    marker: &str,
    after: std::time::Duration,
    what: &str,
    mut act: impl FnMut() -> Result<()>,
) -> Result<std::process::ExitStatus> {
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    let mut seen_since = None;
    let mut acted = false;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        if seen_since.is_none() && text.contains(marker) {
            seen_since = Some(Instant::now());
        }
        if !acted && seen_since.is_some_and(|b: Instant| b.elapsed() >= after) {
            acted = true;
            if let Err(e) = act() {
                crate::progress::stop_group(child);
                return Err(e);
            }
        }
        if t0.elapsed() > Duration::from_secs(900) {
            crate::progress::stop_group(child);
            bail!("the verifier never {what}; see {}", log_path.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn interrupt(opts: &verify::Options, p: &Progress, work: &Path, i: &Interrupt) -> Result<()> {
    use std::time::Duration;
    // A fresh edit every time, so that the build is never in the cache.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let edit = Break {
        replace: format!("{} ({nonce})", i.replace),
        ..i.edit()
    };
    let o = edited_series(opts, work, &edit)?;
    let log_path = work.join(&i.name).join("interrupted-run.log");
    let mut child = spawn_verify(opts, &o, &i.patch, &log_path)?;
    let marker = format!("{}: configure and build bzImage", i.patch);
    let pid = child.id() as libc::pid_t;
    let status = watch_verify(
        &mut child,
        &log_path,
        &marker,
        Duration::from_secs(i.after_secs),
        &format!("got to building {}", i.patch),
        || {
            // SAFETY: `kill` has no memory-safety preconditions; the pid is our child's.
            unsafe { libc::kill(pid, libc::SIGINT) };
            Ok(())
        },
    )?;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    ensure!(
        status.code() == Some(130) && text.contains("interrupted"),
        "after SIGINT the verifier exited with {status}, not 130 with `interrupted`; see {}",
        log_path.display()
    );
    ensure!(
        !o.out.exists(),
        "the interrupted run wrote a report at {}",
        o.out.display()
    );
    let partial = format!(".partial-{}", child.id());
    let mut left = Vec::new();
    for kind in std::fs::read_dir(opts.cache.root())?.flatten() {
        for e in std::fs::read_dir(kind.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.file_name().to_string_lossy().ends_with(&partial) {
                left.push(e.path().display().to_string());
            }
        }
    }
    ensure!(
        left.is_empty(),
        "the interrupted run left partial cache entries: {left:?}"
    );
    let stray = std::process::Command::new("pgrep")
        .args(["-f", "LLVM=1 CLIPPY=1"])
        .output()?;
    ensure!(
        !stray.status.success(),
        "kernel build processes outlived the interrupted run: {}",
        String::from_utf8_lossy(&stray.stdout)
    );
    p.say(format!(
        "selftest {}: stopped with 130, no report, no partial entries, no stray make; running again",
        i.name
    ));
    let r = verify::run(&o, p)?;
    let res = r.patches.iter().find(|x| x.file == i.patch);
    ensure!(
        r.ok && res.is_some_and(|x| x.built && !x.build_cached),
        "the run after the interrupt did not rebuild {} and pass: {}",
        i.patch,
        r.failures().join("; ")
    );
    p.say(format!(
        "selftest {}: the next run rebuilt {} and passed",
        i.name, i.patch
    ));
    Ok(())
}

fn kill_qemu(opts: &verify::Options, p: &Progress, work: &Path, k: &KillQemu) -> Result<()> {
    use std::time::Duration;
    let manifest = crate::manifest::Manifest::load(&opts.patches.join("manifest.toml"))?;
    let cp = manifest
        .patches
        .iter()
        .find(|x| x.file == k.patch)
        .and_then(|x| x.checkpoint.clone())
        .with_context(|| format!("{} has no checkpoint in the manifest", k.patch))?;
    // The unedited series, but a checkpoint script with a fresh comment, so
    // that the build is cached and the boot is not.
    let dir = work.join(&k.name);
    let o = verify::Options {
        patches: dir.join("patches"),
        out: dir.join("report"),
        stop_after: Some(k.patch.clone()),
        debug: verify::DebugMode::Off,
        ..opts.clone()
    };
    copy_dir(&opts.patches, &o.patches)?;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let script = o.patches.join(&cp.script);
    let mut text = std::fs::read_to_string(&script)?;
    text.push_str(&format!("# selftest {}: {nonce}\n", k.name));
    std::fs::write(&script, text)?;

    let log_path = dir.join("killed-run.log");
    let mut child = spawn_verify(opts, &o, &k.patch, &log_path)?;
    let marker = format!("checkpoint {}: boot with", cp.name);
    let qemu = format!("boot-{}/initramfs.cpio", cp.name);
    let status = watch_verify(
        &mut child,
        &log_path,
        &marker,
        Duration::from_secs(k.after_secs),
        &format!("booted {}", cp.name),
        || {
            let st = std::process::Command::new("pkill")
                .args(["-KILL", "-f", &qemu])
                .status()?;
            ensure!(
                st.success(),
                "no QEMU process for {} to kill after {} s: the boot was over; lower after_secs",
                cp.name,
                k.after_secs
            );
            Ok(())
        },
    )?;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    ensure!(
        status.code() == Some(1) && text.contains("QEMU did not exit by itself"),
        "after QEMU was killed the verifier exited with {status}, not 1 naming the killed QEMU; see {}",
        log_path.display()
    );
    let report: bound_report::Report =
        serde_json::from_str(&std::fs::read_to_string(o.out.join("report.json"))?)?;
    let failed = report
        .patches
        .iter()
        .find(|x| x.file == k.patch)
        .and_then(|x| x.checkpoint.as_ref())
        .is_some_and(|c| !c.pass);
    ensure!(
        !report.ok && failed,
        "the run whose QEMU was killed did not report checkpoint {} as failed",
        cp.name
    );
    p.say(format!(
        "selftest {}: the killed boot failed {}, as it must; running again",
        k.name, cp.name
    ));
    let r = verify::run(&o, p)?;
    let c = r
        .patches
        .iter()
        .find(|x| x.file == k.patch)
        .and_then(|x| x.checkpoint.as_ref());
    ensure!(
        r.ok && c.is_some_and(|c| c.pass && !c.cached),
        "the run after the kill did not boot {} again and pass: {}",
        cp.name,
        r.failures().join("; ")
    );
    p.say(format!(
        "selftest {}: the next run booted {} again, not from the cache, and passed",
        k.name, cp.name
    ));
    Ok(())
}

/// The classes of the `<code class=...>` blocks of an HTML page whose
/// text contains `needle`.
fn blocks_containing(html: &str, needle: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for part in html.split("<code class=\"").skip(1) {
        let Some((classes, rest)) = part.split_once('"') else {
            continue;
        };
        let body = rest.split("</code>").next().unwrap_or("");
        if body.contains(needle) {
            found.extend(classes.split_whitespace().map(str::to_owned));
        }
    }
    found
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
    fn finds_the_blocks_that_show_a_text() {
        let html = r#"<p>x (edited)</p><pre><code class="language-diff">+a (edited)</code></pre>
<code class="language-rust noplayground">fn f() {}</code><code class="language-text">[ T] a (edited)</code>"#;
        let found: Vec<String> = blocks_containing(html, "(edited)").into_iter().collect();
        assert_eq!(found, ["language-diff", "language-text"]);
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
        let t = load(&dir.join("selftest.toml")).unwrap();
        for b in t
            .breaks
            .into_iter()
            .chain(t.render.iter().map(Render::edit))
            .chain(t.interrupt.iter().map(Interrupt::edit))
        {
            let text = std::fs::read_to_string(dir.join(&b.patch)).unwrap();
            let m = mutate(&text, &b).unwrap();
            assert_eq!(m.lines().count(), text.lines().count(), "{}", b.name);
        }
        let manifest = crate::manifest::Manifest::load(&dir.join("manifest.toml")).unwrap();
        for k in &t.kill_qemu {
            assert!(
                manifest
                    .patches
                    .iter()
                    .any(|p| p.file == k.patch && p.checkpoint.is_some()),
                "{}: {} has no checkpoint",
                k.name,
                k.patch
            );
        }
    }
}
