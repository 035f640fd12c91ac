// Host twin of `bar-escapes-probe`: keep the plain `Bar` in `'static` driver
// data, shared through an `Arc`, instead of handing it to devres. On the
// model, not kernel code.

use std::sync::Arc;

use bound_listings::model::{Bar, Device, Driver, Error, IdTable};
use pinned_init::PinInit;

/// BAR 0, kept as returned by `iomap_bar0()`.
type Bar0 = Bar<'static>;

struct TestRunner {
    bar: Arc<Bar0>,
}

impl TestRunner {
    fn new(bar: Arc<Bar0>) -> Self {
        Self { bar }
    }
}

struct TestdevData {
    bar: Arc<Bar0>,
    runner: TestRunner,
}

struct TestdevDriver;

impl Driver for TestdevDriver {
    type IdInfo = ();
    type Data<'bound> = TestdevData;

    const ID_TABLE: IdTable<Self::IdInfo> = &[("pci-testdev", ())];

    fn probe<'bound>(
        dev: &'bound Device,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let bar = dev.iomap_bar0()?;
        let bar = Arc::new(bar);
        Ok(TestdevData {
            runner: TestRunner::new(bar.clone()),
            bar,
        })
    }
}

fn main() {}
