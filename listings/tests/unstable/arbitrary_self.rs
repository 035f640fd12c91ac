// Builds and runs src/fence/arbitrary_self.rs, which needs
// `#![feature(arbitrary_self_types)]`: its call sites, then the release
// count. On the model, not kernel code.

#![feature(arbitrary_self_types)]

#[path = "../../src/fence/arbitrary_self.rs"]
mod arbitrary_self;

use bound_listings::fence::ReleaseCounter;

fn main() {
    let release = ReleaseCounter::new();
    arbitrary_self::call_sites(&release);
    assert_eq!(release.count(), 1);

    let fence = arbitrary_self::CmdFence::new(1, &release);
    let held_by_c = fence.clone();
    fence.complete();
    assert!(fence.is_signaled());
    assert_eq!(fence.driver_name(), c"bound-listings");
    drop(fence);
    assert_eq!(release.count(), 1);
    drop(held_by_c);
    assert_eq!(release.count(), 2);
}
