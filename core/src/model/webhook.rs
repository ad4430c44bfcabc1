//! Webhooks: a URL subscribed to event types. Each delivery is signed with
//! the webhook's own secret (HMAC-SHA256), so the receiver knows it came
//! from this shop.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A webhook subscription as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Webhook id.
    pub id: u64,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// The event types it receives (`EventKind::NAMES`); empty = all.
    pub events: Vec<String>,
    /// The signing secret (hex, 256 bits). Kept in the clear: the shop
    /// must sign with it.
    pub secret: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When deleted; no deliveries are queued after this.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Webhook {
    /// Whether the webhook receives events of this type.
    pub fn wants(&self, kind: &str) -> bool {
        self.deleted_at.is_none()
            && (self.events.is_empty() || self.events.iter().any(|e| e == kind))
    }

    /// The event types for people: `all events`, or the types comma-separated
    /// (as `--events` takes them).
    pub fn events_label(&self) -> String {
        if self.events.is_empty() {
            "all events".into()
        } else {
            self.events.join(",")
        }
    }
}
