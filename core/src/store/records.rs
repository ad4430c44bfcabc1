//! Stored values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Card, Customer, Event, PosKey, ReceiptClaim, ReceiptCode, Staff, Template, Voucher,
};
use crate::outbox::OutboxEntry;

/// A stored idempotent response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Hash of the request the key was first used with.
    pub request_hash: String,
    /// The first response.
    pub response: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored value; its variant follows from its key.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A card.
    Card(Card),
    /// A customer.
    Customer(Customer),
    /// A template version.
    Template(Template),
    /// A voucher.
    Voucher(Voucher),
    /// A journal event.
    Event(Event),
    /// A staff account.
    Staff(Staff),
    /// A receipt code.
    Receipt(ReceiptCode),
    /// A receipt claim.
    Claim(ReceiptClaim),
    /// A POS key.
    PosKey(PosKey),
    /// A REST API key.
    ApiKey(crate::model::ApiKey),
    /// A webhook subscription.
    Webhook(crate::model::Webhook),
    /// A campaign.
    Campaign(crate::model::Campaign),
    /// A campaign's planning batch.
    CampaignBatch(crate::model::CampaignBatch),
    /// An automation.
    Automation(crate::model::Automation),
    /// An idempotency record.
    Idempotency(IdempotencyRecord),
    /// Metadata.
    Meta(serde_json::Value),
    /// An index entry pointing at an id.
    Index(u64),
    /// An outbox entry.
    Outbox(OutboxEntry),
    /// A consumer's cursor.
    Cursor(u64),
    /// A card's wallet pass.
    Pass(crate::model::PassRecord),
}

/// A record kind read by type: `store.scan_as::<Card>(Family::Cards, …)`
/// instead of scanning records and matching each one.
pub trait Typed: Sized {
    /// The value, when the record is of this kind.
    fn from_record(record: Record) -> Option<Self>;
}

macro_rules! typed {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        $(impl Typed for $ty {
            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$variant(x) => Some(x),
                    _ => None,
                }
            }
        })*
    };
}

typed! {
    Card => Card,
    Customer => Customer,
    Template => Template,
    Voucher => Voucher,
    Event => Event,
    Staff => Staff,
    PosKey => PosKey,
    ApiKey => crate::model::ApiKey,
    Webhook => crate::model::Webhook,
    Campaign => crate::model::Campaign,
    CampaignBatch => crate::model::CampaignBatch,
    Automation => crate::model::Automation,
    Outbox => OutboxEntry,
    Pass => crate::model::PassRecord,
}

impl dyn super::Store {
    /// The records of a family, by type; records of another kind (there
    /// are none in a well-formed family) are skipped.
    pub fn scan_as<T: Typed>(
        &self,
        family: super::Family,
        scan: super::Scan,
    ) -> Result<Vec<T>, super::StoreError> {
        Ok(self
            .scan(family, scan)?
            .into_iter()
            .filter_map(|(_, r)| T::from_record(r))
            .collect())
    }

    /// The vouchers of a card, oldest first; an index entry whose voucher
    /// is missing is skipped.
    pub(crate) fn vouchers_of_card(&self, card_id: u64) -> Result<Vec<Voucher>, super::StoreError> {
        let mut out = Vec::new();
        for (_, r) in self.scan(super::Family::VouchersOfCard(card_id), Default::default())? {
            if let Record::Index(id) = r
                && let Some(Record::Voucher(v)) = self.get(&super::Key::Voucher(id))?
            {
                out.push(v);
            }
        }
        Ok(out)
    }
}
