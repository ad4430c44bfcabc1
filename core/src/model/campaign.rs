//! Campaigns: a message to the holders of one template's cards (or a
//! segment of them), on the channels that reach each one with marketing
//! consent, planned durably into the outbox.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;

/// Which holders a campaign reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Segment {
    /// Every holder.
    All,
    /// One stamp to the reward.
    AlmostReady,
    /// An unredeemed voucher expiring within `days`.
    VoucherExpiring {
        /// Days ahead.
        days: u32,
    },
    /// No stamp for `days` (win-back).
    NotSeen {
        /// Days without a visit.
        days: u32,
    },
    /// Birthday in the current shop-local month.
    BirthdayThisMonth,
    /// Card issued within the last `days`.
    JoinedWithin {
        /// Days back.
        days: u32,
    },
    /// Birthday within the next `days` (shop-local; today included).
    BirthdayWithin {
        /// Days ahead.
        days: u32,
    },
    /// One card's holder (a personal message or coupon from the card's
    /// details): no frequency cap, and a voucher even when no channel
    /// reaches them.
    Card {
        /// The card.
        id: u64,
    },
}

impl Segment {
    /// Parses `all`, `almost-ready`, `voucher-expiring:7`, `not-seen:30`,
    /// `birthday-month`, `birthday:7` (within 7 days), `joined:14`,
    /// `card:100001` (one card's holder).
    pub fn parse(s: &str) -> Result<Segment, String> {
        let s = s.trim().to_lowercase();
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n.to_string(), Some(a.to_string())),
            None => (s.clone(), None),
        };
        let days = |what: &str| -> Result<u32, String> {
            let a = arg
                .as_deref()
                .ok_or_else(|| format!("{what} needs a number of days, e.g. {what}:30"))?;
            match a.parse::<u32>() {
                Ok(d) if (1..=3650).contains(&d) => Ok(d),
                _ => Err(format!("'{a}' is not a number of days from 1 to 3650")),
            }
        };
        let plain = |seg: Segment| match arg {
            None => Ok(seg),
            Some(_) => Err(format!("{name} takes no number")),
        };
        match name.as_str() {
            "all" => plain(Segment::All),
            "almost-ready" => plain(Segment::AlmostReady),
            "birthday-month" => plain(Segment::BirthdayThisMonth),
            "voucher-expiring" => Ok(Segment::VoucherExpiring {
                days: days("voucher-expiring")?,
            }),
            "not-seen" => Ok(Segment::NotSeen {
                days: days("not-seen")?,
            }),
            "joined" => Ok(Segment::JoinedWithin {
                days: days("joined")?,
            }),
            "birthday" => Ok(Segment::BirthdayWithin {
                days: days("birthday")?,
            }),
            "card" => match arg.as_deref().map(str::parse::<u64>) {
                Some(Ok(id)) if id > 0 => Ok(Segment::Card { id }),
                _ => Err("card needs a card id, e.g. card:100001".into()),
            },
            _ => Err(format!(
                "'{s}' is not a segment: all, almost-ready, voucher-expiring:DAYS, not-seen:DAYS, birthday-month, birthday:DAYS, joined:DAYS, card:ID"
            )),
        }
    }

    /// How it reads in lists.
    pub fn label(&self) -> String {
        match self {
            Segment::All => "all holders".into(),
            Segment::AlmostReady => "one stamp to the reward".into(),
            Segment::VoucherExpiring { days } => format!("voucher expiring within {days} days"),
            Segment::NotSeen { days } => format!("not seen for {days} days"),
            Segment::BirthdayThisMonth => "birthday this month".into(),
            Segment::JoinedWithin { days } => format!("joined in the last {days} days"),
            Segment::BirthdayWithin { days } => format!("birthday within {days} days"),
            Segment::Card { id } => format!("card {id}"),
        }
    }
}

/// Where a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Saved, not sent.
    Draft,
    /// To be sent at `scheduled_for`.
    Scheduled,
    /// Its outbox entries are being written (resumed after a crash).
    Planning,
    /// Every recipient's messages are queued.
    Sent,
}

impl CampaignState {
    /// The state in a word, as in JSON: draft, scheduled, planning, sent.
    pub fn name(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Scheduled => "scheduled",
            CampaignState::Planning => "planning",
            CampaignState::Sent => "sent",
        }
    }
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign id.
    pub id: u64,
    /// Name (by default `<templateId>_<dd.mm.yyyyHH:MM>`, shop-local).
    pub name: String,
    /// Whose holders receive it.
    pub template_id: u64,
    /// Which of them.
    pub segment: Segment,
    /// The short text for the lock screen (wallet news).
    pub push_text: String,
    /// The message for Telegram, email and the web card.
    pub text: String,
    /// Channels asked for (e.g. telegram, email, wallet, log).
    pub channels: Vec<String>,
    /// Where it is.
    pub state: CampaignState,
    /// When to send (scheduled campaigns).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Planning has written every card up to this id (resume point).
    pub planned_after: u64,
    /// Recipients (cards) planned so far.
    pub recipients: u64,
    /// Messages queued so far.
    pub messages: u64,
    /// Recipients left out by the frequency cap.
    pub capped: u64,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Actor,
    /// When planning finished.
    pub sent_at: Option<DateTime<Utc>>,
    /// A voucher each recipient gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<CampaignVoucher>,
    /// The automation this is one day's run of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automation: Option<u64>,
}

impl Campaign {
    /// What sending it queued, for people: `3 message(s) to 3 recipient(s)
    /// queued; 1 left out by the frequency cap`.
    pub fn queued_summary(&self) -> String {
        let capped = if self.capped > 0 {
            format!("; {} left out by the frequency cap", self.capped)
        } else {
            String::new()
        };
        format!(
            "{} message(s) to {} recipient(s) queued{capped}",
            self.messages, self.recipients
        )
    }
}

/// The voucher a campaign gives each recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignVoucher {
    /// What it gives.
    pub description: String,
    /// Days valid (0 = no expiry).
    pub valid_days: u32,
}
