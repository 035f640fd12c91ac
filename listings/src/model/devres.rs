//! Model of `Revocable<T>` / `Devres<T>` (not kernel code: no RCU, and a
//! revoked value is only dropped with its last owner).

use std::ops::Deref;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{ARef, BoundDevice, Device, Error, OwnedBar, Result};

/// Model of `pci::DevresBar`: a device-managed BAR 0.
pub type DevresBar = Devres<OwnedBar>;

struct Inner<T> {
    dev: ARef<Device>,
    revoked: AtomicBool,
    data: T,
}

/// What the device's devres list can do with an entry.
pub(super) trait Revoke: Send + Sync {
    fn revoke_from_core(&self);
}

impl<T: Send + Sync> Inner<T> {
    fn revoke(&self, by: &str) -> bool {
        let first = !self.revoked.swap(true, Ordering::SeqCst);
        if first {
            self.dev.log(format!("devres: revoked by {by}"));
        }
        first
    }
}

impl<T: Send + Sync> Revoke for Inner<T> {
    fn revoke_from_core(&self) {
        self.revoke("devres_release_all");
    }
}

// ANCHOR: devres
/// Model of `Devres<T>`: a value registered with the device's devres list,
/// revoked when the device is unbound (or when this handle is dropped).
pub struct Devres<T: Send + Sync + 'static> {
    inner: Arc<Inner<T>>,
}

impl<T: Send + Sync + 'static> Devres<T> {
    /// Register `data` as a device-managed resource of `dev`.
    pub fn new(dev: &Device, data: T) -> Result<Self> {
        dev.as_bound()?;
        let inner = Arc::new(Inner {
            dev: dev.aref(),
            revoked: AtomicBool::new(false),
            data,
        });
        let weak = Arc::downgrade(&inner);
        dev.register_devres(weak);
        Ok(Devres { inner })
    }

    /// Model of `Devres::access(&Device<Bound>)`: no lock, but a runtime
    /// check that `dev` is the device this resource belongs to (`EINVAL`
    /// otherwise). The model also reports `ENODEV` once revoked.
    pub fn access<'a>(&'a self, dev: &BoundDevice<'_>) -> Result<&'a T> {
        if !ptr::eq(dev.device(), &*self.inner.dev) {
            return Err(Error::Inval);
        }
        if self.inner.revoked.load(Ordering::SeqCst) {
            return Err(Error::NoDev);
        }
        Ok(&self.inner.data)
    }

    /// Model of `Devres::try_access()`: `None` once revoked.
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T>> {
        if self.inner.revoked.load(Ordering::SeqCst) {
            None
        } else {
            Some(RevocableGuard {
                data: &self.inner.data,
            })
        }
    }

    /// Model of `Revocable::revoke()`: `true` if this call revoked it.
    pub fn revoke(&self) -> bool {
        self.inner.revoke("revoke()")
    }
}

impl<T: Send + Sync + 'static> Drop for Devres<T> {
    fn drop(&mut self) {
        // As in the kernel, dropping the `Devres` revokes it right away.
        self.inner.revoke("Drop");
    }
}
// ANCHOR_END: devres

/// Model of `RevocableGuard`: in the kernel it holds the RCU read lock.
pub struct RevocableGuard<'a, T> {
    data: &'a T,
}

impl<T> Deref for RevocableGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data
    }
}
