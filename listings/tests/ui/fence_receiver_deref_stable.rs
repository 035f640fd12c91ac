// Alternative 3 on stable Rust: the trait and the `Deref` of
// src/fence/receiver.rs, without `#![feature(arbitrary_self_types)]`.
// `Deref` does not make `&FenceObject<Self>` a receiver: on stable, only
// the standard library's pointer types are. On the model, not kernel code.

use std::ffi::CStr;
use std::ops::Deref;

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

impl<T: FenceOps> Deref for FenceObject<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.inner()
    }
}

fn main() {}
