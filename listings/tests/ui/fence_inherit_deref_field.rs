// Alternative 5: the safe macro refuses a field that only derefs to the
// parent, whose offset would be that of the pointer. On the model, not
// kernel code.

use bound_listings::fence::inherit::Fence;

#[repr(C)]
pub struct BoxedFence {
    pub pending: u32,
    pub fence: Box<Fence>,
}

bound_listings::impl_inherit! {
    impl Inherit<Fence> for BoxedFence { self.fence }
}

fn main() {}
