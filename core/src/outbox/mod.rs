//! The durable outbox. Every outgoing message (Telegram, email, wallet push,
//! webhook) is stored as an [`OutboxEntry`] in the same atomic write that
//! decides to send it, and only then sent by its channel's dispatcher.
//!
//! States: queued → sending → sent (the channel accepted it) → confirmed
//! (delivery confirmed; Telegram and email are confirmed when sent, a wallet
//! push when the device fetched the pass) or failed (with the reason).
//! After a crash, an entry caught mid-send is asked of its channel
//! ([`Channel::was_delivered`]); when the channel cannot tell, the entry is
//! failed rather than sent twice.

mod append_file;
mod channel;
mod dispatcher;
mod entry;
mod log_channel;
mod stats;
mod summary;

pub use append_file::AppendFile;
pub use channel::{
    BoxFuture, Channel, MEMORY_WINDOW, RECIPIENT_SHARE, RateLimits, Recovery, SendError,
    SendOutcome,
};
pub use dispatcher::run_dispatcher;
pub use entry::{DeliveryState, Message, OutboxEntry, Purpose};
pub use log_channel::{LogChannel, LogRoute};
pub use stats::{ChannelCounts, OutboxStats};
pub use summary::ChannelSummary;

use std::sync::Arc;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::error::{CoreError, CoreResult};
use crate::store::{Family, Key, Mutation, Record, Scan, Store};

/// Pending entries read from the store at a time.
pub(crate) const PENDING_PAGE: usize = 500;

/// The outbox of one shop: queues messages in mutations, wakes the
/// dispatchers, and reads entries back. It owns the dispatchers' wake-up
/// signal and the delivery counts; dispatchers and consumers take it, not
/// the shop. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signal: Arc<watch::Sender<u64>>,
    stats: Arc<OutboxStats>,
}

impl Outbox {
    /// The outbox over a shop's store and clock.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            signal: Arc::new(watch::Sender::new(0)),
            stats: Arc::default(),
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock entries are timed on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Changes whenever messages are queued; dispatchers wait on it.
    pub fn signal(&self) -> &watch::Sender<u64> {
        &self.signal
    }

    /// Delivery outcomes per channel since start.
    pub fn stats(&self) -> &OutboxStats {
        &self.stats
    }

    /// Adds a message to a mutation: it is queued when the mutation commits.
    /// Returns the entry's id.
    pub fn enqueue(&self, m: &mut Mutation, message: Message) -> CoreResult<u64> {
        self.enqueue_at(m, message, self.clock().now())
    }

    /// Like [`Outbox::enqueue`], not sent before `at` (quiet hours).
    pub fn enqueue_at(
        &self,
        m: &mut Mutation,
        message: Message,
        at: chrono::DateTime<chrono::Utc>,
    ) -> CoreResult<u64> {
        let id = self.store().next_id(Family::Outbox)?;
        let mut entry = message.into_entry(id, self.clock().now());
        entry.next_attempt_at = at.max(entry.created_at);
        m.put(Key::Outbox(id), Record::Outbox(entry));
        m.put(Key::OutboxPending(id), Record::Index(id));
        Ok(id)
    }

    /// Queues messages on their own and wakes the dispatchers.
    pub async fn send_messages(&self, messages: Vec<Message>) -> CoreResult<Vec<u64>> {
        let mut m = Mutation::new();
        let ids = messages
            .into_iter()
            .map(|msg| self.enqueue(&mut m, msg))
            .collect::<CoreResult<Vec<u64>>>()?;
        self.store().commit(m).await?;
        self.wake();
        Ok(ids)
    }

    /// Wakes the dispatchers after messages were queued.
    pub fn wake(&self) {
        self.signal.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// One outbox entry.
    pub fn entry(&self, id: u64) -> CoreResult<OutboxEntry> {
        match self.store().get(&Key::Outbox(id))? {
            Some(Record::Outbox(e)) => Ok(e),
            _ => Err(CoreError::not_found("outbox entry", id)),
        }
    }

    /// Outbox entries, newest first, optionally of one state.
    pub fn entries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> CoreResult<Vec<OutboxEntry>> {
        self.newest_entries(limit, |e| state.is_none_or(|s| e.state == s))
    }

    /// The newest `limit` entries that `keep` accepts, newest first.
    pub fn newest_entries(
        &self,
        limit: usize,
        keep: impl Fn(&OutboxEntry) -> bool,
    ) -> CoreResult<Vec<OutboxEntry>> {
        let mut newest = std::collections::VecDeque::with_capacity(limit.min(1024));
        self.store().for_each(Family::Outbox, &mut |_, r| {
            if let Record::Outbox(e) = r
                && keep(&e)
            {
                if newest.len() == limit {
                    newest.pop_front();
                }
                newest.push_back(e);
            }
            true
        })?;
        Ok(newest.into_iter().rev().collect())
    }

    /// Marks a sent entry confirmed (e.g. the device fetched the updated pass).
    pub async fn confirm_delivery(&self, id: u64) -> CoreResult<OutboxEntry> {
        let mut entry = self.entry(id)?;
        if entry.state != DeliveryState::Sent {
            return Ok(entry);
        }
        entry.state = DeliveryState::Confirmed;
        entry.confirmed_at = Some(self.clock().now());
        let mut m = Mutation::new();
        m.put(Key::Outbox(id), Record::Outbox(entry.clone()));
        self.store().commit(m).await?;
        Ok(entry)
    }

    /// Unfinished entries per channel (the queue depth).
    pub fn depth(&self) -> CoreResult<std::collections::BTreeMap<String, u64>> {
        let mut depth = std::collections::BTreeMap::new();
        let mut after = 0;
        loop {
            let (entries, last) = self.pending_after(after, PENDING_PAGE)?;
            for e in entries {
                *depth.entry(e.message.channel).or_insert(0) += 1;
            }
            match last {
                Some(last) => after = last,
                None => return Ok(depth),
            }
        }
    }

    /// Up to `limit` unfinished entries with ids after `after`, in id
    /// order, and the last id looked at (`None`: nothing after `after`).
    pub(crate) fn pending_after(
        &self,
        after: u64,
        limit: usize,
    ) -> CoreResult<(Vec<OutboxEntry>, Option<u64>)> {
        let scan = Scan {
            after: Some(after),
            reverse: false,
            limit,
        };
        let mut out = Vec::new();
        let mut last = None;
        for (key, _) in self.store().scan(Family::OutboxPending, scan)? {
            if let Key::OutboxPending(id) = key {
                last = Some(id);
                if let Ok(e) = self.entry(id) {
                    out.push(e);
                }
            }
        }
        Ok((out, last))
    }
}
