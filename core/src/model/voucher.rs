//! Vouchers: rewards with their own code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CodeFormat;

/// Why a voucher exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherOrigin {
    /// The card reached its goal.
    Goal,
    /// A lottery spin.
    Lottery,
    /// Issued by hand (coupon).
    Manual,
    /// Attached to a campaign: one per recipient.
    Campaign {
        /// The campaign.
        campaign_id: u64,
    },
}

/// A voucher belonging to a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voucher {
    /// Voucher id.
    pub id: u64,
    /// Card it belongs to.
    pub card_id: u64,
    /// What it gives.
    pub description: String,
    /// Why it exists.
    pub origin: VoucherOrigin,
    /// Reissue counter of the voucher code (always 0 today).
    pub counter: u32,
    /// How the code is shown.
    pub format: CodeFormat,
    /// A fixed code shown beside the unique one.
    pub fixed_code: Option<String>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When redeemed.
    pub redeemed_at: Option<DateTime<Utc>>,
    /// The event that redeemed it.
    pub redeemed_event: Option<u64>,
    /// Voided (its stamp was reversed, or the card deleted).
    pub voided: bool,
    /// When the holder was reminded that it expires soon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
}

impl Voucher {
    /// The voucher's state at an instant.
    pub fn state(&self, now: DateTime<Utc>) -> VoucherState {
        if self.voided {
            VoucherState::Voided
        } else if self.redeemed_at.is_some() {
            VoucherState::Redeemed
        } else if self.expires_at.is_some_and(|e| e <= now) {
            VoucherState::Expired
        } else {
            VoucherState::Active
        }
    }

    /// Whether its holder may still be reminded that it expires: active,
    /// with an expiry, and not reminded yet.
    pub fn remindable(&self, now: DateTime<Utc>) -> bool {
        self.reminded_at.is_none()
            && self.expires_at.is_some()
            && self.state(now) == VoucherState::Active
    }
}

/// The state of a voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherState {
    /// Can be redeemed.
    Active,
    /// Already redeemed.
    Redeemed,
    /// Past its expiry.
    Expired,
    /// Voided.
    Voided,
}
