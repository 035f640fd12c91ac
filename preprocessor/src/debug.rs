//! `{{#bound-debug}}`: the figures of the debug pass (cycles, injected
//! failures, leaks, the debug options), as a table from the report.

use crate::report::DebugResult;

/// The figure `name` of checkpoint results, or a dash.
fn figure<'a>(c: &'a crate::report::CheckpointResult, name: &str) -> &'a str {
    c.figures
        .iter()
        .find(|(k, _)| k.as_str() == name || k.ends_with(&format!(".{name}")))
        .map_or("-", |(_, v)| v.as_str())
}

pub fn render(d: &DebugResult) -> String {
    let mut s = String::from(
        "| checkpoint | unbind/bind cycles | unbinds that met a job in flight | failure points injected on the bind path | module reloads | kmemleak: suspected leaks | result | boot |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for c in &d.checkpoints {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.0} s |\n",
            c.name,
            figure(c, "cycles"),
            figure(c, "in_flight"),
            figure(c, "fail_points"),
            figure(c, "reloads"),
            figure(c, "leaks"),
            if c.pass { "passed" } else { "FAILED" },
            c.boot_seconds,
        ));
    }
    s.push_str(&format!(
        "\nThe guest was asked for {} unbind/bind cycles per driver and {} rmmod/insmod \
         cycles per module. The kernel was built with {}.\n",
        d.cycles,
        d.reloads,
        d.options
            .iter()
            .map(|o| format!("`CONFIG_{o}`"))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    s
}

/// Why the debug pass does not back the table, if it does not.
pub fn problems(d: &DebugResult) -> Vec<String> {
    let mut p = d.problems.clone();
    for c in d.checkpoints.iter().filter(|c| !c.pass) {
        p.push(format!(
            "debug checkpoint {} failed: {}",
            c.name,
            c.problems.join("; ")
        ));
    }
    if d.checkpoints.is_empty() {
        p.push("the debug pass booted no checkpoint".to_owned());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CheckpointResult;

    #[test]
    fn table_has_one_row_per_checkpoint_with_its_figures() {
        let mut c = CheckpointResult {
            name: "stress-edu".into(),
            pass: true,
            boot_seconds: 61.2,
            ..Default::default()
        };
        c.figures.insert("rust_edu.cycles".into(), "1000".into());
        c.figures.insert("rust_edu.in_flight".into(), "998".into());
        c.figures.insert("rust_edu.fail_points".into(), "17".into());
        c.figures.insert("rust_edu.reloads".into(), "100".into());
        c.figures.insert("kmemleak.leaks".into(), "0".into());
        let mut t = c.clone();
        t.name = "stress-testdev".into();
        t.figures.remove("rust_edu.in_flight");
        let d = DebugResult {
            cycles: 1000,
            options: vec!["KASAN".into()],
            checkpoints: vec![c, t],
            ..Default::default()
        };
        let t = render(&d);
        assert!(
            t.contains("| `stress-edu` | 1000 | 998 | 17 | 100 | 0 | passed | 61 s |"),
            "{t}"
        );
        // A driver without the figure gets a dash, not another column's value.
        assert!(
            t.contains("| `stress-testdev` | 1000 | - | 17 | 100 | 0 | passed | 61 s |"),
            "{t}"
        );
        assert!(t.contains("`CONFIG_KASAN`"));
        assert!(problems(&d).is_empty());
    }

    #[test]
    fn a_failed_checkpoint_is_a_problem() {
        let d = DebugResult {
            checkpoints: vec![CheckpointResult {
                name: "x".into(),
                problems: vec!["splat".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(problems(&d), vec!["debug checkpoint x failed: splat"]);
    }
}
