//! A userspace **model** of the binding scope (not kernel code).
//!
//! The names follow the kernel's Rust API, the implementation does not: there
//! is no MMIO, no RCU and no real devres list, only enough state to observe
//! the order in which things happen.
//!
//! [`Driver`] is the design the kernel uses, `type Data<'bound>`;
//! [`trait_wide`] models the alternative, `trait Driver<'bound>`, for
//! comparison.

mod device;
mod devres;
mod driver;
mod error;
pub mod trait_wide;

pub use device::{ARef, Bar, BoundDevice, Device, OwnedBar, BAR0_SIZE};
pub use devres::{Devres, DevresBar, RevocableGuard};
pub use driver::{bind_and_unbind, id_info, Driver, IdTable, Registration};
pub use error::{Error, Result};
