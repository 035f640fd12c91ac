//! Measures the five alternatives by counting in their sources, and checks
//! the comparison table of `src/part2/models.md` against the counts. On a
//! mismatch the test prints the table to paste.

const FENCE_RS: &str = include_str!("../fence.rs");
const TWO_PARENTS: &str = include_str!("two_parents.rs");
const CHAPTER: &str = include_str!("../../../src/part2/models.md");

struct Alternative {
    name: &'static str,
    module: &'static str,
    source: &'static str,
}

const ALTERNATIVES: [Alternative; 5] = [
    Alternative {
        name: "1. associated functions",
        module: "straight",
        source: include_str!("straight.rs"),
    },
    Alternative {
        name: "2. `Deref`",
        module: "deref",
        source: include_str!("deref.rs"),
    },
    Alternative {
        name: "3. `Receiver` through `Deref`",
        module: "receiver",
        source: include_str!("receiver.rs"),
    },
    Alternative {
        name: "4. `Receiver` without `Deref`",
        module: "arbitrary_self",
        source: include_str!("arbitrary_self.rs"),
    },
    Alternative {
        name: "5. `Inherit`",
        module: "inherit",
        source: include_str!("inherit.rs"),
    },
];

/// The lines between `// ANCHOR: name` and `// ANCHOR_END: name`, with
/// comments removed and blank lines dropped.
fn code_lines<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("// ANCHOR: {name}");
    let end = format!("// ANCHOR_END: {name}");
    let body = source
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no anchor {name}"));
    body.lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code).trim())
        .filter(|line| !line.is_empty())
        .collect()
}

fn count(lines: &[&str], needle: &str) -> usize {
    lines.iter().map(|line| line.matches(needle).count()).sum()
}

fn unsafe_count(lines: &[&str]) -> usize {
    lines
        .iter()
        .flat_map(|line| line.split(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|word| *word == "unsafe")
        .count()
}

fn features(module: &str) -> &'static str {
    let gated = format!("#[cfg(feature = \"arbitrary_self_types\")]\npub mod {module};");
    if FENCE_RS.contains(&gated) {
        "`arbitrary_self_types`"
    } else {
        "none"
    }
}

fn table() -> String {
    let wrapper = code_lines(TWO_PARENTS, "wrapper_job");
    let inherit = code_lines(TWO_PARENTS, "inherit_job");
    let mut out = String::from(
        "| Alternative | Call-site lines | `inner()` / `CmdFence::complete(&fence)` at call sites \
         | Driver lines | `inner()` in the driver | `unsafe` in the driver | Features \
         | Second parent: driver lines / `unsafe` |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for alt in &ALTERNATIVES {
        let calls = code_lines(alt.source, "call_sites");
        let driver = code_lines(alt.source, "driver");
        let second = if alt.module == "inherit" {
            &inherit
        } else {
            &wrapper
        };
        out += &format!(
            "| {} | {} | {} / {} | {} | {} | {} | {} | {} / {} |\n",
            alt.name,
            calls.len(),
            count(&calls, "inner()"),
            count(&calls, "CmdFence::complete(&fence)"),
            driver.len(),
            count(&driver, "inner()"),
            unsafe_count(&driver),
            features(alt.module),
            second.len(),
            unsafe_count(second),
        );
    }
    out
}

#[test]
fn chapter_table_matches_listings() {
    let table = table();
    let begin = "<!-- measured by listings/src/fence/measure.rs -->\n";
    let in_chapter = CHAPTER
        .split_once(begin)
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(rest))
        .unwrap_or("");
    assert_eq!(
        in_chapter.trim_end(),
        table.trim_end(),
        "paste into src/part2/models.md, after `{}`:\n{table}",
        begin.trim_end()
    );
}

#[test]
fn every_alternative_has_the_same_call_sites_but_for_syntax() {
    let lengths: Vec<_> = ALTERNATIVES
        .iter()
        .map(|alt| code_lines(alt.source, "call_sites").len())
        .collect();
    assert!(lengths.windows(2).all(|w| w[0] == w[1]), "{lengths:?}");
}
