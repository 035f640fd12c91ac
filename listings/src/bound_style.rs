//! The same driver with lifetime-generic driver data: the data borrows the
//! device for `'bound` and keeps the `Bar<'bound>` it mapped. A model, not
//! kernel code.

use core::pin::Pin;

use pinned_init::{pin_data, pinned_drop, try_pin_init, PinInit};

use crate::model::{Bar, BoundDevice, Device, Driver, Error, Result};

// ANCHOR: data
/// Driver data valid for the binding scope `'bound`.
#[pin_data(PinnedDrop)]
pub struct BoundData<'bound> {
    dev: &'bound Device,
    bar: Bar<'bound>,
}

impl BoundData<'_> {
    /// Run test `test`: no `access()`, no `?` on a proof, no `Arc`.
    pub fn run(&self, test: u8) -> Result<u8> {
        let bar = &self.bar;
        bar.write8(test, Bar::TEST);
        if bar.read8(Bar::WIDTH) != 1 {
            return Err(Error::OpNotSupp);
        }
        let offset = usize::from(bar.read8(Bar::OFFSET));
        bar.write8(bar.read8(Bar::DATA), offset);
        Ok(bar.read8(Bar::COUNT))
    }
}

#[pinned_drop]
impl PinnedDrop for BoundData<'_> {
    fn drop(self: Pin<&mut Self>) {
        // The `Bar` is simply there: the data cannot outlive `'bound`.
        self.bar.write8(Bar::TEST_NONE, Bar::TEST);
        self.dev.log("drop: BAR reset");
    }
}
// ANCHOR_END: data

/// The lifetime-generic driver.
pub struct BoundDriver;

impl Driver for BoundDriver {
    type Data<'bound> = BoundData<'bound>;

    fn probe<'bound>(dev: &'bound Device) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        try_pin_init!(BoundData {
            dev,
            bar: dev.iomap_bar0()?,
        }? Error)
        .pin_chain(|data| {
            let count = data.run(Bar::TEST_NO_EVENTFD)?;
            data.dev.log(format!("probe: count {count}"));
            Ok(())
        })
    }

    fn unbind<'bound>(dev: &BoundDevice<'bound>, data: Pin<&Self::Data<'bound>>) {
        match data.run(Bar::TEST_NO_EVENTFD) {
            Ok(count) => dev.device().log(format!("unbind: count {count}")),
            Err(err) => dev.device().log(format!("unbind: failed: {err:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::bind_and_unbind;
    use pinned_init::InPlaceInit;

    #[test]
    fn bound_data_is_dropped_inside_the_binding_scope() {
        let dev = Device::new("pci-testdev");
        bind_and_unbind::<BoundDriver>(&dev).unwrap();
        assert_eq!(
            dev.events(),
            [
                "core: bind",
                "iomap: BAR 0 mapped",
                "probe: count 1",
                "core: probed",
                "unbind: count 1",
                "core: post_unbind: drop driver data",
                "drop: BAR reset",
                "core: devres_release_all",
            ]
        );
    }

    #[test]
    fn probe_fails_on_an_unbound_device() {
        let dev = Device::new("pci-testdev");
        let init = BoundDriver::probe(&dev);
        assert_eq!(Box::try_pin_init(init).err(), Some(Error::NoDev));
    }
}
