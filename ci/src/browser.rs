//! The rendered book in a real browser: headless Chromium loads pages from a
//! local server, and the DOM it ends up with (after mermaid and the search
//! script ran) is checked against the page's expectations.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::progress::Progress;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs Debian's Chromium if it is missing.
pub fn ensure_chromium(p: &Progress) -> Result<()> {
    if Path::new(CHROMIUM).is_file() {
        return Ok(());
    }
    if !crate::toolchain::is_root() {
        bail!(
            "browser check: {CHROMIUM} is missing; install Debian's `chromium` package (as root)"
        );
    }
    p.say("browser check: installing Debian's chromium with apt-get");
    for args in [
        &["update", "-q"][..],
        &["install", "-y", "-q", "chromium"][..],
    ] {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .context("running apt-get")?;
        if !out.status.success() {
            bail!(
                "browser check: apt-get {} failed:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}

/// A static file server for `root` on 127.0.0.1, on a free port, for as
/// long as the process lives.
pub fn serve(root: &Path) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a local port")?;
    let port = listener.local_addr()?.port();
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let _ = answer(&root, stream);
            });
        }
    });
    Ok(port)
}

fn answer(root: &Path, mut stream: TcpStream) -> Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let (status, ctype, body) = match resolve(root, target).and_then(|p| {
        let body = std::fs::read(&p).ok()?;
        Some((p, body))
    }) {
        Some((p, body)) => ("200 OK", content_type(&p), body),
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    Ok(())
}

/// The file a request path names, never outside `root`.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut p = root.to_path_buf();
    for part in path.split('/').filter(|s| !s.is_empty()) {
        if part == ".." || part.contains('\\') {
            return None;
        }
        p.push(part);
    }
    if p.is_dir() {
        p.push("index.html");
    }
    p.is_file().then_some(p)
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn chromium(args: &[String], profile: &Path) -> Result<String> {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .context("running chromium")?;
    if !out.status.success() {
        bail!(
            "chromium failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What one page must show once its scripts have run.
pub struct PageCheck<'a> {
    pub page: &'a str,
    pub must_contain: &'a [(&'a str, &'a str)],
}

/// Loads `page` with `?search=term` and returns the DOM.
pub fn dom(port: u16, page: &str, work: &Path) -> Result<String> {
    chromium(
        &[
            "--dump-dom".to_owned(),
            format!("http://127.0.0.1:{port}/{page}"),
        ],
        &work.join("profile"),
    )
}

/// Checks pages, one `(what, needle)` at a time; returns what was missing.
pub fn check_pages(port: u16, checks: &[PageCheck], work: &Path) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for c in checks {
        let dom = dom(port, c.page, work)?;
        std::fs::write(
            work.join(format!("{}.dom.html", c.page.replace(['/', '?', '='], "_"))),
            &dom,
        )?;
        for (what, needle) in c.must_contain {
            if !dom.contains(needle) {
                missing.push(format!("{}: {what} (looked for {needle:?})", c.page));
            }
        }
    }
    Ok(missing)
}

/// A full-page screenshot of `page`.
pub fn screenshot(port: u16, page: &str, dest: &Path, work: &Path) -> Result<()> {
    chromium(
        &[
            format!("--screenshot={}", dest.display()),
            "--window-size=1280,4000".to_owned(),
            format!("http://127.0.0.1:{port}/{page}"),
        ],
        &work.join("profile"),
    )?;
    if !dest.is_file() {
        bail!("chromium did not write the screenshot {}", dest.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_root() {
        let d = std::env::temp_dir().join(format!("bound-serve-{}", std::process::id()));
        std::fs::create_dir_all(d.join("part1")).unwrap();
        std::fs::write(d.join("index.html"), "i").unwrap();
        std::fs::write(d.join("part1/before.html"), "b").unwrap();
        assert_eq!(resolve(&d, "/"), Some(d.join("index.html")));
        assert_eq!(
            resolve(&d, "/part1/before.html?search=x#top"),
            Some(d.join("part1/before.html"))
        );
        assert_eq!(resolve(&d, "/../etc/passwd"), None);
        assert_eq!(resolve(&d, "/missing.html"), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn server_answers_files_and_404() {
        let d = std::env::temp_dir().join(format!("bound-serve2-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("a.js"), "x=1").unwrap();
        let port = serve(&d).unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            std::io::Read::read_to_string(&mut s, &mut out).unwrap();
            out
        };
        let ok = get("/a.js");
        assert!(
            ok.starts_with("HTTP/1.1 200 OK")
                && ok.contains("text/javascript")
                && ok.ends_with("x=1")
        );
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
