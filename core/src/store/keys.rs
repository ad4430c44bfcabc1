//! Typed keys. A backend maps them to its own addressing.

use serde::{Deserialize, Serialize};

/// The key of one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Key {
    /// A card.
    Card(u64),
    /// A customer.
    Customer(u64),
    /// The latest version of a template.
    Template(u64),
    /// One version of a template.
    TemplateVersion(u64, u32),
    /// A voucher.
    Voucher(u64),
    /// A journal event.
    Event(u64),
    /// A staff account.
    Staff(u64),
    /// A stored receipt code.
    Receipt(String),
    /// The claim of a receipt code.
    ReceiptClaim(String),
    /// A POS key.
    PosKey(u64),
    /// A REST API key.
    ApiKey(u64),
    /// A webhook subscription.
    Webhook(u64),
    /// A campaign.
    Campaign(u64),
    /// A planning batch of a campaign (campaign, batch number).
    CampaignBatch(u64, u64),
    /// An idempotency record.
    Idempotency(String),
    /// Shop metadata.
    Meta(String),
    /// Index: a card of a customer.
    CardOfCustomer(u64, u64),
    /// Index: a voucher of a card.
    VoucherOfCard(u64, u64),
    /// Index: the customer with a Telegram id.
    CustomerByTelegram(i64),
    /// Index: the reversal of an event.
    ReversalOf(u64),
    /// An outbox entry.
    Outbox(u64),
    /// Index: an outbox entry not yet finished (queued or sending).
    OutboxPending(u64),
    /// A journal consumer's cursor: the last event it finished.
    Cursor(String),
    /// The wallet pass of a card.
    Pass(u64),
    /// Index: a pass a device keeps (hash of the device library id, card).
    PassOfDevice(u64, u64),
    /// Index: a wallet push about a card not yet confirmed (card, entry).
    PushOfCard(u64, u64),
    /// An automation.
    Automation(u64),
    /// The occasion an automation last reached a card for (automation, card).
    AutomationDone(u64, u64),
}

impl Key {
    /// Whether the record under this key is an index entry: it points at an
    /// id ([`Record::Index`](super::Record::Index)) and has no body.
    pub fn is_index(&self) -> bool {
        matches!(
            self,
            Key::CardOfCustomer(..)
                | Key::VoucherOfCard(..)
                | Key::CustomerByTelegram(_)
                | Key::ReversalOf(_)
                | Key::OutboxPending(_)
                | Key::PassOfDevice(..)
                | Key::PushOfCard(..)
                | Key::AutomationDone(..)
        )
    }
}

/// A family of records, for scans and id sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Cards.
    Cards,
    /// Customers.
    Customers,
    /// Latest template versions.
    Templates,
    /// Versions of one template.
    TemplateVersions(u64),
    /// Vouchers.
    Vouchers,
    /// Journal events.
    Events,
    /// Staff accounts.
    Staff,
    /// Stored receipt codes.
    Receipts,
    /// POS keys.
    PosKeys,
    /// REST API keys.
    ApiKeys,
    /// Webhook subscriptions.
    Webhooks,
    /// Campaigns.
    Campaigns,
    /// A campaign's planning batches, in order.
    CampaignBatches(u64),
    /// Cards of one customer.
    CardsOfCustomer(u64),
    /// Vouchers of one card.
    VouchersOfCard(u64),
    /// Receipt batches (id sequence only).
    Batches,
    /// Outbox entries.
    Outbox,
    /// Unfinished outbox entries.
    OutboxPending,
    /// Passes one device keeps (by the hash of its library id).
    PassesOfDevice(u64),
    /// Unconfirmed wallet pushes about one card.
    PushesOfCard(u64),
    /// Automations.
    Automations,
}
