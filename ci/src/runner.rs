//! Where kernel builds and QEMU boots run: inside the pinned toolchain root
//! (the default), or on the host with `--host-toolchain`.
//!
//! Inside the root, every command runs in fresh mount and PID namespaces
//! (`unshare --mount --pid --fork --kill-child`), so the bind mounts of
//! `/dev`, `/sys`, the tree and the build directory vanish with the command:
//! nothing stays mounted inside a cache directory, and killing the command
//! kills everything it started.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Host directories a command works on. Scripts see them as `$SRC`,
/// `$BUILD` and `$SCRATCH`.
#[derive(Debug, Clone)]
pub struct Binds {
    pub src: PathBuf,
    pub build: PathBuf,
    pub scratch: PathBuf,
}

#[derive(Debug, Clone)]
pub enum Runner {
    /// chroot into a toolchain root; `userns` when not running as root.
    Root { root: PathBuf, userns: bool },
    /// The host's own tools.
    Host,
}

/// Mounts the binds inside the root and enters it; `$1` is the root, `$2..$4`
/// the host directories, `$5` the script to run.
const ENTER: &str = r#"set -e
R=$1
mount -t tmpfs tmpfs "$R/tmp"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mkdir -p "$R/tmp/src" "$R/tmp/build" "$R/tmp/scratch"
mount --bind "$2" "$R/tmp/src"
mount --bind "$3" "$R/tmp/build"
mount --bind "$4" "$R/tmp/scratch"
exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 TERM=dumb SRC=/tmp/src BUILD=/tmp/build SCRATCH=/tmp/scratch \
    /bin/sh -c "$5"
"#;

impl Runner {
    /// A command that runs the shell `script` with the binds in place.
    pub fn script(&self, binds: &Binds, script: &str) -> Command {
        match self {
            Runner::Root { root, userns } => {
                let mut c = Command::new("unshare");
                if *userns {
                    c.arg("--map-root-user");
                }
                c.args([
                    "--mount",
                    "--propagation",
                    "private",
                    "--pid",
                    "--fork",
                    "--kill-child",
                    "--",
                    "sh",
                    "-c",
                    ENTER,
                    "enter",
                ]);
                c.arg(root)
                    .arg(&binds.src)
                    .arg(&binds.build)
                    .arg(&binds.scratch);
                c.arg(script);
                c
            }
            Runner::Host => {
                let mut c = Command::new("sh");
                c.args(["-c", script]);
                c.env("SRC", &binds.src)
                    .env("BUILD", &binds.build)
                    .env("SCRATCH", &binds.scratch)
                    .env("LC_ALL", "C.UTF-8");
                c
            }
        }
    }

    /// Where a host path under `binds.scratch` appears to the command.
    pub fn scratch_path(&self, binds: &Binds, host: &Path) -> String {
        let rel = host.strip_prefix(&binds.scratch).unwrap_or(host);
        match self {
            Runner::Root { .. } => Path::new("/tmp/scratch").join(rel).display().to_string(),
            Runner::Host => binds.scratch.join(rel).display().to_string(),
        }
    }

    /// Where the source tree appears to commands, with a trailing `/`:
    /// compiler messages name files under it.
    pub fn src_prefix(&self, binds: &Binds) -> String {
        match self {
            Runner::Root { .. } => "/tmp/src/".to_owned(),
            Runner::Host => format!("{}/", binds.src.display()),
        }
    }

    /// A host path to a file of the toolchain (e.g. `/usr/bin/busybox`).
    pub fn host_path_of(&self, tool_path: &str) -> PathBuf {
        match self {
            Runner::Root { root, .. } => root.join(tool_path.trim_start_matches('/')),
            Runner::Host => PathBuf::from(tool_path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binds() -> Binds {
        Binds {
            src: "/c/tree".into(),
            build: "/c/build".into(),
            scratch: "/c/scratch".into(),
        }
    }

    #[test]
    fn root_runner_enters_with_namespaces() {
        let r = Runner::Root {
            root: "/c/root".into(),
            userns: false,
        };
        let c = r.script(&binds(), "make");
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(c.get_program(), "unshare");
        assert!(args.contains(&"--kill-child".to_owned()));
        assert!(!args.contains(&"--map-root-user".to_owned()));
        assert_eq!(
            &args[args.len() - 5..],
            ["/c/root", "/c/tree", "/c/build", "/c/scratch", "make"]
        );
        assert_eq!(
            r.scratch_path(&binds(), Path::new("/c/scratch/a/i.cpio")),
            "/tmp/scratch/a/i.cpio"
        );
    }

    #[test]
    fn host_runner_uses_real_paths() {
        let r = Runner::Host;
        assert_eq!(
            r.scratch_path(&binds(), Path::new("/c/scratch/i")),
            "/c/scratch/i"
        );
        assert_eq!(
            r.host_path_of("/usr/bin/busybox"),
            PathBuf::from("/usr/bin/busybox")
        );
    }
}
