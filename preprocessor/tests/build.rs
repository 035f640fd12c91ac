//! Runs the real `mdbook build` (env `MDBOOK`) on `tests/fixture/` with this
//! preprocessor and the fixture report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mdbook() -> PathBuf {
    let m = std::env::var_os("MDBOOK").expect(
        "set MDBOOK to the mdbook 0.5.4 binary, e.g. \
         MDBOOK=~/.cache/bound-book/tools/mdbook-0.5.4-features-search/bin/mdbook cargo test -p mdbook-bound",
    );
    let m = PathBuf::from(m);
    assert!(m.is_file(), "MDBOOK={} is not a file", m.display());
    m
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "book" {
                copy_dir(&e.path(), &dest);
            }
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A fresh copy of the fixture book, so builds do not write into the source.
fn fixture(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bound-fixture-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
        &dir,
    );
    dir
}

fn build(dir: &Path, strict: bool) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_mdbook-bound"));
    let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new(mdbook())
        .arg("build")
        .current_dir(dir)
        .env("PATH", path)
        .env("BOUND_STRICT", if strict { "1" } else { "0" })
        .env_remove("BOUND_REPORT")
        .env_remove("BOUND_PATCHES")
        .output()
        .expect("running mdbook")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn renders_listings_and_warns_about_missing_ones() {
    let dir = fixture("lenient");
    let out = build(&dir, false);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "mdbook build failed:\n{stderr}");
    let html = std::fs::read_to_string(dir.join("book/listing.html")).unwrap();

    // Caption with the report's exact versions.
    assert!(html.contains("applied with <code>git am</code> to Linux 7.3.4 (linux-source-7.3 7.3.4-1~bpo13+1), built with rustc 1.85.1+dfsg1-1, bindgen 0.71.1-4, booted on QEMU 1:10.0.13+ds-0+deb13u1"), "{html}");
    assert!(html
        .contains("checkpoint <code>testdev-before</code> passed: 14 of 14 guest checks passed."));
    // The patch: subject, message, diff blocks.
    // mdBook's smart punctuation turns the subject's ' into a curly quote.
    assert!(html.contains("<strong>samples: rust: add a Devres-style driver for QEMU"));
    assert!(html.contains("ARef&lt;pci::Device&gt;"));
    assert!(html.contains(r#"<code class="language-diff">"#));
    assert!(html.contains("+config SAMPLE_RUST_TESTDEV"));
    assert!(html.contains("+obj-$(CONFIG_SAMPLE_RUST_TESTDEV)"));
    // The file region.
    assert!(html.contains("impl Drop for TestdevData {"));
    assert!(!html.contains("kernel::module_pci_driver! {\n    type"));
    // The boot log: trimmed, normalised, collapsed.
    assert!(html.contains("[    T] rust_testdev 0000:00:03.0: probe: test 0 count 1"));
    assert!(
        html.contains("BOOK: PASS cycle-2\n... (28 more lines) ...\n"),
        "{html}"
    );
    assert!(html.contains("BOOK: END"));
    assert!(!html.contains("Linux version 7.3.4"));
    // The compile-fail diagnostic and its caption.
    assert!(html.contains("error[E0521]: borrowed data escapes outside of associated function"));
    assert!(html.contains("fails to build with rustc 1.85.1+dfsg1-1 and error E0521"));
    assert!(
        html.contains("+type Bar0 = pci::Bar&lt;&#39;static, { regs::BAR0_SIZE }&gt;;")
            || html.contains("+type Bar0 = pci::Bar&lt;'static, { regs::BAR0_SIZE }&gt;;")
    );
    // Escaped directive stays text; nothing unexpanded or unverified here.
    assert!(html.contains("Written as text: {{#bound-patch FILE}}."));
    assert!(!html.contains("Unverified listing"));

    // The missing listing is a visible warning, not an error.
    let missing = std::fs::read_to_string(dir.join("book/missing.html")).unwrap();
    assert!(missing.contains("Unverified listing"), "{missing}");
    assert!(missing.contains("patch 0009-not-in-the-report.patch is not in the report"));
    assert!(stderr.contains("warning: unverified listing"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strict_mode_fails_naming_chapter_and_directive() {
    let dir = fixture("strict");
    let out = build(&dir, true);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "strict build passed:\n{stderr}");
    assert!(
        stderr.contains("chapter missing.md: `{{#bound-patch 0009-not-in-the-report.patch}}`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 unverified listing(s) in strict mode"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strict_mode_catches_a_stale_patch() {
    let dir = fixture("stale");
    let p = dir.join("patches/0001-samples-rust-add-a-Devres-style-driver-for-QEMU-s-pc.patch");
    let mut t = std::fs::read_to_string(&p).unwrap();
    t.push('\n');
    std::fs::write(&p, t).unwrap();
    std::fs::write(
        dir.join("src/missing.md"),
        "# Missing\n\nNothing here now.\n",
    )
    .unwrap();
    let out = build(&dir, true);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "strict build passed:\n{stderr}");
    assert!(
        stderr.contains("chapter listing.md: `{{#bound-caption 0001-"),
        "{stderr}"
    );
    assert!(stderr.contains("stale:"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
