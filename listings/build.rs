//! Generates `skeptic` tests for the book's inline host Rust blocks.

use std::fs;
use std::path::{Path, PathBuf};

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn main() {
    // The book's sources, relative to this crate: `../src/**/*.md`, keeping
    // only the files with a ```rust block (skeptic tests those; kernel
    // listings come from `{{#bound-...}}` directives, not from fences).
    let root = Path::new("../src");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    markdown_files(root, &mut files);
    let files: Vec<String> = files
        .iter()
        .inspect(|p| println!("cargo:rerun-if-changed={}", p.display()))
        .filter(|p| {
            fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| l.trim_start().starts_with("```rust"))
        })
        .map(|p| p.display().to_string())
        .collect();
    skeptic::generate_doc_tests(&files);
}
