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
//! - [`fence`]: Part II, subclassing a C object: a mock C `dma_fence` and
//!   five ways for a Rust driver to subclass it. Two of them need
//!   `arbitrary_self_types`, behind the cargo feature of that name (build
//!   with `RUSTC_BOOTSTRAP=1`, as the kernel does).

#![cfg_attr(feature = "arbitrary_self_types", feature(arbitrary_self_types))]

// So that `bound_listings::` paths work inside the crate too: the
// `arbitrary_self_types` listings are also built by `tests/unstable.rs`
// as modules of a test crate, with `#[path]`.
extern crate self as bound_listings;

pub mod bound_style;
pub mod devres_style;
pub mod fence;
pub mod model;
