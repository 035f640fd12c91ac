// Alternative 1: without `Deref`, the driver's fields are not fields of
// the fence object; every access goes through `inner()`. On the model,
// not kernel code.

use std::sync::atomic::Ordering;

use bound_listings::fence::straight::CmdFence;
use bound_listings::fence::ReleaseCounter;

fn main() {
    let fence = CmdFence::new(1, &ReleaseCounter::new());
    assert_eq!(fence.pending.load(Ordering::Acquire), 1);
}
