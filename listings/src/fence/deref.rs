//! Alternative 2: alternative 1 plus `FenceObject<T>: Deref<Target = T>`,
//! so `fence.pending` works and `inner()` goes away. The driver's
//! functions are still associated functions: `Deref` makes fields and
//! `&self` methods of `T` reachable from the object, not the object from
//! a method of `T`.

use std::ffi::CStr;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::fence::{ARef, ReleaseCounter, ReleaseToken};

// ANCHOR: trait
/// The driver's side of `struct dma_fence_ops`: associated functions that
/// are handed the whole object, C fence and driver data.
pub trait FenceOps: Sized + Send + Sync {
    /// `get_driver_name`.
    const DRIVER_NAME: &'static CStr;
    /// `get_timeline_name`.
    const TIMELINE_NAME: &'static CStr;

    /// `signaled`: poll the hardware.
    fn signaled(_fence: &FenceObject<Self>) -> bool {
        false
    }

    /// `enable_signaling`: false means "already signalled".
    fn enable_signaling(_fence: &FenceObject<Self>) -> bool {
        true
    }
}
// ANCHOR_END: trait

crate::fence_object!();

// ANCHOR: deref
impl<T: FenceOps> Deref for FenceObject<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.inner()
    }
}
// ANCHOR_END: deref

// ANCHOR: driver
/// A batch of commands; the fence signals when the last one completes.
pub struct CmdFence {
    /// Commands not completed yet.
    pub pending: AtomicU32,
    /// Whether C asked for signalling (`enable_signaling` was called).
    pub sw_signaling: AtomicBool,
    _release: ReleaseToken,
}

impl CmdFence {
    /// A fence for `pending` commands.
    pub fn new(pending: u32, release: &ReleaseCounter) -> ARef<FenceObject<Self>> {
        FenceObject::new(CmdFence {
            pending: AtomicU32::new(pending),
            sw_signaling: AtomicBool::new(false),
            _release: release.token(),
        })
    }

    /// One command done; the last one signals the fence.
    pub fn complete(fence: &FenceObject<Self>) {
        if fence.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            fence.signal();
        }
    }
}

impl FenceOps for CmdFence {
    const DRIVER_NAME: &'static CStr = c"bound-listings";
    const TIMELINE_NAME: &'static CStr = c"cmd";

    fn signaled(fence: &FenceObject<Self>) -> bool {
        fence.pending.load(Ordering::Acquire) == 0
    }

    fn enable_signaling(fence: &FenceObject<Self>) -> bool {
        fence.sw_signaling.store(true, Ordering::Release);
        true
    }
}
// ANCHOR_END: driver

/// The call sites, the same in every alternative.
pub fn call_sites(release: &ReleaseCounter) {
    // ANCHOR: call_sites
    let fence = CmdFence::new(2, release);
    let held_by_c = fence.clone(); // dma_fence_get()
    fence.enable_sw_signaling(); // C calls T::enable_signaling
    assert!(fence.sw_signaling.load(Ordering::Acquire));
    CmdFence::complete(&fence);
    assert_eq!(fence.pending.load(Ordering::Acquire), 1);
    assert!(!fence.is_signaled()); // C calls T::signaled
    CmdFence::complete(&fence);
    assert!(fence.is_signaled());
    drop(held_by_c); // dma_fence_put()
                     // ANCHOR_END: call_sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_sites_release_once() {
        let release = ReleaseCounter::new();
        call_sites(&release);
        assert_eq!(release.count(), 1);
    }

    #[test]
    fn signaled_callback_reaches_data() {
        let release = ReleaseCounter::new();
        let fence = CmdFence::new(1, &release);
        // Not through `complete()`: only `T::signaled` can tell C.
        fence.pending.store(0, Ordering::Release);
        assert!(fence.is_signaled());
        assert_eq!(fence.driver_name(), c"bound-listings");
        drop(fence);
        assert_eq!(release.count(), 1);
    }

    #[test]
    fn released_by_last_put_only() {
        let release = ReleaseCounter::new();
        let fence = CmdFence::new(1, &release);
        let clones: Vec<_> = (0..3).map(|_| fence.clone()).collect();
        drop(fence);
        assert_eq!(release.count(), 0);
        drop(clones);
        assert_eq!(release.count(), 1);
    }
}
