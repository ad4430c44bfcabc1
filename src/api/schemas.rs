//! The API's response bodies that the OpenAPI document describes. Core's
//! records (cards, vouchers, events, templates) appear as objects; their
//! fields are listed in the README and in `card show --json`.

use serde::Serialize;
use stampcard_core::Shop;
use stampcard_core::actors::CardOutcome;
use utoipa::ToSchema;

use super::error::ApiError;

/// What a change to a card did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    /// The card afterwards, as its holder sees it.
    #[schema(value_type = Object)]
    pub card: serde_json::Value,
    /// The journal events written, in commit order.
    pub event_ids: Vec<u64>,
    /// The stamp effect (stamps and receipt claims), else null.
    #[schema(value_type = Option<Object>)]
    pub effect: serde_json::Value,
    /// Vouchers issued or changed.
    #[schema(value_type = Vec<Object>)]
    pub vouchers: Vec<serde_json::Value>,
}

impl Outcome {
    /// The body for a core outcome.
    pub fn of(shop: &Shop, o: &CardOutcome) -> Result<Self, ApiError> {
        Ok(Outcome {
            card: serde_json::json!(shop.cards().view_of_outcome(o)?),
            event_ids: o.event_ids.clone(),
            effect: serde_json::json!(o.effect),
            vouchers: o.vouchers.iter().map(|v| serde_json::json!(v)).collect(),
        })
    }
}

/// Vouchers issued by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    /// The vouchers.
    #[schema(value_type = Vec<Object>)]
    pub vouchers: Vec<serde_json::Value>,
    /// The journal events written.
    pub event_ids: Vec<u64>,
}

/// A page of the journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events in commit order.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// Poll again with `after` = this.
    pub next_after: u64,
}

/// What a scanned code is.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Found {
    /// `card`, `voucher` or `receipt`.
    pub kind: String,
    /// The card (kind `card`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// The voucher (kind `voucher`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub voucher: Option<serde_json::Value>,
    /// The voucher's card (kind `voucher`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<u64>,
    /// The receipt's template (kind `receipt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<u64>,
    /// The receipt's stamps (kind `receipt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamps: Option<u32>,
    /// Whether the receipt was claimed (kind `receipt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<bool>,
}

/// The error shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `unauthenticated`, `invalid_input`, `cooldown`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}
