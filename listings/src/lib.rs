//! Host listings of the 'bound book.
//!
//! **Everything in this crate is a userspace model, not kernel code.** It
//! mimics, with ordinary safe Rust, the shape of the Linux 7.3.4 Rust PCI API
//! the book's kernel listings use (`pci::Device`, `pci::Bar<'bound>`,
//! `Devres`/`Revocable`, the `Driver` trait with `type Data<'bound>`, and the
//! driver core's teardown order from `drivers/base/dd.c`), so that the
//! lifetime rules the book talks about can be compiled, run and tested on the
//! host. Kernel listings themselves come from the verified patches.
//!
//! - [`model`]: the device, its BAR, the device-managed (`Devres`) wrapper and
//!   a tiny driver core; [`model::trait_wide`] is the driver trait the kernel
//!   did not choose (`trait Driver<'bound>`), for Part I's chapter on GATs.
//! - [`devres_style`]: the Devres-style driver of Part I, chapter 1
//!   (`'static` driver data).
//! - [`bound_style`]: the same driver holding a `Bar<'bound>` directly,
//!   implementing both driver traits.

pub mod bound_style;
pub mod devres_style;
pub mod model;
