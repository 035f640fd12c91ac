//! Model of `pci::Device` and `pci::Bar<'bound>`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::devres::Revoke;
use super::{Devres, DevresBar, Error, Result};

/// Model of `ARef<T>`: a reference-counted handle.
pub type ARef<T> = Arc<T>;

/// Size of the model's BAR 0, in bytes (the real `pci-testdev` BAR is larger).
pub const BAR0_SIZE: usize = 0x10;

/// Model of a `pci::Device` (`struct pci_dev`).
///
/// It has a bound flag, a fake register file standing in for BAR 0, the
/// device's devres list, and an event log the tests read back.
pub struct Device {
    name: &'static str,
    this: Weak<Device>,
    bound: AtomicBool,
    regs: [AtomicU8; BAR0_SIZE],
    devres: Mutex<Vec<Weak<dyn Revoke>>>,
    log: Mutex<Vec<String>>,
}

impl Device {
    /// A new, unbound device.
    pub fn new(name: &'static str) -> ARef<Device> {
        Arc::new_cyclic(|this| Device {
            name,
            this: this.clone(),
            bound: AtomicBool::new(false),
            regs: Default::default(),
            devres: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        })
    }

    /// The device's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A new reference to the device (model of `pdev.into()`).
    pub fn aref(&self) -> ARef<Device> {
        self.this.upgrade().expect("devices live in an ARef")
    }

    /// Whether a driver is bound to the device.
    pub fn is_bound(&self) -> bool {
        self.bound.load(Ordering::SeqCst)
    }

    /// The proof that the device is bound (model of `&Device<Bound>`), or
    /// `ENODEV`.
    pub fn as_bound(&self) -> Result<BoundDevice<'_>> {
        if self.is_bound() {
            Ok(BoundDevice { dev: self })
        } else {
            Err(Error::NoDev)
        }
    }

    /// Driver core: mark the device bound and return the proof.
    pub fn bind(&self) -> Result<BoundDevice<'_>> {
        if self.bound.swap(true, Ordering::SeqCst) {
            return Err(Error::Inval);
        }
        self.log("core: bind");
        self.as_bound()
    }

    /// Driver core: mark the device unbound and run `devres_release_all()`,
    /// which revokes every device-managed resource still registered.
    pub fn unbind(&self) {
        self.bound.store(false, Ordering::SeqCst);
        self.log("core: devres_release_all");
        let list = std::mem::take(&mut *self.devres.lock().unwrap());
        for res in list.iter().filter_map(Weak::upgrade) {
            res.revoke_from_core();
        }
    }

    /// Model of `iomap_region_sized()`: map BAR 0. The returned [`Bar`]
    /// borrows the device.
    pub fn iomap_bar0(&self) -> Result<Bar<'_>> {
        self.as_bound()?;
        self.log("iomap: BAR 0 mapped");
        Ok(Bar { dev: self })
    }

    /// Append an event to the device's log.
    pub fn log(&self, event: impl Into<String>) {
        self.log.lock().unwrap().push(event.into());
    }

    /// The events logged so far.
    pub fn events(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub(super) fn register_devres(&self, res: Weak<dyn Revoke>) {
        self.devres.lock().unwrap().push(res);
    }

    fn reg(&self, offset: usize) -> &AtomicU8 {
        &self.regs[offset]
    }

    /// The fake device: a write to `TEST` selects a test, a write of the
    /// expected value to the expected offset counts.
    fn write8(&self, value: u8, offset: usize) {
        match offset {
            Bar::TEST => {
                self.reg(Bar::COUNT).store(0, Ordering::SeqCst);
                self.reg(Bar::WIDTH).store(1, Ordering::SeqCst);
                self.reg(Bar::OFFSET)
                    .store(Bar::DOORBELL as u8, Ordering::SeqCst);
                self.reg(Bar::DATA).store(0x5a, Ordering::SeqCst);
            }
            Bar::DOORBELL if value == self.reg(Bar::DATA).load(Ordering::SeqCst) => {
                self.reg(Bar::COUNT).fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        self.reg(offset).store(value, Ordering::SeqCst);
    }
}

/// Model of `&Device<Bound>`: proof that the device is bound.
#[derive(Clone, Copy)]
pub struct BoundDevice<'a> {
    dev: &'a Device,
}

impl<'a> BoundDevice<'a> {
    /// The device this is a proof for.
    pub fn device(&self) -> &'a Device {
        self.dev
    }
}

// ANCHOR: bar
/// Model of `pci::Bar<'bound>`: a mapping of BAR 0 that borrows the
/// `&'bound Device` it was mapped from, so it cannot outlive that borrow.
pub struct Bar<'bound> {
    dev: &'bound Device,
}

impl<'bound> Bar<'bound> {
    /// Read a register.
    pub fn read8(&self, offset: usize) -> u8 {
        self.dev.reg(offset).load(Ordering::SeqCst)
    }

    /// Write a register.
    pub fn write8(&self, value: u8, offset: usize) {
        self.dev.write8(value, offset)
    }

    /// Model of `into_devres()`: hand the mapping to devres. The result owns
    /// a device reference instead of borrowing, so it can be `'static`.
    pub fn into_devres(self) -> Result<DevresBar> {
        let owned = OwnedBar {
            dev: self.dev.aref(),
        };
        Devres::new(self.dev, owned)
    }
}
// ANCHOR_END: bar

impl Bar<'_> {
    /// Register: selects a test.
    pub const TEST: usize = 0x0;
    /// Register: width of the write the test expects.
    pub const WIDTH: usize = 0x1;
    /// Register: offset of the write the test expects.
    pub const OFFSET: usize = 0x4;
    /// Register: value of the write the test expects.
    pub const DATA: usize = 0x8;
    /// Register: count of matching writes.
    pub const COUNT: usize = 0xc;
    /// Where the model's test expects its write.
    pub const DOORBELL: usize = 0xe;
    /// Test number of "no-eventfd".
    pub const TEST_NO_EVENTFD: u8 = 0;
    /// "No test".
    pub const TEST_NONE: u8 = 0xff;
}

/// The model's stand-in for `pci::Bar<'static>` inside a `DevresBar`: the
/// same registers, reached through an owned device reference.
pub struct OwnedBar {
    dev: ARef<Device>,
}

impl OwnedBar {
    /// Read a register.
    pub fn read8(&self, offset: usize) -> u8 {
        self.bar().read8(offset)
    }

    /// Write a register.
    pub fn write8(&self, value: u8, offset: usize) {
        self.bar().write8(value, offset)
    }

    /// Borrow it as a [`Bar`] again (the kernel's `DevresLt` shortens
    /// `Bar<'static>` to the accessor's lifetime the same way).
    pub fn bar(&self) -> Bar<'_> {
        Bar { dev: &self.dev }
    }
}
