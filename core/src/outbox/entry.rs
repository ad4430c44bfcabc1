//! Outbox entries: one message to one recipient on one channel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored, waiting for its dispatcher.
    Queued,
    /// Handed to the channel; the outcome is not recorded yet.
    Sending,
    /// The channel accepted it (✅).
    Sent,
    /// Delivery confirmed (✅✅).
    Confirmed,
    /// Given up, with the reason.
    Failed,
}

impl DeliveryState {
    /// Whether the entry still needs its dispatcher.
    pub fn unfinished(self) -> bool {
        matches!(self, Self::Queued | Self::Sending)
    }

    /// The state's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
        }
    }
}

/// Why a message is sent: consent applies to marketing only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// About the customer's own card (stamp added, reward ready).
    Transactional,
    /// Campaigns and automations.
    Marketing,
}

/// A message: what to send, to whom, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Channel name (e.g. "telegram", "email", "log").
    pub channel: String,
    /// The recipient in the channel's terms (chat id, address …).
    pub recipient: String,
    /// Why it is sent.
    pub purpose: Purpose,
    /// Subject (email) or title.
    pub subject: Option<String>,
    /// The text.
    pub text: String,
    /// Channel-specific extras (buttons, campaign, pass serial …).
    pub data: serde_json::Value,
    /// The customer it is for.
    pub customer_id: Option<u64>,
    /// The card it is about.
    pub card_id: Option<u64>,
    /// The journal event it reports.
    pub source_event: Option<u64>,
}

/// A stored outgoing message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Entry id, in queue order.
    pub id: u64,
    /// The message.
    #[serde(flatten)]
    pub message: Message,
    /// Where it is.
    pub state: DeliveryState,
    /// Sends tried so far.
    pub attempts: u32,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// Not sent before this time (backoff, `retry_after`, rate limits).
    pub next_attempt_at: DateTime<Utc>,
    /// When the channel accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When delivery was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The channel's id of the delivered message (e.g. Telegram message id).
    pub receipt: Option<String>,
    /// The last error, and for failed entries the reason.
    pub last_error: Option<String>,
}

impl OutboxEntry {
    /// The state for people: ✅ sent, ✅✅ confirmed, failed with the
    /// reason, retrying with the last error.
    pub fn status(&self) -> String {
        match self.state {
            DeliveryState::Sent => "✅ sent".to_string(),
            DeliveryState::Confirmed => "✅✅ confirmed".to_string(),
            DeliveryState::Failed => {
                format!(
                    "failed: {}",
                    self.last_error.as_deref().unwrap_or("unknown")
                )
            }
            DeliveryState::Queued if self.attempts > 0 => format!(
                "retrying ({} attempts): {}",
                self.attempts,
                self.last_error.as_deref().unwrap_or("unknown")
            ),
            other => other.name().to_string(),
        }
    }
}

impl Message {
    /// The stored entry.
    pub fn into_entry(self, id: u64, now: DateTime<Utc>) -> OutboxEntry {
        OutboxEntry {
            id,
            message: self,
            state: DeliveryState::Queued,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            sent_at: None,
            confirmed_at: None,
            receipt: None,
            last_error: None,
        }
    }
}
