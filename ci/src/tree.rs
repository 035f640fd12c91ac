//! Step 2, the tree: the pinned `linux-source` package, checked against its
//! sha256, unpacked, and made a git repository whose first commit (tagged
//! `base`) is the untouched tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::apt;
use crate::cache::{sha256_file, write_atomic, Cache, Staging};
use crate::git::Git;
use crate::pin::Pin;
use crate::progress::{fmt_secs, Progress};

const MARKER: &str = "bound-tree";

pub struct Tree {
    /// The git repository holding the kernel source.
    pub repo: PathBuf,
    /// Commit id of the untouched tree.
    pub base: String,
}

pub fn ensure(cache: &Cache, pin: &Pin, p: &Progress) -> Result<Tree> {
    let dir = cache.entry("tree", &pin.tree.sha256);
    let repo = dir.join("linux");
    if dir.join(MARKER).is_file() {
        if let Some(why) = problem(&dir) {
            p.say(format!(
                "tree: the cached tree {} is corrupt ({why}); unpacking it again",
                dir.display()
            ));
            crate::cache::discard(&dir)?;
        }
    }
    if !dir.join(MARKER).is_file() {
        let deb = download(cache, pin, p)?;
        unpack(pin, &deb, &dir, p)?;
        if let Some(why) = problem(&dir) {
            bail!(
                "tree: the freshly unpacked tree {} is unusable: {why}",
                dir.display()
            );
        }
    }
    let base = std::fs::read_to_string(dir.join(MARKER))?.trim().to_owned();
    p.say(format!(
        "tree: {} {} at {}",
        pin.tree.package,
        pin.tree.version,
        repo.display()
    ));
    Ok(Tree { repo, base })
}

/// What is wrong with a cached tree entry, if anything: its marker must
/// name the commit that the `base` tag points to, and git must be able to
/// read every tree object of that commit, down to the top-level Makefile.
/// (Blobs are not read: that would take minutes; a damaged blob fails the
/// `git am` that needs it.)
pub fn problem(dir: &Path) -> Option<String> {
    let base = match std::fs::read_to_string(dir.join(MARKER)) {
        Ok(b) => b.trim().to_owned(),
        Err(e) => return Some(format!("its marker cannot be read: {e}")),
    };
    let g = Git::new(&dir.join("linux"));
    match g.rev_parse("base") {
        Ok(tagged) if tagged == base => {}
        Ok(tagged) => return Some(format!("the base tag moved from {base} to {tagged}")),
        Err(_) => return Some("it has no base tag".to_owned()),
    }
    match g.run(&["ls-tree", "-r", "--name-only", "base"]) {
        Ok(files) if files.lines().any(|f| f == "Makefile") => None,
        Ok(_) => Some("the base commit has no top-level Makefile".to_owned()),
        Err(e) => Some(format!("git cannot read the base commit's trees: {e:#}")),
    }
}

/// The pinned `.deb`, downloaded once and kept only if its sha256 matches.
fn download(cache: &Cache, pin: &Pin, p: &Progress) -> Result<PathBuf> {
    let dir = cache.entry("downloads", &pin.tree.sha256);
    let deb = dir.join(pin.deb_name());
    if deb.is_file() {
        return Ok(deb);
    }
    p.say(format!(
        "tree: downloading {} {} from {} with apt (about 167 MB)",
        pin.tree.package, pin.tree.version, pin.tree.suite
    ));
    let staging = Staging::new(&dir)?;
    let mirror = apt::host_mirror()?;
    apt::download(
        &mirror,
        &pin.tree.suite,
        &pin.tree.package,
        &pin.tree.version,
        staging.path(),
    )?;
    let got = staging.path().join(pin.deb_name());
    if !got.is_file() {
        bail!("tree: apt-get download did not produce {}", pin.deb_name());
    }
    verify_sha256(&got, &pin.tree.sha256)?;
    staging.commit()?;
    Ok(deb)
}

/// Refuses a file whose sha256 is not the pinned one.
pub fn verify_sha256(file: &Path, want: &str) -> Result<()> {
    let got = sha256_file(file)?;
    if got != want {
        bail!(
            "tree: sha256 mismatch for {}:\n  got  {got}\n  pin  {want}\n\
             The mirror served a different file; nothing was cached. \
             If the package really changed, review it and update pin.toml",
            file.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    Ok(())
}

fn unpack(pin: &Pin, deb: &Path, dir: &Path, p: &Progress) -> Result<()> {
    let t0 = Instant::now();
    p.say("tree: unpacking the kernel source and committing it as `base` (about 1 min)");
    let staging = Staging::new(dir)?;
    let sh = format!(
        "set -e; dpkg-deb --fsys-tarfile \"$1\" | tar -xO './{tarball}' | tar -xJ -C \"$2\"; \
         test -d \"$2/{top}\" && mv \"$2/{top}\" \"$2/linux\"",
        tarball = pin.tree.tarball,
        top = pin.tree.top
    );
    let st = Command::new("sh")
        .args(["-c", &sh, "unpack"])
        .arg(deb)
        .arg(staging.path())
        .stdin(Stdio::null())
        .status()
        .context("running dpkg-deb | tar")?;
    if !st.success() {
        bail!(
            "tree: unpacking {} failed; is {} inside it?",
            deb.display(),
            pin.tree.tarball
        );
    }
    let repo = staging.path().join("linux");
    let g = Git::new(&repo);
    g.init()?;
    // Debian's top-level .gitignore ignores everything: add with -f.
    g.run(&["add", "-A", "-f"])?;
    g.run(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &format!("{} {}", pin.tree.package, pin.tree.version),
    ])?;
    g.run(&["tag", "base"])?;
    let base = g.rev_parse("base")?;
    write_atomic(&staging.path().join(MARKER), &base)?;
    staging.commit()?;
    p.say(format!(
        "tree: base {base} ready in {}",
        fmt_secs(t0.elapsed())
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree entry like `unpack()` makes, from two files.
    fn entry(dir: &Path) {
        let repo = dir.join("linux");
        std::fs::create_dir_all(repo.join("kernel")).unwrap();
        std::fs::write(repo.join("Makefile"), "all:\n").unwrap();
        std::fs::write(repo.join("kernel/fork.c"), "int x;\n").unwrap();
        let g = Git::new(&repo);
        g.init().unwrap();
        g.run(&["add", "-A", "-f"]).unwrap();
        g.run(&["commit", "-q", "--no-verify", "-m", "base"])
            .unwrap();
        g.run(&["tag", "base"]).unwrap();
        std::fs::write(dir.join(MARKER), g.rev_parse("base").unwrap()).unwrap();
    }

    #[test]
    fn corrupt_trees_are_recognised() {
        let root = std::env::temp_dir().join(format!("bound-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let fresh = |name: &str| {
            let d = root.join(name);
            entry(&d);
            d
        };
        let git = |d: &Path, args: &[&str]| Git::new(&d.join("linux")).run(args).unwrap();

        assert_eq!(problem(&fresh("good")), None);

        let d = fresh("no-marker");
        std::fs::remove_file(d.join(MARKER)).unwrap();
        assert!(problem(&d).unwrap().contains("marker"));

        let d = fresh("moved-tag");
        std::fs::write(d.join("linux/Makefile"), "changed:\n").unwrap();
        git(&d, &["commit", "-qam", "later"]);
        git(&d, &["tag", "-f", "base"]);
        assert!(problem(&d).unwrap().contains("moved"));

        let d = fresh("no-tag");
        git(&d, &["tag", "-d", "base"]);
        assert!(problem(&d).unwrap().contains("no base tag"));

        // A lost tree object: the subdirectory `kernel/`.
        let d = fresh("lost-object");
        let tree = git(&d, &["rev-parse", "base:kernel"]);
        let tree = tree.trim();
        std::fs::remove_file(d.join(format!("linux/.git/objects/{}/{}", &tree[..2], &tree[2..])))
            .unwrap();
        assert!(problem(&d).unwrap().contains("cannot read"));

        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn sha_mismatch_names_the_file_and_both_sums() {
        let d = std::env::temp_dir().join(format!("bound-sha-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("linux-source-7.3_x_all.deb");
        std::fs::write(&f, b"not the kernel").unwrap();
        let e = format!("{:#}", verify_sha256(&f, &"0".repeat(64)).unwrap_err());
        assert!(e.contains("linux-source-7.3_x_all.deb"), "{e}");
        assert!(e.contains(&"0".repeat(64)), "{e}");
        assert!(e.contains("nothing was cached"), "{e}");
        let good = sha256_file(&f).unwrap();
        verify_sha256(&f, &good).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
