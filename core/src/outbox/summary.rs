//! One channel's deliveries at a glance, read from the stored outbox (so it
//! holds across restarts): how many were delivered, wait, and failed, and
//! when the last one went out or went wrong.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::DeliveryState;
use crate::error::CoreResult;
use crate::store::{Family, Record};

/// A channel's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChannelSummary {
    /// Sent or confirmed.
    pub delivered: u64,
    /// Waiting for their dispatcher (including retries).
    pub queued: u64,
    /// Given up on.
    pub failed: u64,
    /// When the newest delivered message went out.
    pub last_delivered: Option<DateTime<Utc>>,
    /// Why the newest failed or retrying message did not go out.
    pub last_problem: Option<String>,
}

impl super::Outbox {
    /// The deliveries of one channel, in one pass over the outbox.
    pub fn channel_summary(&self, channel: &str) -> CoreResult<ChannelSummary> {
        let mut s = ChannelSummary::default();
        self.store().for_each(Family::Outbox, &mut |_, r| {
            let Record::Outbox(e) = r else {
                return true;
            };
            if e.message.channel != channel {
                return true;
            }
            match e.state {
                DeliveryState::Sent | DeliveryState::Confirmed => {
                    s.delivered += 1;
                    s.last_delivered = s.last_delivered.max(e.sent_at);
                }
                DeliveryState::Queued | DeliveryState::Sending => s.queued += 1,
                DeliveryState::Failed => s.failed += 1,
            }
            if let Some(why) = &e.last_error
                && e.state != DeliveryState::Sent
                && e.state != DeliveryState::Confirmed
            {
                // Entries come in id order: a later one is newer.
                s.last_problem = Some(why.clone());
            }
            true
        })?;
        Ok(s)
    }
}
