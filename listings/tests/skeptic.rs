//! The book's inline ```rust blocks, compiled and run by skeptic against
//! this crate's dependencies (see build.rs).

include!(concat!(env!("OUT_DIR"), "/skeptic-tests.rs"));
