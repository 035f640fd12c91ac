// The trait-wide design with the registration one writes first: the
// lifetime is a parameter of the registration, and a registration that is
// made once, for the whole module, can only pick `'static`. On the model,
// not kernel code.

use core::marker::PhantomData;

use bound_listings::bound_style::BoundDriver;
use bound_listings::model::trait_wide::Driver;
use bound_listings::model::{id_info, Device, Error, IdTable, Result};
use pinned_init::InPlaceInit;

/// One lifetime for every binding this registration will ever make.
struct Registration<'bound, T: Driver<'bound>> {
    id_table: IdTable<T::IdInfo>,
    _driver: PhantomData<fn(&'bound ()) -> T>,
}

impl<'bound, T: Driver<'bound>> Registration<'bound, T> {
    const fn new() -> Self {
        Registration {
            id_table: T::ID_TABLE,
            _driver: PhantomData,
        }
    }

    fn bind_and_unbind(&self, dev: &'bound Device) -> Result {
        let info = id_info(self.id_table, dev).ok_or(Error::NoDev)?;
        let bound = dev.bind()?;
        let data = Box::try_pin_init(T::probe(dev, Some(info)))?;
        T::unbind(&bound, data.as_ref());
        drop(data);
        dev.unbind();
        Ok(())
    }
}

/// Registered when the module is loaded, as `module_pci_driver!` does.
static DRIVER: Registration<'static, BoundDriver> = Registration::new();

/// A device turns up, is bound, and goes away again.
fn device_added() -> Result {
    let dev = Device::new("pci-testdev");
    DRIVER.bind_and_unbind(&dev)
}

fn main() {
    device_added().unwrap();
}
