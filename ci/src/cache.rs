//! The content-addressed cache outside the repository.
//!
//! Every cached artefact lives in a directory named after the hash of its
//! inputs. It is built in a `*.partial-PID` sibling and renamed into place
//! only when complete, so an interrupted run leaves nothing that a later run
//! could mistake for a finished artefact. Leftover partial directories are
//! swept at start-up.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The cache root (default `~/.cache/bound-book`, or `$BOUND_CACHE`).
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(explicit: Option<PathBuf>) -> Result<Self> {
        let root = match explicit.or_else(|| std::env::var_os("BOUND_CACHE").map(PathBuf::from)) {
            Some(p) => p,
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .context(
                        "neither $BOUND_CACHE, $XDG_CACHE_HOME nor $HOME is set; pass --cache-dir",
                    )?;
                base.join("bound-book")
            }
        };
        fs::create_dir_all(&root)
            .with_context(|| format!("creating the cache directory {}", root.display()))?;
        let root = root.canonicalize()?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the cache's lock for as long as the returned file lives, so
    /// that two runs never share a tree or build directory.
    pub fn lock(&self) -> Result<fs::File> {
        self.lock_file("lock", "cache")
    }

    /// Takes the lock of the book tools' entries, which is separate from
    /// [`Cache::lock`]: the test command installs the tools while the same
    /// process verifies the series under the cache's lock.
    pub fn tools_lock(&self) -> Result<fs::File> {
        self.lock_file("tools.lock", "the book tools' cache")
    }

    fn lock_file(&self, name: &str, what: &str) -> Result<fs::File> {
        use std::os::unix::io::AsRawFd;
        let path = self.root.join(name);
        let f = fs::File::create(&path)
            .with_context(|| format!("creating the lock file {}", path.display()))?;
        // SAFETY: `f` is an open file; flock has no other preconditions.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            eprintln!(
                "{what} {} is in use by another run; waiting for it",
                self.root.display()
            );
            // SAFETY: as above.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
                bail!("could not lock {}", path.display());
            }
        }
        Ok(f)
    }

    /// The directory for artefact `key` of `kind` (it may not exist yet).
    pub fn entry(&self, kind: &str, key: &str) -> PathBuf {
        self.root.join(kind).join(key)
    }

    /// Removes `*.partial-*` directories left by interrupted runs whose
    /// process is gone.
    pub fn sweep_partials(&self) -> Result<()> {
        let Ok(kinds) = fs::read_dir(&self.root) else {
            return Ok(());
        };
        for kind in kinds.flatten() {
            let Ok(entries) = fs::read_dir(kind.path()) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = partial_owner(&name) {
                    if !Path::new(&format!("/proc/{pid}")).exists() {
                        remove_tree(&e.path())?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The PID encoded in a partial directory's name, if it is one.
fn partial_owner(name: &str) -> Option<u32> {
    name.rsplit_once(".partial-")?.1.parse().ok()
}

/// A directory under construction. Dropping it without [`Staging::commit`]
/// removes it.
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Staging {
    /// Starts building the artefact that will live at `dest`.
    pub fn new(dest: &Path) -> Result<Self> {
        let parent = dest.parent().context("cache entry without a parent")?;
        fs::create_dir_all(parent)?;
        let name = dest.file_name().context("cache entry without a name")?;
        let tmp = parent.join(format!(
            "{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        if tmp.exists() {
            remove_tree(&tmp)?;
        }
        fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            done: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished artefact into place, replacing any older one.
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.dest.exists() {
            remove_tree(&self.dest)?;
        }
        fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("moving {} to {}", self.tmp.display(), self.dest.display()))?;
        self.done = true;
        Ok(self.dest.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done && self.tmp.exists() {
            let _ = remove_tree(&self.tmp);
        }
    }
}

/// Writes `contents` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    let parent = path.parent().context("file without a parent directory")?;
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Takes a finished entry out of the cache, for example one found corrupt:
/// it is renamed to a `*.partial-PID` sibling first, so that it stops being
/// an entry at once, and a crash while it is deleted leaves only something
/// that `sweep_partials()` removes later.
pub fn discard(entry: &Path) -> Result<()> {
    if !entry.exists() {
        return Ok(());
    }
    let name = entry
        .file_name()
        .context("a cache entry has a name")?
        .to_string_lossy()
        .into_owned();
    let aside = entry.with_file_name(format!("{name}.partial-{}", std::process::id()));
    remove_tree(&aside)?;
    fs::rename(entry, &aside).with_context(|| format!("moving {} aside", entry.display()))?;
    remove_tree(&aside)
}

/// Removes a directory tree, refusing if anything is mounted below it (a
/// recursive delete through a bind mount of `/dev` would wreck the host).
pub fn remove_tree(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let canon = path.canonicalize()?;
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    if let Some(m) = mounts_below(&mounts, &canon).first() {
        bail!(
            "refusing to delete {}: {} is still mounted below it; unmount it (umount -R) and retry",
            canon.display(),
            m
        );
    }
    fs::remove_dir_all(&canon).with_context(|| format!("removing {}", canon.display()))
}

/// Mount points in a `/proc/self/mountinfo` text that lie inside `dir`.
pub fn mounts_below(mountinfo: &str, dir: &Path) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|mp| Path::new(mp).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

/// A running SHA-256 over tagged inputs, for cache keys.
#[derive(Clone, Default)]
pub struct Key(Sha256);

impl Key {
    pub fn new(kind: &str) -> Self {
        let mut k = Self::default();
        k.str(kind);
        k
    }

    /// Adds a string, length-prefixed so that ("ab","c") != ("a","bc").
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
        self
    }

    pub fn file(&mut self, path: &Path) -> Result<&mut Self> {
        let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(self.bytes(&data))
    }

    /// The first 32 hex digits, enough to name a directory.
    pub fn short(&self) -> String {
        self.hex()[..32].to_owned()
    }

    pub fn hex(&self) -> String {
        hex(&self.0.clone().finalize())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, the same function the report's readers use.
pub fn sha256_file(path: &Path) -> Result<String> {
    bound_report::sha256_file(path).with_context(|| format!("hashing {}", path.display()))
}

/// Makes the cache entry `dir` from a result: `result.json`, plus `extra`
/// files copied in under the given names, all or nothing.
pub fn store_result<T: serde::Serialize>(dir: &Path, r: &T, extra: &[(&Path, &str)]) -> Result<()> {
    let staging = Staging::new(dir)?;
    for (from, name) in extra {
        std::fs::copy(from, staging.path().join(name))
            .with_context(|| format!("copying {} into the cache", from.display()))?;
    }
    write_atomic(
        &staging.path().join("result.json"),
        serde_json::to_string(r)?,
    )?;
    staging.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discarded_entries_are_gone_and_leave_nothing_behind() {
        let d = std::env::temp_dir().join(format!("bound-discard-{}", std::process::id()));
        let entry = d.join("tree").join("abc");
        fs::create_dir_all(entry.join("linux")).unwrap();
        fs::write(entry.join("bound-tree"), "x").unwrap();
        discard(&entry).unwrap();
        assert!(!entry.exists());
        assert_eq!(fs::read_dir(d.join("tree")).unwrap().count(), 0);
        discard(&entry).unwrap();
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn partial_names() {
        assert_eq!(partial_owner("abc.partial-123"), Some(123));
        assert_eq!(partial_owner("abc"), None);
        assert_eq!(partial_owner("abc.partial-x"), None);
    }

    #[test]
    fn key_is_length_prefixed() {
        let a = Key::new("t").str("ab").str("c").hex();
        let b = Key::new("t").str("a").str("bc").hex();
        assert_ne!(a, b);
        assert_eq!(a, Key::new("t").str("ab").str("c").hex());
    }

    #[test]
    fn mounts_below_finds_nested_mounts_only() {
        let info = "22 1 0:21 / /proc rw - proc proc rw\n\
                    30 1 0:5 / /cache/root/dev rw - devtmpfs udev rw\n\
                    31 1 0:5 / /cache/rootx rw - tmpfs t rw\n";
        assert_eq!(
            mounts_below(info, Path::new("/cache/root")),
            vec!["/cache/root/dev".to_owned()]
        );
    }

    #[test]
    fn staging_is_removed_unless_committed() {
        let base = std::env::temp_dir().join(format!("bound-staging-{}", std::process::id()));
        let dest = base.join("kind").join("k1");
        {
            let s = Staging::new(&dest).unwrap();
            fs::write(s.path().join("f"), "x").unwrap();
            // Dropped here without commit: an interrupted build.
        }
        assert!(!dest.exists());
        assert_eq!(fs::read_dir(base.join("kind")).unwrap().count(), 0);
        let s = Staging::new(&dest).unwrap();
        fs::write(s.path().join("f"), "y").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(dest.join("f")).unwrap(), "y");
        fs::remove_dir_all(&base).unwrap();
    }
}
