//! The same driver with lifetime-generic driver data: the data borrows the
//! device for `'bound` and keeps the `Bar<'bound>` it mapped. A model, not
//! kernel code.

use core::pin::Pin;

use pinned_init::{pin_data, pinned_drop, try_pin_init, PinInit};

use crate::model::{
    trait_wide, Bar, BoundDevice, Device, Driver, Error, IdTable, Registration, Result,
};

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

impl<'bound> BoundData<'bound> {
    /// What both drivers below do in `probe()`: map BAR 0, keep it, run
    /// test 0 once.
    pub fn new(dev: &'bound Device) -> impl PinInit<Self, Error> + 'bound {
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

    /// What both drivers below do in `unbind()`: run test 0 once more.
    pub fn unbind(&self, dev: &BoundDevice<'bound>) {
        match self.run(Bar::TEST_NO_EVENTFD) {
            Ok(count) => dev.device().log(format!("unbind: count {count}")),
            Err(err) => dev.device().log(format!("unbind: failed: {err:?}")),
        }
    }
}

/// The devices the driver binds to (model of `kernel::pci_device_table!`).
pub const PCI_TABLE: IdTable<()> = &[("pci-testdev", ())];

/// The lifetime-generic driver.
pub struct BoundDriver;

// ANCHOR: gat_impl
impl Driver for BoundDriver {
    type IdInfo = ();
    type Data<'bound> = BoundData<'bound>;

    const ID_TABLE: IdTable<Self::IdInfo> = PCI_TABLE;

    fn probe<'bound>(
        dev: &'bound Device,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        BoundData::new(dev)
    }

    fn unbind<'bound>(dev: &BoundDevice<'bound>, data: Pin<&Self::Data<'bound>>) {
        data.unbind(dev)
    }
}
// ANCHOR_END: gat_impl

// ANCHOR: trait_wide_impl
impl<'bound> trait_wide::Driver<'bound> for BoundDriver {
    type IdInfo = ();
    type Data = BoundData<'bound>;

    const ID_TABLE: IdTable<Self::IdInfo> = PCI_TABLE;

    fn probe(
        dev: &'bound Device,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data, Error> + 'bound {
        BoundData::new(dev)
    }

    fn unbind(dev: &BoundDevice<'bound>, data: Pin<&Self::Data>) {
        data.unbind(dev)
    }
}
// ANCHOR_END: trait_wide_impl

// ANCHOR: registrations
/// Registered once, when the "module" is loaded, as `module_pci_driver!`
/// does; every device it binds gets a binding scope of its own.
pub static DRIVER: Registration<BoundDriver> = Registration::new();

/// The same driver, registered through the trait-wide design.
pub static TRAIT_WIDE_DRIVER: trait_wide::Registration<(), BoundDriver> =
    trait_wide::Registration::new();
// ANCHOR_END: registrations

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
        let init = BoundDriver::probe(&dev, None);
        assert_eq!(Box::try_pin_init(init).err(), Some(Error::NoDev));
    }

    #[test]
    fn one_static_registration_binds_many_devices() {
        // Every call opens a binding scope of its own, shorter than the
        // registration and different each time.
        for _ in 0..3 {
            let dev = Device::new("pci-testdev");
            DRIVER.bind_and_unbind(&dev).unwrap();
            DRIVER.bind_and_unbind(&dev).unwrap();
            assert_eq!(count(&dev, "drop: BAR reset"), 2);
        }
    }

    #[test]
    fn trait_wide_registration_binds_many_devices() {
        for _ in 0..3 {
            let dev = Device::new("pci-testdev");
            TRAIT_WIDE_DRIVER.bind_and_unbind(&dev).unwrap();
            TRAIT_WIDE_DRIVER.bind_and_unbind(&dev).unwrap();
            assert_eq!(count(&dev, "drop: BAR reset"), 2);
        }
    }

    #[test]
    fn both_designs_run_the_same_sequence() {
        let gat = Device::new("pci-testdev");
        DRIVER.bind_and_unbind(&gat).unwrap();
        let trait_wide = Device::new("pci-testdev");
        TRAIT_WIDE_DRIVER.bind_and_unbind(&trait_wide).unwrap();
        assert_eq!(gat.events(), trait_wide.events());
    }

    #[test]
    fn a_device_not_in_the_id_table_is_not_probed() {
        let gat = Device::new("pci-other");
        assert_eq!(DRIVER.bind_and_unbind(&gat), Err(Error::NoDev));
        let trait_wide = Device::new("pci-other");
        assert_eq!(
            TRAIT_WIDE_DRIVER.bind_and_unbind(&trait_wide),
            Err(Error::NoDev)
        );
        assert!(gat.events().is_empty() && trait_wide.events().is_empty());
    }

    fn count(dev: &Device, event: &str) -> usize {
        dev.events().iter().filter(|e| *e == event).count()
    }
}
