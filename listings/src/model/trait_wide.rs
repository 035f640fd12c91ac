//! The design the kernel did not choose: the binding's lifetime as a
//! parameter of the whole driver trait, `trait Driver<'bound>`, instead of a
//! lifetime-generic associated type (`type Data<'bound>`, see
//! [`model::Driver`](super::Driver)). A model, not kernel code: no Linux
//! version has this trait. `tests/ui/trait_wide_*.rs` are the registrations
//! that do not compile with it.

use core::marker::PhantomData;
use core::pin::Pin;

use pinned_init::{InPlaceInit, PinInit};

use super::{id_info, BoundDevice, Device, Error, IdTable, Result};

// ANCHOR: driver
/// The driver trait with a trait-wide lifetime. Every associated item is
/// now a function of `'bound`, also those that have nothing to do with a
/// binding.
pub trait Driver<'bound> {
    /// What the ID table holds for each device ID; it lives in a `static`.
    type IdInfo: 'static;

    /// The driver data of one bound device.
    type Data: 'bound;

    /// The devices this driver binds to.
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Called when the device is bound; returns an initializer for the data.
    fn probe(
        dev: &'bound Device,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data, Error> + 'bound;

    /// Called on unbind, before the data is dropped.
    fn unbind(_dev: &BoundDevice<'bound>, _data: Pin<&Self::Data>) {}
}
// ANCHOR_END: driver

// ANCHOR: registration
/// A registration for the trait-wide design that compiles and lets the data
/// borrow. It needs two things the GAT design does not:
///
/// - `for<'bound>`: the driver must implement the trait for *every*
///   lifetime, because each binding brings a new one. Without it the
///   registration has to fix one lifetime for all bindings
///   (`tests/ui/trait_wide_one_lifetime.rs`).
/// - `IdInfo = I`: a type parameter standing for the ID info of every
///   `Driver<'bound>` at once. Without it the registration can only name the
///   ID info of one lifetime (`tests/ui/trait_wide_id_info.rs`).
pub struct Registration<I: 'static, T>
where
    T: for<'bound> Driver<'bound, IdInfo = I>,
{
    id_table: IdTable<I>,
    _driver: PhantomData<fn() -> T>,
}

impl<I: 'static, T> Registration<I, T>
where
    T: for<'bound> Driver<'bound, IdInfo = I>,
{
    /// Register `T`. There is no binding yet, so any lifetime will do to
    /// reach the ID table; `'static` is the only one that can be named here.
    pub const fn new() -> Self {
        Registration {
            id_table: <T as Driver<'static>>::ID_TABLE,
            _driver: PhantomData,
        }
    }
}
// ANCHOR_END: registration

impl<I: 'static, T> Registration<I, T>
where
    T: for<'bound> Driver<'bound, IdInfo = I>,
{
    /// The same driver core as [`model::Registration`](super::Registration):
    /// one binding scope per call.
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

impl<I: 'static, T> Default for Registration<I, T>
where
    T: for<'bound> Driver<'bound, IdInfo = I>,
{
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    /// A driver whose data borrows its ID table entry as well as the device,
    /// under both designs.
    struct InfoDriver;

    struct InfoData<'bound> {
        dev: &'bound Device,
        info: &'bound u8,
    }

    impl Drop for InfoData<'_> {
        fn drop(&mut self) {
            self.dev.log(format!("drop: info {}", self.info));
        }
    }

    const TABLE: IdTable<u8> = &[("dev-a", 1), ("dev-b", 2)];

    impl model::Driver for InfoDriver {
        type IdInfo = u8;
        type Data<'bound> = InfoData<'bound>;

        const ID_TABLE: IdTable<u8> = TABLE;

        fn probe<'bound>(
            dev: &'bound Device,
            info: Option<&'bound u8>,
        ) -> impl PinInit<InfoData<'bound>, Error> + 'bound {
            Ok(InfoData {
                dev,
                info: info.ok_or(Error::NoDev)?,
            })
        }
    }

    impl<'bound> Driver<'bound> for InfoDriver {
        type IdInfo = u8;
        type Data = InfoData<'bound>;

        const ID_TABLE: IdTable<u8> = TABLE;

        fn probe(
            dev: &'bound Device,
            info: Option<&'bound u8>,
        ) -> impl PinInit<InfoData<'bound>, Error> + 'bound {
            Ok(InfoData {
                dev,
                info: info.ok_or(Error::NoDev)?,
            })
        }
    }

    static GAT: model::Registration<InfoDriver> = model::Registration::new();
    static TRAIT_WIDE: Registration<u8, InfoDriver> = Registration::new();

    #[test]
    fn each_binding_gets_its_id_info() {
        for (name, info) in [("dev-a", 1), ("dev-b", 2)] {
            let gat = Device::new(name);
            GAT.bind_and_unbind(&gat).unwrap();
            let trait_wide = Device::new(name);
            TRAIT_WIDE.bind_and_unbind(&trait_wide).unwrap();
            for dev in [gat, trait_wide] {
                assert!(dev.events().contains(&format!("drop: info {info}")));
                assert!(!dev.is_bound());
            }
        }
    }

    #[test]
    fn unmatched_devices_are_not_bound() {
        let dev = Device::new("dev-c");
        assert_eq!(GAT.bind_and_unbind(&dev), Err(Error::NoDev));
        assert_eq!(TRAIT_WIDE.bind_and_unbind(&dev), Err(Error::NoDev));
        assert!(dev.events().is_empty());
    }
}
