//! The Devres-style `rust_testdev` driver on the host model: the driver data
//! is `'static`, so it keeps an `ARef<Device>` and a device-managed BAR.
//! A model, not kernel code; compare `samples/rust/rust_testdev.rs` in
//! patch 0001.

use core::pin::Pin;
use std::sync::Arc;

use pinned_init::PinInit;

use crate::model::{ARef, Bar, BoundDevice, Device, DevresBar, Driver, Error, IdTable, Result};

// ANCHOR: data
/// Shares the device-managed BAR with [`TestdevData`].
pub struct TestRunner {
    bar: Arc<DevresBar>,
}

impl TestRunner {
    /// Run test `test`; returns the device's count of matching writes.
    pub fn run(&self, dev: &BoundDevice<'_>, test: u8) -> Result<u8> {
        let bar = self.bar.access(dev)?;
        bar.write8(test, Bar::TEST);
        if bar.read8(Bar::WIDTH) != 1 {
            return Err(Error::OpNotSupp);
        }
        let offset = usize::from(bar.read8(Bar::OFFSET));
        bar.write8(bar.read8(Bar::DATA), offset);
        Ok(bar.read8(Bar::COUNT))
    }
}

/// Driver data of a bound device: `'static`, it borrows nothing.
pub struct TestdevData {
    pdev: ARef<Device>,
    bar: Arc<DevresBar>,
    runner: TestRunner,
}
// ANCHOR_END: data

/// The Devres-style driver.
pub struct TestdevDriver;

impl Driver for TestdevDriver {
    type IdInfo = ();
    type Data<'bound> = TestdevData;

    const ID_TABLE: IdTable<Self::IdInfo> = &[("pci-testdev", ())];

    fn probe<'bound>(
        dev: &'bound Device,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let bar = Arc::new(dev.iomap_bar0()?.into_devres()?);
        let data = TestdevData {
            pdev: dev.aref(),
            runner: TestRunner { bar: bar.clone() },
            bar,
        };
        let count = data.runner.run(&dev.as_bound()?, Bar::TEST_NO_EVENTFD)?;
        dev.log(format!("probe: count {count}"));
        Ok(data)
    }

    fn unbind<'bound>(dev: &BoundDevice<'bound>, data: Pin<&Self::Data<'bound>>) {
        match data.runner.run(dev, Bar::TEST_NO_EVENTFD) {
            Ok(count) => dev.device().log(format!("unbind: count {count}")),
            Err(err) => dev.device().log(format!("unbind: failed: {err:?}")),
        }
    }
}

// ANCHOR: drop
impl Drop for TestdevData {
    fn drop(&mut self) {
        // No device argument here: only `try_access()` is possible.
        match self.bar.try_access() {
            Some(bar) => {
                bar.write8(Bar::TEST_NONE, Bar::TEST);
                self.pdev.log("drop: BAR still mapped");
            }
            None => self.pdev.log("drop: BAR already revoked"),
        }
    }
}
// ANCHOR_END: drop

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::bind_and_unbind;

    #[test]
    fn drop_runs_before_devres_release_all() {
        let dev = Device::new("pci-testdev");
        bind_and_unbind::<TestdevDriver>(&dev).unwrap();
        assert_eq!(
            dev.events(),
            [
                "core: bind",
                "iomap: BAR 0 mapped",
                "probe: count 1",
                "core: probed",
                "unbind: count 1",
                "core: post_unbind: drop driver data",
                "drop: BAR still mapped",
                "devres: revoked by Drop",
                "core: devres_release_all",
            ]
        );
        assert!(!dev.is_bound());
    }

    #[test]
    fn rebind_ten_times() {
        let dev = Device::new("pci-testdev");
        for _ in 0..10 {
            bind_and_unbind::<TestdevDriver>(&dev).unwrap();
        }
        let events = dev.events();
        let count = |e: &str| events.iter().filter(|x| *x == e).count();
        assert_eq!(count("drop: BAR still mapped"), 10);
        assert_eq!(count("unbind: count 1"), 10);
        assert_eq!(count("drop: BAR already revoked"), 0);
    }

    #[test]
    fn a_clone_outliving_the_data_is_revoked_by_the_core() {
        let dev = Device::new("pci-testdev");
        let bound = dev.bind().unwrap();
        let bar = Arc::new(dev.iomap_bar0().unwrap().into_devres().unwrap());
        let kept = bar.clone();
        drop(bar);
        assert!(kept.access(&bound).is_ok());
        dev.unbind();
        assert!(kept.try_access().is_none());
        assert_eq!(kept.access(&bound).err(), Some(Error::NoDev));
        assert_eq!(
            dev.events().last().map(String::as_str),
            Some("devres: revoked by devres_release_all")
        );
    }

    #[test]
    fn access_checks_the_device() {
        let a = Device::new("a");
        let b = Device::new("b");
        let _bound_a = a.bind().unwrap();
        let bound_b = b.bind().unwrap();
        let bar = a.iomap_bar0().unwrap().into_devres().unwrap();
        assert_eq!(bar.access(&bound_b).err(), Some(Error::Inval));
    }
}
