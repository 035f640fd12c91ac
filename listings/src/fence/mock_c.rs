//! A **mock** of the C side: `struct dma_fence`, `struct dma_fence_ops` and
//! the few `dma_fence_*()` functions the listings call, plus a toy
//! `struct work_struct` for the two-parents listing.
//!
//! This is unsafe Rust imitating the C API of Linux 7.3
//! (`include/linux/dma-fence.h`), not bindings to it: the fields are a subset
//! (no lock, no callback list, no timestamp), `refcount` and `flags` are
//! atomics because `kref` and `set_bit()` are, and nothing sleeps. What it
//! keeps is what matters for subclassing: the C code only ever holds a
//! `*mut dma_fence`, calls back through the ops table with that pointer, and
//! frees the object through `ops->release` when the last reference goes.
//!
//! One difference on purpose: in C a NULL `release` falls back to
//! `dma_fence_free()`, a `kfree_rcu()` of the fence pointer, which is only
//! right when the `dma_fence` is the first member of the allocation. The mock
//! has no allocator of its own, so `release` is mandatory.

#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_long};
use std::sync::atomic::{fence as atomic_fence, AtomicU32, AtomicUsize, Ordering};

/// `ktime_t`.
pub type ktime_t = i64;

/// `-EINVAL`.
pub const EINVAL: c_int = 22;

/// `DMA_FENCE_FLAG_INITIALIZED_BIT` (set by [`dma_fence_init`]).
pub const DMA_FENCE_FLAG_INITIALIZED_BIT: u32 = 0;
/// `DMA_FENCE_FLAG_SIGNALED_BIT`.
pub const DMA_FENCE_FLAG_SIGNALED_BIT: u32 = 3;
/// `DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT`.
pub const DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT: u32 = 5;

// ANCHOR: structs
/// `struct dma_fence`, cut down.
#[repr(C)]
pub struct dma_fence {
    /// `const struct dma_fence_ops *ops`.
    pub ops: *const dma_fence_ops,
    /// `u64 context`.
    pub context: u64,
    /// `u64 seqno`.
    pub seqno: u64,
    /// `unsigned long flags`, changed with atomic bit operations.
    pub flags: AtomicUsize,
    /// `struct kref refcount`.
    pub refcount: AtomicU32,
    /// `int error`.
    pub error: c_int,
}

/// `struct dma_fence_ops` as in Linux 7.3: NULL is `None`.
#[repr(C)]
pub struct dma_fence_ops {
    /// `const char *(*get_driver_name)(struct dma_fence *)`.
    pub get_driver_name: Option<unsafe extern "C" fn(*mut dma_fence) -> *const c_char>,
    /// `const char *(*get_timeline_name)(struct dma_fence *)`.
    pub get_timeline_name: Option<unsafe extern "C" fn(*mut dma_fence) -> *const c_char>,
    /// `bool (*enable_signaling)(struct dma_fence *)`.
    pub enable_signaling: Option<unsafe extern "C" fn(*mut dma_fence) -> bool>,
    /// `bool (*signaled)(struct dma_fence *)`.
    pub signaled: Option<unsafe extern "C" fn(*mut dma_fence) -> bool>,
    /// `signed long (*wait)(struct dma_fence *, bool intr, signed long timeout)`.
    pub wait: Option<unsafe extern "C" fn(*mut dma_fence, bool, c_long) -> c_long>,
    /// `void (*release)(struct dma_fence *)`: mandatory in the mock.
    pub release: Option<unsafe extern "C" fn(*mut dma_fence)>,
    /// `void (*set_deadline)(struct dma_fence *, ktime_t)`.
    pub set_deadline: Option<unsafe extern "C" fn(*mut dma_fence, ktime_t)>,
}
// ANCHOR_END: structs

fn bit(nr: u32) -> usize {
    1 << nr
}

/// `dma_fence_init()`: the fence starts with one reference, unsignalled.
///
/// # Safety
///
/// `fence` is valid for writes of a `dma_fence` (it may be uninitialised);
/// `ops` is valid for as long as the fence is.
pub unsafe fn dma_fence_init(
    fence: *mut dma_fence,
    ops: *const dma_fence_ops,
    context: u64,
    seqno: u64,
) {
    // SAFETY: the caller's contract.
    unsafe {
        fence.write(dma_fence {
            ops,
            context,
            seqno,
            flags: AtomicUsize::new(bit(DMA_FENCE_FLAG_INITIALIZED_BIT)),
            refcount: AtomicU32::new(1),
            error: 0,
        })
    }
}

/// `dma_fence_get()`: take a reference.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_get(fence: *mut dma_fence) -> *mut dma_fence {
    // SAFETY: the caller's contract.
    unsafe { (*fence).refcount.fetch_add(1, Ordering::Relaxed) };
    fence
}

// ANCHOR: put
/// `dma_fence_put()`: drop a reference; the last one calls `ops->release`.
///
/// # Safety
///
/// `fence` is NULL or an initialised fence, and the caller gives up one
/// reference to it (and, if it was the last, the pointer itself).
pub unsafe fn dma_fence_put(fence: *mut dma_fence) {
    if fence.is_null() {
        return;
    }
    // SAFETY: the caller holds a reference, so the fence is alive.
    if unsafe { (*fence).refcount.fetch_sub(1, Ordering::Release) } == 1 {
        atomic_fence(Ordering::Acquire);
        // SAFETY: that was the last reference.
        unsafe { dma_fence_release(fence) }
    }
}

/// `dma_fence_release()`, the `kref` release function.
///
/// # Safety
///
/// The last reference to `fence` is gone.
pub unsafe fn dma_fence_release(fence: *mut dma_fence) {
    // SAFETY: the fence is still allocated; `ops` is valid as long as it is.
    let release = unsafe { (*(*fence).ops).release };
    match release {
        // SAFETY: C hands the fence to its owner, exactly once.
        Some(release) => unsafe { release(fence) },
        None => panic!("mock dma_fence: no kfree(), ops->release is mandatory"),
    }
}
// ANCHOR_END: put

/// `dma_fence_signal()`: set `SIGNALED` (once; signalling twice is a no-op).
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_signal(fence: *mut dma_fence) {
    // SAFETY: the caller's contract.
    unsafe {
        (*fence)
            .flags
            .fetch_or(bit(DMA_FENCE_FLAG_SIGNALED_BIT), Ordering::AcqRel)
    };
}

// ANCHOR: is_signaled
/// `dma_fence_is_signaled()`: the flag, or else ask the driver through
/// `ops->signaled` and signal if it says so.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_is_signaled(fence: *mut dma_fence) -> bool {
    // SAFETY: the caller's contract.
    let flags = unsafe { (*fence).flags.load(Ordering::Acquire) };
    if flags & bit(DMA_FENCE_FLAG_SIGNALED_BIT) != 0 {
        return true;
    }
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    let signaled = unsafe { (*(*fence).ops).signaled };
    // SAFETY: C calls the driver back with the pointer it was given.
    if signaled.is_some_and(|signaled| unsafe { signaled(fence) }) {
        // SAFETY: as above.
        unsafe { dma_fence_signal(fence) };
        return true;
    }
    false
}
// ANCHOR_END: is_signaled

/// `dma_fence_enable_sw_signaling()`: call `ops->enable_signaling` once; if
/// it returns false the fence is signalled right away.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_enable_sw_signaling(fence: *mut dma_fence) {
    let enable = bit(DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT);
    let signalled = bit(DMA_FENCE_FLAG_SIGNALED_BIT);
    // SAFETY: the caller's contract.
    let old = unsafe { (*fence).flags.fetch_or(enable, Ordering::AcqRel) };
    if old & (enable | signalled) != 0 {
        return;
    }
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    let enable_signaling = unsafe { (*(*fence).ops).enable_signaling };
    // SAFETY: C calls the driver back with the pointer it was given.
    if enable_signaling.is_some_and(|enable_signaling| !unsafe { enable_signaling(fence) }) {
        // SAFETY: as above.
        unsafe { dma_fence_signal(fence) };
    }
}

/// `dma_fence_wait_timeout()`: `ops->wait`, or the default wait. The mock's
/// default wait cannot sleep: it enables signalling and returns `timeout`
/// (at least 1) if the fence is signalled, 0 ("timed out") otherwise.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_wait_timeout(fence: *mut dma_fence, intr: bool, timeout: c_long) -> c_long {
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    let wait = unsafe { (*(*fence).ops).wait };
    match wait {
        // SAFETY: C calls the driver back with the pointer it was given.
        Some(wait) => unsafe { wait(fence, intr, timeout) },
        // SAFETY: the caller's contract.
        None => unsafe {
            dma_fence_enable_sw_signaling(fence);
            if dma_fence_is_signaled(fence) {
                timeout.max(1)
            } else {
                0
            }
        },
    }
}

/// `dma_fence_set_deadline()`: passed on to `ops->set_deadline`, if any.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_set_deadline(fence: *mut dma_fence, deadline: ktime_t) {
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    if let Some(set_deadline) = unsafe { (*(*fence).ops).set_deadline } {
        // SAFETY: C calls the driver back with the pointer it was given.
        unsafe { set_deadline(fence, deadline) }
    }
}

/// `dma_fence_driver_name()`: `ops->get_driver_name`.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_driver_name(fence: *mut dma_fence) -> *const c_char {
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    let get = unsafe { (*(*fence).ops).get_driver_name }.expect("get_driver_name is mandatory");
    // SAFETY: C calls the driver back with the pointer it was given.
    unsafe { get(fence) }
}

/// `dma_fence_timeline_name()`: `ops->get_timeline_name`.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_timeline_name(fence: *mut dma_fence) -> *const c_char {
    // SAFETY: the caller's contract; `ops` is valid as long as the fence is.
    let get = unsafe { (*(*fence).ops).get_timeline_name }.expect("get_timeline_name is mandatory");
    // SAFETY: C calls the driver back with the pointer it was given.
    unsafe { get(fence) }
}

/// `dma_fence_set_error()`: a plain store, before signalling.
///
/// # Safety
///
/// `fence` is an initialised, unsignalled fence the caller holds a reference
/// to, and nobody else writes `error` concurrently.
pub unsafe fn dma_fence_set_error(fence: *mut dma_fence, error: c_int) {
    // SAFETY: the caller's contract. A raw place, no `&mut` to the fence.
    unsafe { (*fence).error = error };
}

/// `dma_fence_get_status()`: 0 while pending, then `error` or 1.
///
/// # Safety
///
/// `fence` is an initialised fence the caller holds a reference to.
pub unsafe fn dma_fence_get_status(fence: *mut dma_fence) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        if !dma_fence_is_signaled(fence) {
            0
        } else if (*fence).error != 0 {
            (*fence).error
        } else {
            1
        }
    }
}

/// A toy `struct work_struct`: a pending bit and the function to run.
#[repr(C)]
pub struct work_struct {
    /// Bit 0: `WORK_STRUCT_PENDING`.
    pub data: AtomicUsize,
    /// `work_func_t func`.
    pub func: Option<unsafe extern "C" fn(*mut work_struct)>,
}

/// `INIT_WORK()`.
///
/// # Safety
///
/// `work` is valid for writes and not queued.
pub unsafe fn init_work(work: *mut work_struct, func: unsafe extern "C" fn(*mut work_struct)) {
    // SAFETY: the caller's contract.
    unsafe {
        work.write(work_struct {
            data: AtomicUsize::new(0),
            func: Some(func),
        })
    }
}

thread_local! {
    /// The mock's workqueue: one per thread, so that tests do not share it.
    static WORKQUEUE: RefCell<VecDeque<*mut work_struct>> = const { RefCell::new(VecDeque::new()) };
}

/// `queue_work()`: false if the work was already pending.
///
/// # Safety
///
/// `work` is initialised and stays valid until its function has run.
pub unsafe fn queue_work(work: *mut work_struct) -> bool {
    // SAFETY: the caller's contract.
    if unsafe { (*work).data.fetch_or(1, Ordering::AcqRel) } & 1 != 0 {
        return false;
    }
    WORKQUEUE.with(|wq| wq.borrow_mut().push_back(work));
    true
}

/// The worker thread's loop: run this thread's queued work items, in order.
/// Returns how many ran.
pub fn run_queued_work() -> usize {
    let mut ran = 0;
    while let Some(work) = WORKQUEUE.with(|wq| wq.borrow_mut().pop_front()) {
        // SAFETY: `queue_work()`'s contract keeps `work` valid until it ran;
        // the pending bit is cleared before the function runs, as in C.
        unsafe {
            (*work).data.fetch_and(!1, Ordering::AcqRel);
            if let Some(func) = (*work).func {
                func(work);
            }
        }
        ran += 1;
    }
    ran
}
