//! The host's apt configuration: which Debian mirror it uses (never written
//! into the repository), and downloading one pinned package through a
//! private apt state so the host's own lists are untouched.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The first Debian archive URI (not the security archive) in the host's
/// apt sources.
pub fn host_mirror() -> Result<String> {
    let mut texts = Vec::new();
    for dir in ["/etc/apt/sources.list.d"] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                let name = p.to_string_lossy().into_owned();
                if name.ends_with(".sources") || name.ends_with(".list") {
                    texts.push(std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
    }
    texts.push(std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    texts.iter().find_map(|t| mirror_in(t)).context(
        "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/; \
             configure apt with a Debian mirror first",
    )
}

/// The Debian archive URI in one sources file, in either format.
pub fn mirror_in(text: &str) -> Option<String> {
    let is_archive = |u: &str| {
        let u = u.trim_end_matches('/');
        (u.starts_with("http://") || u.starts_with("https://") || u.starts_with("file:"))
            && u.ends_with("/debian")
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("URIs:") {
            if let Some(u) = rest.split_whitespace().find(|u| is_archive(u)) {
                return Some(u.trim_end_matches('/').to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("deb ") {
            // Skip an options block: `deb [arch=amd64 signed-by=...] URI suite ...`.
            let rest = match rest.trim_start().strip_prefix('[') {
                Some(opts) => opts.split_once(']').map_or("", |(_, r)| r),
                None => rest,
            };
            let uri = rest.split_whitespace().next();
            if let Some(u) = uri.filter(|u| is_archive(u)) {
                return Some(u.trim_end_matches('/').to_owned());
            }
        }
    }
    None
}

/// Downloads `package=version` from `suite` into `dir`, using a throw-away
/// apt state under `dir/.apt`.
pub fn download(mirror: &str, suite: &str, package: &str, version: &str, dir: &Path) -> Result<()> {
    let state = dir.join(".apt");
    for sub in ["lists/partial", "cache/archives/partial", "etc"] {
        std::fs::create_dir_all(state.join(sub))?;
    }
    let list = state.join("etc/sources.list");
    std::fs::write(&list, format!("deb {mirror} {suite} main\n"))?;
    let opts = [
        format!("-oDir::Etc::SourceList={}", list.display()),
        "-oDir::Etc::SourceParts=/nonexistent".to_owned(),
        format!("-oDir::State::Lists={}", state.join("lists").display()),
        format!("-oDir::Cache={}", state.join("cache").display()),
        "-oAPT::Sandbox::User=root".to_owned(),
        "-q".to_owned(),
    ];
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new("apt-get")
            .args(&opts)
            .args(args)
            .current_dir(dir)
            .output()
            .context("running apt-get (is this a Debian host with apt?)")?;
        if !out.status.success() {
            bail!(
                "apt-get {} failed:\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    run(&["update"]).with_context(|| format!("reading the {suite} package lists"))?;
    run(&["download", &format!("{package}={version}")])
        .with_context(|| format!("downloading {package} {version} from {suite}"))?;
    std::fs::remove_dir_all(&state)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_sources() {
        let t = "Types: deb\n# comment\nURIs: http://mirror.example/debian\n\
                 Suites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n";
        assert_eq!(
            mirror_in(t).as_deref(),
            Some("http://mirror.example/debian")
        );
    }

    #[test]
    fn one_line_sources() {
        let t = "# deb http://old.example/debian x main\n\
                 deb http://sec.example/debian-security bookworm-security main\n\
                 deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main\n";
        assert_eq!(mirror_in(t).as_deref(), Some("http://m.example/debian"));
    }

    #[test]
    fn no_mirror() {
        assert_eq!(mirror_in("deb http://x.example/ubuntu jammy main\n"), None);
    }
}
