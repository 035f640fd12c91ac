// Alternative 5: `Inherit` cannot be implemented by hand without `unsafe`
// (here with a wrong offset, which would make every downcast wrong). On
// the model, not kernel code.

use bound_listings::fence::inherit::{Fence, Inherit};

#[repr(C)]
pub struct CmdFence {
    pub pending: u32,
    fence: Fence,
}

impl Inherit<Fence> for CmdFence {
    const OFFSET: usize = 0;
}

fn main() {}
