//! Judging a boot console: the guest's result protocol, the expected lines
//! and the splats that fail any checkpoint.
//!
//! The guest protocol, printed by `ci/guest/init` and the checkpoint scripts:
//!
//! ```text
//! BOOK: BEGIN <checkpoint>
//! BOOK: PASS <check>
//! BOOK: FAIL <check> <why...>
//! BOOK: FIGURE <name> <value>   a measured number for the report
//! BOOK: END
//! ```
//!
//! A console without `BOOK: END` means the guest never finished: that is a
//! failure, never a pass.

use bound_report::GuestCheck;
use regex::Regex;
use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct GuestReport {
    pub began: bool,
    pub ended: bool,
    pub checks: Vec<GuestCheck>,
    pub figures: std::collections::BTreeMap<String, String>,
}

/// Console text with carriage returns removed.
pub fn clean(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace('\r', "")
}

/// The `BOOK:` lines of a console. Kernel messages can interleave with the
/// guest's output on the serial line, so a protocol line is recognised
/// anywhere in a line.
pub fn parse_guest(console: &str) -> GuestReport {
    let mut r = GuestReport::default();
    for line in console.lines() {
        let Some(at) = line.find("BOOK: ") else {
            continue;
        };
        let rest = line[at + 6..].trim_end();
        let (verb, args) = rest.split_once(' ').unwrap_or((rest, ""));
        match verb {
            "BEGIN" => r.began = true,
            "END" => r.ended = true,
            "PASS" => r.checks.push(GuestCheck {
                name: args.trim().to_owned(),
                pass: true,
                why: String::new(),
            }),
            "FIGURE" => {
                if let Some((name, value)) = args.trim().split_once(' ') {
                    r.figures.insert(name.to_owned(), value.trim().to_owned());
                }
            }
            "FAIL" => {
                let (name, why) = args.trim().split_once(' ').unwrap_or((args.trim(), ""));
                r.checks.push(GuestCheck {
                    name: name.to_owned(),
                    pass: false,
                    why: why.to_owned(),
                });
            }
            _ => {}
        }
    }
    r
}

/// Lines (1-based number, text) matching any forbidden pattern.
pub fn find_splats(console: &str, forbidden: &[Regex]) -> Vec<(usize, String)> {
    console
        .lines()
        .enumerate()
        .filter(|(_, l)| forbidden.iter().any(|re| re.is_match(l)))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

/// Checks that each regex matches a line, in order. Returns the index of the
/// first one that could not be found after the previous match.
pub fn match_in_order(console: &str, expect: &[Regex]) -> Result<(), usize> {
    let mut lines = console.lines();
    'outer: for (i, re) in expect.iter().enumerate() {
        for l in lines.by_ref() {
            if re.is_match(l) {
                continue 'outer;
            }
        }
        return Err(i);
    }
    Ok(())
}

/// The last `n` non-empty lines, for error messages.
pub fn tail(console: &str, n: usize) -> String {
    let lines: Vec<&str> = console.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Everything that went wrong in one boot, empty when the checkpoint passed.
pub fn judge(
    console: &str,
    timed_out: Option<u64>,
    forbidden: &[Regex],
    expect: &[Regex],
) -> (GuestReport, Vec<String>) {
    let guest = parse_guest(console);
    let mut problems = Vec::new();
    if let Some(secs) = timed_out {
        problems.push(format!(
            "the boot hit its {secs} s timeout; last console lines:\n{}",
            tail(console, 15)
        ));
    }
    if console.trim().is_empty() {
        problems.push("the guest printed nothing at all".to_owned());
    }
    for (n, l) in find_splats(console, forbidden) {
        problems.push(format!("splat at console line {n}: {l}"));
    }
    if !guest.began {
        problems
            .push("the guest never started its checkpoint script (no `BOOK: BEGIN`)".to_owned());
    }
    if !guest.ended {
        problems.push("the guest never reported `BOOK: END`".to_owned());
    }
    if guest.began && guest.checks.is_empty() {
        problems.push("the checkpoint script reported no checks".to_owned());
    }
    for c in guest.checks.iter().filter(|c| !c.pass) {
        problems.push(format!("guest check {} failed: {}", c.name, c.why));
    }
    if let Err(i) = match_in_order(console, expect) {
        problems.push(format!(
            "expected console line {} of {} not found (in order): /{}/",
            i + 1,
            expect.len(),
            expect[i].as_str()
        ));
    }
    (guest, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(v: &[&str]) -> Vec<Regex> {
        v.iter().map(|s| Regex::new(s).unwrap()).collect()
    }

    fn forbidden() -> Vec<Regex> {
        res(&[
            "WARNING:",
            "BUG:",
            "Oops",
            "Kernel panic",
            "Call Trace",
            "KASAN",
        ])
    }

    const GOOD: &str = "\
[    0.512000] rust_testdev 0000:00:04.0: probe: test 0 count 1\r
BOOK: BEGIN testdev-before\r
BOOK: PASS probe\r
[    0.600000] rust_testdev 0000:00:04.0: drop: BAR still mapped\r
BOOK: PASS cycles 10\r
BOOK: END\r
";

    #[test]
    fn good_console_passes() {
        let c = clean(GOOD.as_bytes());
        let (g, p) = judge(
            &c,
            None,
            &forbidden(),
            &res(&["probe: test 0 count 1", "still mapped"]),
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(g.checks.len(), 2);
        assert_eq!(g.checks[1].name, "cycles 10");
    }

    #[test]
    fn guest_fail_line_is_reported_with_reason() {
        let c = GOOD.replace("BOOK: PASS probe", "BOOK: FAIL probe no device bound");
        let (_, p) = judge(&c, None, &forbidden(), &[]);
        assert_eq!(
            p,
            vec!["guest check probe failed: no device bound".to_owned()]
        );
    }

    #[test]
    fn figures_are_collected_by_name() {
        let g = parse_guest("BOOK: FIGURE testdev.cycles 1000\nBOOK: FIGURE leaks 0\n");
        assert_eq!(g.figures["testdev.cycles"], "1000");
        assert_eq!(g.figures["leaks"], "0");
        assert!(g.checks.is_empty());
    }

    #[test]
    fn protocol_line_found_after_interleaved_kernel_text() {
        let g = parse_guest("[ 1.0] random: crngBOOK: PASS x\n");
        assert_eq!(g.checks[0].name, "x");
    }

    #[test]
    fn missing_end_is_a_failure() {
        let c = GOOD.replace("BOOK: END", "");
        let (_, p) = judge(&c, None, &forbidden(), &[]);
        assert!(p.iter().any(|s| s.contains("BOOK: END")), "{p:?}");
    }

    #[test]
    fn silent_guest_is_a_failure() {
        let (_, p) = judge("", None, &forbidden(), &[]);
        assert!(p.iter().any(|s| s.contains("printed nothing")));
        assert!(p.iter().any(|s| s.contains("BOOK: BEGIN")));
    }

    #[test]
    fn hang_reports_timeout_and_last_lines() {
        let c = "[ 0.1] Booting\n[ 0.2] stuck here\n";
        let (_, p) = judge(c, Some(60), &forbidden(), &[]);
        assert!(
            p[0].contains("60 s timeout") && p[0].contains("stuck here"),
            "{p:?}"
        );
    }

    #[test]
    fn splats_fail_even_when_guest_passes() {
        for splat in [
            "[ 1.0] WARNING: CPU: 0 PID: 1 at samples/rust/rust_testdev.rs:80",
            "[ 1.0] BUG: KASAN: slab-use-after-free in drop",
            "[ 1.0] Oops: general protection fault",
            "[ 1.0] Kernel panic - not syncing: Fatal exception",
            "[ 1.0] Call Trace:",
        ] {
            let c = format!("{GOOD}{splat}\n");
            let (_, p) = judge(&c, None, &forbidden(), &[]);
            assert_eq!(p.len(), 1, "{splat}: {p:?}");
            assert!(p[0].starts_with("splat at console line 7"), "{p:?}");
        }
    }

    #[test]
    fn expected_lines_must_be_in_order() {
        let c = clean(GOOD.as_bytes());
        assert_eq!(
            match_in_order(&c, &res(&["count 1", "still mapped"])),
            Ok(())
        );
        assert_eq!(
            match_in_order(&c, &res(&["still mapped", "count 1"])),
            Err(1)
        );
        let (_, p) = judge(&c, None, &forbidden(), &res(&["never printed"]));
        assert!(p[0].contains("/never printed/"), "{p:?}");
    }

    #[test]
    fn script_with_no_checks_fails() {
        let (_, p) = judge("BOOK: BEGIN x\nBOOK: END\n", None, &forbidden(), &[]);
        assert_eq!(
            p,
            vec!["the checkpoint script reported no checks".to_owned()]
        );
    }
}
