//! Parsing a `git format-patch` mail and rendering it: subject, message,
//! then one diff block per file.

use anyhow::{bail, Context, Result};

use crate::markdown::{escape, fence};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Patch {
    pub subject: String,
    pub body: String,
    pub files: Vec<FileDiff>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileDiff {
    pub path: String,
    /// `new file`, `deleted file` or `renamed from X`, if any.
    pub status: Option<String>,
    /// The hunks, starting at the first `@@` line.
    pub hunks: String,
}

pub fn parse(text: &str) -> Result<Patch> {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut p = Patch::default();

    // Mail headers up to the first blank line.
    while i < lines.len() && !lines[i].is_empty() {
        if let Some(s) = lines[i].strip_prefix("Subject:") {
            let mut subject = s.trim().to_owned();
            while i + 1 < lines.len() && lines[i + 1].starts_with([' ', '\t']) {
                i += 1;
                subject.push(' ');
                subject.push_str(lines[i].trim());
            }
            p.subject = strip_patch_tag(&subject).to_owned();
        }
        i += 1;
    }

    // The message, up to the `---` that starts the diffstat.
    let start = i;
    while i < lines.len() && lines[i] != "---" && !lines[i].starts_with("diff --git ") {
        i += 1;
    }
    p.body = lines[start..i].join("\n").trim().to_owned();

    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let Some(paths) = line.strip_prefix("diff --git ") else {
            continue;
        };
        let path = paths
            .rsplit_once(" b/")
            .map(|(_, b)| b.to_owned())
            .with_context(|| format!("cannot read the file name in `{line}`"))?;
        let mut f = FileDiff {
            path,
            ..Default::default()
        };
        // Extended headers up to the first hunk.
        while i < lines.len() && !lines[i].starts_with("@@") {
            let h = lines[i];
            if h.starts_with("diff --git ") {
                break;
            }
            if h.starts_with("new file mode") {
                f.status = Some("new file".to_owned());
            } else if h.starts_with("deleted file mode") {
                f.status = Some("deleted file".to_owned());
            } else if let Some(from) = h.strip_prefix("rename from ") {
                f.status = Some(format!("renamed from {from}"));
            }
            i += 1;
        }
        // Hunks, consumed by their line counts so a removed `- ` line is
        // never mistaken for the mail signature `-- `.
        let mut hunks = Vec::new();
        while i < lines.len() && lines[i].starts_with("@@") {
            let (mut old, mut new) = hunk_counts(lines[i])?;
            hunks.push(lines[i]);
            i += 1;
            while (old > 0 || new > 0) && i < lines.len() {
                let l = lines[i];
                match l.chars().next() {
                    Some('+') => new -= 1,
                    Some('-') => old -= 1,
                    Some('\\') => {}
                    _ => {
                        old = old.saturating_sub(1);
                        new = new.saturating_sub(1);
                    }
                }
                hunks.push(l);
                i += 1;
            }
            if old > 0 || new > 0 {
                bail!("{}: truncated hunk", f.path);
            }
            while i < lines.len() && lines[i].starts_with('\\') {
                hunks.push(lines[i]);
                i += 1;
            }
        }
        f.hunks = hunks.join("\n");
        p.files.push(f);
    }
    if p.files.is_empty() {
        bail!("no `diff --git` in the patch");
    }
    Ok(p)
}

fn strip_patch_tag(subject: &str) -> &str {
    if subject.starts_with('[') {
        if let Some((_, rest)) = subject.split_once("] ") {
            return rest;
        }
    }
    subject
}

/// Old and new line counts of a `@@ -a,b +c,d @@` header.
fn hunk_counts(header: &str) -> Result<(usize, usize)> {
    let bad = || format!("bad hunk header `{header}`");
    let mut words = header.split(' ').skip(1);
    let count = |w: Option<&str>, sign: char| -> Option<usize> {
        let r = w?.strip_prefix(sign)?;
        Some(match r.split_once(',') {
            Some((_, n)) => n.parse().ok()?,
            None => 1,
        })
    };
    let old = count(words.next(), '-').with_context(bad)?;
    let new = count(words.next(), '+').with_context(bad)?;
    Ok((old, new))
}

/// The commit message as Markdown: escaped text, trailers on their own lines.
fn render_message(body: &str) -> String {
    let paras: Vec<&str> = body.split("\n\n").collect();
    let mut out = Vec::new();
    for (n, para) in paras.iter().enumerate() {
        let is_trailers = n + 1 == paras.len()
            && para.lines().all(|l| {
                l.split_once(": ")
                    .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '))
            });
        let text = escape(para);
        out.push(if is_trailers {
            text.lines().collect::<Vec<_>>().join("\\\n")
        } else {
            text
        });
    }
    out.join("\n\n")
}

pub fn render(p: &Patch) -> String {
    let mut s = format!("**{}**\n\n", escape(&p.subject));
    if !p.body.is_empty() {
        s.push_str(&render_message(&p.body));
        s.push_str("\n\n");
    }
    for f in &p.files {
        s.push_str(&format!("**`{}`**", f.path));
        if let Some(st) = &f.status {
            s.push_str(&format!(" ({st})"));
        }
        s.push_str("\n\n");
        s.push_str(&fence("diff", &f.hunks));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "From abc Mon Sep 17 00:00:00 2001
From: A <a@b>
Subject: [PATCH 1/2] samples: rust: add a
 driver

Body with ARef<pci::Device> and *stars*.

 - item one
   continued

Signed-off-by: A <a@b>
Reviewed-by: B <b@c>
---
 a.rs | 3 ++-
 1 file changed

diff --git a/Kconfig b/Kconfig
index 1..2 100644
--- a/Kconfig
+++ b/Kconfig
@@ -1,3 +1,3 @@
 keep
-- removed dash line
+added
 tail
diff --git a/new.rs b/new.rs
new file mode 100644
--- /dev/null
+++ b/new.rs
@@ -0,0 +1,2 @@
+fn a() {}
+// end
-- 
2.47.3
";

    #[test]
    fn parses_subject_body_and_files() {
        let p = parse(PATCH).unwrap();
        assert_eq!(p.subject, "samples: rust: add a driver");
        assert!(p.body.starts_with("Body with"));
        assert!(p.body.ends_with("Reviewed-by: B <b@c>"));
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.files[0].path, "Kconfig");
        assert_eq!(p.files[0].status, None);
        assert_eq!(
            p.files[0].hunks,
            "@@ -1,3 +1,3 @@\n keep\n-- removed dash line\n+added\n tail"
        );
        assert_eq!(p.files[1].path, "new.rs");
        assert_eq!(p.files[1].status.as_deref(), Some("new file"));
        assert_eq!(p.files[1].hunks, "@@ -0,0 +1,2 @@\n+fn a() {}\n+// end");
    }

    #[test]
    fn renders_message_and_diff_blocks() {
        let s = render(&parse(PATCH).unwrap());
        assert!(s.starts_with("**samples: rust: add a driver**\n\n"), "{s}");
        assert!(s.contains(r"ARef\<pci::Device\> and \*stars\*"));
        assert!(s.contains(" - item one\n"));
        assert!(s.contains("Signed-off-by: A \\<a@b\\>\\\nReviewed-by"));
        assert!(s.contains("**`new.rs`** (new file)\n\n```diff\n@@ -0,0 +1,2 @@\n+fn a() {}"));
        assert!(!s.contains("2.47.3"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("Subject: x\n\nno diff here\n").is_err());
        assert!(parse("Subject: x\n\n---\ndiff --git a/x b/x\n@@ -1,2 +1,2 @@\n a\n").is_err());
    }
}
