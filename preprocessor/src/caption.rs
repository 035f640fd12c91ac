//! `{{#bound-caption}}`: what a listing was verified on, with exact versions.

use crate::report::{CompileFailResult, PatchResult, Report};

fn version<'a>(r: &'a Report, pkg: &str) -> &'a str {
    r.toolchain.get(pkg).map_or("(unknown)", String::as_str)
}

fn tree(r: &Report) -> String {
    format!("Linux {} ({} {})", r.kernel, r.tree_package, r.tree_version)
}

fn host_note(r: &Report) -> &'static str {
    if r.host_toolchain {
        " Note: this run used the host's toolchain, not the pinned Debian root."
    } else {
        ""
    }
}

pub fn for_patch(r: &Report, p: &PatchResult) -> String {
    let mut s = format!(
        "**Verified by CI:** patch `{}` applied with `git am` to {}, built with rustc {}, bindgen {}",
        p.file,
        tree(r),
        version(r, "rustc"),
        version(r, "bindgen"),
    );
    match &p.checkpoint {
        Some(c) => {
            let passed = c.guest.iter().filter(|g| g.pass).count();
            s.push_str(&format!(
                ", booted on QEMU {} with {}; checkpoint `{}` {}: {} of {} guest checks passed.",
                version(r, "qemu-system-x86"),
                if c.devices.is_empty() {
                    "no extra devices".to_owned()
                } else {
                    c.devices
                        .iter()
                        .map(|d| format!("`-device {d}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                c.name,
                if c.pass { "passed" } else { "FAILED" },
                passed,
                c.guest.len(),
            ));
            if !c.kunit.is_empty() {
                s.push_str(&format!(
                    " KUnit at boot: {}.",
                    c.kunit
                        .iter()
                        .map(|k| k.summary())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
        None => s.push_str(" (not booted: this patch has no checkpoint)."),
    }
    s.push_str(host_note(r));
    s.push('\n');
    s
}

pub fn for_compile_fail(r: &Report, c: &CompileFailResult) -> String {
    format!(
        "**Verified by CI:** `{}` applied with `git am` on top of `{}` to {} {} with rustc {} and {}, as this listing expects.{}\n",
        c.patch,
        c.after,
        tree(r),
        if c.pass {
            "fails to build"
        } else {
            "did NOT fail as expected"
        },
        version(r, "rustc"),
        bound_report::describe_error(&c.code),
        host_note(r),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckpointResult;
    use bound_report::GuestCheck;

    fn report() -> Report {
        Report {
            kernel: "7.3.4".into(),
            tree_package: "linux-source-7.3".into(),
            tree_version: "7.3.4-1~bpo13+1".into(),
            toolchain: [
                ("rustc", "1.85.1"),
                ("bindgen", "0.71.1"),
                ("qemu-system-x86", "10.0.13"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn patch_caption_names_versions_and_checkpoint() {
        let r = report();
        let mut p = PatchResult {
            file: "0001-a.patch".into(),
            ..Default::default()
        };
        let s = for_patch(&r, &p);
        assert!(s.contains("patch `0001-a.patch` applied with `git am` to Linux 7.3.4 (linux-source-7.3 7.3.4-1~bpo13+1), built with rustc 1.85.1, bindgen 0.71.1 (not booted"), "{s}");
        p.checkpoint = Some(CheckpointResult {
            name: "cp".into(),
            pass: true,
            devices: vec!["pci-testdev".into()],
            guest: vec![GuestCheck {
                name: "bound".into(),
                pass: true,
                why: String::new(),
            }],
            ..Default::default()
        });
        let s = for_patch(&r, &p);
        assert!(s.contains("booted on QEMU 10.0.13 with `-device pci-testdev`; checkpoint `cp` passed: 1 of 1 guest checks passed."), "{s}");
    }

    #[test]
    fn compile_fail_caption() {
        let c = CompileFailResult {
            name: "x".into(),
            patch: "compile-fail/x.patch".into(),
            after: "0001-a.patch".into(),
            pass: true,
            code: "E0521".into(),
            ..Default::default()
        };
        let s = for_compile_fail(&report(), &c);
        assert!(s.contains("on top of `0001-a.patch`"));
        assert!(s.contains("fails to build with rustc 1.85.1 and error E0521"));
    }
}
