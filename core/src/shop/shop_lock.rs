//! A lock of the shop: this process's mutex for a name, then — on a
//! database several nodes share — the store's lock across nodes of the same
//! name (`Store::lock_across`), so a read-check-write (a customer's phone
//! kept unique, one campaign planner, the PIN lock-out count) runs in one
//! process of the shop at a time. Locks are taken in one order: join,
//! customers; each of the others alone.

use tokio::sync::{Mutex, MutexGuard};

use crate::error::CoreResult;
use crate::store::{Across, Store};

/// A named lock of the shop.
#[derive(Debug)]
pub(crate) struct ShopLock {
    name: &'static str,
    local: Mutex<()>,
}

/// Held until dropped: the lock across nodes is let go first, then this
/// process's.
#[derive(Debug)]
pub(crate) struct ShopLockGuard<'a> {
    _across: Across,
    _local: MutexGuard<'a, ()>,
}

impl ShopLock {
    /// The lock called `name` (the same name on every node).
    pub(crate) const fn new(name: &'static str) -> Self {
        Self {
            name,
            local: Mutex::const_new(()),
        }
    }

    /// Waits for this process's turn, then for the other nodes'.
    pub(crate) async fn lock(&self, store: &dyn Store) -> CoreResult<ShopLockGuard<'_>> {
        let local = self.local.lock().await;
        let across = store.lock_across(self.name).await?;
        Ok(ShopLockGuard {
            _across: across,
            _local: local,
        })
    }
}
