// Alternative 4 on stable Rust: the trait and the `Receiver` impl of
// src/fence/arbitrary_self.rs, without `#![feature(arbitrary_self_types)]`.
// On the model, not kernel code.

use std::ffi::CStr;
use std::ops::Receiver;

pub trait FenceOps: Sized + Send + Sync {
    const DRIVER_NAME: &'static CStr;
    const TIMELINE_NAME: &'static CStr;

    fn signaled(self: &FenceObject<Self>) -> bool {
        false
    }

    fn enable_signaling(self: &FenceObject<Self>) -> bool {
        true
    }
}

bound_listings::fence_object!();

impl<T: FenceOps> Receiver for FenceObject<T> {
    type Target = T;
}

fn main() {}
