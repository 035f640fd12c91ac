//! Host compile-fail twins of the book's kernel compile-fail listings, on
//! the userspace model in `bound_listings::model`.
//!
//! The checked `.stderr` files hold the wording of the host compiler the
//! book is tested with (rustc 1.95); another rustc may word, number or
//! place its diagnostics differently. Regenerate with
//! `TRYBUILD=overwrite cargo test -p bound-listings --test compile_fail`
//! and review the diff.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
