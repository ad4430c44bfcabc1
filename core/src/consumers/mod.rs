//! Durable journal consumers (pass updater, notifier, webhooks,
//! automations). Each keeps its cursor in the store and advances it in the
//! same atomic write as the work an event caused (e.g. the messages it
//! queued), so after a crash it resumes exactly where it stopped: nothing is
//! missed, nothing is done twice. The in-process broadcast only wakes it.

mod alerts;
mod notifier;
mod passes;
mod webhooks;

pub use alerts::{AlertRoute, AlertWatch, each_event, finding_text, rebuild, rules_of};
pub use notifier::{Notifier, Route, news_text};
pub use passes::{
    GOOGLE_CHANNEL, GoogleRoute, PASS_UPDATER, PassUpdater, WALLET_CHANNEL, WalletRoute,
    google_class_key, google_object_key, is_news,
};
pub(crate) use passes::{changes_pass, pass_restyle, settled_tag};
pub use webhooks::WebhookFeed;

use std::sync::Arc;

use tokio::sync::watch;

use crate::error::CoreResult;
use crate::model::Event;
use crate::shop::Context;
use crate::store::{Family, Key, Mutation, Record, Scan, StoreError};

/// Events handled per atomic write while catching up.
const BATCH: usize = 256;

/// How stale a consumer's stored cursor may get while its events cause
/// nothing: such a batch needs no write of its own (it would cost a flush
/// per batch, on every stamp); the cursor is stored at most this often, with
/// the next batch that does cause something, and at stop. After a crash the
/// consumer handles those events again, which again causes nothing (unless
/// a webhook was added in that second: it then also gets that second's events).
const IDLE_CURSOR_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A durable consumer of the journal.
pub trait Consumer: Send + Sync + 'static {
    /// Its name; the key of its cursor.
    fn name(&self) -> &str;

    /// Adds the work an event causes to the mutation that also advances the
    /// cursor past it.
    fn handle(&self, ctx: &Context, event: &Event, m: &mut Mutation) -> CoreResult<()>;
}

/// A consumer's cursor; a new consumer starts at the present: it does not
/// replay history (a new notifier must not message customers about old
/// stamps). Call before accepting requests, so no event slips past it.
pub async fn start_cursor(ctx: &Context, name: &str) -> CoreResult<u64> {
    let key = Key::Cursor(name.to_string());
    if let Some(Record::Cursor(id)) = ctx.store().get(&key)? {
        return Ok(id);
    }
    let start = ctx.store().last_event_id();
    let mut m = Mutation::new();
    m.guard_absent(key.clone());
    m.put(key.clone(), Record::Cursor(start));
    match ctx.store().commit(m).await {
        Ok(_) => Ok(start),
        // Another node of the shop started it first: its start holds.
        Err(StoreError::Conflict(_)) => match ctx.store().get(&key)? {
            Some(Record::Cursor(id)) => Ok(id),
            _ => Err(StoreError::Io(format!("the cursor of {name} vanished")).into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Runs a consumer until `stop` turns true: catches up from its cursor, then
/// follows new events as they are committed.
pub async fn run_consumer(
    ctx: Context,
    consumer: Arc<dyn Consumer>,
    mut stop: watch::Receiver<bool>,
) -> CoreResult<()> {
    let mut events = ctx.store().watch_events();
    let key = Key::Cursor(consumer.name().to_string());
    let mut cursor = start_cursor(&ctx, consumer.name()).await?;
    let mut stored = cursor;
    let mut stored_at = std::time::Instant::now();
    loop {
        let stopping = *stop.borrow();
        events.borrow_and_update();
        let mut m = Mutation::new();
        let mut caught_up = true;
        if !stopping {
            let scan = Scan {
                after: Some(cursor),
                reverse: false,
                limit: BATCH,
            };
            for (_, record) in ctx.store().scan(Family::Events, scan)? {
                if let Record::Event(e) = record {
                    consumer.handle(&ctx, &e, &mut m)?;
                    cursor = e.id;
                    caught_up = false;
                }
            }
        }
        // The cursor is stored with any work the events caused; alone, at
        // most once per IDLE_CURSOR_EVERY, and when stopping.
        let caused = !(m.puts.is_empty() && m.deletes.is_empty() && m.events.is_empty());
        let stale = stored != cursor && (stopping || stored_at.elapsed() >= IDLE_CURSOR_EVERY);
        if caused || stale {
            // Only if no other node moved the cursor meanwhile (this one
            // lost its duty): then nothing here is written, and the
            // consumer stops.
            m.guard_cursor_at(consumer.name(), stored);
            m.put(key.clone(), Record::Cursor(cursor));
            let queued = m
                .puts
                .iter()
                .any(|(k, _)| matches!(k, Key::OutboxPending(_)));
            match ctx.store().commit(m).await {
                Ok(_) => {}
                Err(StoreError::Conflict(Key::Cursor(_))) => {
                    return Err(StoreError::Io(format!(
                        "the {} cursor was moved by another process of the shop; this one stops",
                        consumer.name()
                    ))
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
            (stored, stored_at) = (cursor, std::time::Instant::now());
            if queued {
                ctx.outbox().wake();
            }
        }
        if stopping {
            return Ok(());
        }
        if caught_up {
            let idle = IDLE_CURSOR_EVERY.saturating_sub(stored_at.elapsed());
            tokio::select! {
                _ = events.changed() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(idle), if stored != cursor => {}
            }
        }
    }
}
