//! `{{#bound-boot}}`: trimming a checkpoint's console log for the page.

use std::sync::LazyLock;

use regex::Regex;

/// Lines kept when the directive has no `grep=`.
pub const DEFAULT_GREP: &str = "rust_|BOOK:";

/// A repeating run longer than this is collapsed.
const MAX_RUN: usize = 12;
/// Longest repeating block (in lines) that is recognised, e.g. the four
/// lines of one unbind/bind cycle.
const MAX_PERIOD: usize = 8;

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[\s*\d+\.\d+\]").unwrap());
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").unwrap());

/// The lines matching `grep`, with normalised timestamps and long repeating
/// runs collapsed.
pub fn trim(console: &str, grep: &Regex) -> String {
    let lines: Vec<String> = console
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| grep.is_match(l))
        .map(|l| TIMESTAMP.replace_all(l, "[    T]").into_owned())
        .collect();
    collapse(&lines).join("\n")
}

/// Lines that differ only in numbers are similar (cycle 3 vs cycle 4).
fn key(line: &str) -> String {
    DIGITS.replace_all(line, "#").into_owned()
}

/// Replaces the middle of each run of more than [`MAX_RUN`] lines that
/// repeats a block of up to [`MAX_PERIOD`] similar lines with a marker.
fn collapse(lines: &[String]) -> Vec<String> {
    let keys: Vec<String> = lines.iter().map(|l| key(l)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // The longest periodic run starting at i, and its period.
        let mut best = (0, 1);
        for p in 1..=MAX_PERIOD {
            let mut j = i + p;
            while j < lines.len() && keys[j] == keys[j - p] {
                j += 1;
            }
            let len = j.min(lines.len()) - i;
            if len > best.0 && len >= 2 * p {
                best = (len, p);
            }
        }
        let (len, p) = best;
        let head = (2 * p).max(3);
        let tail = p.max(3);
        if len > MAX_RUN && len > head + tail + 1 {
            out.extend_from_slice(&lines[i..i + head]);
            out.push(format!("... ({} more lines) ...", len - head - tail));
            out.extend_from_slice(&lines[i + len - tail..i + len]);
            i += len;
        } else {
            out.push(lines[i].clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_grep() -> Regex {
        Regex::new(DEFAULT_GREP).unwrap()
    }

    #[test]
    fn keeps_driver_and_book_lines_and_normalises_time() {
        let console = "[    0.000000] Linux version 7.3.4\r\n\
                       [    1.234567] rust_testdev 0000:00:03.0: probe: test 0 count 1\n\
                       random noise\n\
                       BOOK: PASS bound\n\
                       [   12.5] rust_testdev: x\n";
        assert_eq!(
            trim(console, &default_grep()),
            "[    T] rust_testdev 0000:00:03.0: probe: test 0 count 1\nBOOK: PASS bound\n[    T] rust_testdev: x"
        );
        let only = Regex::new("probe:").unwrap();
        assert_eq!(
            trim(console, &only),
            "[    T] rust_testdev 0000:00:03.0: probe: test 0 count 1"
        );
    }

    #[test]
    fn collapses_repeating_cycles() {
        let mut console = String::from("BOOK: BEGIN cp\n");
        for n in 1..=10 {
            console.push_str(&format!(
                "[ {n}.0] rust_testdev 0000:00:03.0: unbind: test 0 count 1\n\
                 [ {n}.1] rust_testdev 0000:00:03.0: drop: BAR still mapped, test reset\n\
                 [ {n}.2] rust_testdev 0000:00:03.0: probe: test 0 count 1\n\
                 BOOK: PASS cycle-{n}\n"
            ));
        }
        console.push_str("BOOK: PASS cycles\nBOOK: END\n");
        let out = trim(&console, &default_grep());
        let lines: Vec<&str> = out.lines().collect();
        // BEGIN, 2 cycles, marker, 1 cycle, cycles, END.
        assert_eq!(lines.len(), 1 + 8 + 1 + 4 + 2, "{out}");
        assert_eq!(lines[0], "BOOK: BEGIN cp");
        assert_eq!(lines[8], "BOOK: PASS cycle-2");
        assert_eq!(lines[9], "... (28 more lines) ...");
        assert_eq!(lines[13], "BOOK: PASS cycle-10");
        assert_eq!(lines[15], "BOOK: END");
    }

    #[test]
    fn short_runs_are_kept() {
        let lines: Vec<String> = (0..12).map(|n| format!("rust_x {n}")).collect();
        assert_eq!(collapse(&lines), lines);
        let lines: Vec<String> = (0..20).map(|n| format!("rust_x {n}")).collect();
        let c = collapse(&lines);
        assert_eq!(c.len(), 7);
        assert_eq!(c[3], "... (14 more lines) ...");
    }
}
