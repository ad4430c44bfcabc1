//! One planning batch of a campaign, written in the batch's own commit: the
//! outbox entries it queued and the customers it said something to. One
//! record per batch (not an index key per recipient) keeps planning to two
//! writes per message; the frequency cap and the campaign's delivery view
//! read these records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A campaign's planning batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignBatch {
    /// When it was planned: the time of its marketing touches.
    pub at: DateTime<Utc>,
    /// Its outbox entries, in queue order.
    pub entries: Vec<u64>,
    /// The customers it reached (the frequency cap counts them).
    pub customers: Vec<u64>,
}
