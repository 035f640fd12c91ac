// The trait-wide twin of `bar_escapes_unbind.rs`: a driver implements the
// trait for `'static` only and keeps the device for later. The impl itself
// compiles; only a registration that demands every lifetime refuses it. On
// the model, not kernel code.

use std::cell::Cell;

use bound_listings::model::trait_wide::{Driver, Registration};
use bound_listings::model::{Device, Error, IdTable};
use pinned_init::PinInit;

thread_local! {
    static LAST_DEVICE: Cell<Option<&'static Device>> = const { Cell::new(None) };
}

struct Sneaky;

impl Driver<'static> for Sneaky {
    type IdInfo = ();
    type Data = ();

    const ID_TABLE: IdTable<Self::IdInfo> = &[("pci-testdev", ())];

    fn probe(
        dev: &'static Device,
        _info: Option<&'static Self::IdInfo>,
    ) -> impl PinInit<Self::Data, Error> + 'static {
        LAST_DEVICE.with(|last| last.set(Some(dev)));
        Ok(())
    }
}

static DRIVER: Registration<(), Sneaky> = Registration::new();

fn main() {}
