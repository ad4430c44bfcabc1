//! Duties: work one process of a shop does at a time (a journal consumer,
//! an outbox dispatcher, the campaign scheduler, the bot's long polling).
//!
//! A store whose process is the shop's only writer (sled's folder, or a
//! PostgreSQL database one process owns) hands every duty out at once. When
//! several `serve` processes share one PostgreSQL database, a duty is a
//! session advisory lock held on a connection of its own: PostgreSQL is the
//! only arbiter, and the lock moves to a waiting node as soon as the
//! holder's session ends (a killed process's socket closes at once). The
//! holder checks its connection every second and reports the duty lost when
//! it breaks; what a duty writes must still be safe for the moment in
//! between (journal consumers guard their cursor, see `Guard::CursorAt`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::StoreError;

/// How often a waiting process asks for a duty, and the holder checks its
/// connection.
pub(super) const DUTY_CHECK: Duration = Duration::from_secs(1);

/// A duty this process holds; dropping it lets it go.
pub struct Duty {
    lost: watch::Receiver<bool>,
    /// A sole writer's duty keeps its own (never sent) loss signal.
    _never_lost: Option<watch::Sender<bool>>,
    /// Dropped with the duty: the holder task ends and its session (with
    /// the lock) closes.
    _release: Option<oneshot::Sender<()>>,
}

/// What [`Store::hold_duty`](super::Store::hold_duty) returns.
pub type DutyFuture = Pin<Box<dyn Future<Output = Result<Duty, StoreError>> + Send>>;

impl Duty {
    /// A duty nobody else can hold: this process is the shop's only writer.
    pub fn sole() -> Self {
        let (tx, lost) = watch::channel(false);
        Self {
            lost,
            _never_lost: Some(tx),
            _release: None,
        }
    }

    /// A duty held by a task that reports its loss on `lost` and lets it go
    /// when `release` is dropped.
    pub(super) fn held(lost: watch::Receiver<bool>, release: oneshot::Sender<()>) -> Self {
        Self {
            lost,
            _never_lost: None,
            _release: Some(release),
        }
    }

    /// Resolves once the duty is lost (never for a sole writer).
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        // A holder gone without a word (its sender dropped) counts as lost.
        let _ = lost.wait_for(|l| *l).await;
    }
}

/// The advisory-lock key of a duty's name (FNV-1a, 32 bits): stable across
/// processes and versions.
pub(super) fn duty_key(name: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duty_keys_are_stable_and_differ() {
        assert_eq!(duty_key("notifier"), duty_key("notifier"));
        assert_ne!(duty_key("notifier"), duty_key("webhooks"));
        assert_eq!(duty_key(""), 0x811c_9dc5_u32 as i32);
    }

    #[tokio::test]
    async fn a_sole_duty_is_never_lost() {
        let duty = Duty::sole();
        let lost = tokio::time::timeout(Duration::from_millis(50), duty.lost()).await;
        assert!(lost.is_err(), "still held");
    }
}
