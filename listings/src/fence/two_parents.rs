//! Two C parents: a job that is a fence *and* a work item (a toy
//! `work_struct`): running the work completes the job and signals its
//! fence. The queued work holds a fence reference, so the job outlives the
//! queue and is released exactly once, by whichever side lets go last.
//!
//! - [`with_inherit`]: one more `Inherit` impl. The work callback downcasts
//!   from the `work_struct` exactly as the fence callbacks do from the
//!   `dma_fence`; the driver writes no `unsafe`.
//! - [`with_fence_object`]: `FenceObject<T>` owns the allocation and knows
//!   one parent. The second one lives inside `T`, and the driver writes its
//!   `container_of` by hand, through `FenceObject`'s raw accessors (the same
//!   for alternatives 1 to 4: none of them is about a second parent).

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::fence::inherit::Inherit;
use crate::fence::mock_c::{self, work_struct};
use crate::fence::{ARef, Opaque, RefCounted};

// ANCHOR: work
/// The C `work_struct` as a field of a subclass; `T` is the subclass, so
/// the function `new()` stores downcasts to the right type.
#[repr(transparent)]
pub struct Work<T>(Opaque<work_struct>, PhantomData<T>);

// SAFETY: the workqueue changes a work item with atomics, from any thread.
unsafe impl<T> Send for Work<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Work<T> {}

/// A subclass of `work_struct`: what to do when the work runs. The queued
/// work owns one reference to the object.
pub trait WorkItem: Inherit<Work<Self>> + RefCounted + Send + Sync {
    /// The work function.
    fn run(this: ARef<Self>);
}

impl<T: WorkItem> Work<T> {
    /// `INIT_WORK()` with `T::run` (the toy `work_struct` has no list
    /// head, so it can be initialised by value).
    pub fn new() -> Self {
        Work(
            Opaque::new(work_struct {
                data: Default::default(),
                func: Some(Self::run_callback),
            }),
            PhantomData,
        )
    }

    unsafe extern "C" fn run_callback(work: *mut work_struct) {
        // SAFETY: `enqueue()` queued `upcast_ptr` of a pointer it got from
        // `ARef::into_raw()`, and gave that reference to the queue.
        let this = unsafe {
            ARef::from_raw(NonNull::new_unchecked(T::downcast_ptr(
                work.cast::<Work<T>>(),
            )))
        };
        T::run(this)
    }
}

impl<T: WorkItem> Default for Work<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `queue_work()`: the queue takes `this`; false (and `this` dropped) if the
/// work was already pending.
pub fn enqueue<T: WorkItem>(this: ARef<T>) -> bool {
    let this = ARef::into_raw(this);
    let work = T::upcast_ptr(this.as_ptr()).cast::<work_struct>();
    // SAFETY: `Work::new()` initialised the work; the reference we give the
    // queue keeps the object alive until the work has run.
    if unsafe { mock_c::queue_work(work) } {
        true
    } else {
        // SAFETY: not queued: the reference is still ours.
        drop(unsafe { ARef::from_raw(this) });
        false
    }
}
// ANCHOR_END: work

/// The job with [`Inherit`]: two parents, two lines of `impl_inherit!`.
pub mod with_inherit {
    use std::ffi::CStr;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::{enqueue, Work, WorkItem};
    use crate::fence::inherit::{new_fence, Fence, FenceMethods, FenceOps};
    use crate::fence::mock_c::run_queued_work;
    use crate::fence::{ARef, ReleaseCounter, ReleaseToken};

    // ANCHOR: inherit_job
    /// A job: completes when its work runs.
    #[repr(C)]
    pub struct CmdJob {
        fence: Fence,
        work: Work<CmdJob>,
        /// Commands not completed yet.
        pub pending: AtomicU32,
        _release: ReleaseToken,
    }

    crate::impl_inherit! {
        impl Inherit<Fence> for CmdJob { self.fence }
        impl Inherit<Work<CmdJob>> for CmdJob { self.work }
    }

    impl CmdJob {
        /// A job of `pending` commands.
        pub fn new(pending: u32, release: &ReleaseCounter) -> ARef<Self> {
            new_fence(|fence| CmdJob {
                fence,
                work: Work::new(),
                pending: AtomicU32::new(pending),
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

    impl FenceOps for CmdJob {
        const DRIVER_NAME: &'static CStr = c"bound-listings";
        const TIMELINE_NAME: &'static CStr = c"job";

        fn signaled(&self) -> bool {
            self.pending.load(Ordering::Acquire) == 0
        }
    }

    impl WorkItem for CmdJob {
        fn run(this: ARef<Self>) {
            this.complete();
        }
    }
    // ANCHOR_END: inherit_job

    /// The call sites.
    pub fn call_sites(release: &ReleaseCounter) {
        // ANCHOR: inherit_call_sites
        let job = CmdJob::new(1, release);
        assert!(enqueue(job.clone())); // the queue holds a reference
        assert!(!enqueue(job.clone())); // already pending: reference dropped
        assert!(!job.is_signaled());
        assert_eq!(run_queued_work(), 1); // the work callback completes the job
        assert!(job.is_signaled());
        // ANCHOR_END: inherit_call_sites
    }
}

/// The job with `FenceObject<T>` (alternative 1's): the second parent by
/// hand.
pub mod with_fence_object {
    use std::ffi::CStr;
    use std::mem::offset_of;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicU32, Ordering};

    use crate::fence::mock_c::{queue_work, run_queued_work, work_struct};
    use crate::fence::straight::{FenceObject, FenceOps};
    use crate::fence::{ARef, Opaque, ReleaseCounter, ReleaseToken};

    // ANCHOR: wrapper_job
    /// A job: completes when its work runs.
    pub struct CmdJob {
        work: Opaque<work_struct>,
        /// Commands not completed yet.
        pub pending: AtomicU32,
        _release: ReleaseToken,
    }

    // SAFETY: the workqueue changes `work` with atomics, from any thread.
    unsafe impl Send for CmdJob {}
    // SAFETY: as above.
    unsafe impl Sync for CmdJob {}

    impl CmdJob {
        /// A job of `pending` commands.
        pub fn new(pending: u32, release: &ReleaseCounter) -> ARef<FenceObject<Self>> {
            FenceObject::new(CmdJob {
                work: Opaque::new(work_struct {
                    data: Default::default(),
                    func: Some(Self::run_work),
                }),
                pending: AtomicU32::new(pending),
                _release: release.token(),
            })
        }

        /// One command done; the last one signals the fence.
        pub fn complete(fence: &FenceObject<Self>) {
            if fence.inner().pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                fence.signal();
            }
        }

        /// Queue the work; the queue takes `job`.
        pub fn enqueue(job: ARef<FenceObject<Self>>) -> bool {
            // From the `ARef`'s pointer, not from `&job.inner().work`: the
            // work callback goes back to the whole object.
            let job = ARef::into_raw(job);
            let inner = FenceObject::raw_inner(job.as_ptr());
            let work = Opaque::raw_get(inner.wrapping_byte_add(offset_of!(CmdJob, work)).cast());
            // SAFETY: initialised in `new()`; the queue's reference keeps
            // the job alive until the work has run.
            if unsafe { queue_work(work) } {
                true
            } else {
                // SAFETY: not queued: the reference is still ours.
                drop(unsafe { ARef::from_raw(job) });
                false
            }
        }

        unsafe extern "C" fn run_work(work: *mut work_struct) {
            // SAFETY: `container_of` twice, work -> CmdJob -> FenceObject,
            // from the pointer `enqueue()` made; its reference is ours now.
            let job = unsafe {
                let inner = work.byte_sub(offset_of!(CmdJob, work)).cast::<CmdJob>();
                let job = FenceObject::from_raw_inner(inner).cast_mut();
                ARef::from_raw(NonNull::new_unchecked(job))
            };
            Self::complete(&job);
        }
    }

    impl FenceOps for CmdJob {
        const DRIVER_NAME: &'static CStr = c"bound-listings";
        const TIMELINE_NAME: &'static CStr = c"job";

        fn signaled(fence: &FenceObject<Self>) -> bool {
            fence.inner().pending.load(Ordering::Acquire) == 0
        }
    }
    // ANCHOR_END: wrapper_job

    /// The call sites.
    pub fn call_sites(release: &ReleaseCounter) {
        // ANCHOR: wrapper_call_sites
        let job = CmdJob::new(1, release);
        assert!(CmdJob::enqueue(job.clone())); // the queue holds a reference
        assert!(!CmdJob::enqueue(job.clone())); // already pending: reference dropped
        assert!(!job.is_signaled());
        assert_eq!(run_queued_work(), 1); // the work callback completes the job
        assert!(job.is_signaled());
        // ANCHOR_END: wrapper_call_sites
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fence::mock_c::run_queued_work;
    use crate::fence::ReleaseCounter;

    #[test]
    fn inherit_job_released_once() {
        let release = ReleaseCounter::new();
        with_inherit::call_sites(&release);
        assert_eq!(release.count(), 1);
    }

    #[test]
    fn fence_object_job_released_once() {
        let release = ReleaseCounter::new();
        with_fence_object::call_sites(&release);
        assert_eq!(release.count(), 1);
    }

    #[test]
    fn queue_holds_last_reference() {
        let release = ReleaseCounter::new();
        let job = with_inherit::CmdJob::new(1, &release);
        assert!(enqueue(job)); // our only reference, now the queue's
        assert_eq!(release.count(), 0);
        assert_eq!(run_queued_work(), 1);
        assert_eq!(release.count(), 1);

        let job = with_fence_object::CmdJob::new(1, &release);
        assert!(with_fence_object::CmdJob::enqueue(job));
        assert_eq!(release.count(), 1);
        assert_eq!(run_queued_work(), 1);
        assert_eq!(release.count(), 2);
    }
}
