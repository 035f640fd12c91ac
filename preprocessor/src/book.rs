//! mdBook 0.5's preprocessor protocol, spoken with plain JSON.
//!
//! mdBook runs `mdbook-bound supports RENDERER` first, then `mdbook-bound`
//! with `[context, book]` on stdin and expects the book back on stdout. The
//! book is `{"items": [...]}`, each item one of `{"Chapter": {...}}`,
//! `"Separator"` or `{"PartTitle": "..."}`, a chapter having `name`,
//! `content`, `number`, `sub_items`, `path`, `source_path` and
//! `parent_names` (mdbook-core 0.5.4, `book.rs`). The book is kept as a JSON
//! value so fields this preprocessor does not touch pass through unchanged.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::expand::{self, Env, Unverified};

/// The parts of the preprocessor context this preprocessor uses.
#[derive(Debug)]
pub struct BookContext {
    pub root: PathBuf,
    pub mdbook_version: String,
    /// `[preprocessor.bound]` of book.toml.
    pub config: Value,
}

pub fn split_input(input: Value) -> Result<(BookContext, Value)> {
    let Value::Array(mut parts) = input else {
        bail!("expected a JSON array [context, book] on stdin");
    };
    if parts.len() != 2 {
        bail!("expected [context, book], got {} elements", parts.len());
    }
    let book = parts.pop().unwrap();
    let ctx = parts.pop().unwrap();
    let root = ctx
        .get("root")
        .and_then(Value::as_str)
        .context("the context has no `root`")?;
    let ctx = BookContext {
        root: PathBuf::from(root),
        mdbook_version: ctx
            .get("mdbook_version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        config: ctx
            .pointer("/config/preprocessor/bound")
            .cloned()
            .unwrap_or(Value::Null),
    };
    if book.get("items").and_then(Value::as_array).is_none() {
        bail!("the book has no `items` array (is this mdBook 0.5?)");
    }
    Ok((ctx, book))
}

/// Expands every chapter of `book` in place.
pub fn expand(env: &Env, book: &mut Value) -> Result<Vec<Unverified>> {
    let mut bad = Vec::new();
    let items = book
        .get_mut("items")
        .and_then(Value::as_array_mut)
        .context("the book has no `items` array")?;
    walk(env, items, &mut bad)?;
    Ok(bad)
}

fn walk(env: &Env, items: &mut [Value], bad: &mut Vec<Unverified>) -> Result<()> {
    for item in items {
        let Some(ch) = item.get_mut("Chapter") else {
            continue; // "Separator" or {"PartTitle": ...}
        };
        let name = ["source_path", "path", "name"]
            .iter()
            .find_map(|k| ch.get(*k).and_then(Value::as_str))
            .unwrap_or("(unnamed chapter)")
            .to_owned();
        if let Some(Value::String(content)) = ch.get_mut("content") {
            let (new, mut b) = expand::chapter(env, &name, content);
            *content = new;
            bad.append(&mut b);
        }
        if let Some(Value::Array(sub)) = ch.get_mut("sub_items") {
            walk(env, sub, bad).with_context(|| format!("in the sub-chapters of {name}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_nested_chapters_and_keeps_other_items() {
        let input = json!([
            {"root": "/book", "config": {"book": {}, "preprocessor": {"bound": {"strict": true}}},
             "renderer": "html", "mdbook_version": "0.5.4"},
            {"items": [
                {"PartTitle": "Part I"},
                {"Chapter": {"name": "A", "content": "{{#bound-patch x.patch}}", "number": [1],
                    "path": "a.md", "source_path": "a.md", "parent_names": [],
                    "sub_items": [
                        {"Chapter": {"name": "B", "content": "plain", "number": [1, 1],
                         "path": "b.md", "source_path": "b.md", "parent_names": ["A"],
                         "sub_items": []}}
                    ]}},
                "Separator"
            ]}
        ]);
        let (ctx, mut book) = split_input(input).unwrap();
        assert_eq!(ctx.root, PathBuf::from("/book"));
        assert_eq!(ctx.config["strict"], json!(true));
        let env = Env {
            report: Err("no report".into()),
            patches_dir: "/nowhere".into(),
            strict: true,
        };
        let bad = expand(&env, &mut book).unwrap();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].chapter, "a.md");
        let a = &book["items"][1]["Chapter"];
        assert!(a["content"].as_str().unwrap().contains("[!WARNING]"));
        assert_eq!(a["sub_items"][0]["Chapter"]["content"], "plain");
        assert_eq!(book["items"][2], "Separator");
        assert_eq!(book["items"][0]["PartTitle"], "Part I");
    }

    #[test]
    fn rejects_wrong_shapes() {
        assert!(split_input(json!({})).is_err());
        assert!(split_input(json!([{"root": "/"}, {"sections": []}])).is_err());
    }
}
