//! One dispatcher per channel: sends queued entries in order of their next
//! attempt, within the channel's rate limits, retrying with backoff.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{
    Channel, DeliveryState, Outbox, OutboxEntry, RateLimits, Recovery, SendError, SendOutcome,
};
use crate::error::CoreResult;
use crate::model::{Actor, EventKind, NewEvent};
use crate::store::{Key, Mutation, Record};

/// Longest idle wait; the dispatcher rechecks its queue at least this often.
const IDLE: Duration = Duration::from_secs(60);
/// Entry ids are taken before their commit, so two writers can commit out
/// of id order: each load looks this far back behind the ids it has seen,
/// and once per [`IDLE`] it looks again from the start (a campaign batch
/// that took thousands of ids while another writer waited).
const SLACK: u64 = 64;
/// Which unfinished entries are in memory (queued, held back, parked or
/// being sent), per recipient, and where the ones left in the store start:
/// at most [`RateLimits::memory_window`] in all and
/// [`RateLimits::recipient_share`] per recipient; the rest are read as room
/// frees, in id order.
struct Window {
    size: usize,
    share: usize,
    /// In-memory entries per recipient.
    counts: HashMap<String, usize>,
    total: usize,
    /// Per recipient that reached its share: its lowest entry left in the
    /// store (all its later ones are left there too, keeping their order).
    overflow: HashMap<String, u64>,
    /// Set when a load stopped at a full window: entries after this id
    /// were not looked at.
    horizon: Option<u64>,
}

impl Window {
    fn add(&mut self, recipient: &str) {
        *self.counts.entry(recipient.to_string()).or_default() += 1;
        self.total += 1;
    }

    fn remove(&mut self, recipient: &str) {
        if let Some(n) = self.counts.get_mut(recipient) {
            *n -= 1;
            if *n == 0 {
                self.counts.remove(recipient);
            }
            self.total -= 1;
        }
    }

    /// In-memory entries to `recipient`.
    fn count(&self, recipient: &str) -> usize {
        self.counts.get(recipient).copied().unwrap_or(0)
    }

    /// Whether the window emptied to half after a load stopped at it.
    fn room_behind_horizon(&self) -> bool {
        self.horizon.is_some() && self.total <= self.size / 2
    }

    /// Whether a recipient that reached its share is down to half of it.
    fn low(&self, recipient: &str) -> bool {
        self.count(recipient) <= self.share / 2
    }

    /// Whether entries left in the store could be taken in now.
    fn wants_refill(&self) -> bool {
        self.room_behind_horizon() || self.overflow.keys().any(|r| self.low(r))
    }

    /// Where the next load must start to refill the window, if it has
    /// room for what the store holds back; forgets the overflow marks of the
    /// recipients it refills (the load sets them again where it stops).
    fn refill_from(&mut self) -> Option<u64> {
        let mut from = self.horizon.filter(|_| self.room_behind_horizon());
        let low: Vec<String> = self
            .overflow
            .keys()
            .filter(|r| self.low(r))
            .cloned()
            .collect();
        for r in low {
            if let Some(lowest) = self.overflow.remove(&r) {
                from = Some(from.map_or(lowest, |f| f.min(lowest)));
            }
        }
        from.map(|f| f.saturating_sub(1))
    }
}

struct Queue {
    order_by_time: BTreeSet<(DateTime<Utc>, u64)>,
    entries: HashMap<u64, OutboxEntry>,
    seen: u64,
    /// When the pending entries were last read from the start.
    rescanned: Instant,
    /// Entries held back by the per-recipient limit, until an instant
    /// (real time: rate limits are about the channel's servers, not the shop clock).
    held: Vec<(Instant, OutboxEntry)>,
    /// For channels delivering in order per card: the unfinished entries of
    /// each (recipient, card), and the entries waiting for an earlier one.
    order: Option<Ordering>,
    window: Window,
}

/// In-order delivery per (recipient, card): only the oldest unfinished
/// entry of a pair may be sent; later ones are parked until it finishes.
#[derive(Default)]
struct Ordering {
    unfinished: HashMap<(String, u64), BTreeSet<u64>>,
    parked: HashMap<(String, u64), Vec<OutboxEntry>>,
}

fn order_key(e: &OutboxEntry) -> Option<(String, u64)> {
    Some((e.message.recipient.clone(), e.message.card_id?))
}

impl Ordering {
    fn track(&mut self, e: &OutboxEntry) {
        if let Some(k) = order_key(e) {
            self.unfinished.entry(k).or_default().insert(e.id);
        }
    }

    /// Parks `e` when an earlier entry of its pair is unfinished; gives it
    /// back when it may be sent now.
    fn admit(&mut self, e: OutboxEntry) -> Option<OutboxEntry> {
        let Some(k) = order_key(&e) else {
            return Some(e);
        };
        let first = self.unfinished.get(&k).and_then(|s| s.first().copied());
        if first.is_some_and(|f| f < e.id) {
            self.parked.entry(k).or_default().push(e);
            None
        } else {
            Some(e)
        }
    }

    /// Entry `id` of pair `k` finished: returns the entries that waited for it.
    fn finished(&mut self, k: Option<(String, u64)>, id: u64) -> Vec<OutboxEntry> {
        let Some(k) = k else {
            return Vec::new();
        };
        if let Some(set) = self.unfinished.get_mut(&k) {
            set.remove(&id);
            if set.is_empty() {
                self.unfinished.remove(&k);
            }
        }
        self.parked.remove(&k).unwrap_or_default()
    }
}

impl Queue {
    /// Whether entry `e` is in memory already: queued, held back, or (on an
    /// in-order channel) tracked as unfinished for its pair, which covers
    /// the entries parked behind an earlier one without walking them.
    fn knows(&self, e: &OutboxEntry) -> bool {
        self.entries.contains_key(&e.id)
            || self.held.iter().any(|(_, h)| h.id == e.id)
            || self.order.as_ref().is_some_and(|o| {
                order_key(e)
                    .and_then(|k| o.unfinished.get(&k))
                    .is_some_and(|ids| ids.contains(&e.id))
            })
    }

    /// Takes an entry read from the store into memory.
    fn load(&mut self, e: OutboxEntry) {
        self.window.add(&e.message.recipient);
        self.push(e);
    }

    /// Entry `id` (to `recipient`, of pair `key`) left memory: finished,
    /// here or elsewhere.
    fn finished(&mut self, recipient: &str, key: Option<(String, u64)>, id: u64) {
        self.window.remove(recipient);
        if let Some(o) = &mut self.order {
            for waiting in o.finished(key, id) {
                self.push(waiting);
            }
        }
    }

    fn push(&mut self, e: OutboxEntry) {
        if let Some(o) = &mut self.order {
            o.track(&e);
        }
        self.order_by_time.insert((e.next_attempt_at, e.id));
        self.entries.insert(e.id, e);
    }

    fn pop_due(&mut self, now: DateTime<Utc>) -> Option<OutboxEntry> {
        let first = *self.order_by_time.first()?;
        if first.0 > now {
            return None;
        }
        self.order_by_time.remove(&first);
        self.entries.remove(&first.1)
    }

    fn next_due(&self) -> Option<DateTime<Utc>> {
        self.order_by_time.first().map(|(t, _)| *t)
    }

    /// Moves held entries whose time has come back into the queue; returns
    /// how long until the next one is released.
    fn release_held(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        self.held = waiting;
        for (_, e) in ready {
            self.push(e);
        }
        self.held.iter().map(|(t, _)| *t - now).min()
    }
}

/// Runs a channel's dispatcher until `stop` turns true.
pub async fn run_dispatcher(
    outbox: Outbox,
    channel: Arc<dyn Channel>,
    mut stop: watch::Receiver<bool>,
) -> CoreResult<()> {
    let limits = channel.limits();
    let mut wake = outbox.signal().subscribe();
    let mut queue = Queue {
        order_by_time: BTreeSet::new(),
        entries: HashMap::new(),
        seen: 0,
        rescanned: Instant::now(),
        held: Vec::new(),
        order: channel.in_order_per_card().then(Ordering::default),
        window: Window {
            size: limits.memory_window.max(1),
            share: limits.recipient_share.max(1),
            counts: HashMap::new(),
            total: 0,
            overflow: HashMap::new(),
            horizon: None,
        },
    };
    load_new(&outbox, &*channel, &mut queue, true).await?;
    let mut last_send: Option<Instant> = None;
    let mut last_to: HashMap<String, Instant> = HashMap::new();
    // What the stats last said is in memory.
    let mut reported = usize::MAX;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if wake.has_changed().unwrap_or(false) {
            wake.borrow_and_update();
            // With the window full, new entries wait in the store.
            if queue.window.total < queue.window.size {
                load_new(&outbox, &*channel, &mut queue, false).await?;
            }
        }
        if queue.window.wants_refill() {
            load_new(&outbox, &*channel, &mut queue, false).await?;
        }
        // Counted only when it moved (not on every delivery).
        if queue.window.total != reported {
            reported = queue.window.total;
            let in_memory = reported as u64;
            outbox.stats().record(channel.name(), |c| {
                c.in_memory = in_memory;
                c.peak_in_memory = c.peak_in_memory.max(in_memory);
            });
        }
        let held_wait = queue.release_held();
        let now = outbox.clock().now();
        let Some(entry) = queue.pop_due(now) else {
            let wait = queue
                .next_due()
                .and_then(|t| (t - now).to_std().ok())
                .unwrap_or(IDLE)
                .min(held_wait.unwrap_or(IDLE))
                .min(IDLE);
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            load_new(&outbox, &*channel, &mut queue, false).await?;
            continue;
        };
        let entry = match &mut queue.order {
            Some(o) => match o.admit(entry) {
                Some(e) => e,
                None => continue,
            },
            None => entry,
        };
        if let Some(last) = last_to.get(&entry.message.recipient)
            && last.elapsed() < limits.per_recipient
        {
            queue.held.push((*last + limits.per_recipient, entry));
            continue;
        }
        if !limits.per_recipient.is_zero() && last_to.len() > 100_000 {
            last_to.retain(|_, t| t.elapsed() < limits.per_recipient);
        }
        let mut pace = Pace {
            limits: &limits,
            last_send: &mut last_send,
            last_to: &mut last_to,
        };
        // Finished meanwhile outside this dispatcher (its customer was
        // forgotten): not sent.
        if outbox
            .entry(entry.id)
            .is_ok_and(|stored| !stored.state.unfinished())
        {
            queue.finished(&entry.message.recipient, order_key(&entry), entry.id);
            continue;
        }
        let (id, key, to) = (entry.id, order_key(&entry), entry.message.recipient.clone());
        match deliver(&outbox, &*channel, entry, &mut pace).await? {
            Some(retry) => queue.push(retry),
            None => queue.finished(&to, key, id),
        }
    }
}

/// Loads unfinished entries of this channel queued since the last load
/// ([`SLACK`] ids behind the last one seen, or from the start once per
/// [`IDLE`]), or where the window has room again, as long as it has room;
/// at start, settles entries a crash caught mid-send.
async fn load_new(
    outbox: &Outbox,
    channel: &dyn Channel,
    queue: &mut Queue,
    starting: bool,
) -> CoreResult<()> {
    let refill = queue.window.refill_from();
    let mut after = if starting || queue.rescanned.elapsed() >= IDLE {
        queue.rescanned = Instant::now();
        queue.window.overflow.clear();
        0
    } else {
        let recent = queue.seen.saturating_sub(SLACK);
        refill.map_or(recent, |r| r.min(recent))
    };
    queue.window.horizon = None;
    loop {
        let (page, last) = outbox.pending_after(after, super::PENDING_PAGE)?;
        let Some(last) = last else {
            return Ok(());
        };
        for entry in page {
            if entry.message.channel != channel.name() || queue.knows(&entry) {
                continue;
            }
            let to = entry.message.recipient.as_str();
            let window = &mut queue.window;
            if window.overflow.get(to).is_some_and(|&o| o < entry.id) {
                continue;
            }
            if window.count(to) >= window.share {
                window.overflow.insert(to.to_string(), entry.id);
                continue;
            }
            if window.total >= window.size {
                window.horizon = Some(entry.id);
                queue.seen = queue.seen.max(entry.id.saturating_sub(1));
                return Ok(());
            }
            if entry.state == DeliveryState::Sending {
                if let Some(e) = recover(outbox, channel, entry).await? {
                    queue.load(e);
                }
            } else if entry.state.unfinished() {
                queue.load(entry);
            }
        }
        after = last;
        queue.seen = queue.seen.max(last);
    }
}

/// Marks an entry the channel accepted: sent (✅), or confirmed (✅✅)
/// when the channel delivers as it accepts.
fn delivered(e: &mut OutboxEntry, outcome: SendOutcome, now: chrono::DateTime<chrono::Utc>) {
    e.sent_at = Some(now);
    match outcome {
        SendOutcome::Sent { receipt } => {
            e.state = DeliveryState::Sent;
            e.receipt = receipt;
        }
        SendOutcome::Confirmed { receipt } => {
            e.state = DeliveryState::Confirmed;
            e.confirmed_at = Some(now);
            e.receipt = receipt;
        }
    }
}

/// An entry that was being sent when the server stopped.
async fn recover(
    outbox: &Outbox,
    channel: &dyn Channel,
    mut e: OutboxEntry,
) -> CoreResult<Option<OutboxEntry>> {
    match channel.was_delivered(&e).await {
        Recovery::Delivered(outcome) => {
            delivered(&mut e, outcome, outbox.clock().now());
            save(outbox, &e).await?;
            Ok(None)
        }
        Recovery::NotSent => {
            e.state = DeliveryState::Queued;
            save(outbox, &e).await?;
            Ok(Some(e))
        }
        Recovery::Unknown => {
            e.state = DeliveryState::Failed;
            e.last_error = Some(
                "interrupted while sending (the server stopped); not resent to avoid a duplicate"
                    .into(),
            );
            save(outbox, &e).await?;
            Ok(None)
        }
    }
}

/// The send times the rate limits are measured on.
struct Pace<'a> {
    limits: &'a RateLimits,
    last_send: &'a mut Option<Instant>,
    last_to: &'a mut HashMap<String, Instant>,
}

impl Pace<'_> {
    /// Waits out the global rate (at most one gap, so never long), then
    /// records this send's instant.
    async fn turn(&mut self, recipient: &str) {
        if self.limits.per_second > 0.0
            && let Some(last) = *self.last_send
        {
            let gap = Duration::from_secs_f64(1.0 / self.limits.per_second);
            let since = last.elapsed();
            if since < gap {
                tokio::time::sleep(gap - since).await;
            }
        }
        let now = Instant::now();
        *self.last_send = Some(now);
        if !self.limits.per_recipient.is_zero() {
            self.last_to.insert(recipient.to_string(), now);
        }
    }
}

/// Sends one entry and records the outcome; returns it when it must be retried.
async fn deliver(
    outbox: &Outbox,
    channel: &dyn Channel,
    mut e: OutboxEntry,
    pace: &mut Pace<'_>,
) -> CoreResult<Option<OutboxEntry>> {
    let limits = pace.limits;
    e.state = DeliveryState::Sending;
    e.attempts += 1;
    save(outbox, &e).await?;
    // Paced between the durable `sending` mark and the call, so the limits
    // hold at the channel itself whatever the commit took.
    pace.turn(&e.message.recipient).await;
    let result = channel.send(&e).await;
    // Sent, not yet recorded: a crash here leaves the entry `sending`.
    crate::crash_point::reached("outbox-sent");
    let now = outbox.clock().now();
    let retry = match result {
        Ok(outcome) => {
            delivered(&mut e, outcome, now);
            false
        }
        Err(SendError::Permanent(reason)) => {
            e.state = DeliveryState::Failed;
            e.last_error = Some(reason);
            false
        }
        Err(SendError::Retry { reason, after }) => {
            if e.attempts >= limits.max_attempts {
                e.state = DeliveryState::Failed;
                e.last_error = Some(format!("{reason} (gave up after {} attempts)", e.attempts));
                false
            } else {
                let delay = after.unwrap_or_else(|| limits.backoff_after(e.attempts));
                e.state = DeliveryState::Queued;
                e.last_error = Some(reason);
                e.next_attempt_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
                true
            }
        }
    };
    outbox
        .stats()
        .record(channel.name(), |c| match (retry, e.state) {
            (true, _) => c.retried += 1,
            (false, DeliveryState::Failed) => c.failed += 1,
            (false, _) => c.delivered += 1,
        });
    if !retry {
        tracing::debug!(
            entry = e.id,
            state = e.state.name(),
            "outbox entry finished"
        );
    }
    save(outbox, &e).await?;
    Ok(retry.then_some(e))
}

/// Stores an entry; a finished one leaves the pending index, and a
/// delivered campaign message is journaled in the same write.
async fn save(outbox: &Outbox, e: &OutboxEntry) -> CoreResult<()> {
    let mut m = Mutation::new();
    m.put(Key::Outbox(e.id), Record::Outbox(e.clone()));
    if !e.state.unfinished() {
        m.deletes.push(Key::OutboxPending(e.id));
    }
    if let Some(event) = campaign_delivered(outbox, e) {
        m.event(event);
    }
    outbox.store().commit(m).await?;
    Ok(())
}

/// The journal event of a campaign message the channel has just accepted
/// (wallet news is journaled by the card itself, as `wallet_news`).
fn campaign_delivered(outbox: &Outbox, e: &OutboxEntry) -> Option<NewEvent> {
    let delivered = matches!(e.state, DeliveryState::Sent | DeliveryState::Confirmed);
    let campaign_id = e.message.data.get("campaign")?.as_u64()?;
    if !delivered || e.message.channel == crate::consumers::WALLET_CHANNEL {
        return None;
    }
    let card = e
        .message
        .card_id
        .and_then(|id| match outbox.store().get(&Key::Card(id)) {
            Ok(Some(Record::Card(c))) => Some(c),
            _ => None,
        });
    Some(NewEvent {
        at: e.sent_at.unwrap_or_else(|| outbox.clock().now()),
        kind: EventKind::CampaignDelivered {
            campaign_id,
            channel: e.message.channel.clone(),
        },
        card_id: e.message.card_id,
        customer_id: e.message.customer_id,
        template_id: card.map(|c| c.template_id),
        code: None,
        progress: None,
        reward: None,
        actor: Actor::channel(&e.message.channel),
    })
}
