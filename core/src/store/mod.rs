//! The store seam. Actors and the shop talk to [`Store`]; the sled
//! implementation ([`SledStore`]) is the embedded default, and another backend
//! (e.g. PostgreSQL for a chain of shops) implements the same trait.
//!
//! Every mutation is acknowledged only after it is durable. Journal events are
//! written in the same atomic write as the state change they describe, and
//! their ids are assigned by the store in commit order.

mod across;
pub(crate) mod card_chains;
mod duty;
mod group_commit;
mod keys;
pub mod logical;
pub mod migrate;
mod mutation;
mod pg_commit;
mod pg_layout;
mod pg_store;
mod read_pool;
mod recent_events;
mod record_cache;
mod records;
mod sled_layout;
mod sled_store;
mod written;

pub use across::{ACROSS_PATIENCE, Across, AcrossFuture};
pub use duty::{Duty, DutyFuture};
pub use group_commit::take_group;
pub use keys::{Family, Key};
pub use mutation::{Committed, Derived, Guard, Mutation};
pub use pg_store::{LISTENER_NAME, PgOptions, PgStore, redact_url};
pub use read_pool::ReadPool;
pub use records::{IdempotencyRecord, Record, Typed};
pub use sled_store::{REWRITE_PENDING, SledOptions, SledStore};
pub use written::Written;

use std::future::Future;
use std::pin::Pin;
use thiserror::Error;

/// The data-format version this binary reads and writes.
pub const FORMAT_VERSION: u32 = 3;

/// Errors of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The underlying database failed.
    #[error("store I/O error: {0}")]
    Io(String),
    /// A stored record could not be decoded.
    #[error("corrupt record under {key}: {reason}")]
    Corrupt {
        /// Where.
        key: String,
        /// Why.
        reason: String,
    },
    /// A guard of the mutation failed; nothing was written.
    #[error("conflict on {0:?}")]
    Conflict(Key),
    /// The store has shut down.
    #[error("the store is closed")]
    Closed,
    /// The data folder was written by a newer binary.
    #[error(
        "this data folder has format version {found}, but this binary reads up to version {supported}: upgrade stampcard"
    )]
    TooNew {
        /// Version in the folder.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// The data folder has an older format: run the migrations first.
    #[error(
        "this data folder has format version {found}; this binary uses version {current} and migrates it on start"
    )]
    Outdated {
        /// Version in the folder.
        found: u32,
        /// Version of this binary.
        current: u32,
    },
    /// The connection to a networked store broke while a write was being
    /// committed, and the store could not find out whether it was: the
    /// caller's view of what it wrote may be stale (a card actor reloads).
    #[error(
        "the database connection broke during a write, and whether it was written is unknown: {0}"
    )]
    Unresolved(String),
    /// The data folder is in use by another process.
    #[error("the data folder is in use by another stampcard process ({0})")]
    Locked(String),
}

/// A pending commit.
pub type CommitFuture = Pin<Box<dyn Future<Output = Result<Committed, StoreError>> + Send>>;

/// Receives the records of a snapshot, key and value.
pub type SnapshotSink = Box<dyn FnMut(&[u8], &[u8]) -> std::io::Result<()> + Send>;

/// A pending snapshot; resolves to the number of records written.
pub type SnapshotFuture = Pin<Box<dyn Future<Output = Result<u64, StoreError>> + Send>>;

/// Direction and bounds of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scan {
    /// Start after this id (exclusive), in scan direction.
    pub after: Option<u64>,
    /// Newest (highest id) first.
    pub reverse: bool,
    /// At most this many records.
    pub limit: usize,
}

/// The storage seam.
pub trait Store: Send + Sync + 'static {
    /// Reads one record.
    fn get(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// Reads a family of records in id order.
    fn scan(&self, family: Family, scan: Scan) -> Result<Vec<(Key, Record)>, StoreError>;

    /// Visits every record of a family in id order without collecting them;
    /// the visitor returns `false` to stop.
    fn for_each(
        &self,
        family: Family,
        visit: &mut dyn FnMut(Key, Record) -> bool,
    ) -> Result<(), StoreError>;

    /// Applies a mutation atomically and durably; resolves once it is durable.
    fn commit(&self, mutation: Mutation) -> CommitFuture;

    /// Allocates the next id of a sequence (cards, customers, vouchers …).
    /// Fails when the store cannot be read (or, for a networked store,
    /// reached): an id is never made up.
    fn next_id(&self, family: Family) -> Result<u64, StoreError>;

    /// The id of the newest committed journal event (0 when none).
    fn last_event_id(&self) -> u64;

    /// A receiver that changes whenever events are committed.
    fn watch_events(&self) -> tokio::sync::watch::Receiver<u64>;

    /// Writes a consistent snapshot of every record, taken between commits.
    fn snapshot(&self, sink: SnapshotSink) -> SnapshotFuture;

    /// Visits a card's journal events, newest first, each read when the
    /// visit reaches it; the visitor returns `false` to stop.
    fn card_events(
        &self,
        card: u64,
        visit: &mut dyn FnMut(crate::model::Event) -> bool,
    ) -> Result<(), StoreError>;

    /// The ids of a card's journal events newer than `after`, newest first,
    /// at most `limit` of them: the chain's links only, no event decoded.
    fn card_event_ids(&self, card: u64, after: u64, limit: usize) -> Result<Vec<u64>, StoreError>;

    /// Number of records in a family (scans; for stats).
    fn count(&self, family: Family) -> Result<u64, StoreError>;

    /// Why the store cannot write right now (a full disk), while it cannot;
    /// writes resume by themselves once the cause is gone.
    fn write_trouble(&self) -> Option<String> {
        None
    }

    /// Finishes queued commits and lets go of the store's files or
    /// connections; every acknowledged change is durable already.
    fn close(&self) {}

    /// Whether other processes write this store too (nodes sharing a
    /// database). Where not, this process's card actor is each card's only
    /// writer and its writes need no card-version guard.
    fn is_shared(&self) -> bool {
        false
    }

    /// Resolves once this process holds a duty of the shop (see
    /// [`Duty`]): at once where this process is the shop's only writer;
    /// on a database several nodes share, when no other node holds it.
    fn hold_duty(&self, _name: &str) -> DutyFuture {
        Box::pin(async { Ok(Duty::sole()) })
    }

    /// Resolves once this process holds the lock across nodes named `name`
    /// (see [`Across`]): at once where this process is the shop's only
    /// writer; callers hold their own mutex for the name first.
    fn lock_across(&self, _name: &str) -> AcrossFuture {
        Box::pin(async { Ok(Across::sole()) })
    }

    /// On a store several processes share: what each commit (of any of
    /// them, this one included) wrote that processes keep in memory or act
    /// on (see [`Written`]). `None` where this process is the only writer:
    /// it knows what it writes. A receiver that lagged behind should assume
    /// every kind changed.
    fn watch_written(&self) -> Option<tokio::sync::broadcast::Receiver<Written>> {
        None
    }
}
