// The trait-wide design with `for<'bound>` on the registration: each binding
// now gets a lifetime of its own, but the ID table is stored when the driver
// is registered, where no binding exists, so its `IdInfo` is named at one
// lifetime. On the model, not kernel code.

use core::marker::PhantomData;

use bound_listings::bound_style::BoundDriver;
use bound_listings::model::trait_wide::Driver;
use bound_listings::model::{id_info, Device, IdTable, Result};
use pinned_init::InPlaceInit;

struct Registration<T>
where
    T: for<'bound> Driver<'bound>,
{
    id_table: IdTable<<T as Driver<'static>>::IdInfo>,
    _driver: PhantomData<fn() -> T>,
}

impl<T> Registration<T>
where
    T: for<'bound> Driver<'bound>,
{
    const fn new() -> Self {
        Registration {
            id_table: <T as Driver<'static>>::ID_TABLE,
            _driver: PhantomData,
        }
    }

    fn bind_and_unbind(&self, dev: &Device) -> Result {
        let bound = dev.bind()?;
        let data = Box::try_pin_init(T::probe(dev, id_info(self.id_table, dev)))?;
        T::unbind(&bound, data.as_ref());
        drop(data);
        dev.unbind();
        Ok(())
    }
}

static DRIVER: Registration<BoundDriver> = Registration::new();

fn main() {
    let dev = Device::new("pci-testdev");
    DRIVER.bind_and_unbind(&dev).unwrap();
}
