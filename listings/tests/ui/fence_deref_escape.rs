// Alternative 2 (`Deref`): a helper written against `&CmdFence`, which
// `Deref` hands out from the fence object, cannot complete the command:
// the fence it would signal is not reachable from `&CmdFence`. On the
// model, not kernel code.

use bound_listings::fence::deref::CmdFence;
use bound_listings::fence::ReleaseCounter;

fn finish(cmd: &CmdFence) {
    CmdFence::complete(cmd);
}

fn main() {
    let fence = CmdFence::new(1, &ReleaseCounter::new());
    finish(&fence);
}
