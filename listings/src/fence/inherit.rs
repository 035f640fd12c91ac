//! Alternative 5: the driver's own `#[repr(C)]` struct embeds the fence as
//! a field, and an unsafe trait `Inherit<Parent>` (the shape of the
//! kernel's `HasWork`/`HasHrTimer` and `container_of!`) upcasts a pointer to
//! the struct into one to its parent and back. A safe macro, like
//! `impl_has_work!`, writes the `unsafe impl` and checks the field's type.
//!
//! Pointer provenance, which Miri's Stacked Borrows checks:
//!
//! - upcasts and downcasts are done on raw pointers with byte offsets
//!   (`wrapping_byte_add`/`byte_sub` and `offset_of!`), never by making a
//!   reference to the field: a `&Fence` would only cover the fence, and a
//!   callback that `container_of`s back from it would read the rest of the
//!   object outside its tag;
//! - hence there is no `upcast(&self) -> &Fence`: the fence's methods are
//!   provided on the subclass ([`FenceMethods`]) and hand C a pointer made
//!   from `&self` as a whole;
//! - the pointer `release` frees through is the `Box::into_raw()` one kept
//!   by [`ARef`], never one made from a shared reference.

use std::ffi::{c_char, CStr};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::fence::mock_c::{self, dma_fence, dma_fence_ops};
use crate::fence::{ARef, Opaque, RefCounted, ReleaseCounter, ReleaseToken};

// ANCHOR: inherit
/// `Self` is a subclass of the C object `P`: it embeds a `P` as a field.
///
/// # Safety
///
/// `OFFSET` is the byte offset in `Self` of a field of type `P`. Use
/// [`impl_inherit!`](crate::impl_inherit), which computes it and checks
/// the field's type.
pub unsafe trait Inherit<P>: Sized {
    /// Where the parent is.
    const OFFSET: usize;

    /// Upcast: the parent inside `*this`, with the provenance of `this`
    /// (the whole object). Safe: nothing is dereferenced.
    fn upcast_ptr(this: *const Self) -> *mut P {
        this.wrapping_byte_add(Self::OFFSET).cast::<P>().cast_mut()
    }

    /// Downcast (`container_of`).
    ///
    /// # Safety
    ///
    /// `parent` came from [`Inherit::upcast_ptr`] on a live `Self`, so it
    /// carries the provenance of the whole object.
    unsafe fn downcast_ptr(parent: *const P) -> *mut Self {
        // SAFETY: the caller's contract: `OFFSET` bytes back is in bounds.
        unsafe { parent.byte_sub(Self::OFFSET) }
            .cast::<Self>()
            .cast_mut()
    }
}

/// `impl_inherit! { impl Inherit<Parent> for Child { self.field } ... }`:
/// writes the `unsafe impl`, safely, because it takes the offset from
/// `offset_of!` and refuses to compile unless the field is a `Parent`
/// itself, not something that derefs to one.
#[macro_export]
macro_rules! impl_inherit {
    ($(impl Inherit<$parent:ty> for $child:ty { self.$field:ident })*) => {$(
        // SAFETY: `OFFSET` is the offset of `$field`, which the `const`
        // below proves to be a `$parent`.
        unsafe impl $crate::fence::inherit::Inherit<$parent> for $child {
            const OFFSET: usize = {
                // A raw pointer, not a reference: `&this.$field` would
                // also accept a field that only derefs to a `$parent`
                // (a `Box<Fence>`), through deref coercion, and the
                // offset would then be the box's.
                const _: fn(&$child) -> *const $parent = |this| &raw const this.$field;
                ::core::mem::offset_of!($child, $field)
            };
        }
    )*};
}
// ANCHOR_END: inherit

// ANCHOR: fence
/// The C fence, as a field of a subclass. Only [`new_fence`] hands one out,
/// zeroed, and initialises it once the subclass is in its allocation.
#[repr(transparent)]
pub struct Fence(Opaque<dma_fence>);

// SAFETY: C changes a fence with atomics or under its own rules, from any
// thread.
unsafe impl Send for Fence {}
// SAFETY: as above.
unsafe impl Sync for Fence {}

/// The driver's side of `struct dma_fence_ops`: plain `&self` methods,
/// because `Self` is the whole object.
pub trait FenceOps: Inherit<Fence> + Send + Sync {
    /// `get_driver_name`.
    const DRIVER_NAME: &'static CStr;
    /// `get_timeline_name`.
    const TIMELINE_NAME: &'static CStr;

    /// `signaled`: poll the hardware.
    fn signaled(&self) -> bool {
        false
    }

    /// `enable_signaling`: false means "already signalled".
    fn enable_signaling(&self) -> bool {
        true
    }
}

/// The parent's methods, inherited by every subclass.
pub trait FenceMethods: FenceOps {
    /// The C pointer, made from `self` as a whole (see the module docs).
    /// Panics if the fence is not initialised yet, which only the closure
    /// given to [`new_fence`] can see.
    fn as_raw(&self) -> *mut dma_fence {
        let raw = Self::upcast_ptr(ptr::from_ref(self)).cast::<dma_fence>();
        // SAFETY: `raw` points into `*self`; zeroed or initialised, `flags`
        // is a valid atomic.
        let flags = unsafe { (*raw).flags.load(Ordering::Acquire) };
        assert!(flags & (1 << mock_c::DMA_FENCE_FLAG_INITIALIZED_BIT) != 0);
        raw
    }

    /// `dma_fence_signal()`.
    fn signal(&self) {
        // SAFETY: `&self` keeps a reference alive.
        unsafe { mock_c::dma_fence_signal(self.as_raw()) }
    }

    /// `dma_fence_is_signaled()` (may call `signaled`).
    fn is_signaled(&self) -> bool {
        // SAFETY: as above.
        unsafe { mock_c::dma_fence_is_signaled(self.as_raw()) }
    }

    /// `dma_fence_enable_sw_signaling()` (may call `enable_signaling`).
    fn enable_sw_signaling(&self) {
        // SAFETY: as above.
        unsafe { mock_c::dma_fence_enable_sw_signaling(self.as_raw()) }
    }

    /// `dma_fence_driver_name()`.
    fn driver_name(&self) -> &CStr {
        // SAFETY: as above; the callback returns a `'static` string.
        unsafe { CStr::from_ptr(mock_c::dma_fence_driver_name(self.as_raw())) }
    }
}

impl<T: FenceOps> FenceMethods for T {}
// ANCHOR_END: fence

// SAFETY: `new_fence()` initialised the fence, whose `release` frees the
// `Box<T>` it leaked; `upcast_ptr` keeps the provenance of `this`.
unsafe impl<T: FenceOps> RefCounted for T {
    fn raw_fence(this: *const Self) -> *mut dma_fence {
        Self::upcast_ptr(this).cast()
    }
}

// ANCHOR: new_fence
/// Build a subclass around a fresh fence and `dma_fence_init()` it in place.
pub fn new_fence<T: FenceOps>(init: impl FnOnce(Fence) -> T) -> ARef<T> {
    let this = Box::into_raw(Box::new(init(Fence(Opaque::zeroed()))));
    // SAFETY: a fresh allocation; `upcast_ptr` keeps the provenance of the
    // `Box`; `OPS` is a promoted `'static`.
    unsafe {
        mock_c::dma_fence_init(T::raw_fence(this), &Vtable::<T>::OPS, 0, 0);
        ARef::from_raw(NonNull::new_unchecked(this))
    }
}
// ANCHOR_END: new_fence

struct Vtable<T>(PhantomData<T>);

impl<T: FenceOps> Vtable<T> {
    // ANCHOR: callback
    /// `container_of` for the callbacks.
    ///
    /// # Safety
    ///
    /// `fence` is the fence of a live `T`, as C got it from `new_fence()`
    /// or `as_raw()` (provenance of the whole object).
    unsafe fn from_raw<'a>(fence: *mut dma_fence) -> &'a T {
        // SAFETY: the caller's contract.
        unsafe { &*T::downcast_ptr(fence.cast::<Fence>()) }
    }

    unsafe extern "C" fn signaled(fence: *mut dma_fence) -> bool {
        // SAFETY: C calls back with the pointer it was given.
        unsafe { Self::from_raw(fence) }.signaled()
    }
    // ANCHOR_END: callback

    unsafe extern "C" fn enable_signaling(fence: *mut dma_fence) -> bool {
        // SAFETY: as above.
        unsafe { Self::from_raw(fence) }.enable_signaling()
    }

    unsafe extern "C" fn get_driver_name(_fence: *mut dma_fence) -> *const c_char {
        T::DRIVER_NAME.as_ptr()
    }

    unsafe extern "C" fn get_timeline_name(_fence: *mut dma_fence) -> *const c_char {
        T::TIMELINE_NAME.as_ptr()
    }

    /// Called once, by the last `dma_fence_put()`, with an `ARef`'s pointer.
    unsafe extern "C" fn release(fence: *mut dma_fence) {
        // SAFETY: the last reference is gone; see `RefCounted`.
        drop(unsafe { Box::from_raw(T::downcast_ptr(fence.cast::<Fence>())) })
    }

    const OPS: dma_fence_ops = dma_fence_ops {
        get_driver_name: Some(Self::get_driver_name),
        get_timeline_name: Some(Self::get_timeline_name),
        enable_signaling: Some(Self::enable_signaling),
        signaled: Some(Self::signaled),
        wait: None,
        release: Some(Self::release),
        set_deadline: None,
    };
}

// ANCHOR: driver
/// A batch of commands; the fence signals when the last one completes.
#[repr(C)]
pub struct CmdFence {
    fence: Fence,
    /// Commands not completed yet.
    pub pending: AtomicU32,
    /// Whether C asked for signalling (`enable_signaling` was called).
    pub sw_signaling: AtomicBool,
    _release: ReleaseToken,
}

crate::impl_inherit! {
    impl Inherit<Fence> for CmdFence { self.fence }
}

impl CmdFence {
    /// A fence for `pending` commands.
    pub fn new(pending: u32, release: &ReleaseCounter) -> ARef<Self> {
        new_fence(|fence| CmdFence {
            fence,
            pending: AtomicU32::new(pending),
            sw_signaling: AtomicBool::new(false),
            _release: release.token(),
        })
    }

    /// One command done; the last one signals the fence.
    pub fn complete(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.signal();
        }
    }
}

impl FenceOps for CmdFence {
    const DRIVER_NAME: &'static CStr = c"bound-listings";
    const TIMELINE_NAME: &'static CStr = c"cmd";

    fn signaled(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    fn enable_signaling(&self) -> bool {
        self.sw_signaling.store(true, Ordering::Release);
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
    fence.complete();
    assert_eq!(fence.pending.load(Ordering::Acquire), 1);
    assert!(!fence.is_signaled()); // C calls T::signaled
    fence.complete();
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
        // Not through `complete()`: only `signaled` can tell C.
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

    #[test]
    fn offsets_round_trip() {
        let release = ReleaseCounter::new();
        let fence = CmdFence::new(1, &release);
        let this = ARef::as_ptr(&fence);
        let parent = CmdFence::upcast_ptr(this);
        assert_eq!(parent.cast::<u8>(), this.cast::<u8>().cast_mut());
        // SAFETY: `parent` came from `upcast_ptr` on a live `CmdFence`.
        assert_eq!(unsafe { CmdFence::downcast_ptr(parent) }.cast_const(), this);
    }

    #[test]
    #[should_panic]
    fn fence_used_before_init_panics() {
        let release = ReleaseCounter::new();
        new_fence(|fence| {
            let early = CmdFence {
                fence,
                pending: AtomicU32::new(0),
                sw_signaling: AtomicBool::new(false),
                _release: release.token(),
            };
            early.is_signaled();
            early
        });
    }
}
