// Alternative 5: the safe macro refuses a field that is not the parent.
// On the model, not kernel code.

use bound_listings::fence::inherit::Fence;

#[repr(C)]
pub struct CmdFence {
    pub pending: u32,
    pub fence: Fence,
}

bound_listings::impl_inherit! {
    impl Inherit<Fence> for CmdFence { self.pending }
}

fn main() {}
