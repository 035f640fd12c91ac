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

    /// The `.ko` files of the last `make modules`, from the build's
    /// `modules.order` (empty when the config builds no modules).
    pub fn modules(&self) -> Result<Vec<PathBuf>> {
        let order = self.binds.build.join("modules.order");
        let text = match std::fs::read_to_string(&order) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", order.display())),
        };
        module_paths(&text)
            .into_iter()
            .map(|rel| {
                let ko = self.binds.build.join(rel);
                anyhow::ensure!(
                    ko.is_file(),
                    "{} lists {}, which was not built",
                    order.display(),
                    ko.display()
                );
                Ok(ko)
            })
            .collect()
    }
}

/// The `.ko` paths, relative to the build directory, that a `modules.order`
/// text lists (it names each module by its `.o`, or in older trees `.ko`).
fn module_paths(order: &str) -> Vec<String> {
    order
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            format!(
                "{}.ko",
                l.strip_suffix(".o").or(l.strip_suffix(".ko")).unwrap_or(l)
            )
        })
        .collect()
}

/// The unstable features the tree lets drivers use: `rust_allowed_features`
/// in a `scripts/Makefile.build` text.
pub fn allowed_rust_features(makefile_build: &str) -> Result<Vec<String>> {
    let line = makefile_build
        .lines()
        .find_map(|l| l.strip_prefix("rust_allowed_features :="))
        .context("scripts/Makefile.build has no `rust_allowed_features :=` line")?;
    Ok(line
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect())
}

/// Symbols of `wanted` that are neither `=y` nor `=m` in a `.config` text
/// (a module is built and loaded by the guest's /init before the checkpoint).
pub fn missing_symbols(config: &str, wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|s| {
            !config.lines().any(|l| {
                l.strip_prefix("CONFIG_")
                    .and_then(|l| l.strip_prefix(s.as_str()))
                    .is_some_and(|v| v == "=y" || v == "=m")
            })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unset_symbols() {
        let cfg = "CONFIG_PCI=y\n# CONFIG_SAMPLE_RUST_DRIVER_PCI is not set\n\
                   CONFIG_SAMPLE_RUST_EDU=m\nCONFIG_RUST_KUNIT=y\nCONFIG_LOG_BUF_SHIFT=21\n";
        let want = [
            "PCI",
            "SAMPLE_RUST_DRIVER_PCI",
            "SAMPLE_RUST_EDU",
            "RUST",
            "LOG_BUF_SHIFT",
        ]
        .map(String::from);
        assert_eq!(
            missing_symbols(cfg, &want),
            ["SAMPLE_RUST_DRIVER_PCI", "RUST", "LOG_BUF_SHIFT"]
        );
    }

    #[test]
    fn allowed_features_from_makefile_build() {
        let mk =
            "# comment\nrust_allowed_features := arbitrary_self_types,asm_goto,used_with_arg\n";
        assert_eq!(
            allowed_rust_features(mk).unwrap(),
            ["arbitrary_self_types", "asm_goto", "used_with_arg"]
        );
        assert!(allowed_rust_features("obj-y += x.o\n").is_err());
    }

    #[test]
    fn module_paths_from_modules_order() {
        let order = "samples/rust/rust_testdev.o\n\nsamples/rust/rust_edu.ko\n";
        assert_eq!(
            module_paths(order),
            ["samples/rust/rust_testdev.ko", "samples/rust/rust_edu.ko"]
        );
        assert!(module_paths("").is_empty());
    }
}
