// Keep the `&'bound Device` past the binding scope in a `thread_local`, to
// reach the BAR after unbind. On the model, not kernel code.

use std::cell::Cell;

use bound_listings::model::{Device, Driver, Error, IdTable};
use pinned_init::PinInit;

thread_local! {
    static LAST_DEVICE: Cell<Option<&'static Device>> = const { Cell::new(None) };
}

struct Sneaky;

impl Driver for Sneaky {
    type IdInfo = ();
    type Data<'bound> = ();

    const ID_TABLE: IdTable<Self::IdInfo> = &[("pci-testdev", ())];

    fn probe<'bound>(
        dev: &'bound Device,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        LAST_DEVICE.with(|last| last.set(Some(dev)));
        Ok(())
    }
}

fn main() {}
