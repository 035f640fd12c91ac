//! Model of the PCI `Driver` trait and of the driver core's bind/unbind
//! sequence (`drivers/base/dd.c`); not kernel code.

use core::marker::PhantomData;
use core::pin::Pin;

use pinned_init::{InPlaceInit, PinInit};

use super::{BoundDevice, Device, Error, Result};

/// Model of `pci::IdTable<T>`: a `'static` table of device IDs, each with
/// the driver's `IdInfo` for it. The model matches on the device's name
/// instead of vendor and device numbers.
pub type IdTable<T> = &'static [(&'static str, T)];

// ANCHOR: driver
/// Model of `pci::Driver` in Linux 7.3.4: the driver data is generic over
/// the lifetime of the binding.
pub trait Driver {
    /// What the ID table holds for each device ID; it lives in a `static`.
    type IdInfo: 'static;

    /// The driver data of one bound device.
    type Data<'bound>: 'bound;

    /// The devices this driver binds to.
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Called when the device is bound; returns an initializer for the data.
    fn probe<'bound>(
        dev: &'bound Device,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// Called on unbind, before the data is dropped.
    fn unbind<'bound>(_dev: &BoundDevice<'bound>, _data: Pin<&Self::Data<'bound>>) {}
}
// ANCHOR_END: driver

/// Model of the bus matching a device against an ID table: the entry's
/// `IdInfo`, or `None` if no entry matches.
pub fn id_info<I>(table: IdTable<I>, dev: &Device) -> Option<&'static I> {
    table
        .iter()
        .find(|(name, _)| *name == dev.name())
        .map(|(_, info)| info)
}

// ANCHOR: core
/// Model of `driver::Registration<pci::Adapter<T>>`: made once, when the
/// module is loaded (a `static` here), and used for every device the driver
/// binds. Nothing in it depends on a binding.
pub struct Registration<T: Driver> {
    id_table: IdTable<T::IdInfo>,
    _driver: PhantomData<fn() -> T>,
}

impl<T: Driver> Registration<T> {
    /// Register `T` (model of `Registration::new()`, which stores
    /// `T::ID_TABLE` in the C `struct pci_driver`).
    pub const fn new() -> Self {
        Registration {
            id_table: T::ID_TABLE,
            _driver: PhantomData,
        }
    }

    /// The model's driver core: bind `T` to `dev`, probe, unbind, then drop
    /// the driver data (`post_unbind`) *before* `devres_release_all()`, the
    /// order of `device_unbind_cleanup()` in `drivers/base/dd.c`. Each call
    /// is one binding scope, with a lifetime of its own.
    pub fn bind_and_unbind(&self, dev: &Device) -> Result {
        let info = id_info(self.id_table, dev).ok_or(Error::NoDev)?;
        let bound = dev.bind()?;
        let data = match Box::try_pin_init(T::probe(dev, Some(info))) {
            Ok(data) => data,
            Err(err) => {
                dev.log(format!("core: probe failed: {err:?}"));
                dev.unbind();
                return Err(err);
            }
        };
        dev.log("core: probed");

        T::unbind(&bound, data.as_ref());
        dev.log("core: post_unbind: drop driver data");
        drop(data);
        dev.unbind();
        Ok(())
    }
}
// ANCHOR_END: core

impl<T: Driver> Default for Registration<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Bind `D` to `dev` and unbind it again, through a fresh [`Registration`].
pub fn bind_and_unbind<D: Driver>(dev: &Device) -> Result {
    Registration::<D>::new().bind_and_unbind(dev)
}
