//! A checkpoint's initramfs: busybox, the harness's `/init` and the
//! checkpoint's guest script, written as an uncompressed `newc` cpio archive
//! (the kernel unpacks those without any decompressor configured).

use std::path::Path;

use anyhow::{Context, Result};

/// One archive member.
pub enum Entry<'a> {
    Dir(&'a str),
    File {
        path: &'a str,
        mode: u32,
        data: &'a [u8],
    },
    Symlink {
        path: &'a str,
        target: &'a str,
    },
    CharDev {
        path: &'a str,
        major: u32,
        minor: u32,
    },
}

/// Serialises entries as a `newc` archive with its trailer.
pub fn cpio(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ino, e) in entries.iter().enumerate() {
        let (path, mode, data, rdev): (&str, u32, &[u8], (u32, u32)) = match e {
            Entry::Dir(p) => (p, 0o040755, &[], (0, 0)),
            Entry::File { path, mode, data } => (path, 0o100000 | mode, data, (0, 0)),
            Entry::Symlink { path, target } => (path, 0o120777, target.as_bytes(), (0, 0)),
            Entry::CharDev { path, major, minor } => (path, 0o020600, &[], (*major, *minor)),
        };
        header(&mut out, ino as u32 + 1, mode, data.len(), rdev, path);
        out.extend_from_slice(data);
        pad4(&mut out);
    }
    header(&mut out, 0, 0, 0, (0, 0), "TRAILER!!!");
    out
}

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, size: usize, rdev: (u32, u32), name: &str) {
    let nlink = if mode & 0o170000 == 0o040000 { 2 } else { 1 };
    let fields = [
        ino,
        mode,
        0,
        0,
        nlink,
        0,
        size as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Writes the initramfs for one checkpoint, with the build's `modules` as
/// `/lib/modules/<name>`, which /init loads before the checkpoint script.
pub fn write(
    dest: &Path,
    busybox: &Path,
    init: &str,
    checkpoint: &str,
    modules: &[(String, Vec<u8>)],
) -> Result<()> {
    let bb = std::fs::read(busybox)
        .with_context(|| format!("reading busybox from {}", busybox.display()))?;
    let paths: Vec<String> = modules
        .iter()
        .map(|(name, _)| format!("lib/modules/{name}"))
        .collect();
    let mut entries = vec![
        Entry::Dir("bin"),
        Entry::Dir("dev"),
        Entry::CharDev {
            path: "dev/console",
            major: 5,
            minor: 1,
        },
        Entry::Dir("proc"),
        Entry::Dir("sys"),
        Entry::Dir("tmp"),
        Entry::File {
            path: "bin/busybox",
            mode: 0o755,
            data: &bb,
        },
        Entry::Symlink {
            path: "bin/sh",
            target: "busybox",
        },
        Entry::File {
            path: "init",
            mode: 0o755,
            data: init.as_bytes(),
        },
        Entry::File {
            path: "checkpoint.sh",
            mode: 0o644,
            data: checkpoint.as_bytes(),
        },
        Entry::Dir("lib"),
        Entry::Dir("lib/modules"),
    ];
    for (path, (_, data)) in paths.iter().zip(modules) {
        entries.push(Entry::File {
            path,
            mode: 0o644,
            data,
        });
    }
    crate::cache::write_atomic(dest, cpio(&entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_layout() {
        let a = cpio(&[Entry::File {
            path: "init",
            mode: 0o755,
            data: b"#!/bin/sh\n",
        }]);
        assert_eq!(&a[..6], b"070701");
        // mode field is the second one.
        assert_eq!(&a[14..22], b"000081ed");
        // filesize
        assert_eq!(&a[54..62], b"0000000a");
        // namesize includes the NUL
        assert_eq!(&a[94..102], b"00000005");
        // header (110) + "init\0" padded to 116, then the data.
        assert_eq!(&a[116..126], b"#!/bin/sh\n");
        assert!(a.len().is_multiple_of(4));
        assert!(a.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn archive_lists_with_real_cpio() {
        if !crate::toolchain::which("cpio") {
            return;
        }
        let a = cpio(&[
            Entry::Dir("dev"),
            Entry::CharDev {
                path: "dev/console",
                major: 5,
                minor: 1,
            },
            Entry::Symlink {
                path: "sh",
                target: "busybox",
            },
        ]);
        let mut child = std::process::Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&a).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "dev\ndev/console\nsh\n"
        );
    }
}
