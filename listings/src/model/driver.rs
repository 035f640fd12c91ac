//! Model of the PCI `Driver` trait and of the driver core's bind/unbind
//! sequence (`drivers/base/dd.c`); not kernel code.

use core::pin::Pin;

use pinned_init::{InPlaceInit, PinInit};

use super::{BoundDevice, Device, Result};

// ANCHOR: driver
/// Model of `pci::Driver` in Linux 7.3.4: the driver data is generic over
/// the lifetime of the binding.
pub trait Driver {
    /// The driver data of one bound device.
    type Data<'bound>: 'bound;

    /// Called when the device is bound; returns an initializer for the data.
    fn probe<'bound>(dev: &'bound Device) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// Called on unbind, before the data is dropped.
    fn unbind<'bound>(_dev: &BoundDevice<'bound>, _data: Pin<&Self::Data<'bound>>) {}
}
// ANCHOR_END: driver

use super::Error;

// ANCHOR: core
/// The model's driver core: bind `D` to `dev`, probe, unbind, then drop the
/// driver data (`post_unbind`) *before* `devres_release_all()`, the order of
/// `device_unbind_cleanup()` in `drivers/base/dd.c`.
pub fn bind_and_unbind<D: Driver>(dev: &Device) -> Result {
    let bound = dev.bind()?;
    let data = match Box::try_pin_init(D::probe(dev)) {
        Ok(data) => data,
        Err(err) => {
            dev.log(format!("core: probe failed: {err:?}"));
            dev.unbind();
            return Err(err);
        }
    };
    dev.log("core: probed");

    D::unbind(&bound, data.as_ref());
    dev.log("core: post_unbind: drop driver data");
    drop(data);
    dev.unbind();
    Ok(())
}
// ANCHOR_END: core
