//! Step 3b, the boot: QEMU under TCG with the checkpoint's devices, a hard
//! timeout, and the serial console captured to a file.
//!
//! KVM is not used: on this project's machines a KVM boot of this kernel
//! hung after SeaBIOS, while TCG boots it in about two seconds.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::progress::{check_interrupted, spawn_group, stop_group};
use crate::runner::{Binds, Runner};

pub struct Boot {
    pub console: String,
    /// `Some(limit)` when QEMU had to be killed.
    pub timed_out: Option<u64>,
    /// How QEMU ended, when it did not exit with status 0 by itself: killed
    /// by someone else, or crashed. A guest that reboots makes it exit 0.
    pub abnormal_exit: Option<String>,
    pub seconds: f64,
}

pub struct BootSpec<'a> {
    pub name: &'a str,
    /// Host paths under the binds' scratch directory.
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub devices: &'a [String],
    pub timeout_secs: u64,
    pub console_log: &'a Path,
    /// Extra kernel command-line words.
    pub cmdline: &'a [String],
    /// QEMU's `-m`.
    pub memory: &'a str,
}

/// The QEMU command line (run through `sh -c` by the runner).
pub fn qemu_script(
    kernel: &str,
    initrd: &str,
    name: &str,
    devices: &[String],
    cmdline: &[String],
    memory: &str,
) -> String {
    let extra: String = cmdline.iter().map(|a| format!(" {a}")).collect();
    let mut s = format!(
        "exec qemu-system-x86_64 -accel tcg -m {memory} -smp 1 -nographic -no-reboot \
         -kernel {kernel} -initrd {initrd} \
         -append 'console=ttyS0 panic=-1 book.checkpoint={name}{extra}'"
    );
    for d in devices {
        s.push_str(&format!(" -device {d}"));
    }
    s
}

pub fn run(runner: &Runner, binds: &Binds, spec: &BootSpec) -> Result<Boot> {
    let script = qemu_script(
        &runner.scratch_path(binds, spec.kernel),
        &runner.scratch_path(binds, spec.initrd),
        spec.name,
        spec.devices,
        spec.cmdline,
        spec.memory,
    );
    let out = std::fs::File::create(spec.console_log)
        .with_context(|| format!("creating {}", spec.console_log.display()))?;
    let t0 = Instant::now();
    let mut child = spawn_group(
        runner
            .script(binds, &script)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out),
    )
    .context("starting QEMU")?;
    let limit = Duration::from_secs(spec.timeout_secs);
    let mut timed_out = None;
    let mut abnormal_exit = None;
    loop {
        if let Some(st) = child.try_wait()? {
            if !st.success() {
                abnormal_exit = Some(st.to_string());
            }
            break;
        }
        if t0.elapsed() >= limit || check_interrupted().is_err() {
            // The whole group: the runner, QEMU, and anything else it started.
            stop_group(&mut child);
            check_interrupted()?;
            timed_out = Some(spec.timeout_secs);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let seconds = t0.elapsed().as_secs_f64();
    let raw = std::fs::read(spec.console_log)?;
    Ok(Boot {
        console: crate::console::clean(&raw),
        timed_out,
        abnormal_exit,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_line_uses_tcg_and_lists_devices_in_order() {
        let s = qemu_script(
            "/k",
            "/i",
            "cp",
            &["pci-testdev".into(), "edu".into()],
            &[],
            "256M",
        );
        assert!(s.contains("-accel tcg") && !s.contains("kvm"));
        assert!(s.contains(" -m 256M "), "{s}");
        // One line for `sh -c`, with only the -append argument quoted.
        assert!(!s.contains('\n') && !s.contains('"'), "{s}");
        assert_eq!(s.matches('\'').count(), 2, "{s}");
        assert!(s.contains("-no-reboot"));
        assert!(s.ends_with("-device pci-testdev -device edu"));
        assert!(s.contains("book.checkpoint=cp'"));
    }

    #[test]
    fn extra_cmdline_words_go_inside_the_append_quotes() {
        let s = qemu_script("/k", "/i", "cp", &[], &["book.cycles=5".into()], "1G");
        assert!(s.contains("book.checkpoint=cp book.cycles=5'"), "{s}");
    }

    #[test]
    fn hung_guest_is_killed_at_the_timeout() {
        let d = std::env::temp_dir().join(format!("bound-boot-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let binds = Binds {
            src: d.clone(),
            build: d.clone(),
            scratch: d.clone(),
        };
        // A stand-in "guest" that prints and then hangs.
        std::fs::write(
            d.join("qemu-system-x86_64"),
            "#!/bin/sh\necho booting; echo stuck; exec sleep 600\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            d.join("qemu-system-x86_64"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let path = format!("{}:{}", d.display(), std::env::var("PATH").unwrap());
        std::env::set_var("PATH", path);
        let log = d.join("console.log");
        let spec = BootSpec {
            name: "hang",
            kernel: &d.join("k"),
            initrd: &d.join("i"),
            devices: &["edu".into()],
            timeout_secs: 1,
            console_log: &log,
            cmdline: &[],
            memory: "256M",
        };
        let b = run(&Runner::Host, &binds, &spec).unwrap();
        assert_eq!(b.timed_out, Some(1));
        assert!(b.console.contains("stuck"));
        let (_, problems) = crate::console::judge(&b.console, b.timed_out, &[], &[]);
        assert!(problems[0].contains("1 s timeout"), "{problems:?}");

        // The same PATH (tests run in parallel): a "guest" whose QEMU is
        // killed from outside, after the guest printed a passing result.
        std::fs::write(
            d.join("qemu-system-x86_64"),
            "#!/bin/sh\necho 'BOOK: BEGIN x'; echo 'BOOK: END'; kill -9 $$\n",
        )
        .unwrap();
        let spec = BootSpec {
            timeout_secs: 30,
            ..spec
        };
        let b = run(&Runner::Host, &binds, &spec).unwrap();
        assert_eq!(b.timed_out, None);
        let how = b.abnormal_exit.expect("a killed QEMU is not a normal exit");
        assert!(how.contains('9'), "{how}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
