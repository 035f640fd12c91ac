//! Step 3a, the kernel build: configuration from `make tinyconfig` plus the
//! fragments in `kernel-config/`, and incremental `LLVM=1` builds in a
//! build directory outside the source tree.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::progress::Progress;
use crate::runner::{Binds, Runner};

pub struct Kbuild<'a> {
    pub runner: &'a Runner,
    pub binds: Binds,
    pub progress: &'a Progress,
    pub jobs: usize,
}

/// Regenerates `.config`, keeping the old file (and its timestamp, so make
/// rebuilds nothing) when the result is the same.
const CONFIGURE: &str = r#"set -e
cd "$SRC"
if [ -f "$BUILD/.config" ]; then cp -p "$BUILD/.config" "$BUILD/.config.bound-prev"; fi
make -s O="$BUILD" LLVM=1 tinyconfig
scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/.config" "$SCRATCH"/kernel-config/*.config >/dev/null
make -s O="$BUILD" LLVM=1 olddefconfig
if [ -f "$BUILD/.config.bound-prev" ] && cmp -s "$BUILD/.config" "$BUILD/.config.bound-prev"; then
    mv "$BUILD/.config.bound-prev" "$BUILD/.config"
else
    rm -f "$BUILD/.config.bound-prev"
    echo "configuration changed"
fi
"#;

impl Kbuild<'_> {
    /// Copies the fragments where the build can see them.
    pub fn stage_fragments(&self, fragments: &[PathBuf]) -> Result<()> {
        let dir = self.binds.scratch.join("kernel-config");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        for f in fragments {
            std::fs::copy(
                f,
                dir.join(f.file_name().context("fragment without a name")?),
            )
            .with_context(|| format!("copying {}", f.display()))?;
        }
        Ok(())
    }

    pub fn configure(&self, log: &Path) -> Result<()> {
        let mut cmd = self.runner.script(&self.binds, CONFIGURE);
        let (st, _) =
            self.progress
                .run_logged("configure", &mut cmd, log, Duration::from_secs(30))?;
        if !st.success() {
            bail!(
                "kernel configuration failed ({st}):\n{}\nfull log: {}",
                crate::console::tail(&std::fs::read_to_string(log).unwrap_or_default(), 15),
                log.display()
            );
        }
        Ok(())
    }

    /// `make LLVM=1 rustavailable`: the toolchain can build Rust kernel code.
    pub fn rust_available(&self, log: &Path) -> Result<()> {
        let mut cmd = self.runner.script(
            &self.binds,
            r#"cd "$SRC" && make -s O="$BUILD" LLVM=1 rustavailable"#,
        );
        let (st, _) =
            self.progress
                .run_logged("rustavailable", &mut cmd, log, Duration::from_secs(30))?;
        if !st.success() {
            bail!(
                "toolchain: `make LLVM=1 rustavailable` failed, so this toolchain cannot build \
                 Rust kernel code:\n{}",
                crate::console::tail(&std::fs::read_to_string(log).unwrap_or_default(), 10)
            );
        }
        Ok(())
    }

    /// Builds `targets` (e.g. `bzImage` or one object file), with clippy
    /// linting every Rust crate.
    pub fn make(
        &self,
        label: &str,
        targets: &[&str],
        log: &Path,
    ) -> Result<(ExitStatus, Duration)> {
        let script = format!(
            r#"cd "$SRC" && exec make O="$BUILD" LLVM=1 CLIPPY=1 -j{} {}"#,
            self.jobs,
            targets.join(" ")
        );
        let mut cmd = self.runner.script(&self.binds, &script);
        self.progress
            .run_logged(label, &mut cmd, log, Duration::from_secs(30))
    }

    pub fn bzimage(&self) -> PathBuf {
        self.binds.build.join("arch/x86/boot/bzImage")
    }
}

/// Symbols of `wanted` that are not `=y` in a `.config` text.
pub fn missing_symbols(config: &str, wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|s| !config.lines().any(|l| l == format!("CONFIG_{s}=y")))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unset_symbols() {
        let cfg = "CONFIG_PCI=y\n# CONFIG_SAMPLE_RUST_DRIVER_PCI is not set\nCONFIG_RUST=m\n";
        let want = ["PCI", "SAMPLE_RUST_DRIVER_PCI", "RUST"].map(String::from);
        assert_eq!(
            missing_symbols(cfg, &want),
            ["SAMPLE_RUST_DRIVER_PCI", "RUST"]
        );
    }
}
