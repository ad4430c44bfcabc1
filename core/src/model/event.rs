//! Journal events: every change, in commit order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;

/// The stamps at the moment of an event, e.g. 2/8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Stamps in the cycle.
    pub stamps: u32,
    /// Stamps required.
    pub of: u32,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.stamps, self.of)
    }
}

/// What adding stamps did to a card, kept so it can be reversed exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampEffect {
    /// Stamps added.
    pub count: u32,
    /// Stamps required at the time.
    pub goal: u32,
    /// Goals reached by this addition.
    pub goals_reached: u32,
    /// Vouchers issued by it.
    pub vouchers: Vec<u64>,
    /// Lottery spins granted by it.
    pub spins: u32,
    /// Simple rewards granted by it.
    pub rewards: u32,
}

/// The type of an event and what is specific to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A card was issued.
    CardIssued {
        /// Where the customer joined.
        source: Option<String>,
    },
    /// Stamps were added.
    StampAdded {
        /// The effect.
        effect: StampEffect,
        /// The idempotency key of the request, if any.
        idempotency_key: Option<String>,
    },
    /// A stamp request was refused.
    StampRefused {
        /// Stamps asked for.
        count: u32,
        /// Machine-readable reason.
        reason: String,
        /// Suspicious activity (daily cap hit).
        flagged: bool,
        /// The refusal's machine code (`code_replayed`, `daily_cap` …);
        /// absent in events written before it was kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<String>,
    },
    /// A receipt or delivery code was claimed.
    ReceiptClaimed {
        /// Claim key of the code.
        claim_key: String,
        /// The effect.
        effect: StampEffect,
    },
    /// Stamps were adjusted by hand.
    StampsAdjusted {
        /// Change (may be negative).
        delta: i64,
        /// Why.
        reason: String,
        /// The effect of a positive adjustment.
        effect: Option<StampEffect>,
    },
    /// The goal was reached.
    GoalReached {
        /// Goals reached at once.
        times: u32,
    },
    /// A voucher was issued.
    VoucherIssued {
        /// Voucher id.
        voucher_id: u64,
    },
    /// The holder was reminded that a voucher expires soon.
    VoucherExpiring {
        /// Voucher id.
        voucher_id: u64,
    },
    /// A voucher was redeemed.
    VoucherRedeemed {
        /// Voucher id.
        voucher_id: u64,
    },
    /// A simple reward was handed over.
    RewardGiven,
    /// A lottery spin was played.
    LotteryPlayed {
        /// Prize won.
        prize: String,
        /// The prize voucher.
        voucher_id: u64,
    },
    /// An earlier event was reversed.
    Reversal {
        /// The reversed event.
        of: u64,
        /// Why.
        reason: String,
    },
    /// The card got a new code; the old one stops working.
    CardReissued {
        /// New reissue counter.
        counter: u32,
    },
    /// The card was deleted.
    CardDeleted,
    /// A customer record was created.
    CustomerCreated,
    /// A customer changed their profile (which field, not its value).
    CustomerUpdated {
        /// The field.
        field: String,
    },
    /// Another customer record was merged into this one.
    CustomerMerged {
        /// The record merged away.
        from: u64,
    },
    /// A customer asked to be forgotten.
    CustomerForgotten,
    /// A customer gave or withdrew their marketing consent on a channel.
    ConsentChanged {
        /// The channel (telegram, email).
        channel: String,
        /// Given (true) or withdrawn.
        granted: bool,
        /// Where it was given or withdrawn (bot, web, unsubscribe, counter …).
        source: String,
    },
    /// A template was created or edited.
    TemplateSaved {
        /// The new version.
        version: u32,
    },
    /// A campaign was sent: its messages are queued.
    CampaignSent {
        /// The campaign.
        campaign_id: u64,
        /// Cards reached.
        recipients: u64,
        /// Messages queued.
        messages: u64,
    },
    /// A campaign's message reached the card's holder on a channel (the
    /// channel accepted it; wallet news is `WalletNews`).
    CampaignDelivered {
        /// The campaign.
        campaign_id: u64,
        /// The channel (telegram, email, log …).
        channel: String,
    },
    /// A device saved the card's wallet pass.
    PassSaved {
        /// Which wallet.
        platform: super::Platform,
    },
    /// A device removed the card's wallet pass.
    PassRemoved {
        /// Which wallet.
        platform: super::Platform,
    },
    /// A campaign's PUSH text was posted to the card's wallet pass.
    WalletNews {
        /// The campaign.
        campaign_id: u64,
    },
    /// A staff account changed.
    StaffChanged {
        /// Staff id.
        staff_id: u64,
        /// What changed.
        change: String,
    },
    /// Forged receipt codes of one POS key kept arriving: its codes are
    /// refused on the web for the rest of the hour.
    ReceiptGuessing {
        /// The POS key the forged codes named.
        pos_key: u16,
        /// Forged codes within the hour.
        failures: u32,
    },
    /// Many new cards or receipt claims came from one network address
    /// within an hour (`[alerts] address_per_hour`).
    AddressBusy {
        /// "join" or "claim".
        what: String,
        /// The client's network address.
        address: String,
        /// How many within the hour, this one included.
        count: u32,
    },
    /// A fraud alert was raised (`crate::alerts`): journaled once; later
    /// evidence of the same rule and subject within the hour is added to
    /// the alert's record.
    AlertRaised {
        /// The alert's number.
        alert_id: u64,
        /// The rule (`card_stamps`, `outside_hours` …).
        rule: String,
        /// Whom or what it is about ("card 100042", "Jules", an address).
        subject: String,
        /// What was seen, in words.
        detail: String,
        /// The cards involved.
        #[serde(default)]
        cards: Vec<u64>,
        /// The staff (or keys) involved.
        #[serde(default)]
        staff: Vec<String>,
        /// When the evidence happened.
        #[serde(default)]
        times: Vec<DateTime<Utc>>,
    },
    /// An admin acknowledged a fraud alert (every console's badge follows).
    AlertAcknowledged {
        /// The alert's number.
        alert_id: u64,
    },
    /// A wrong PIN at a prompt (the PIN itself is never kept).
    SignInFailed {
        /// Which prompt: the lock screen, the kiosk, the admin screens.
        prompt: String,
        /// Failures in a row on this machine, this one included.
        failures: u32,
        /// Whether this failure started a lock-out.
        locked: bool,
    },
}

impl EventKind {
    /// The campaign whose message this event brought to a card (a delivery
    /// on a channel or wallet news): what a card's page shows as its news.
    pub fn news_of(&self) -> Option<u64> {
        match self {
            EventKind::CampaignDelivered { campaign_id, .. }
            | EventKind::WalletNews { campaign_id } => Some(*campaign_id),
            _ => None,
        }
    }

    /// Whether this event brings a card news ([`EventKind::news_of`]).
    pub fn is_news(&self) -> bool {
        self.news_of().is_some()
    }

    /// The type name used in filters and exports.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CardIssued { .. } => "card_issued",
            EventKind::StampAdded { .. } => "stamp_added",
            EventKind::StampRefused { .. } => "stamp_refused",
            EventKind::ReceiptClaimed { .. } => "receipt_claimed",
            EventKind::StampsAdjusted { .. } => "stamps_adjusted",
            EventKind::GoalReached { .. } => "goal_reached",
            EventKind::VoucherIssued { .. } => "voucher_issued",
            EventKind::VoucherExpiring { .. } => "voucher_expiring",
            EventKind::VoucherRedeemed { .. } => "voucher_redeemed",
            EventKind::RewardGiven => "reward_given",
            EventKind::LotteryPlayed { .. } => "lottery_played",
            EventKind::Reversal { .. } => "reversal",
            EventKind::CardReissued { .. } => "card_reissued",
            EventKind::CardDeleted => "card_deleted",
            EventKind::CustomerCreated => "customer_created",
            EventKind::CustomerUpdated { .. } => "customer_updated",
            EventKind::CustomerMerged { .. } => "customer_merged",
            EventKind::CustomerForgotten => "customer_forgotten",
            EventKind::ConsentChanged { .. } => "consent_changed",
            EventKind::TemplateSaved { .. } => "template_saved",
            EventKind::StaffChanged { .. } => "staff_changed",
            EventKind::SignInFailed { .. } => "sign_in_failed",
            EventKind::ReceiptGuessing { .. } => "receipt_guessing",
            EventKind::AddressBusy { .. } => "address_busy",
            EventKind::AlertRaised { .. } => "alert_raised",
            EventKind::AlertAcknowledged { .. } => "alert_acknowledged",
            EventKind::CampaignSent { .. } => "campaign_sent",
            EventKind::CampaignDelivered { .. } => "campaign_delivered",
            EventKind::PassSaved { .. } => "pass_saved",
            EventKind::PassRemoved { .. } => "pass_removed",
            EventKind::WalletNews { .. } => "wallet_news",
        }
    }

    /// Every type name, for `--type` validation.
    pub const NAMES: &'static [&'static str] = &[
        "card_issued",
        "stamp_added",
        "stamp_refused",
        "receipt_claimed",
        "stamps_adjusted",
        "goal_reached",
        "voucher_issued",
        "voucher_expiring",
        "voucher_redeemed",
        "reward_given",
        "lottery_played",
        "reversal",
        "card_reissued",
        "card_deleted",
        "customer_created",
        "customer_updated",
        "customer_merged",
        "customer_forgotten",
        "consent_changed",
        "template_saved",
        "staff_changed",
        "sign_in_failed",
        "receipt_guessing",
        "address_busy",
        "alert_raised",
        "alert_acknowledged",
        "campaign_sent",
        "campaign_delivered",
        "pass_saved",
        "pass_removed",
        "wallet_news",
    ];

    /// Whether this kind of event can be reversed.
    pub fn reversible(&self) -> bool {
        matches!(
            self,
            EventKind::StampAdded { .. }
                | EventKind::ReceiptClaimed { .. }
                | EventKind::VoucherRedeemed { .. }
                | EventKind::RewardGiven
        )
    }
}

/// A journal event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Sequence id in commit order.
    pub id: u64,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Type and specifics.
    #[serde(flatten)]
    pub kind: EventKind,
    /// Card concerned.
    pub card_id: Option<u64>,
    /// Customer concerned.
    pub customer_id: Option<u64>,
    /// Template concerned.
    pub template_id: Option<u64>,
    /// The code scanned or claimed (card, voucher or receipt code).
    pub code: Option<String>,
    /// Stamps at that moment.
    pub progress: Option<Progress>,
    /// The reward of the card at that moment.
    pub reward: Option<String>,
    /// Who caused it.
    pub actor: Actor,
}

/// An event before the store assigns its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Type and specifics.
    pub kind: EventKind,
    /// Card concerned.
    pub card_id: Option<u64>,
    /// Customer concerned.
    pub customer_id: Option<u64>,
    /// Template concerned.
    pub template_id: Option<u64>,
    /// Code scanned or claimed.
    pub code: Option<String>,
    /// Stamps at that moment.
    pub progress: Option<Progress>,
    /// The reward at that moment.
    pub reward: Option<String>,
    /// Who caused it.
    pub actor: Actor,
}

impl NewEvent {
    /// An event of the shop as a whole (no card, customer or template).
    pub fn of_shop(at: DateTime<Utc>, kind: EventKind, actor: Actor) -> Self {
        Self {
            at,
            kind,
            card_id: None,
            customer_id: None,
            template_id: None,
            code: None,
            progress: None,
            reward: None,
            actor,
        }
    }

    /// The stored event with its id.
    pub fn with_id(self, id: u64) -> Event {
        Event {
            id,
            at: self.at,
            kind: self.kind,
            card_id: self.card_id,
            customer_id: self.customer_id,
            template_id: self.template_id,
            code: self.code,
            progress: self.progress,
            reward: self.reward,
            actor: self.actor,
        }
    }
}
