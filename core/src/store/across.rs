//! Locks across nodes: a short read-check-write that must run in one
//! process of the shop at a time — a customer's phone and e-mail kept
//! unique, the campaign planner, the PIN lock-out count, a rate limit per
//! network address.
//!
//! Where this process is the shop's only writer, its own mutex is enough
//! and the store hands the lock out at once. On a database several nodes
//! share, each name is a PostgreSQL advisory lock (a class of its own,
//! apart from duties) taken on a connection this process keeps for that
//! name: PostgreSQL is the only arbiter, a waiting node is woken the moment
//! the lock is let go, and a node that dies lets its locks go with its
//! session. A lock not had within [`ACROSS_PATIENCE`] is an error, not a
//! hang. Callers take their own mutex first: one request per name and
//! process at a time reaches the database.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::oneshot;

use super::StoreError;

/// How long a node waits for a lock another node holds.
pub const ACROSS_PATIENCE: Duration = Duration::from_secs(10);

/// A lock across nodes this process holds; dropping it lets it go.
#[derive(Debug)]
pub struct Across {
    _release: Option<oneshot::Sender<()>>,
}

/// What [`Store::lock_across`](super::Store::lock_across) returns.
pub type AcrossFuture = Pin<Box<dyn Future<Output = Result<Across, StoreError>> + Send>>;

impl Across {
    /// The lock of a process that is the shop's only writer: nothing to hold.
    pub fn sole() -> Self {
        Self { _release: None }
    }

    /// A lock let go when `release` is dropped.
    pub(super) fn held(release: oneshot::Sender<()>) -> Self {
        Self {
            _release: Some(release),
        }
    }
}

/// A request for a lock: answered with the lock, or why not.
pub(super) type AcrossRequest = oneshot::Sender<Result<Across, StoreError>>;
