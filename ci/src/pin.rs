//! `pin.toml`: the pinned kernel tree and toolchain.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub tree: TreePin,
    pub toolchain: ToolchainPin,
    pub book: BookPin,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BookPin {
    /// crate name -> exact version.
    pub tools: BTreeMap<String, String>,
    /// crate name -> the features to install it with, instead of its
    /// defaults.
    #[serde(default)]
    pub features: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TreePin {
    pub package: String,
    pub version: String,
    pub suite: String,
    pub sha256: String,
    pub tarball: String,
    pub top: String,
    pub kernel: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToolchainPin {
    pub suite: String,
    pub packages: Vec<String>,
    /// Debian package name -> expected upstream version.
    pub expect: BTreeMap<String, String>,
}

impl Pin {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let pin: Pin = toml::from_str(text)?;
        ensure!(
            pin.tree.sha256.len() == 64 && pin.tree.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
            "tree.sha256 must be 64 hex digits"
        );
        ensure!(
            !pin.toolchain.packages.is_empty(),
            "toolchain.packages is empty"
        );
        Ok(pin)
    }

    /// The `.deb` file name apt gives the pinned package.
    pub fn deb_name(&self) -> String {
        // apt escapes ':' in epochs as %3a; the tree package has none.
        format!("{}_{}_all.deb", self.tree.package, self.tree.version)
    }
}

/// The upstream part of a Debian version: no epoch, no Debian revision, no
/// `+dfsg`-style repack suffix. `1:10.0.13+ds-0+deb13u1` gives `10.0.13`.
pub fn upstream_version(debian: &str) -> &str {
    let no_epoch = debian.split_once(':').map_or(debian, |(_, v)| v);
    let no_rev = no_epoch.rsplit_once('-').map_or(no_epoch, |(v, _)| v);
    no_rev.split(['+', '~']).next().unwrap_or(no_rev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream_version("1.85.1+dfsg1-1+deb13u1"), "1.85.1");
        assert_eq!(upstream_version("1:10.0.13+ds-0+deb13u1"), "10.0.13");
        assert_eq!(upstream_version("0.71.1-6"), "0.71.1");
        assert_eq!(upstream_version("1:19.1.7-3+b1"), "19.1.7");
        assert_eq!(upstream_version("1:1.37.0-6+b9"), "1.37.0");
        assert_eq!(upstream_version("7.3.4-1~bpo13+1"), "7.3.4");
    }

    #[test]
    fn repo_pin_parses() {
        let pin = Pin::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../pin.toml")).unwrap();
        assert_eq!(pin.deb_name(), "linux-source-7.3_7.3.4-1~bpo13+1_all.deb");
        assert!(pin.toolchain.packages.iter().any(|p| p == "rust-src"));
    }

    #[test]
    fn bad_sha_is_rejected() {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../pin.toml"))
                .unwrap()
                .replace("703e369d", "zz");
        assert!(Pin::parse(&text).is_err());
    }
}
