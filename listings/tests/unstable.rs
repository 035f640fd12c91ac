//! The listings that need `#![feature(arbitrary_self_types)]`
//! (`src/fence/receiver.rs`, `src/fence/arbitrary_self.rs`), built with
//! `#[path]` into trybuild pass cases and run, on the stable toolchain with
//! `RUSTC_BOOTSTRAP=1`, as the kernel builds its unstable features.
//!
//! `RUSTC_BOOTSTRAP` is part of cargo's fingerprint: toggling it rebuilds
//! every dependency. These cases get a target directory of their own
//! (`target/unstable`), so they do not rebuild `tests/compile_fail.rs`'s
//! dependencies back and forth.

#[test]
fn arbitrary_self_types_listings() {
    // This test binary has a single test: nothing else reads the
    // environment while it is changed.
    std::env::set_var("RUSTC_BOOTSTRAP", "1");
    std::env::set_var(
        "CARGO_TARGET_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/unstable"),
    );
    let t = trybuild::TestCases::new();
    t.pass("tests/unstable/*.rs");
}
