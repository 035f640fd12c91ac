//! Step 1, the toolchain: a Debian root made with `mmdebstrap` holding the
//! pinned rustc, rust-src, bindgen, LLVM and QEMU, cached by the hash of
//! its recipe.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::apt;
use crate::cache::{write_atomic, Cache, Key, Staging};
use crate::pin::{upstream_version, Pin};
use crate::progress::Progress;
use crate::runner::Runner;

/// Marker written last into a finished root; its absence means "not done".
const MARKER: &str = "bound-toolchain.json";

pub struct Toolchain {
    pub runner: Runner,
    /// Cache-key input: identifies the toolchain for everything built with it.
    pub key: String,
    /// Package -> full Debian version (or the `--version` line on the host).
    pub versions: BTreeMap<String, String>,
}

pub fn is_root() -> bool {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Ensures the pinned root exists and checks its versions against the pin.
pub fn ensure(cache: &Cache, pin: &Pin, p: &Progress) -> Result<Toolchain> {
    let mut key = Key::new("toolchain-root-v1");
    key.str(&pin.toolchain.suite);
    let mut pkgs = pin.toolchain.packages.clone();
    pkgs.sort();
    for pkg in &pkgs {
        key.str(pkg);
    }
    let key = key.short();
    let dir = cache.entry("toolchain", &key);
    let root = dir.join("root");
    let userns = !is_root();
    if dir.join(MARKER).is_file() {
        match problem(&dir, pin) {
            None => p.say(format!("toolchain: cached root {}", root.display())),
            Some(why) => {
                p.say(format!(
                    "toolchain: the cached root {} is corrupt ({why}); building it again",
                    dir.display()
                ));
                crate::cache::discard(&dir)?;
            }
        }
    }
    if !dir.join(MARKER).is_file() {
        build_root(pin, &dir, userns, p)?;
        if let Some(why) = problem(&dir, pin) {
            bail!(
                "toolchain: the freshly built root {} is unusable: {why}",
                dir.display()
            );
        }
    }
    let text = std::fs::read_to_string(dir.join(MARKER))?;
    let versions: BTreeMap<String, String> = serde_json::from_str(&text)?;
    check_versions(pin, &versions)?;
    for (k, v) in &versions {
        p.say(format!("  {k:<16} {v}"));
    }
    Ok(Toolchain {
        runner: Runner::Root { root, userns },
        key,
        versions,
    })
}

/// Files that every pinned root has, relative to it: the tools the build
/// and the boots run, and the Rust sources the kernel build needs. Links
/// count as present (their targets are inside the root, not on the host).
const ROOT_FILES: [&str; 9] = [
    "usr/bin/rustc",
    "usr/bin/bindgen",
    "usr/bin/clang",
    "usr/bin/ld.lld",
    "usr/bin/make",
    "usr/bin/qemu-system-x86_64",
    "usr/bin/busybox",
    "usr/bin/dpkg-query",
    "usr/lib/rustlib/src/rust/library/core/src/lib.rs",
];

/// What is wrong with a cached toolchain entry, if anything: its marker
/// must hold the versions it was built with, those must be the pinned
/// ones, and the root must still have its tools.
pub fn problem(dir: &Path, pin: &Pin) -> Option<String> {
    let text = match std::fs::read_to_string(dir.join(MARKER)) {
        Ok(t) => t,
        Err(e) => return Some(format!("its marker cannot be read: {e}")),
    };
    let versions: BTreeMap<String, String> = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Some(format!("its marker is not a version list: {e}")),
    };
    if let Err(e) = check_versions(pin, &versions) {
        return Some(format!("{e:#}"));
    }
    let missing: Vec<&str> = ROOT_FILES
        .iter()
        .copied()
        .filter(|f| dir.join("root").join(f).symlink_metadata().is_err())
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!("missing {}", missing.join(", ")))
    }
}

fn build_root(pin: &Pin, dir: &Path, userns: bool, p: &Progress) -> Result<()> {
    ensure_mmdebstrap()?;
    if userns && !userns_usable() {
        bail!(
            "toolchain: not running as root, and unprivileged user namespaces do not work here \
             (`unshare --map-root-user true` failed). Run as root, enable user namespaces \
             (sysctl kernel.unprivileged_userns_clone=1), or pass --host-toolchain"
        );
    }
    let mirror = apt::host_mirror()?;
    let suite = &pin.toolchain.suite;
    p.say(format!(
        "toolchain: creating a Debian {suite} root with mmdebstrap ({} packages, about 1 min, 2 GiB)",
        pin.toolchain.packages.len()
    ));
    let staging = Staging::new(dir)?;
    let root = staging.path().join("root");
    let log = staging.path().join("mmdebstrap.log");
    let mut cmd = Command::new("mmdebstrap");
    cmd.arg(if userns {
        "--mode=unshare"
    } else {
        "--mode=root"
    })
    .arg("--variant=apt")
    .arg(format!("--include={}", pin.toolchain.packages.join(",")))
    .arg(suite)
    .arg(&root)
    .arg(format!("deb {mirror} {suite} main"));
    let (st, took) = p.run_logged("mmdebstrap", &mut cmd, &log, Duration::from_secs(20))?;
    repair_dev_null()?;
    if !st.success() {
        let tail = crate::console::tail(&std::fs::read_to_string(&log).unwrap_or_default(), 15);
        bail!("toolchain: mmdebstrap failed ({st}); its last lines:\n{tail}");
    }
    let versions = installed_versions(&root, &pin.toolchain.expect)?;
    write_atomic(
        &staging.path().join(MARKER),
        serde_json::to_string_pretty(&versions)?,
    )?;
    staging.commit()?;
    p.say(format!(
        "toolchain: root ready in {}",
        crate::progress::fmt_secs(took)
    ));
    Ok(())
}

fn ensure_mmdebstrap() -> Result<()> {
    if which("mmdebstrap") {
        return Ok(());
    }
    if !is_root() {
        bail!("toolchain: mmdebstrap is not installed; install it with `apt-get install mmdebstrap` (as root), or pass --host-toolchain");
    }
    eprintln!("toolchain: installing mmdebstrap with apt-get");
    for args in [
        &["update", "-q"][..],
        &["install", "-y", "-q", "mmdebstrap", "uidmap"][..],
    ] {
        let st = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?;
        if !st.success() {
            bail!(
                "toolchain: `apt-get {}` failed; install mmdebstrap by hand",
                args.join(" ")
            );
        }
    }
    Ok(())
}

pub fn which(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| on_path(tool, &path))
}

fn on_path(tool: &str, path: &std::ffi::OsStr) -> bool {
    std::env::split_paths(path).any(|d| d.join(tool).is_file())
}

/// Fails naming every tool of `tools` that is not on `path`.
fn require_tools(tools: &[&str], path: &std::ffi::OsStr) -> Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !on_path(t, path))
        .collect();
    if !missing.is_empty() {
        bail!(
            "--host-toolchain: {} not on PATH; install them (or drop --host-toolchain to use \
             the pinned root)",
            missing.join(", ")
        );
    }
    Ok(())
}

fn userns_usable() -> bool {
    Command::new("unshare")
        .args(["--map-root-user", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// mmdebstrap failures were once seen to leave the host's `/dev/null` as a
/// regular file; put the device back if so.
fn repair_dev_null() -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let ok = std::fs::metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device());
    if !ok && is_root() {
        eprintln!("toolchain: /dev/null was replaced by a regular file; recreating the device");
        let _ = std::fs::remove_file("/dev/null");
        let st = Command::new("mknod")
            .args(["-m", "666", "/dev/null", "c", "1", "3"])
            .status()?;
        if !st.success() {
            bail!("could not recreate /dev/null; run `mknod -m 666 /dev/null c 1 3` as root");
        }
    }
    Ok(())
}

/// Full Debian versions of the pinned packages, read from the root's dpkg
/// database without entering it.
fn installed_versions(
    root: &Path,
    expect: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let out = Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", "-f", "${Package} ${Version}\\n"])
        .args(expect.keys())
        .output()
        .context("running dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, v)| (p.to_owned(), v.to_owned()))
        .collect())
}

/// Every pinned package must be installed at its pinned upstream version.
pub fn check_versions(pin: &Pin, found: &BTreeMap<String, String>) -> Result<()> {
    let mut bad = Vec::new();
    for (pkg, want) in &pin.toolchain.expect {
        match found.get(pkg) {
            None => bad.push(format!("{pkg}: not installed (pin wants {want})")),
            Some(v) if upstream_version(v) != want => {
                bad.push(format!("{pkg}: found {v}, pin wants {want}"))
            }
            Some(_) => {}
        }
    }
    if !bad.is_empty() {
        bail!(
            "toolchain: the root does not match pin.toml:\n  {}\n\
             The suite may have moved on; update pin.toml (and say so in the book) or fix the root",
            bad.join("\n  ")
        );
    }
    Ok(())
}

/// `--host-toolchain`: the host's own tools, reported but not pinned.
pub fn host() -> Result<Toolchain> {
    let tools = [
        ("rustc", "rustc"),
        ("bindgen", "bindgen"),
        ("clang", "clang"),
        ("qemu-system-x86", "qemu-system-x86_64"),
        ("busybox", "busybox"),
    ];
    require_tools(
        &tools.map(|(_, t)| t),
        &std::env::var_os("PATH").unwrap_or_default(),
    )?;
    let mut versions = BTreeMap::new();
    for (name, tool) in tools {
        let out = Command::new(tool).arg("--version").output();
        let first = out
            .map(|o| {
                let s = String::from_utf8_lossy(&o.stdout).into_owned();
                s.lines().next().unwrap_or("").to_owned()
            })
            .unwrap_or_default();
        versions.insert(name.to_owned(), first);
    }
    let mut key = Key::new("toolchain-host-v1");
    for v in versions.values() {
        key.str(v);
    }
    Ok(Toolchain {
        runner: Runner::Host,
        key: key.short(),
        versions,
    })
}

/// Where busybox lives for this toolchain.
pub fn busybox(runner: &Runner) -> PathBuf {
    match runner {
        Runner::Root { .. } => runner.host_path_of("/usr/bin/busybox"),
        Runner::Host => PathBuf::from("busybox"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin() -> Pin {
        Pin::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../pin.toml")).unwrap()
    }

    fn trixie() -> BTreeMap<String, String> {
        [
            ("rustc", "1.85.1+dfsg1-1+deb13u1"),
            ("rust-src", "1.85.1+dfsg1-1+deb13u1"),
            ("bindgen", "0.71.1-6"),
            ("clang-19", "1:19.1.7-3+b1"),
            ("qemu-system-x86", "1:10.0.13+ds-0+deb13u1"),
            ("busybox-static", "1:1.37.0-6+b9"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
    }

    #[test]
    fn corrupt_roots_are_recognised() {
        let d = std::env::temp_dir().join(format!("bound-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for f in ROOT_FILES {
            let path = d.join("root").join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
        }
        let marker = d.join(MARKER);
        std::fs::write(&marker, serde_json::to_string(&trixie()).unwrap()).unwrap();
        assert_eq!(problem(&d, &pin()), None);

        // A link counts, even if its target only exists inside the root.
        std::fs::remove_file(d.join("root/usr/bin/clang")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/llvm-19/bin/clang", d.join("root/usr/bin/clang"))
            .unwrap();
        assert_eq!(problem(&d, &pin()), None);

        std::fs::remove_file(d.join("root/usr/bin/rustc")).unwrap();
        assert_eq!(problem(&d, &pin()).unwrap(), "missing usr/bin/rustc");

        std::fs::write(&marker, "{\"rustc\": ").unwrap();
        assert!(problem(&d, &pin()).unwrap().contains("not a version list"));

        let mut old = trixie();
        old.insert("rustc".into(), "1.78.0+dfsg1-2".into());
        std::fs::write(&marker, serde_json::to_string(&old).unwrap()).unwrap();
        assert!(problem(&d, &pin()).unwrap().contains("rustc"));

        std::fs::remove_file(&marker).unwrap();
        assert!(problem(&d, &pin()).unwrap().contains("marker"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_host_tools_are_named() {
        let e = format!(
            "{:#}",
            require_tools(
                &["sh", "no-such-bindgen", "no-such-qemu"],
                "/bin:/usr/bin".as_ref()
            )
            .unwrap_err()
        );
        assert!(
            e.contains("no-such-bindgen, no-such-qemu not on PATH"),
            "{e}"
        );
        require_tools(&["sh"], "/bin:/usr/bin".as_ref()).unwrap();
    }

    #[test]
    fn pinned_versions_accepted() {
        check_versions(&pin(), &trixie()).unwrap();
    }

    #[test]
    fn moved_or_missing_versions_rejected() {
        let mut v = trixie();
        v.insert("rustc".into(), "1.86.0+dfsg1-1".into());
        v.remove("bindgen");
        let e = format!("{:#}", check_versions(&pin(), &v).unwrap_err());
        assert!(
            e.contains("rustc: found 1.86.0+dfsg1-1, pin wants 1.85.1"),
            "{e}"
        );
        assert!(e.contains("bindgen: not installed"), "{e}");
    }
}
