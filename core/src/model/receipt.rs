//! Receipt codes and POS keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored one-time receipt code from a generated batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptCode {
    /// The code.
    pub code: String,
    /// Template the stamps go to.
    pub template_id: u64,
    /// Stamps it adds.
    pub stamps: u32,
    /// Batch id.
    pub batch: u64,
    /// When generated.
    pub created_at: DateTime<Utc>,
}

/// A claim of a receipt code (stored or POS-derived): one per code, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptClaim {
    /// Claim key (the code, or the POS receipt identity).
    pub key: String,
    /// Card that claimed it.
    pub card_id: u64,
    /// The claim event.
    pub event_id: u64,
    /// When.
    pub at: DateTime<Utc>,
}

/// A POS key that derives receipt codes offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosKey {
    /// Key id (printed in codes).
    pub id: u16,
    /// Name, e.g. "till 1".
    pub name: String,
    /// The key (hex). A secret: never logged.
    pub secret_hex: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// Revoked keys' codes are refused.
    pub revoked: bool,
    /// Short codes (8-digit MAC) dated after this are refused: the POS
    /// prints the long form (16 digits) since; codes printed before stay
    /// valid. `None`: the short form is still taken.
    #[serde(default)]
    pub short_until: Option<chrono::NaiveDate>,
}
