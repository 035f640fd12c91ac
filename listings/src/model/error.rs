//! Model of the kernel's `Error` (a few errno values).

use core::convert::Infallible;

/// Model of `kernel::error::Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// `EINVAL`: e.g. `Devres::access()` given another device.
    Inval,
    /// `ENODEV`: the device is not bound (or the resource was revoked).
    NoDev,
    /// `ENOMEM`.
    NoMem,
    /// `EOPNOTSUPP`.
    OpNotSupp,
}

/// Model of `kernel::error::Result`.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

// pinned-init's `Box::try_pin_init()` needs `E: From<AllocError>`; on stable
// Rust pinned-init's `AllocError` is `Infallible`.
impl From<Infallible> for Error {
    fn from(e: Infallible) -> Self {
        match e {}
    }
}
