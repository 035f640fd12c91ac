//! KUnit results in a boot console, as KTAP.
//!
//! Built-in KUnit suites run at boot and print KTAP through printk, so each
//! line may carry a `[    1.234567] ` timestamp. A suite looks like this
//! (indentation is significant, four spaces per level):
//!
//! ```text
//!     KTAP version 1
//!     # Subtest: rust_dma_fence
//!     1..2
//!     ok 1 signal
//!     not ok 2 callback_once
//! # rust_dma_fence: pass:1 fail:1 skip:0 total:2
//! not ok 1 rust_dma_fence
//! ```
//!
//! A suite counts only once its own result line (`ok N name` one level out)
//! has been seen: a suite that crashed halfway has none.

use bound_report::KunitSuite;

/// Drops a printk timestamp and the one space after it.
fn strip_time(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix('[') {
        if let Some((stamp, msg)) = rest.split_once(']') {
            if stamp.trim().chars().all(|c| c.is_ascii_digit() || c == '.') {
                return msg.strip_prefix(' ').unwrap_or(msg);
            }
        }
    }
    line
}

/// `ok 3 name # SKIP why` → (passed, name, skipped).
fn result_line(text: &str) -> Option<(bool, String, bool)> {
    let (ok, rest) = if let Some(r) = text.strip_prefix("not ok ") {
        (false, r)
    } else if let Some(r) = text.strip_prefix("ok ") {
        (true, r)
    } else {
        return None;
    };
    let (num, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (name, directive) = rest.split_once(" # ").unwrap_or((rest, ""));
    let skipped = directive
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("SKIP");
    Some((ok, name.trim().to_owned(), skipped))
}

/// Every suite whose result line appears in `console`, in order.
pub fn suites(console: &str) -> Vec<KunitSuite> {
    let mut done = Vec::new();
    // Open suites: (indent of their test lines, suite).
    let mut open: Vec<(usize, KunitSuite)> = Vec::new();
    for raw in console.lines() {
        let line = strip_time(raw.trim_end());
        let text = line.trim_start();
        let indent = line.len() - text.len();
        if let Some(name) = text.strip_prefix("# Subtest: ") {
            open.push((
                indent,
                KunitSuite {
                    name: name.trim().to_owned(),
                    ..KunitSuite::default()
                },
            ));
            continue;
        }
        let Some((ok, name, skipped)) = result_line(text) else {
            continue;
        };
        // One level out from the innermost open suite, a result closes it.
        // A closed nested suite (a parameterised test) is also one test of
        // its parent; only outermost suites are reported.
        if matches!(open.last(), Some((level, _)) if indent < *level) {
            let (_, mut suite) = open.pop().expect("checked above");
            if suite.name != name {
                continue;
            }
            suite.ok = ok;
            suite.finished = true;
            if open.is_empty() {
                done.push(suite);
                continue;
            }
        }
        // At the innermost suite's own level, a result is one of its tests.
        if let Some((level, suite)) = open.last_mut() {
            if indent == *level {
                if skipped {
                    suite.skipped += 1;
                } else if ok {
                    suite.passed += 1;
                } else {
                    suite.failed += 1;
                    suite.failures.push(name);
                }
            }
        }
    }
    done
}

/// Problems with the suites `required` in `console`: each must have run to
/// its result line, with at least one test, all of them passing.
pub fn check(found: &[KunitSuite], required: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for want in required {
        match found.iter().find(|s| &s.name == want) {
            None => problems.push(format!(
                "KUnit suite {want} did not run to its result line (is CONFIG_KUNIT=y and the \
                 suite built in?)"
            )),
            Some(s) if s.passed + s.failed + s.skipped == 0 => {
                problems.push(format!("KUnit suite {want} ran no tests"));
            }
            Some(s) if !s.ok || s.failed > 0 => problems.push(format!(
                "KUnit suite {want} failed: {} of {} tests failed ({})",
                s.failed,
                s.passed + s.failed + s.skipped,
                s.failures.join(", ")
            )),
            Some(_) => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE: &str = "\
[    0.900000] KTAP version 1
[    0.900000] 1..2
[    0.901000]     KTAP version 1
[    0.901000]     # Subtest: rust_dma_fence
[    0.901000]     # speed: normal
[    0.901000]     1..3
[    0.902000]     ok 1 signal
[    0.902000]     ok 2 callback_once
[    0.903000]     ok 3 deadline # SKIP no set_deadline op
[    0.903000] # rust_dma_fence: pass:2 fail:0 skip:1 total:3
[    0.903000] ok 1 rust_dma_fence
[    0.904000]     KTAP version 1
[    0.904000]     # Subtest: other
[    0.904000]     1..2
[    0.904000]         KTAP version 1
[    0.904000]         # Subtest: param
[    0.904000]         ok 1 a
[    0.904000]         not ok 2 b
[    0.904000]     not ok 1 param
[    0.905000]     ok 2 plain
[    0.905000] not ok 2 other
";

    #[test]
    fn parses_suites_tests_and_skips() {
        let s = suites(CONSOLE);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].name, "rust_dma_fence");
        assert!(s[0].ok && s[0].finished);
        assert_eq!((s[0].passed, s[0].failed, s[0].skipped), (2, 0, 1));
        // A parameterised test is one test of the outer suite.
        assert_eq!(s[1].name, "other");
        assert!(!s[1].ok);
        assert_eq!((s[1].passed, s[1].failed), (1, 1));
        assert_eq!(s[1].failures, vec!["param".to_owned()]);
    }

    #[test]
    fn required_suites_must_pass() {
        let s = suites(CONSOLE);
        assert!(check(&s, &["rust_dma_fence".to_owned()]).is_empty());
        let p = check(&s, &["other".to_owned()]);
        assert!(p[0].contains("1 of 2 tests failed (param)"), "{p:?}");
        let p = check(&s, &["missing".to_owned()]);
        assert!(p[0].contains("did not run"), "{p:?}");
    }

    #[test]
    fn a_suite_cut_short_does_not_count() {
        let cut: String = CONSOLE.lines().take(8).collect::<Vec<_>>().join("\n");
        assert!(suites(&cut).is_empty());
        assert!(!check(&suites(&cut), &["rust_dma_fence".to_owned()]).is_empty());
    }

    #[test]
    fn a_suite_without_tests_fails() {
        let c = "    # Subtest: empty\n    1..0\nok 1 empty\n";
        let p = check(&suites(c), &["empty".to_owned()]);
        assert_eq!(p, vec!["KUnit suite empty ran no tests".to_owned()]);
    }

    #[test]
    fn timestamps_are_optional() {
        assert_eq!(strip_time("[    1.5] x"), "x");
        assert_eq!(strip_time("[ 1.5]     ok 1 a"), "    ok 1 a");
        assert_eq!(strip_time("[abc] x"), "[abc] x");
    }
}
