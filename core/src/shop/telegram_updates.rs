//! Which Telegram updates the shop has handled, kept in the store so that a
//! node taking the bot over from one that died neither skips an update nor
//! answers one again: the offset to ask Telegram for next (long polling) and
//! the ids of the updates handled lately (a webhook retried by Telegram, or
//! delivered to two nodes behind a load balancer, is handled once).
//!
//! An update is marked handled before it is handled: one cut short by a
//! crash is not answered at all rather than answered twice.
//!
//! In webhook mode any node takes an update Telegram posts, marks it and
//! queues it here in one write, and answers Telegram only then; the node
//! that runs the bot takes the queue and handles it, so every reply leaves
//! through one node within Telegram's limits.

use serde::{Deserialize, Serialize};

use super::Customers;
use super::shop_lock::ShopLock;
use crate::error::CoreResult;
use crate::store::{Key, Mutation, Record};

/// Update ids remembered.
const REMEMBERED: usize = 2_000;
/// Updates queued before more are refused (Telegram posts them again later).
const QUEUED: usize = 10_000;

/// One claim at a time across nodes.
static CLAIMING: ShopLock = ShopLock::new("telegram_updates");

/// What the store keeps.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Handled {
    /// The highest update id handled (0: none yet).
    newest: i64,
    /// The ids handled lately, oldest first.
    recent: Vec<i64>,
    /// Updates posted to the webhook, not yet taken by the bot's node.
    #[serde(default)]
    queued: Vec<serde_json::Value>,
}

fn key() -> Key {
    Key::Meta("telegram_updates".into())
}

impl Customers {
    fn handled(&self) -> CoreResult<Handled> {
        self.meta(&key())
    }

    /// The offset to ask Telegram's `getUpdates` for: one past the highest
    /// update handled (0 before the first: whatever Telegram holds).
    pub fn telegram_offset(&self) -> CoreResult<i64> {
        let newest = self.handled()?.newest;
        Ok(if newest > 0 { newest + 1 } else { 0 })
    }

    /// Marks updates handled; returns those that were not handled before,
    /// in the order given.
    pub async fn claim_telegram_updates(&self, ids: &[i64]) -> CoreResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let _one = CLAIMING.lock(&**self.store()).await?;
        let mut h = self.handled()?;
        let fresh = claim(&mut h, ids);
        if !fresh.is_empty() {
            self.save_handled(&h).await?;
        }
        Ok(fresh)
    }

    /// Queues an update posted to the webhook for the bot's node, marked
    /// handled in the same write; `false` when it was handled or queued
    /// before (Telegram retried it, or it reached two nodes).
    pub async fn queue_telegram_update(
        &self,
        id: i64,
        update: serde_json::Value,
    ) -> CoreResult<bool> {
        let _one = CLAIMING.lock(&**self.store()).await?;
        let mut h = self.handled()?;
        if h.queued.len() >= QUEUED {
            return Err(crate::CoreError::Unavailable(
                1,
                "the bot's update queue is full".into(),
            ));
        }
        if claim(&mut h, &[id]).is_empty() {
            return Ok(false);
        }
        h.queued.push(update);
        self.save_handled(&h).await?;
        Ok(true)
    }

    /// Takes the updates queued by the webhook, oldest first.
    pub async fn take_telegram_updates(&self) -> CoreResult<Vec<serde_json::Value>> {
        if self.handled()?.queued.is_empty() {
            return Ok(Vec::new());
        }
        let _one = CLAIMING.lock(&**self.store()).await?;
        let mut h = self.handled()?;
        let taken = std::mem::take(&mut h.queued);
        if !taken.is_empty() {
            self.save_handled(&h).await?;
        }
        Ok(taken)
    }

    async fn save_handled(&self, h: &Handled) -> CoreResult<()> {
        let mut m = Mutation::new();
        m.put(
            key(),
            Record::Meta(serde_json::to_value(h).unwrap_or_default()),
        );
        self.store().commit(m).await?;
        Ok(())
    }
}

/// Marks `ids` handled in `h`; returns those it had not seen.
fn claim(h: &mut Handled, ids: &[i64]) -> Vec<i64> {
    let oldest = h.recent.first().copied().unwrap_or(0);
    let mut fresh = Vec::new();
    for &id in ids {
        // Older than all it remembers, below the polling offset: handled.
        let known = h.recent.contains(&id) || (id < oldest && id <= h.newest);
        if !known && !fresh.contains(&id) {
            fresh.push(id);
        }
    }
    h.recent.extend(&fresh);
    h.recent.sort_unstable();
    let over = h.recent.len().saturating_sub(REMEMBERED);
    h.recent.drain(..over);
    h.newest = h.newest.max(fresh.iter().copied().max().unwrap_or(0));
    fresh
}
